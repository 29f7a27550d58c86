// Where a journal entry as stored differs from the same entry after replay (tally verify): replay rewrites
// every field the ledger assigns (timestamps, effective amounts, results, balances after, where a return
// went) from the state it rebuilt, so a stored entry that replays to other bytes was changed or was never
// what this code wrote. Names the first differing field of the layout with both values. Pure.

import { bytesEqual } from '../bytes.js';
import { JournalHeader, balancesAfterBytes, eventOffset, journalHeaderBytes, readJournalHeader, resultsOffset, trailerOffset } from '../posting/journal-entry.js';
import { AccountLayout, AccountOperationLayout, TransferLayout, resultBytes } from '../layout.js';
import { eventBytes } from '../limits.js';
import { JournalEntryKind } from '../operations.js';
import { HotRecordLayout } from '../hot/hot-inbound.js';
import { InstructionLayout } from '../transit/transit.js';

interface Field {
  name: string;
  at: number;
  bytes: number;
}

const u64 = 8;

/** Fields of a layout table as [name, offset] pairs sorted by offset, with their sizes up to the next field. */
function fieldsOf(layout: Record<string, number>, end: number): Field[] {
  const pairs = Object.entries(layout).filter(([name]) => name !== 'bytes' && name !== 'outputStart' && name !== 'tailStart' && name !== 'reservedStart');
  pairs.sort((a, b) => a[1] - b[1]);
  return pairs.map(([name, at], k) => ({ name, at, bytes: (k + 1 < pairs.length ? pairs[k + 1]![1] : end) - at }));
}

const headerFields = fieldsOf(JournalHeader, journalHeaderBytes);
const balanceNames = ['debitsPosted', 'creditsPosted', 'debitsPending', 'creditsPending'];

function eventFields(operation: number): Field[] {
  if (operation === JournalEntryKind.create_accounts) return fieldsOf(AccountLayout, eventBytes);
  if (operation === JournalEntryKind.account_operations) return fieldsOf(AccountOperationLayout, eventBytes);
  if (operation === JournalEntryKind.apply_hot_inbound) return fieldsOf(HotRecordLayout, eventBytes);
  return fieldsOf(TransferLayout, eventBytes);
}

/** The field of the entry's layout that holds byte `offset`, as [description, start, size]. */
function fieldAt(operation: number, count: number, offset: number): Field {
  if (offset < journalHeaderBytes) return named('header', headerFields, offset, 0);
  if (offset < resultsOffset(count)) {
    const index = Math.floor((offset - journalHeaderBytes) / eventBytes);
    return named(`event ${index}`, eventFields(operation), offset - eventOffset(index), eventOffset(index));
  }
  const resultsEnd = resultsOffset(count) + count * resultBytes;
  if (offset < resultsEnd) {
    const index = Math.floor((offset - resultsOffset(count)) / resultBytes);
    return { name: `result of event ${index}`, at: resultsOffset(count) + index * resultBytes, bytes: resultBytes };
  }
  const hasBalances = operation === JournalEntryKind.create_transfers || operation === JournalEntryKind.apply_inbound;
  if (hasBalances && offset < resultsEnd + count * balancesAfterBytes) {
    const index = Math.floor((offset - resultsEnd) / balancesAfterBytes);
    const word = Math.floor((offset - resultsEnd - index * balancesAfterBytes) / u64);
    const side = word < 4 ? 'debit' : 'credit';
    return { name: `event ${index} balances after, ${side} account ${balanceNames[word % 4]!}`, at: resultsEnd + index * balancesAfterBytes + word * u64, bytes: u64 };
  }
  if (operation === JournalEntryKind.apply_inbound) {
    const index = Math.floor((offset - trailerOffset(count, 0)) / (InstructionLayout.bytes - eventBytes));
    const trailer = fieldsOf(InstructionLayout, InstructionLayout.bytes).filter((f) => f.at >= eventBytes);
    return named(`instruction trailer of event ${index}`, trailer, offset - trailerOffset(count, index) + eventBytes, trailerOffset(count, index) - eventBytes);
  }
  return { name: 'chain trailer', at: offset, bytes: 1 };
}

function named(prefix: string, fields: readonly Field[], relative: number, base: number): Field {
  let field = fields[0]!;
  for (const f of fields) if (f.at <= relative) field = f;
  return { name: `${prefix} ${field.name}`, at: base + field.at, bytes: field.bytes };
}

function valueOf(bytes: Uint8Array, field: Field): string {
  const slice = bytes.subarray(field.at, Math.min(bytes.byteLength, field.at + field.bytes));
  if (slice.byteLength <= 8) {
    let value = 0n;
    for (let i = slice.byteLength - 1; i >= 0; i--) value = (value << 8n) | BigInt(slice[i]!);
    return value.toString();
  }
  let value = 0n;
  for (let i = slice.byteLength - 1; i >= 0; i--) value = (value << 8n) | BigInt(slice[i]!);
  return `0x${value.toString(16)}`;
}

/**
 * How `stored` differs from `replayed` (the same entry after replay), or null when they are the same bytes:
 * the first differing field with both values, and how many other fields differ.
 */
export function describeEntryDifference(stored: Uint8Array, replayed: Uint8Array): string | null {
  if (bytesEqual(stored, replayed)) return null;
  if (stored.byteLength !== replayed.byteLength) return `the entry is ${stored.byteLength} bytes, its replay ${replayed.byteLength}`;
  const { operation, count } = readJournalHeader(stored);
  const fields: Field[] = [];
  for (let offset = 0; offset < stored.byteLength; offset++) {
    if (stored[offset] === replayed[offset]) continue;
    const field = fieldAt(operation, count, offset);
    fields.push(field);
    offset = field.at + field.bytes - 1;
  }
  const first = fields[0]!;
  const others = fields.length > 1 ? ` (and ${fields.length - 1} more fields)` : '';
  return `${first.name} is ${valueOf(stored, first)} in the journal but ${valueOf(replayed, first)} on replay${others}`;
}
