// Spec of the number spaces (core/operations.ts): wire operations (what a client may send), journal entry kinds
// (what a journal entry can be) and shard control tasks (shards/shard/shard-messages.ts) each have their own
// table and type. Their numbers are stored by clients and journals, so the relations between the spaces are
// checked here, value by value: a journal kind that is also a wire operation has the same number, the wire
// decoder refuses every journal-only kind, and a control task or day query never takes a number of either.

import { describe, expect, it } from 'vitest';
import { JournalEntryKind, Operation, WireOperation, isJournalEntryKind, isWireOperation, isWriteOperation } from '../../../src/core/operations.js';
import { eventBytes } from '../../../src/core/limits.js';
import { parseRequestFrame } from '../../../src/core/wire/wire.js';
import { DayQuery } from '../../../src/shards/shard/day-book.js';
import { ShardControl } from '../../../src/shards/shard/shard-messages.js';

const wireNames = Object.keys(WireOperation) as (keyof typeof WireOperation)[];
const kindNames = Object.keys(JournalEntryKind) as (keyof typeof JournalEntryKind)[];
const journalOnly = kindNames.filter((name) => !(name in WireOperation));
const byteRange = Array.from({ length: 256 }, (_, op) => op);

describe('number spaces', () => {
  it('journal entry kinds that are also wire operations share the number, and they are exactly the writes', () => {
    const shared = kindNames.filter((name) => name in WireOperation);
    expect(shared).toEqual(['create_accounts', 'create_transfers', 'account_operations']);
    for (const name of shared) expect(JournalEntryKind[name]).toBe(WireOperation[name as keyof typeof WireOperation]);
    expect(byteRange.filter(isWriteOperation)).toEqual(shared.map((name) => JournalEntryKind[name]));
  });

  it('no journal-only kind takes the number of a wire operation', () => {
    const wireNumbers = new Set<number>(Object.values(WireOperation));
    for (const name of journalOnly) expect(wireNumbers.has(JournalEntryKind[name]), name).toBe(false);
  });

  it('the guards accept exactly their own table', () => {
    expect(byteRange.filter(isWireOperation)).toEqual(Object.values(WireOperation).sort((a, b) => a - b));
    expect(byteRange.filter(isJournalEntryKind)).toEqual(Object.values(JournalEntryKind).sort((a, b) => a - b));
  });

  it.each(journalOnly)('the wire decoder refuses the journal-only kind %s', (name) => {
    const frame = [1, JournalEntryKind[name], new Uint8Array(eventBytes)];
    expect(() => parseRequestFrame(frame)).toThrow(expect.objectContaining({ code: 'operation_unknown' }));
  });

  it('shard control tasks and day queries never take a wire or journal number', () => {
    const taken = new Set<number>([...Object.values(WireOperation), ...Object.values(JournalEntryKind)]);
    for (const [name, number] of Object.entries({ ...ShardControl, ...DayQuery })) expect(taken.has(number), name).toBe(false);
  });

  it('the deprecated Operation table is the union of both spaces, numbers unchanged', () => {
    expect(Operation).toEqual({ ...WireOperation, ...JournalEntryKind });
    for (const name of wireNames) expect(Operation[name]).toBe(WireOperation[name]);
    for (const name of kindNames) expect(Operation[name]).toBe(JournalEntryKind[name]);
  });
});
