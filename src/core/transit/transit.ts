// Cross-shard instructions and the outbox that keeps them until the receiving shard has applied them.
// Debit first, credit after (扣减先做, 增加后做): the debit shard moves the payer's money into its
// transit account and, in the same journal entry, emits a credit instruction; the credit shard applies
// it from its half of the transit account. A credit that cannot apply comes back as a return
// instruction, and the payer's shard gives the money back. Each ordered shard pair numbers its
// instructions 1, 2, 3, …; a receiver applies them exactly once and in that order.
//
// Everything here is derived from journal entries, so replay rebuilds the counters and the outbox.

import { assert } from '../assert.js';
import { eventBytes, shardCountMax, transitInstructionsRetainedMax } from '../limits.js';
import { ResultCode } from '../result-codes.js';

/** One instruction: the transfer record as journaled by its sender, then a 16-byte trailer. */
export const InstructionLayout = {
  record: 0,
  pairSeq: 128, // u64 as a safe integer: position in the sender → receiver stream, from 1
  fromShard: 136, // u16
  toShard: 138, // u16
  kind: 140, // u16 InstructionKind
  reason: 142, // u16: for a return, the result code that refused the credit
  bytes: 144,
} as const;
export const instructionTrailerBytes = InstructionLayout.bytes - eventBytes;

export const InstructionKind = {
  /** Credit the record's credit account, debiting the receiver's transit-in half. */
  credit: 1,
  /** The credit was refused: give the amount back to the original payer (the record's credit account). */
  return: 2,
  /**
   * A hold (pending transfer) opened for the record's credit account: show it there as creditsPending, against the
   * receiver's transit-in half (debitsPending). Moves no posted money; the payer's shard keeps the hold itself.
   */
  hold: 3,
  /**
   * A hold shown on the receiver was voided (the record is the void) or expired (the record is the hold): take it
   * off again. A post needs no release: its credit instruction closes the hold it names.
   */
  release: 4,
} as const;

/** Whether instructions of `kind` move posted money through the transit accounts (holds and releases do not). */
export function instructionMovesMoney(kind: number): boolean {
  return kind === InstructionKind.credit || kind === InstructionKind.return;
}

/** Whether `kind` is an instruction kind this build applies. */
export function isInstructionKind(kind: number): boolean {
  return kind >= InstructionKind.credit && kind <= InstructionKind.release;
}

/** What a receiver says about each instruction it was handed (not journaled: only applied ones are). */
export const InboundStatus = {
  /** Journaled now (the credit applied or was refused and returned). */
  applied: 0,
  /** Applied before: its pair sequence is at or below the receiver's mark. */
  duplicate: 1,
  /** An earlier instruction of its pair is missing: nothing of that pair from here on was applied. */
  gap: 2,
} as const;

/**
 * One receiving peer's instructions of one batch, consecutive pair sequences from `pairSeqFirst`: retained as
 * one run (no object per instruction: at 100k cross-shard transfers/s those would all be garbage to collect).
 */
interface RetainedRun {
  bytes: Uint8Array;
  pairSeqFirst: number;
  count: number;
}

/** Per batch, where the staged instructions go: one peer (the common case: no copy needed), or several. */
const stagedPeersNone = -1;
const stagedPeersMixed = -2;

/**
 * Instructions emitted by this shard, per receiving peer: the counter of the last pair sequence, the
 * instructions staged by the batch being applied, and those retained until the receiver acknowledges.
 */
export class Outbox {
  /** Last pair sequence issued to each peer (durable once the issuing entry is). */
  readonly pairSeqLast = new Float64Array(shardCountMax);
  /** Highest pair sequence each peer has acknowledged; retained instructions start above it. */
  readonly acknowledged = new Float64Array(shardCountMax);
  readonly #retained: RetainedRun[][] = Array.from({ length: shardCountMax }, () => []);
  #staged = new Uint8Array(64 * InstructionLayout.bytes);
  #stagedView = new DataView(this.#staged.buffer);
  #stagedCount = 0;
  /** The one peer every staged instruction goes to, or stagedPeersNone / stagedPeersMixed. */
  #stagedPeer = stagedPeersNone;
  #retainedCount = 0;

  constructor(acknowledgedFloor: readonly number[] = []) {
    acknowledgedFloor.forEach((pairSeq, peer) => (this.acknowledged[peer] = pairSeq));
  }

  get stagedCount(): number {
    return this.#stagedCount;
  }

  /** Stages one instruction of the current batch for `peer` and gives it the peer's next pair sequence. */
  stage(peer: number, from: number, kind: number, reason: number, record: DataView, recordAt: number): void {
    assert(peer !== from && peer >= 0 && peer < shardCountMax, 'an instruction goes to another shard');
    // A credit, hold or release carries no reason; a return carries the code that refused the credit.
    assert(kind === InstructionKind.return ? reason !== ResultCode.ok : isInstructionKind(kind) && reason === ResultCode.ok, 'an instruction is a credit, hold or release, or a return with its reason');
    if ((this.#stagedCount + 1) * InstructionLayout.bytes > this.#staged.byteLength) this.#grow();
    const at = this.#stagedCount * InstructionLayout.bytes;
    this.#staged.set(new Uint8Array(record.buffer, record.byteOffset + recordAt, eventBytes), at);
    const view = this.#stagedView;
    const pairSeq = ++this.pairSeqLast[peer]!;
    writePairSeq(view, at, pairSeq);
    view.setUint16(at + InstructionLayout.fromShard, from, true);
    view.setUint16(at + InstructionLayout.toShard, peer, true);
    view.setUint16(at + InstructionLayout.kind, kind, true);
    view.setUint16(at + InstructionLayout.reason, reason, true);
    if (this.#stagedPeer === stagedPeersNone) this.#stagedPeer = peer;
    else if (this.#stagedPeer !== peer) this.#stagedPeer = stagedPeersMixed;
    this.#stagedCount++;
  }

  /** Undoes the newest staged instruction (its linked chain failed). */
  unstageLast(): void {
    assert(this.#stagedCount > 0, 'unstage of a staged instruction');
    this.#stagedCount--;
    const at = this.#stagedCount * InstructionLayout.bytes;
    const peer = this.#stagedView.getUint16(at + InstructionLayout.toShard, true);
    assert(readPairSeq(this.#stagedView, at) === this.pairSeqLast[peer], 'unstage in reverse order');
    this.pairSeqLast[peer]!--;
    // The peer summary may now be wider than needed (mixed): that only costs a copy in commitStaged.
    if (this.#stagedCount === 0) this.#stagedPeer = stagedPeersNone;
  }

  /** Ends the batch: its instructions (one fresh buffer, or null) move to the retained lists. */
  commitStaged(): Uint8Array | null {
    if (this.#stagedCount === 0) return null;
    const batch = this.#staged.slice(0, this.#stagedCount * InstructionLayout.bytes);
    const onePeer = this.#stagedPeer;
    // One peer's staged instructions are the newest it was issued, numbered on from its retained ones.
    if (onePeer >= 0) assert(pairSeqOf(batch) + this.#stagedCount - 1 === this.pairSeqLast[onePeer], 'a batch commits the newest instructions of its peer');
    this.#stagedCount = 0;
    this.#stagedPeer = stagedPeersNone;
    if (onePeer >= 0) this.#retain(onePeer, batch);
    else for (const [peer, bytes] of splitByPeer(batch)) this.#retain(peer, bytes);
    return batch;
  }

  /** The receiver applied everything up to `pairSeq`: forget those instructions. */
  acknowledge(peer: number, pairSeq: number): void {
    if (pairSeq <= this.acknowledged[peer]!) return;
    assert(pairSeq <= this.pairSeqLast[peer]!, 'acknowledged beyond what was issued');
    this.acknowledged[peer] = pairSeq;
    const runs = this.#retained[peer]!;
    let drop = 0;
    while (drop < runs.length && runs[drop]!.pairSeqFirst + runs[drop]!.count - 1 <= pairSeq) this.#retainedCount -= runs[drop++]!.count;
    runs.splice(0, drop);
    if (runs.length > 0 && runs[0]!.pairSeqFirst <= pairSeq) this.#retainedCount -= trimRun(runs[0]!, pairSeq);
    assert(runs.length === 0 || runs[0]!.pairSeqFirst > pairSeq, 'nothing acknowledged stays retained');
    assert(this.#retainedCount >= 0, 'retained instructions are counted');
  }

  /** Retained instructions for `peer` after `pairSeq`, concatenated, at most `countMax` of them. */
  after(peer: number, pairSeq: number, countMax: number): Uint8Array {
    const runs = this.#retained[peer]!;
    let available = 0;
    for (const run of runs) available += Math.max(0, run.pairSeqFirst + run.count - 1 - Math.max(pairSeq, run.pairSeqFirst - 1));
    const count = Math.min(countMax, available);
    const out = new Uint8Array(count * InstructionLayout.bytes);
    let filled = 0;
    for (const run of runs) {
      if (filled === count) break;
      const skip = Math.max(0, pairSeq - run.pairSeqFirst + 1);
      if (skip >= run.count) continue;
      const take = Math.min(run.count - skip, count - filled);
      out.set(run.bytes.subarray(skip * InstructionLayout.bytes, (skip + take) * InstructionLayout.bytes), filled * InstructionLayout.bytes);
      filled += take;
    }
    assert(filled === count, 'every instruction counted available is handed out');
    return out;
  }

  /**
   * The instructions retained for `peer`, as runs of consecutive pair sequences (a checkpoint copies them:
   * they are not in the journal's replay once a checkpoint replaces it). Do not modify.
   */
  retainedRuns(peer: number): readonly { readonly bytes: Uint8Array; readonly pairSeqFirst: number; readonly count: number }[] {
    return this.#retained[peer]!;
  }

  /**
   * Restores a checkpoint's outbox into this fresh one: the issued counters, and each peer's retained runs kept
   * above the higher of the checkpoint's acknowledgement and the floor this outbox was made with.
   */
  restore(pairSeqLast: Float64Array, acknowledged: Float64Array, runs: readonly { peer: number; bytes: Uint8Array }[]): void {
    assert(this.#retainedCount === 0 && this.#stagedCount === 0, 'an outbox is restored before it holds anything');
    assert(pairSeqLast.length === shardCountMax && acknowledged.length === shardCountMax, 'an outbox restores every peer');
    this.pairSeqLast.set(pairSeqLast);
    for (let peer = 0; peer < shardCountMax; peer++) this.acknowledged[peer] = Math.max(this.acknowledged[peer]!, acknowledged[peer]!);
    for (const run of runs) this.#retain(run.peer, run.bytes);
  }

  /** Instructions held for every peer until acknowledged; past transitInstructionsRetainedMax the shard refuses new writes. */
  get retainedCount(): number {
    return this.#retainedCount;
  }

  /** True when receivers lag so far behind that new cross-shard postings must wait (overloaded). */
  get full(): boolean {
    return this.#retainedCount >= transitInstructionsRetainedMax;
  }

  /** Keeps one peer's instructions of a batch (consecutive pair sequences), minus those already acknowledged. */
  #retain(peer: number, bytes: Uint8Array): void {
    const run: RetainedRun = { bytes, pairSeqFirst: pairSeqOf(bytes), count: bytes.byteLength / InstructionLayout.bytes };
    const acknowledged = this.acknowledged[peer]!;
    if (run.pairSeqFirst + run.count - 1 <= acknowledged) return;
    if (run.pairSeqFirst <= acknowledged) trimRun(run, acknowledged);
    const runs = this.#retained[peer]!;
    const previous = runs[runs.length - 1];
    // Runs follow each other without a gap or an overlap: a receiver applies pair sequences in order.
    assert(previous === undefined || previous.pairSeqFirst + previous.count === run.pairSeqFirst, 'retained runs are consecutive');
    assert(run.pairSeqFirst + run.count - 1 <= this.pairSeqLast[peer]!, 'only issued instructions are retained');
    runs.push(run);
    this.#retainedCount += run.count;
  }

  #grow(): void {
    const next = new Uint8Array(this.#staged.byteLength * 2);
    next.set(this.#staged);
    this.#staged = next;
    this.#stagedView = new DataView(next.buffer);
  }
}

/** Drops a run's instructions through `pairSeq`; returns how many. */
function trimRun(run: RetainedRun, pairSeq: number): number {
  const dropped = pairSeq - run.pairSeqFirst + 1;
  // Callers trim a run that straddles `pairSeq`: some of it goes, some stays.
  assert(dropped > 0 && dropped < run.count, 'a trim drops part of a run');
  run.bytes = run.bytes.subarray(dropped * InstructionLayout.bytes);
  run.pairSeqFirst += dropped;
  run.count -= dropped;
  return dropped;
}

/** A batch's instructions per receiving peer, each peer's in staging order (so its pair sequences stay consecutive). */
function splitByPeer(batch: Uint8Array): Map<number, Uint8Array> {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const counts = new Map<number, number>();
  for (let at = 0; at < batch.byteLength; at += InstructionLayout.bytes) {
    const peer = view.getUint16(at + InstructionLayout.toShard, true);
    counts.set(peer, (counts.get(peer) ?? 0) + 1);
  }
  const byPeer = new Map<number, Uint8Array>();
  const filled = new Map<number, number>();
  for (const [peer, count] of counts) {
    byPeer.set(peer, new Uint8Array(count * InstructionLayout.bytes));
    filled.set(peer, 0);
  }
  for (let at = 0; at < batch.byteLength; at += InstructionLayout.bytes) {
    const peer = view.getUint16(at + InstructionLayout.toShard, true);
    const filledThrough = filled.get(peer)!;
    byPeer.get(peer)!.set(batch.subarray(at, at + InstructionLayout.bytes), filledThrough * InstructionLayout.bytes);
    filled.set(peer, filledThrough + 1);
  }
  return byPeer;
}

/** Pair sequences are safe integers written as a u64: two words, no BigInt. */
function writePairSeq(view: DataView, at: number, pairSeq: number): void {
  assert(Number.isSafeInteger(pairSeq) && pairSeq >= 1, 'a pair sequence is a safe integer from 1');
  view.setUint32(at + InstructionLayout.pairSeq, pairSeq >>> 0, true);
  view.setUint32(at + InstructionLayout.pairSeq + 4, Math.floor(pairSeq / 0x1_0000_0000), true);
}

function readPairSeq(view: DataView, at: number): number {
  return view.getUint32(at + InstructionLayout.pairSeq, true) + view.getUint32(at + InstructionLayout.pairSeq + 4, true) * 0x1_0000_0000;
}

/** The pair sequence of the (first) instruction in `instruction`. */
export function pairSeqOf(instruction: Uint8Array): number {
  return readPairSeq(new DataView(instruction.buffer, instruction.byteOffset, instruction.byteLength), 0);
}
