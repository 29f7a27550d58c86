// The benchmark's accounts and its stream of uniform random transfers, written straight into
// 128-byte records (offsets from core/layout.ts), so the load generator spends little CPU per transfer.
// Both accounts of a transfer share a shard: this version refuses cross-shard transfers.
// Keeps the sum of every amount it issued and a uniform sample of transfers, for the final checks.

import { AccountLayout, TransferLayout } from '../../src/core/layout.js';
import { eventBytes } from '../../src/core/limits.js';
import { shardOfId } from '../../src/core/routing.js';
import type { AccountInput, TransferInput } from '../../src/client/index.js';

export const benchLedger = 1;
export const benchAccountCode = 1;
export const benchTransferCode = 1;
/** Transfers kept for the lookups that check the stored fields at the end. */
export const sampleTransfersMax = 1000;
/** Amounts cycle through 1..amountCycle minor units: varied, and their sum stays exact in a double. */
const amountCycle = 97;
/** Word 2 of every transfer id, so the bench's ids never meet account ids. */
const transferIdTag = 0x7a11_0001;

const wordsPerRecord = eventBytes / 4;
const w = {
  id: TransferLayout.id / 4,
  debit: TransferLayout.debitAccountId / 4,
  credit: TransferLayout.creditAccountId / 4,
  amount: TransferLayout.amount / 4,
  ledger: TransferLayout.ledger / 4,
  codeAndFlags: TransferLayout.code / 4,
} as const;

export interface SampledTransfer {
  id: bigint;
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
}

export class TransferSource {
  readonly accountCount: number;
  /** Accounts by shard, as indexes into the account list; account i has id i + 1. */
  private readonly poolByShard: Uint32Array[];
  private readonly shardOfAccount: Uint8Array;
  private transferSeq = 0;
  private randomState: number;
  /** Sum of the amounts of every transfer issued (exact while below 2^53). */
  amountIssuedTotal = 0;
  readonly samples: SampledTransfer[] = [];

  constructor(accountCount: number, shardCount: number, seed: number) {
    this.accountCount = accountCount;
    this.randomState = seed >>> 0 || 1;
    this.shardOfAccount = new Uint8Array(accountCount);
    const counts = new Uint32Array(shardCount);
    for (let i = 0; i < accountCount; i++) counts[(this.shardOfAccount[i] = shardOfId(BigInt(i + 1), shardCount))]++;
    this.poolByShard = Array.from(counts, (count) => new Uint32Array(count));
    const filled = new Uint32Array(shardCount);
    for (let i = 0; i < accountCount; i++) this.poolByShard[this.shardOfAccount[i]][filled[this.shardOfAccount[i]]++] = i;
    for (const [shard, pool] of this.poolByShard.entries()) {
      if (pool.length < 2) throw new RangeError(`--accounts ${accountCount} leaves shard ${shard} with ${pool.length} account(s); it needs 2`);
    }
  }

  get transfersIssued(): number {
    return this.transferSeq;
  }

  accountId(index: number): bigint {
    return BigInt(index + 1);
  }

  /** Account inputs for the public client, `count` from `first`; no balance rules, so every transfer posts. */
  accounts(first: number, count: number): AccountInput[] {
    return Array.from({ length: count }, (_, i) => ({ id: this.accountId(first + i), ledger: benchLedger, code: benchAccountCode }));
  }

  /** A fresh body of `count` transfer records. */
  nextBody(count: number): Uint8Array {
    const body = new Uint8Array(count * eventBytes);
    const words = new Uint32Array(body.buffer);
    for (let i = 0; i < count; i++) this.writeNext(words, i * wordsPerRecord);
    return body;
  }

  /** One transfer as a client input (the light-load phase goes through the public client). */
  nextInput(): TransferInput {
    const words = new Uint32Array(wordsPerRecord);
    this.writeNext(words, 0);
    const u128 = (at: number) => BigInt(words[at]) | (BigInt(words[at + 1]) << 32n) | (BigInt(words[at + 2]) << 64n) | (BigInt(words[at + 3]) << 96n);
    return {
      id: u128(w.id),
      debitAccountId: u128(w.debit),
      creditAccountId: u128(w.credit),
      amount: BigInt(words[w.amount]),
      ledger: benchLedger,
      code: benchTransferCode,
    };
  }

  private writeNext(words: Uint32Array, at: number): void {
    const seq = ++this.transferSeq;
    const debit = this.randomBelow(this.accountCount);
    const pool = this.poolByShard[this.shardOfAccount[debit]];
    let credit = pool[this.randomBelow(pool.length)];
    while (credit === debit) credit = pool[this.randomBelow(pool.length)];
    const amount = 1 + (seq % amountCycle);
    this.amountIssuedTotal += amount;
    // Ids below 2^32 fill one word; the other words of the record stay zero as the protocol requires.
    words[at + w.id] = seq >>> 0;
    words[at + w.id + 1] = Math.floor(seq / 2 ** 32);
    words[at + w.id + 2] = transferIdTag;
    words[at + w.debit] = debit + 1;
    words[at + w.credit] = credit + 1;
    words[at + w.amount] = amount;
    words[at + w.ledger] = benchLedger;
    words[at + w.codeAndFlags] = benchTransferCode; // code in the low half, flags (none) in the high half
    this.maybeSample(seq, debit, credit, amount);
  }

  /** Reservoir sampling: every transfer issued has the same chance to be among the samples. */
  private maybeSample(seq: number, debit: number, credit: number, amount: number): void {
    const slot = this.samples.length < sampleTransfersMax ? this.samples.length : this.randomBelow(seq);
    if (slot >= sampleTransfersMax) return;
    const id = BigInt(seq) | (BigInt(transferIdTag) << 64n);
    this.samples[slot] = { id, debitAccountId: this.accountId(debit), creditAccountId: this.accountId(credit), amount: BigInt(amount) };
  }

  /** xorshift32: cheap, seeded, good enough to spread load uniformly. */
  private randomBelow(bound: number): number {
    let x = this.randomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    return Math.floor((this.randomState / 4294967296) * bound);
  }
}

// The layout facts the word offsets above rely on.
if (TransferLayout.code % 4 !== 0 || TransferLayout.flags !== TransferLayout.code + 2 || AccountLayout.id !== 0) {
  throw new Error('transfer-source: record layout changed; revisit the word offsets');
}
