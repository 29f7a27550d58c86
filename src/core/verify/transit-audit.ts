// Transit across shards, checked from every shard's replayed state at rest (tally verify). For each ordered
// pair (A, B) a receiver never applies more than its sender issued, and a sender never forgot (by its
// acknowledgement hint) what the receiver has not applied. Per ledger and payer → payee pair, the transit-out
// half on the payer's shard less the transit-in half on the payee's equals the money in flight: credits the
// payer's outbox holds beyond the payee's mark, plus returns the payee's outbox holds beyond the payer's.
// Zero in flight means the two halves cancel. Pure.

import { SystemAccountKind } from '../accounts/system-accounts.js';
import { InstructionKind, instructionMovesMoney } from '../transit/transit.js';

/** One transit half on its shard: out-half (kind 1) of pair shard → peer, or in-half (kind 2) of peer → shard. */
export interface TransitHalf {
  kind: number;
  ledger: number;
  peer: number;
  debitsPosted: bigint;
  creditsPosted: bigint;
}

/** An instruction a sender still retains: issued to `to`, not yet acknowledged. */
export interface RetainedInstruction {
  to: number;
  pairSeq: number;
  kind: number;
  ledger: number;
  amount: bigint;
}

/** What one shard's replayed state says about transit. */
export interface ShardTransit {
  shard: number;
  /** Per peer: the last pair sequence issued to it. */
  issued: readonly number[];
  /** Per peer: the last pair sequence applied from it. */
  applied: readonly number[];
  /** Per peer: the acknowledgement hint the store keeps; the outbox retains only instructions above it. */
  acknowledged: readonly number[];
  halves: readonly TransitHalf[];
  retained: readonly RetainedInstruction[];
  /**
   * Credits this shard carries for payers elsewhere in a chain group it voted on and has not learnt the decision of
   * (a crash between the commits): those whose payer's shard committed the group (the chain log says commit and the
   * payer is not in doubt of it) have left the payer and not landed here, so they are in flight. Filled by the caller.
   */
  carriedInFlight?: readonly { from: number; ledger: number; amount: bigint }[];
}

/** One ledger's money between payer shard `from` and payee shard `to`. */
export interface TransitPairRow {
  ledger: number;
  from: number;
  to: number;
  /** Transit-out on `from`: credits − debits (issued less returns applied). */
  outNet: bigint;
  /** Transit-in on `to`: debits − credits (credits applied). */
  inNet: bigint;
  /** Credits from → to beyond to's mark, plus returns to → from beyond from's mark. */
  inFlight: bigint;
  passed: boolean;
}

export interface TransitAudit {
  rows: TransitPairRow[];
  problems: string[];
}

function pairKey(ledger: number, from: number, to: number): string {
  return `${ledger}:${from}:${to}`;
}

/** Checks every ordered pair of the given shards (a shard left out, e.g. one whose replay stopped, is skipped with its pairs). */
export function auditTransit(shards: readonly ShardTransit[]): TransitAudit {
  const byShard = new Map(shards.map((t) => [t.shard, t] as const));
  const problems: string[] = [];
  const rows = new Map<string, TransitPairRow>();
  const rowAt = (ledger: number, from: number, to: number): TransitPairRow => {
    const key = pairKey(ledger, from, to);
    let row = rows.get(key);
    if (row === undefined) rows.set(key, (row = { ledger, from, to, outNet: 0n, inNet: 0n, inFlight: 0n, passed: true }));
    return row;
  };
  for (const sender of shards) {
    for (const receiver of shards) {
      if (sender.shard === receiver.shard) continue;
      problems.push(...markProblems(sender, receiver));
      addInFlight(sender, receiver, rowAt);
    }
  }
  for (const t of shards) {
    for (const carried of t.carriedInFlight ?? []) if (byShard.has(carried.from)) rowAt(carried.ledger, carried.from, t.shard).inFlight += carried.amount;
  }
  for (const t of shards) {
    for (const half of t.halves) {
      const payee = half.kind === SystemAccountKind.transitOut ? half.peer : t.shard;
      const payer = half.kind === SystemAccountKind.transitOut ? t.shard : half.peer;
      if (!byShard.has(half.peer)) continue;
      const row = rowAt(half.ledger, payer, payee);
      if (half.kind === SystemAccountKind.transitOut) row.outNet += half.creditsPosted - half.debitsPosted;
      else row.inNet += half.debitsPosted - half.creditsPosted;
    }
  }
  const sorted = [...rows.values()].sort((a, b) => a.ledger - b.ledger || a.from - b.from || a.to - b.to);
  for (const row of sorted) {
    row.passed = row.outNet - row.inNet === row.inFlight;
    if (!row.passed) problems.push(pairProblem(row));
  }
  return { rows: sorted, problems };
}

function markProblems(sender: ShardTransit, receiver: ShardTransit): string[] {
  const senderShard = sender.shard;
  const receiverShard = receiver.shard;
  const issued = sender.issued[receiverShard] ?? 0;
  const applied = receiver.applied[senderShard] ?? 0;
  const hint = sender.acknowledged[receiverShard] ?? 0;
  const problems: string[] = [];
  if (applied > issued) problems.push(`transit ${senderShard}→${receiverShard}: shard ${receiverShard} applied instruction #${applied} from shard ${senderShard}, which issued only through #${issued}`);
  if (hint > applied) {
    problems.push(
      `transit ${senderShard}→${receiverShard}: shard ${senderShard} keeps instructions to shard ${receiverShard} only above #${hint} (its acknowledgement hint), ` +
        `but shard ${receiverShard} applied only through #${applied}: #${applied + 1}..#${Math.min(hint, issued)} can never be delivered again`,
    );
  }
  const retained = sender.retained.filter((r) => r.to === receiverShard);
  const first = retained[0]?.pairSeq;
  const last = retained[retained.length - 1]?.pairSeq;
  const expectedFirst = Math.max(hint, 0) + 1;
  if (issued > hint && (first !== expectedFirst || last !== issued || retained.length !== issued - hint)) {
    problems.push(`transit ${senderShard}→${receiverShard}: shard ${senderShard}'s outbox should hold #${expectedFirst}..#${issued} but holds ${retained.length} instructions (${String(first)}..${String(last)})`);
  }
  return problems;
}

/** Credits a → b beyond b's mark count for payer pair a → b; returns a → b (b's credits a refused) for payer pair b → a. */
function addInFlight(sender: ShardTransit, receiver: ShardTransit, rowAt: (ledger: number, from: number, to: number) => TransitPairRow): void {
  const applied = receiver.applied[sender.shard] ?? 0;
  for (const r of sender.retained) {
    if (r.to !== receiver.shard || r.pairSeq <= applied || !instructionMovesMoney(r.kind)) continue; // holds move no posted money
    const isReturn = r.kind === InstructionKind.return;
    rowAt(r.ledger, isReturn ? receiver.shard : sender.shard, isReturn ? sender.shard : receiver.shard).inFlight += r.amount;
  }
}

function pairProblem(row: TransitPairRow): string {
  const between = row.outNet - row.inNet;
  return (
    `ledger ${row.ledger} transit ${row.from}→${row.to}: transit-out on shard ${row.from} nets ${row.outNet} and transit-in on shard ${row.to} nets ${row.inNet}, ` +
    `leaving ${between} between them, but ${row.inFlight} is in flight in the outboxes (difference ${between - row.inFlight})`
  );
}
