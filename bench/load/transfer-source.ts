// The benchmark's accounts and its stream of uniform random transfers, written straight into
// 128-byte records (offsets from core/layout.ts), so the load generator spends little CPU per transfer.
// Two workloads, switched between phases: `same-shard` (the credit account lives on the debit
// account's shard: one local step) and `cross-shard` (the credit account lives on another shard:
// the server acknowledges once the debit is durable and the credit lands on the payee's shard a
// moment later, exactly once). Accounts are otherwise uniform random.
// Keeps what the final checks need: the sum of every amount issued (in total, per workload and per
// ordered shard pair), each account's expected debits and credits, and a uniform sample of the
// transfers of each workload.
import { AccountLayout, TransferLayout } from '../../src/core/layout.js';
import { eventBytes } from '../../src/core/limits.js';
import { shardOfId } from '../../src/core/routing.js';
import type { AccountInput, TransferInput } from '../../src/client/index.js';

export const benchLedger = 1;
export const benchAccountCode = 1;
export const benchTransferCode = 1;
/** Transfers kept per workload for the lookups that check the stored fields at the end. */
export const sampleTransfersMax = 1000;
/** Above this many accounts the per-account expected balances (16 bytes an account) are not kept. */
export const perAccountBookkeepingMax = 5_000_000;
/** Amounts cycle through 1..amountCycle minor units: varied, and their sum stays exact in a double. */
const amountCycle = 97;
/** Word 2 of every transfer id, so the bench's ids never meet account ids. */
const transferIdTag = 0x7a11_0001;

export const workloadNames = ['same-shard', 'cross-shard'] as const;
export type Workload = (typeof workloadNames)[number];

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
  workload: Workload;
}

/** What one workload issued: transfers, the sum of their amounts, and a uniform sample of them. */
export interface WorkloadIssued {
  transfers: number;
  /** Exact while below 2^53. */
  amount: number;
  readonly samples: SampledTransfer[];
}

export class TransferSource {
  readonly accountCount: number;
  readonly shardCount: number;
  /** Accounts by shard, as indexes into the account list; account i has id i + 1. */
  private readonly poolByShard: Uint32Array[];
  private readonly shardOfAccount: Uint8Array;
  private transferSeq = 0;
  private randomState: number;
  private crossShard = false;
  private current: WorkloadIssued;
  /** Sum of the amounts of every transfer issued (exact while below 2^53). */
  amountIssuedTotal = 0;
  readonly issued: Record<Workload, WorkloadIssued> = {
    'same-shard': { transfers: 0, amount: 0, samples: [] },
    'cross-shard': { transfers: 0, amount: 0, samples: [] },
  };
  /** Σ amounts of cross-shard transfers per ordered shard pair, at [debit shard × shardCount + credit shard]. */
  readonly crossAmountByPair: Float64Array;
  /** Σ amounts each account was debited and credited (null above perAccountBookkeepingMax accounts). */
  readonly expectedDebits: Float64Array | null;
  readonly expectedCredits: Float64Array | null;

  constructor(accountCount: number, shardCount: number, seed: number) {
    this.accountCount = accountCount;
    this.shardCount = shardCount;
    this.randomState = seed >>> 0 || 1;
    this.current = this.issued['same-shard'];
    this.crossAmountByPair = new Float64Array(shardCount * shardCount);
    const perAccount = accountCount <= perAccountBookkeepingMax;
    this.expectedDebits = perAccount ? new Float64Array(accountCount) : null;
    this.expectedCredits = perAccount ? new Float64Array(accountCount) : null;
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

  /** The workload of the transfers issued from now on. */
  get workload(): Workload {
    return this.crossShard ? 'cross-shard' : 'same-shard';
  }

  set workload(workload: Workload) {
    if (workload === 'cross-shard' && this.shardCount < 2) throw new RangeError('the cross-shard workload needs at least 2 shards');
    this.crossShard = workload === 'cross-shard';
    this.current = this.issued[workload];
  }

  /** Every sample of every workload. */
  get samples(): SampledTransfer[] {
    return workloadNames.flatMap((name) => this.issued[name].samples);
  }

  accountId(index: number): bigint {
    return BigInt(index + 1);
  }

  shardOfAccountId(id: bigint): number {
    return this.shardOfAccount[Number(id) - 1];
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
    const debitShard = this.shardOfAccount[debit];
    const amount = 1 + (seq % amountCycle);
    let credit: number;
    if (this.crossShard) {
      // Uniform over the accounts of the other shards: draw again while the draw lands on the debit's shard
      // (about shardCount / (shardCount − 1) draws on average).
      do credit = this.randomBelow(this.accountCount);
      while (this.shardOfAccount[credit] === debitShard);
      this.crossAmountByPair[debitShard * this.shardCount + this.shardOfAccount[credit]] += amount;
    } else {
      const pool = this.poolByShard[debitShard];
      credit = pool[this.randomBelow(pool.length)];
      while (credit === debit) credit = pool[this.randomBelow(pool.length)];
    }
    this.amountIssuedTotal += amount;
    const issued = this.current;
    issued.transfers++;
    issued.amount += amount;
    if (this.expectedDebits !== null) {
      this.expectedDebits[debit] += amount;
      this.expectedCredits![credit] += amount;
    }
    // Ids below 2^32 fill one word; the other words of the record stay zero as the protocol requires.
    words[at + w.id] = seq >>> 0;
    words[at + w.id + 1] = Math.floor(seq / 2 ** 32);
    words[at + w.id + 2] = transferIdTag;
    words[at + w.debit] = debit + 1;
    words[at + w.credit] = credit + 1;
    words[at + w.amount] = amount;
    words[at + w.ledger] = benchLedger;
    words[at + w.codeAndFlags] = benchTransferCode; // code in the low half, flags (none) in the high half
    this.maybeSample(issued, seq, debit, credit, amount);
  }

  /** Reservoir sampling per workload: every transfer of a workload has the same chance to be among its samples. */
  private maybeSample(issued: WorkloadIssued, seq: number, debit: number, credit: number, amount: number): void {
    const samples = issued.samples;
    const slot = samples.length < sampleTransfersMax ? samples.length : this.randomBelow(issued.transfers);
    if (slot >= sampleTransfersMax) return;
    const id = BigInt(seq) | (BigInt(transferIdTag) << 64n);
    samples[slot] = { id, debitAccountId: this.accountId(debit), creditAccountId: this.accountId(credit), amount: BigInt(amount), workload: this.workload };
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
