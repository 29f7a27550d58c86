// subjectVoucherOf sums amounts in number limbs and keeps codes in a direct array beside an id table: its
// lines must be exactly those of a straightforward bigint reference (one map per entry, keyed by ledger,
// code and side in the order keys first appear), for any amounts up to 2^64 − 1, any mix of ids, and full
// batches of one subject. TALLY_PROPERTY_RUNS widens a run; fast-check prints the seed on failure.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CarriedCreditDetail, eventOffset, journalEntryBytes, resultsOffset, trailerOffset, writeJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { InstructionKind, InstructionLayout as I, instructionMovesMoney } from '../../../../src/core/transit/transit.js';
import { AccountLayout as A, TransferLayout as T, resultBytes } from '../../../../src/core/layout.js';
import { batchEventsMax, eventBytes } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { TransferFlags, transferKindFlags } from '../../../../src/core/types.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { AccountCodes, accountCodeOfSystemId, subjectVoucherOf, type SubjectLine } from '../../../../src/core/books/vouchers.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 100);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

const u64Max = 2n ** 64n - 1n;
const transitCode = 9100;

interface AccountEvent {
  id: bigint;
  code: number;
  /** The u32 result: ok when its low 16 bits are zero (the high 16 are a detail). */
  result: number;
}

interface TransferEvent {
  debit: bigint;
  credit: bigint;
  ledger: number;
  amount: bigint;
  flags: number;
  result: number;
  /** apply_inbound only: the instruction kind (credit when absent); holds and releases move no money. */
  instruction?: number;
}

/** A journal entry to encode: create_accounts carries AccountEvents, create_transfers and apply_inbound TransferEvents. */
interface Entry {
  operation: number;
  events: readonly (AccountEvent | TransferEvent)[];
}

function encodeEntry(entry: Entry, seq: number): Uint8Array {
  const count = entry.events.length;
  const bytes = new Uint8Array(journalEntryBytes(entry.operation, count));
  const view = new DataView(bytes.buffer);
  writeJournalHeader(view, { operation: entry.operation, count, timestampBase: 1_000n, seq, businessDay: 0 });
  entry.events.forEach((event, i) => {
    const at = eventOffset(i);
    view.setUint32(resultsOffset(count) + i * resultBytes, event.result, true);
    if ('code' in event) {
      writeU128(view, at + A.id, event.id);
      view.setUint16(at + A.code, event.code, true);
      return;
    }
    writeU128(view, at + T.debitAccountId, event.debit);
    writeU128(view, at + T.creditAccountId, event.credit);
    view.setBigUint64(at + T.amountEffective, event.amount, true);
    view.setUint32(at + T.ledger, event.ledger, true);
    view.setUint16(at + T.flags, event.flags, true);
    if (entry.operation === Operation.apply_inbound) view.setUint16(trailerOffset(count, i) - eventBytes + I.kind, event.instruction ?? InstructionKind.credit, true);
  });
  return bytes;
}

const isOk = (result: number): boolean => (result & 0xffff) === 0;

function movesPostedMoney(flags: number): boolean {
  const kind = flags & transferKindFlags;
  return kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.reversal || kind === TransferFlags.unfreeze_and_pay;
}

/** The reference: codes in a Map (first code learnt wins), sums as bigints in a Map in first-appearance order. */
class ReferenceBooks {
  readonly #codes = new Map<bigint, number>();

  constructor(
    readonly shardIndex: number,
    readonly shardCount: number,
  ) {}

  linesOf(entry: Entry): SubjectLine[] {
    const sums = new Map<string, SubjectLine>();
    const add = (ledger: number, code: number, side: 'debit' | 'credit', amount: bigint): void => {
      const key = `${ledger}:${code}:${side}`;
      const line = sums.get(key) ?? { ledger, code, side, amount: 0n };
      line.amount += amount;
      sums.set(key, line);
    };
    for (const event of entry.events) {
      if (!isOk(event.result)) continue;
      if ('code' in event) {
        if (!this.#codes.has(event.id)) this.#codes.set(event.id, event.code);
      } else if (entry.operation === Operation.create_transfers) {
        if (!movesPostedMoney(event.flags)) continue;
        // A credit half a chain group carried for another shard's payer (detail 2): the credit landing, from transit.
        const creditHalf = event.result === CarriedCreditDetail.creditHalf * 0x1_0000;
        add(event.ledger, creditHalf ? transitCode : this.#codeOf(event.debit), 'debit', event.amount);
        const local = this.shardCount === 1 || shardOfId(event.credit, this.shardCount) === this.shardIndex;
        add(event.ledger, local ? this.#codeOf(event.credit) : transitCode, 'credit', event.amount);
      } else {
        if (!instructionMovesMoney(event.instruction ?? InstructionKind.credit)) continue;
        add(event.ledger, transitCode, 'debit', event.amount);
        add(event.ledger, this.#codeOf(event.credit), 'credit', event.amount);
      }
    }
    return [...sums.values()];
  }

  #codeOf(id: bigint): number {
    return accountCodeOfSystemId(id) ?? this.#codes.get(id) ?? 0;
  }
}

function subjectLinesOf(entries: readonly Entry[], shardIndex: number, shardCount: number): { fast: SubjectLine[][]; reference: SubjectLine[][] } {
  const codes = new AccountCodes(shardCount);
  const books = new ReferenceBooks(shardIndex, shardCount);
  const fast = entries.map((entry, i) => subjectVoucherOf(encodeEntry(entry, i + 1), shardIndex, shardCount, codes).lines);
  const reference = entries.map((entry) => books.linesOf(entry));
  return { fast, reference };
}

// ---- generators ----------------------------------------------------------------------------------

const shardCountArb = fc.integer({ min: 1, max: 3 });
/** Ids of every kind AccountCodes keeps apart: small (the direct array), past its first bound, above 2^32, any u128. */
const idArb = fc.oneof(
  fc.bigInt({ min: 1n, max: 48n }),
  fc.bigInt({ min: 70_000n, max: 70_008n }),
  fc.bigInt({ min: 2n ** 32n - 2n, max: 2n ** 32n + 2n }),
  fc.bigInt({ min: 1n, max: 2n ** 96n - 1n }),
);
const amountArb = fc.oneof(
  fc.bigInt({ min: 0n, max: u64Max }),
  fc.bigInt({ min: u64Max - 2n ** 33n, max: u64Max }),
  fc.constantFrom(0n, 1n, 2n ** 32n - 1n, 2n ** 32n, u64Max),
);
const codeArb = fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 0xffff }));
const okResultArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 0xffff }).map((detail) => detail * 0x1_0000));
const resultArb = fc.oneof({ arbitrary: okResultArb, weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 0xffff }), weight: 1 });
const flagsArb = fc.constantFrom(
  0,
  TransferFlags.linked,
  TransferFlags.pending,
  TransferFlags.post_pending,
  TransferFlags.void_pending,
  TransferFlags.reversal,
  TransferFlags.unfreeze_and_pay,
  TransferFlags.linked | TransferFlags.post_pending,
);
const ledgerArb = fc.constantFrom(1, 2, 0xffff_ffff);

function entriesArb(shardIndex: number, shardCount: number): fc.Arbitrary<Entry[]> {
  const suspense = systemAccountId(SystemAccountKind.suspense, 1, shardIndex, 0, shardCount);
  const accounts = fc.record({ operation: fc.constant(Operation.create_accounts), events: fc.array(fc.record({ id: idArb, code: codeArb, result: resultArb }), { minLength: 1, maxLength: 40 }) });
  const transferFields = { debit: idArb, credit: fc.oneof({ arbitrary: idArb, weight: 8 }, { arbitrary: fc.constant(suspense), weight: 1 }), ledger: ledgerArb, amount: amountArb, flags: flagsArb, result: resultArb };
  const transfer = fc.record(transferFields);
  const instruction = fc.constantFrom(InstructionKind.credit, InstructionKind.return, InstructionKind.hold, InstructionKind.release);
  const transfers = fc.oneof(
    fc.record({ operation: fc.constant(Operation.create_transfers), events: fc.array(transfer, { minLength: 1, maxLength: 120 }) }),
    fc.record({ operation: fc.constant(Operation.apply_inbound), events: fc.array(fc.record({ ...transferFields, instruction }), { minLength: 1, maxLength: 120 }) }),
  );
  return fc.array(fc.oneof(accounts, transfers), { minLength: 1, maxLength: 12 });
}

const shardAndEntriesArb = shardCountArb.chain((shardCount) =>
  fc.nat({ max: shardCount - 1 }).chain((shardIndex) => entriesArb(shardIndex, shardCount).map((entries) => ({ shardIndex, shardCount, entries }))),
);

describe('subject vouchers sum exactly', () => {
  test('as a bigint reference does, on random entries (any u64 amounts, ids of every kind)', () => {
    fc.assert(
      fc.property(shardAndEntriesArb, ({ shardIndex, shardCount, entries }) => {
        const { fast, reference } = subjectLinesOf(entries, shardIndex, shardCount);
        expect(fast).toEqual(reference);
      }),
      { numRuns: runs, seed },
    );
  });

  const manyOfOneSubject: { name: string; operation: number; amount: (i: number) => bigint }[] = [
    { name: 'a full batch of transfers of 2^64 − 1', operation: Operation.create_transfers, amount: () => u64Max },
    { name: 'a full batch of inbound credits of 2^64 − 1', operation: Operation.apply_inbound, amount: () => u64Max },
    { name: 'a full batch of amounts just below 2^64 and at 2^32 edges', operation: Operation.create_transfers, amount: (i) => [u64Max - BigInt(i), 2n ** 32n - 1n, 2n ** 32n][i % 3]! },
  ];
  test.each(manyOfOneSubject)('for $name into one subject per side', ({ operation, amount }) => {
    const accounts: Entry = { operation: Operation.create_accounts, events: [1n, 2n].map((id) => ({ id, code: 7, result: 0 })) };
    const events = Array.from({ length: batchEventsMax }, (_, i) => ({ debit: 1n, credit: 2n, ledger: 1, amount: amount(i), flags: 0, result: 0 }));
    const { fast, reference } = subjectLinesOf([accounts, { operation, events }], 0, 1);
    const total = events.reduce((sum, e) => sum + e.amount, 0n);
    expect(reference[1]!.map((l) => l.amount)).toEqual([total, total]);
    expect(fast).toEqual(reference);
  });
});
