// Transit across shards as tally verify checks it at rest (core/verify/transit-audit.ts). Invariants: per ledger and
// payer → payee pair, transit-out on the payer's shard less transit-in on the payee's equals the credits the
// payer's outbox holds beyond the payee's mark plus the returns the payee's outbox holds beyond the payer's;
// a receiver never applied more than was issued; a sender never forgot what its receiver has not applied.

import { describe, expect, it } from 'vitest';
import { SystemAccountKind } from '../../../../src/core/accounts/system-accounts.js';
import { InstructionKind } from '../../../../src/core/transit/transit.js';
import { auditTransit, type RetainedInstruction, type ShardTransit, type TransitHalf } from '../../../../src/core/verify/transit-audit.js';

const L = 156;
const out = (peer: number, credits: bigint, debits = 0n): TransitHalf => ({ kind: SystemAccountKind.transitOut, ledger: L, peer, debitsPosted: debits, creditsPosted: credits });
const inHalf = (peer: number, debits: bigint): TransitHalf => ({ kind: SystemAccountKind.transitIn, ledger: L, peer, debitsPosted: debits, creditsPosted: 0n });
const credit = (to: number, pairSeq: number, amount: bigint): RetainedInstruction => ({ to, pairSeq, kind: InstructionKind.credit, ledger: L, amount });
const refund = (to: number, pairSeq: number, amount: bigint): RetainedInstruction => ({ to, pairSeq, kind: InstructionKind.return, ledger: L, amount });

function shard(index: number, s: Partial<ShardTransit>): ShardTransit {
  return { shard: index, issued: [0, 0], applied: [0, 0], acknowledged: [0, 0], halves: [], retained: [], ...s };
}

describe('auditTransit', () => {
  it.each<[string, ShardTransit[], { inFlight: bigint; passed: boolean }[]]>([
    [
      'an idle pair: the halves cancel',
      [shard(0, { issued: [0, 3], halves: [out(1, 100n)], retained: [credit(1, 1, 50n), credit(1, 2, 30n), credit(1, 3, 20n)] }), shard(1, { applied: [3, 0], halves: [inHalf(0, 100n)] })],
      [{ inFlight: 0n, passed: true }],
    ],
    [
      'credits in flight: in the payer’s outbox beyond the payee’s mark',
      [shard(0, { issued: [0, 3], acknowledged: [0, 1], halves: [out(1, 100n)], retained: [credit(1, 2, 30n), credit(1, 3, 20n)] }), shard(1, { applied: [2, 0], halves: [inHalf(0, 80n)] })],
      [{ inFlight: 20n, passed: true }],
    ],
    [
      'a return in flight: in the payee’s outbox beyond the payer’s mark',
      [shard(0, { applied: [0, 1], issued: [0, 1], retained: [refund(1, 1, 50n)] }), shard(1, { issued: [1, 0], halves: [out(0, 50n)], retained: [credit(0, 1, 50n)] })],
      [{ inFlight: 50n, passed: true }],
    ],
    [
      'a chain group committed by the payer, its payee in doubt: the credit half it carries is in flight',
      [shard(0, { halves: [out(1, 70n)] }), shard(1, { halves: [inHalf(0, 30n)], carriedInFlight: [{ from: 0, ledger: L, amount: 40n }] })],
      [{ inFlight: 40n, passed: true }],
    ],
  ])('%s', (_name, shards, rows) => {
    const audit = auditTransit(shards);
    expect(audit.problems).toEqual([]);
    expect(audit.rows.map((r) => ({ inFlight: r.inFlight, passed: r.passed }))).toEqual(rows);
  });

  it.each<[string, ShardTransit[], string]>([
    [
      'halves that do not net to what is in flight',
      [shard(0, { issued: [0, 1], halves: [out(1, 100n)], retained: [credit(1, 1, 100n)] }), shard(1, { applied: [1, 0], halves: [inHalf(0, 90n)] })],
      'ledger 156 transit 0→1: transit-out on shard 0 nets 100 and transit-in on shard 1 nets 90, leaving 10 between them, but 0 is in flight in the outboxes (difference 10)',
    ],
    [
      'a receiver ahead of its sender',
      [shard(0, { issued: [0, 1], halves: [out(1, 5n)], retained: [credit(1, 1, 5n)] }), shard(1, { applied: [2, 0], halves: [inHalf(0, 5n)] })],
      'transit 0→1: shard 1 applied instruction #2 from shard 0, which issued only through #1',
    ],
    [
      'a sender that forgot instructions its receiver never applied',
      [shard(0, { issued: [0, 3], acknowledged: [0, 3], halves: [out(1, 9n)] }), shard(1, { applied: [1, 0], halves: [inHalf(0, 9n)] })],
      'transit 0→1: shard 0 keeps instructions to shard 1 only above #3 (its acknowledgement hint), but shard 1 applied only through #1: #2..#3 can never be delivered again',
    ],
    [
      'an outbox that lost an instruction',
      [shard(0, { issued: [0, 2], halves: [out(1, 9n)], retained: [credit(1, 2, 4n)] }), shard(1, { applied: [1, 0], halves: [inHalf(0, 5n)] })],
      "transit 0→1: shard 0's outbox should hold #1..#2 but holds 1 instructions (2..2)",
    ],
  ])('names %s', (_name, shards, problem) => {
    expect(auditTransit(shards).problems).toContain(problem);
  });
});
