// Cross-shard instructions and the outbox that keeps them until the receiving shard has applied them.
// Debit first, credit after (扣减先做, 增加后做): the debit shard moves the payer's money into its
// transit account and, in the same journal entry, emits a credit instruction; the credit shard applies
// it from its half of the transit account. A credit that cannot apply comes back as a return
// instruction, and the payer's shard gives the money back. Each ordered shard pair numbers its
// instructions 1, 2, 3, …; a receiver applies them exactly once and in that order.
//
// Everything here is derived from journal entries, so replay rebuilds the counters and the outbox.

import { assert } from './assert.js';
import { eventBytes, shardCountMax, transitInstructionsRetainedMax } from './limits.js';

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
} as const;

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
 * Instructions emitted by this shard, per receiving peer: the counter of the last pair sequence, the
 * instructions staged by the batch being applied, and those retained until the receiver acknowledges.
 */
export class Outbox {
  /** Last pair sequence issued to each peer (durable once the issuing entry is). */
  readonly pairSeqLast = new Float64Array(shardCountMax);
  /** Highest pair sequence each peer has acknowledged; retained instructions start above it. */
  readonly acknowledged = new Float64Array(shardCountMax);
  readonly #retained: Uint8Array[][] = Array.from({ length: shardCountMax }, () => []);
  #staged = new Uint8Array(64 * InstructionLayout.bytes);
  #stagedCount = 0;
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
    if ((this.#stagedCount + 1) * InstructionLayout.bytes > this.#staged.byteLength) this.#grow();
    const at = this.#stagedCount * InstructionLayout.bytes;
    this.#staged.set(new Uint8Array(record.buffer, record.byteOffset + recordAt, eventBytes), at);
    const view = new DataView(this.#staged.buffer, at, InstructionLayout.bytes);
    const pairSeq = ++this.pairSeqLast[peer]!;
    view.setBigUint64(InstructionLayout.pairSeq, BigInt(pairSeq), true);
    view.setUint16(InstructionLayout.fromShard, from, true);
    view.setUint16(InstructionLayout.toShard, peer, true);
    view.setUint16(InstructionLayout.kind, kind, true);
    view.setUint16(InstructionLayout.reason, reason, true);
    this.#stagedCount++;
  }

  /** Undoes the newest staged instruction (its linked chain failed). */
  unstageLast(): void {
    assert(this.#stagedCount > 0, 'unstage of a staged instruction');
    this.#stagedCount--;
    const view = new DataView(this.#staged.buffer, this.#stagedCount * InstructionLayout.bytes, InstructionLayout.bytes);
    const peer = view.getUint16(InstructionLayout.toShard, true);
    assert(Number(view.getBigUint64(InstructionLayout.pairSeq, true)) === this.pairSeqLast[peer], 'unstage in reverse order');
    this.pairSeqLast[peer]!--;
  }

  /** Ends the batch: its instructions (one fresh buffer, or null) move to the retained lists. */
  commitStaged(): Uint8Array | null {
    if (this.#stagedCount === 0) return null;
    const batch = this.#staged.slice(0, this.#stagedCount * InstructionLayout.bytes);
    this.#stagedCount = 0;
    for (let at = 0; at < batch.byteLength; at += InstructionLayout.bytes) {
      const view = new DataView(batch.buffer, at, InstructionLayout.bytes);
      const peer = view.getUint16(InstructionLayout.toShard, true);
      const pairSeq = Number(view.getBigUint64(InstructionLayout.pairSeq, true));
      if (pairSeq <= this.acknowledged[peer]!) continue;
      this.#retained[peer]!.push(batch.subarray(at, at + InstructionLayout.bytes));
      this.#retainedCount++;
    }
    return batch;
  }

  /** The receiver applied everything up to `pairSeq`: forget those instructions. */
  acknowledge(peer: number, pairSeq: number): void {
    if (pairSeq <= this.acknowledged[peer]!) return;
    assert(pairSeq <= this.pairSeqLast[peer]!, 'acknowledged beyond what was issued');
    this.acknowledged[peer] = pairSeq;
    const retained = this.#retained[peer]!;
    let drop = 0;
    while (drop < retained.length && pairSeqOf(retained[drop]!) <= pairSeq) drop++;
    retained.splice(0, drop);
    this.#retainedCount -= drop;
  }

  /** Retained instructions for `peer` after `pairSeq`, concatenated, at most `countMax` of them. */
  after(peer: number, pairSeq: number, countMax: number): Uint8Array {
    const retained = this.#retained[peer]!;
    let first = 0;
    while (first < retained.length && pairSeqOf(retained[first]!) <= pairSeq) first++;
    const count = Math.min(countMax, retained.length - first);
    const out = new Uint8Array(count * InstructionLayout.bytes);
    for (let k = 0; k < count; k++) out.set(retained[first + k]!, k * InstructionLayout.bytes);
    return out;
  }

  /** Instructions held for every peer until acknowledged; past transitInstructionsRetainedMax the shard refuses new writes. */
  get retainedCount(): number {
    return this.#retainedCount;
  }

  /** True when receivers lag so far behind that new cross-shard postings must wait (overloaded). */
  get full(): boolean {
    return this.#retainedCount >= transitInstructionsRetainedMax;
  }

  #grow(): void {
    const next = new Uint8Array(this.#staged.byteLength * 2);
    next.set(this.#staged);
    this.#staged = next;
  }
}

export function pairSeqOf(instruction: Uint8Array): number {
  return Number(new DataView(instruction.buffer, instruction.byteOffset, instruction.byteLength).getBigUint64(InstructionLayout.pairSeq, true));
}
