// The load bench's workloads: which two accounts each transfer moves money between. Pure pair
// generation over account indexes (account i has id i + 1) with the caller's seeded PRNG; nothing here
// writes records or keeps sums. A pair never debits and credits the same account, and only the hot
// workloads ever touch the hot accounts, which sit after the regular ones.

import type { ZipfTable } from './zipf.js';

export const workloadNames = ['uniform', 'zipf', 'hot-credit', 'hot-debit', 'cross-shard', 'same-shard'] as const;
export type Workload = (typeof workloadNames)[number];

/** What `--workloads` runs when not given: the workloads the issue asks for. */
export const workloadsDefault: readonly Workload[] = ['uniform', 'zipf', 'hot-credit', 'hot-debit', 'cross-shard'];

/** One line each, for the usage text and the run's header. */
export const workloadDescriptions: Record<Workload, string> = {
  uniform: 'both accounts uniform random over every regular account, any shard',
  zipf: 'both accounts drawn from a Zipf distribution over the regular accounts (rank k = account id k + 1)',
  'hot-credit': 'every transfer credits one hot account; the debit account is uniform',
  'hot-debit': 'every transfer debits one hot-outbound account (no overdraft, funded up front, served from slices); the credit account is uniform',
  'cross-shard': 'uniform debit account; the credit account is uniform over the other shards',
  'same-shard': 'uniform debit account; the credit account is on the same shard',
};

/** A seeded source of uniform draws. */
export interface RandomSource {
  /** An integer in [0, bound). */
  below(bound: number): number;
  /** A number in [0, 1). */
  unit(): number;
}

/**
 * The accounts pairs are drawn from. Regular accounts are indexes 0..regularCount−1; then the funding
 * account (regularCount), the hot-credit account (regularCount + 1) and the hot-debit account (regularCount + 2).
 */
export interface AccountUniverse {
  readonly regularCount: number;
  /** Shard of every account index, the hot ones included. */
  readonly shardOf: Uint8Array;
  /** Regular accounts by shard, as indexes. */
  readonly poolByShard: readonly Uint32Array[];
  readonly hotCreditIndex: number;
  readonly hotDebitIndex: number;
  /** Set before the zipf workload runs. */
  zipf: ZipfTable | null;
}

/** Accounts after the regular ones: funding, hot-credit, hot-debit. */
export const specialAccountCount = 3;

/** The universe of `regularCount` regular accounts plus the special ones, routed by `shardOfId` over `shardCount` shards. */
export function newAccountUniverse(regularCount: number, shardCount: number, shardOfId: (id: bigint, shardCount: number) => number): AccountUniverse {
  const total = regularCount + specialAccountCount;
  const shardOf = new Uint8Array(total);
  for (let i = 0; i < total; i++) shardOf[i] = shardOfId(BigInt(i + 1), shardCount);
  const counts = new Uint32Array(shardCount);
  for (let i = 0; i < regularCount; i++) counts[shardOf[i]]++;
  const poolByShard = Array.from(counts, (count) => new Uint32Array(count));
  const filled = new Uint32Array(shardCount);
  for (let i = 0; i < regularCount; i++) poolByShard[shardOf[i]][filled[shardOf[i]]++] = i;
  for (const [shard, pool] of poolByShard.entries()) {
    if (pool.length < 2) throw new RangeError(`--accounts ${regularCount} leaves shard ${shard} with ${pool.length} account(s); it needs 2`);
  }
  return { regularCount, shardOf, poolByShard, hotCreditIndex: regularCount + 1, hotDebitIndex: regularCount + 2, zipf: null };
}

/** Where a pick is written: reused across transfers, so the hot loop allocates nothing. */
export interface Pair {
  debit: number;
  credit: number;
}

/** Writes the next pair of `workload` into `out`. */
export function pickPair(workload: Workload, u: AccountUniverse, random: RandomSource, out: Pair): void {
  const n = u.regularCount;
  switch (workload) {
    case 'uniform':
      out.debit = random.below(n);
      out.credit = otherThan(out.debit, n, random);
      return;
    case 'zipf':
      pickZipf(u.zipf!, random, out);
      return;
    case 'hot-credit':
      out.debit = random.below(n);
      out.credit = u.hotCreditIndex;
      return;
    case 'hot-debit':
      out.debit = u.hotDebitIndex;
      out.credit = random.below(n);
      return;
    case 'cross-shard':
      out.debit = random.below(n);
      out.credit = onOtherShard(u.shardOf[out.debit], n, u.shardOf, random);
      return;
    case 'same-shard':
      out.debit = random.below(n);
      out.credit = onSameShard(out.debit, u.poolByShard[u.shardOf[out.debit]], random);
      return;
  }
}

/** Uniform over 0..n−1 but `index`: draw again on a hit (n ≥ 2). */
function otherThan(index: number, n: number, random: RandomSource): number {
  let other = random.below(n);
  while (other === index) other = random.below(n);
  return other;
}

function pickZipf(zipf: ZipfTable, random: RandomSource, out: Pair): void {
  out.debit = zipf.rankAt(random.unit());
  let credit = zipf.rankAt(random.unit());
  // With s = 1 over 100k ranks the top rank is ~8% of draws, so about 0.7% of pairs draw again.
  while (credit === out.debit) credit = zipf.rankAt(random.unit());
  out.credit = credit;
}

/** Uniform over the regular accounts of the other shards: draw again while the draw lands on `shard` (about shards / (shards − 1) draws). */
function onOtherShard(shard: number, n: number, shardOf: Uint8Array, random: RandomSource): number {
  let credit = random.below(n);
  while (shardOf[credit] === shard) credit = random.below(n);
  return credit;
}

function onSameShard(debit: number, pool: Uint32Array, random: RandomSource): number {
  let credit = pool[random.below(pool.length)];
  while (credit === debit) credit = pool[random.below(pool.length)];
  return credit;
}

/**
 * Whether `workload` can move money between two shards (then its credits travel through transit). A
 * hot-outbound hot-debit account pays from the payee's shard, but its slice keeper's refills and returns cross.
 */
export function crossesShards(workload: Workload, shardCount: number): boolean {
  return shardCount > 1 && workload !== 'same-shard';
}
