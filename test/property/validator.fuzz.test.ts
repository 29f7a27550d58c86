// Fuzz of the event validator and the apply path: random records must never crash the ledger.
// Invariants, for any bytes in any write operation:
//   1. execute() returns one known result code per event and never throws for well-sized batches;
//   2. an event that is not `ok` changes nothing (a batch of only refusals leaves every balance,
//      total and lookup exactly as before);
//   3. the whole state stays consistent (verify) and a replay of the journal reproduces every result.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/core/posting/ledger.js';
import { Operation } from '../../src/core/operations.js';
import { ResultCode, resultName } from '../../src/core/result-codes.js';
import { encodeAccounts, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { AccountFlags } from '../../src/core/types.js';

const runs = Number(process.env.TALLY_FUZZ_RUNS ?? 200);
const clockNs = 1_700_000_000_000_000_000n;
const accountIds = [1n, 2n, 3n, 4n];

function seededLedger(): { ledger: Ledger; journal: Map<number, Uint8Array> } {
  const journal = new Map<number, Uint8Array>();
  const ledger = new Ledger({ shardIndex: 0, shardCount: 1, journal: { entry: (seq) => journal.get(seq) } });
  const write = (operation: number, body: Uint8Array) => {
    const { seq, entry } = ledger.execute(operation, body, clockNs);
    journal.set(seq, entry);
  };
  write(
    Operation.create_accounts,
    encodeAccounts(accountIds.map((id) => ({ id, ledger: 156, code: 1, flags: id === 1n ? 0 : AccountFlags.debits_must_not_exceed_credits }))),
  );
  write(Operation.create_transfers, encodeTransfers([{ id: 100n, debitAccountId: 1n, creditAccountId: 2n, amount: 1000n, ledger: 156, code: 1 }]));
  return { ledger, journal };
}

/** Mostly plausible values with rare edge cases, so random records reach every rule, not just the first. */
const rarely = <T>(usual: fc.Arbitrary<T>, edge: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: edge });
const anyU128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const anyU64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const eventId = rarely(fc.bigInt({ min: 1n, max: 40n }), fc.oneof(fc.constantFrom(0n, (1n << 128n) - 1n), anyU128));
const accountRef = rarely(fc.constantFrom(...accountIds), fc.oneof(fc.constantFrom(0n, 5n, 100n), anyU128));
const amount = rarely(fc.bigInt({ min: 0n, max: 1500n }), fc.oneof(fc.constantFrom((1n << 63n) - 1n, 1n << 63n), anyU64));
const reference = rarely(fc.constantFrom(0n, 100n, 10n, 11n, 12n, 20n), anyU128);
const assigned = rarely(fc.constant(0n), anyU64); // timestamp and reserved fields: zero unless fuzzed
const ledgerNumber = rarely(fc.constant(156), fc.constantFrom(0, 840, 0xffffffff));
const code = rarely(fc.constant(1), fc.nat({ max: 0xffff }));
const linked = fc.oneof({ weight: 7, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });

function recordOf(write: (view: DataView, u128: (offset: number, value: bigint) => void) => void): Uint8Array {
  const record = new Uint8Array(128);
  const view = new DataView(record.buffer);
  write(view, (offset, value) => {
    view.setBigUint64(offset, value & ((1n << 64n) - 1n), true);
    view.setBigUint64(offset + 8, value >> 64n, true);
  });
  return record;
}

const transferRecord = fc
  .record({ id: eventId, debit: accountRef, credit: accountRef, amount, reference, ledger: ledgerNumber, code, linked, assigned, reserved: assigned,
    kind: rarely(fc.constantFrom(0, 0, 2, 4, 8, 16, 32), fc.nat({ max: 0xffff })), timeout: rarely(fc.constant(0), fc.nat()) })
  .map((t) =>
    recordOf((view, u128) => {
      u128(0, t.id);
      u128(16, t.debit);
      u128(32, t.credit);
      view.setBigUint64(48, t.amount, true);
      view.setBigUint64(56, t.reserved, true);
      u128(64, t.reference);
      view.setUint32(108, t.timeout, true);
      view.setUint32(112, t.ledger, true);
      view.setUint16(116, t.code, true);
      view.setUint16(118, t.kind | t.linked, true);
      view.setBigUint64(120, t.assigned, true);
    }),
  );

const accountRecord = fc
  .record({ id: rarely(fc.bigInt({ min: 1n, max: 8n }), anyU128), ledger: ledgerNumber, code, linked, assigned,
    flags: rarely(fc.constantFrom(0, 2, 4), fc.nat({ max: 0xffff })), tail: rarely(fc.constant(0n), anyU64) })
  .map((a) =>
    recordOf((view, u128) => {
      u128(0, a.id);
      view.setUint32(44, a.ledger, true);
      view.setUint16(48, a.code, true);
      view.setUint16(50, a.flags | a.linked, true);
      view.setBigUint64(56, a.assigned, true);
      view.setBigUint64(64, a.tail, true);
    }),
  );

const operationRecord = fc
  .record({ id: eventId, account: accountRef, freeze: reference, amount, linked, assigned,
    kind: rarely(fc.integer({ min: 1, max: 5 }), fc.nat({ max: 0xffff })), sides: fc.constantFrom(0, 2, 4, 6) })
  .map((o) =>
    recordOf((view, u128) => {
      u128(0, o.id);
      u128(16, o.account);
      u128(32, o.freeze);
      view.setBigUint64(48, o.amount, true);
      view.setUint16(92, o.kind, true);
      view.setUint16(94, o.sides | o.linked, true);
      view.setBigUint64(96, o.assigned, true);
    }),
  );

const randomRecord = fc.uint8Array({ minLength: 128, maxLength: 128 });
const recordsFor = (structured: fc.Arbitrary<Uint8Array>) =>
  fc.array(fc.oneof({ weight: 9, arbitrary: structured }, { weight: 1, arbitrary: randomRecord }), { minLength: 1, maxLength: 24 }).map((records) => {
    const body = new Uint8Array(records.length * 128);
    records.forEach((r, i) => body.set(r, i * 128));
    return body;
  });
const write = fc.oneof(
  fc.tuple(fc.constant(Operation.create_transfers), recordsFor(transferRecord)),
  fc.tuple(fc.constant(Operation.create_accounts), recordsFor(accountRecord)),
  fc.tuple(fc.constant(Operation.account_operations), recordsFor(operationRecord)),
);

function snapshot(ledger: Ledger): string {
  const accounts = ledger.query(Operation.lookup_accounts, encodeIds(accountIds));
  const transfers = ledger.query(Operation.lookup_transfers, encodeIds([100n]));
  return Buffer.from(accounts).toString('hex') + Buffer.from(transfers).toString('hex');
}

describe('validator and apply path under random input', () => {
  it('never throws, answers known codes, refusals change nothing, replay agrees', () => {
    fc.assert(
      fc.property(fc.array(write, { minLength: 1, maxLength: 8 }), (writes) => {
        const { ledger, journal } = seededLedger();
        for (const [operation, body] of writes) {
          const before = snapshot(ledger);
          const { seq, entry, reply } = ledger.execute(operation, body, clockNs + BigInt(seq0(ledger)) * 1000n);
          journal.set(seq, entry);
          const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
          const codes = Array.from({ length: body.byteLength / 128 }, (_, i) => view.getUint16(i * 4, true));
          for (const code of codes) expect(resultName(code), `code ${code}`).toBeDefined();
          if (codes.every((code) => code !== ResultCode.ok)) expect(snapshot(ledger)).toBe(before);
          ledger.verify();
        }
        const replayed = new Ledger({ shardIndex: 0, shardCount: 1, journal: { entry: (seq) => journal.get(seq) } });
        for (const [seq, entry] of [...journal].sort((a, b) => a[0] - b[0])) replayed.replay(seq, entry.slice());
        replayed.verify();
        expect(snapshot(replayed)).toBe(snapshot(ledger));
      }),
      { numRuns: runs },
    );
  });
});

function seq0(ledger: Ledger): number {
  return ledger.seqLast;
}
