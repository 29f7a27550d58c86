// The benchmark's accounts and its stream of transfers, written straight into 128-byte records (offsets
// from core/layout.ts), so the load generator spends little CPU per transfer. Which two accounts a
// transfer moves money between is the workload's choice (workloads.ts), switched between phases.
// Accounts: the regular ones (ids 1..accountCount), then a funding account, the hot-credit account and
// the hot-debit account (no overdraft, funded once from the funding account before the load; created
// hot-outbound when the hot-debit workload runs, so that its debits are served from slices on the payee's shard).
// Keeps what the final checks need: the sum of every amount issued (in total, per workload and per
// ordered shard pair), each account's expected debits and credits, and a uniform sample of the
// transfers of each workload. Every sum is an integer below 2^53, so exact in a double (checked per body).
// A hot-debit transfer refused insufficient_funds on a slice (empty until its refill) is taken back out of
// every sum when its reply arrives (refusedForSliceMoney): the sums are always those of the transfers posted.
// Transfer ids are time-ordered like newId()'s (transfer-ids.ts), as the shards' on-disk id index expects.
import { randomInt } from 'node:crypto';
import { AccountLayout, TransferLayout } from '../../src/core/layout.js';
import { eventBytes, lookupIdsMax } from '../../src/core/limits.js';
import { shardOfId } from '../../src/core/routing.js';
import { AccountFlags, newId, type AccountInput, type TransferInput } from '../../src/client/index.js';
import { hotOutboundGroup, type HotOutboundGroup } from './hot-outbound-group.js';
import type { OldIdReservoir } from './old-ids.js';
import { seqMax, seqOfTransferId, transferIdOfWords, writeTransferId } from './transfer-ids.js';
import { newAccountUniverse, pickPair, specialAccountCount, workloadNames, type AccountUniverse, type Pair, type RandomSource, type Workload } from './workloads.js';
import { zipfExponentDefault, zipfTable } from './zipf.js';

export const benchLedger = 1;
export const benchAccountCode = 1;
export const benchTransferCode = 1;
/** Transfers kept per workload for the lookups that check the stored fields at the end. */
export const sampleTransfersMax = 1000;
/** Above this many accounts the per-account expected balances (16 bytes an account) are not kept. */
export const perAccountBookkeepingMax = 5_000_000;
/** Amounts cycle through 1..amountCycle minor units: varied, and their sum stays exact in a double. */
const amountCycle = 97;
/**
 * What the hot-debit account is funded with before the load: 10^15 minor units pay for 10^13 transfers
 * of the largest amount (hours at any rate this machine reaches), and leave ~8·10^15 of room below 2^53.
 */
export const hotDebitFundingMinor = 1_000_000_000_000_000;
/** Every sum the bench keeps stays at most this, so each is exact in a double. */
const exactSumMax = Number.MAX_SAFE_INTEGER;
/** Ids of refused hot-debit transfers kept, to check at the end that none exists: one lookup's worth. */
export const refusedIdsKeptMax = lookupIdsMax;

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
  /** The transfer's sequence number (the low 48 bits of its id, transfer-ids.ts). */
  seq: number;
  /** As sent; a hot-outbound account's transfer may be stored with one of its slices instead (hot-outbound-group.ts). */
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  workload: Workload;
  /** Refused insufficient_funds on a slice: it must not exist. */
  refused: boolean;
}

/** What one workload issued: transfers, the sum of the amounts posted, and a uniform sample of them. */
export interface WorkloadIssued {
  /** Every transfer issued, refused ones included. */
  transfers: number;
  /** Hot-debit transfers refused insufficient_funds on a slice (always 0 for the other workloads). */
  refused: number;
  /** Σ amounts of the transfers issued and not refused. Exact while below 2^53. */
  amount: number;
  readonly samples: SampledTransfer[];
}

export class TransferSource implements RandomSource {
  /** Regular accounts (ids 1..accountCount): the ones workloads draw from. */
  readonly accountCount: number;
  /** Every account the bench creates: the regular ones and the special ones after them. */
  readonly accountTotal: number;
  readonly shardCount: number;
  readonly fundingAccountId: bigint;
  readonly hotCreditAccountId: bigint;
  readonly hotDebitAccountId: bigint;
  /** The hot-debit account and its slices when it is created hot-outbound; null: a plain no-overdraft account. */
  readonly hotDebitGroup: HotOutboundGroup | null;
  private readonly universe: AccountUniverse;
  private readonly pair: Pair = { debit: 0, credit: 0 };
  private readonly zipfExponent: number;
  private transferSeq = 0;
  /** 32 random bits in every load transfer id of this source: two runs never make the same id (transfer-ids.ts). */
  readonly runTag: number = randomInt(2 ** 32);
  /** The millisecond prefix of the ids being written: read once per body, never going back. */
  private idMs = 0;
  /** One transfer of each body is offered to each of these (the sustained mode's old ids and warm-up ids). */
  idReservoirs: OldIdReservoir[] = [];
  private randomState: number;
  private currentWorkload: Workload = 'uniform';
  private current: WorkloadIssued;
  /** Sum of the amounts of every load transfer issued and not refused (exact while below 2^53). */
  amountIssuedTotal = 0;
  /** Transfers of requests refused whole (overloaded), taken back out of every sum (takeBackRequest). */
  transfersRefusedWhole = 0;
  /** The funding transfer's amount, once issued (0 before). */
  amountFundedTotal = 0;
  /**
   * Load transfers whose two accounts are on different shards (their credits travel through transit). A
   * hot-outbound account's debits are served on the payee's shard: never counted here.
   */
  crossShardTransfersIssued = 0;
  readonly issued = Object.fromEntries(workloadNames.map((name): [Workload, WorkloadIssued] => [name, { transfers: 0, refused: 0, amount: 0, samples: [] }])) as Record<Workload, WorkloadIssued>;
  /** Σ amounts of cross-shard transfers per ordered shard pair, at [debit shard × shardCount + credit shard]. */
  readonly crossAmountByPair: Float64Array;
  /** Σ amounts of the hot-debit transfers posted, by the payee's shard (the slice that served them, off the home shard). */
  readonly hotDebitPaidByShard: Float64Array;
  /** Ids of the refused hot-debit transfers, the first refusedIdsKeptMax. */
  readonly hotDebitRefusedIds: bigint[] = [];
  /** Σ amounts each account (by index, the special ones included) was debited and credited (null above perAccountBookkeepingMax accounts). */
  readonly expectedDebits: Float64Array | null;
  readonly expectedCredits: Float64Array | null;

  /** `hotDebitOutbound`: create the hot-debit account hot-outbound (when the hot-debit workload runs). */
  constructor(accountCount: number, shardCount: number, seed: number, zipfExponent = zipfExponentDefault, hotDebitOutbound = false) {
    this.accountCount = accountCount;
    this.accountTotal = accountCount + specialAccountCount;
    this.shardCount = shardCount;
    this.zipfExponent = zipfExponent;
    this.randomState = seed >>> 0 || 1;
    this.current = this.issued.uniform;
    this.universe = newAccountUniverse(accountCount, shardCount, shardOfId);
    this.fundingAccountId = this.accountId(accountCount);
    this.hotCreditAccountId = this.accountId(this.universe.hotCreditIndex);
    this.hotDebitAccountId = this.accountId(this.universe.hotDebitIndex);
    this.hotDebitGroup = hotDebitOutbound ? hotOutboundGroup(this.hotDebitAccountId, shardCount) : null;
    this.crossAmountByPair = new Float64Array(shardCount * shardCount);
    this.hotDebitPaidByShard = new Float64Array(shardCount);
    const perAccount = this.accountTotal <= perAccountBookkeepingMax;
    this.expectedDebits = perAccount ? new Float64Array(this.accountTotal) : null;
    this.expectedCredits = perAccount ? new Float64Array(this.accountTotal) : null;
  }

  get transfersIssued(): number {
    return this.transferSeq;
  }

  /** The workload of the transfers issued from now on. */
  get workload(): Workload {
    return this.currentWorkload;
  }

  set workload(workload: Workload) {
    if (workload === 'cross-shard' && this.shardCount < 2) throw new RangeError('the cross-shard workload needs at least 2 shards');
    // The Zipf table is built the first time the workload runs (100k accounts: a few ms), not for runs without it.
    if (workload === 'zipf') this.universe.zipf ??= zipfTable(this.accountCount, this.zipfExponent);
    this.currentWorkload = workload;
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
    return this.universe.shardOf[Number(id) - 1];
  }

  /** Hot-debit transfers refused insufficient_funds on a slice, over the whole run. */
  get hotDebitRefused(): number {
    return this.issued['hot-debit'].refused;
  }

  /**
   * Account inputs for the public client, `count` from index `first`. Only the hot-debit account has a
   * balance rule (no overdraft, as the baseline checks funds): every other transfer posts whatever the balances.
   * Hot-outbound is set at creation or never (the server has no mark_hot for debits: the routing of an
   * account's debits must not change under a retry).
   */
  accounts(first: number, count: number): AccountInput[] {
    const hotDebitFlags = AccountFlags.debits_must_not_exceed_credits | (this.hotDebitGroup === null ? 0 : AccountFlags.hot_outbound);
    return Array.from({ length: count }, (_, i) => {
      const id = this.accountId(first + i);
      const flags = id === this.hotDebitAccountId ? hotDebitFlags : AccountFlags.none;
      return { id, ledger: benchLedger, code: benchAccountCode, flags };
    });
  }

  /** The one transfer that funds the hot-debit account from the funding account; counted apart from the load. */
  fundingTransfer(): TransferInput {
    if (this.amountFundedTotal !== 0) throw new Error('the hot-debit account is funded once');
    const amount = hotDebitFundingMinor;
    this.amountFundedTotal = amount;
    // Its credit travels through transit like any other when the two accounts are on different shards (with 3 shards they are).
    const shardOf = this.universe.shardOf;
    const [from, to] = [shardOf[Number(this.fundingAccountId) - 1], shardOf[this.universe.hotDebitIndex]];
    if (from !== to) this.crossAmountByPair[from * this.shardCount + to] += amount;
    if (this.expectedDebits !== null) {
      this.expectedDebits[Number(this.fundingAccountId) - 1] += amount;
      this.expectedCredits![this.universe.hotDebitIndex] += amount;
    }
    return {
      id: newId(),
      debitAccountId: this.fundingAccountId,
      creditAccountId: this.hotDebitAccountId,
      amount: BigInt(amount),
      ledger: benchLedger,
      code: benchTransferCode,
    };
  }

  /** A fresh body of `count` transfer records. */
  nextBody(count: number): Uint8Array {
    this.checkRoom(count);
    this.readClock();
    const body = new Uint8Array(count * eventBytes);
    const words = new Uint32Array(body.buffer);
    for (let i = 0; i < count; i++) this.writeNext(words, i * wordsPerRecord);
    for (const reservoir of this.idReservoirs) if (reservoir.open) reservoir.offer(words, this.below(count) * wordsPerRecord);
    return body;
  }

  /** One transfer as a client input (the light-load phase goes through the public client). */
  nextInput(): TransferInput {
    this.checkRoom(1);
    this.readClock();
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

  /**
   * The transfer at `index` of `body` (a body of nextBody) was answered insufficient_funds. When it is a
   * hot-debit transfer a slice served (its payee off the account's home shard), it is taken back out of
   * every sum and true is returned: a slice briefly empty before its refill, not a failure of the run.
   * Anything else returns false and changes nothing (a failure).
   */
  refusedForSliceMoney(body: Uint8Array, index: number): boolean {
    const words = new Uint32Array(body.buffer, body.byteOffset + index * eventBytes, wordsPerRecord);
    return this.takeBackRefused(transferIdOfWords(words, w.id), words[w.debit] - 1, words[w.credit] - 1, words[w.amount]);
  }

  /**
   * Every transfer of `body` (a body of nextBody) was refused with the whole request (`overloaded`: the gateway
   * admits a request whole or not at all, so none of it was applied): out of every sum, its samples marked refused.
   * The caller sends it again or not; a retry is a new body.
   */
  takeBackRequest(body: Uint8Array): void {
    for (let at = 0; at < body.byteLength; at += eventBytes) {
      const words = new Uint32Array(body.buffer, body.byteOffset + at, wordsPerRecord);
      this.addToSums(words[w.debit] - 1, words[w.credit] - 1, -words[w.amount]);
    }
    // The body's sequence numbers run consecutively (writeNext): its samples and old ids are those in that range.
    const count = body.byteLength / eventBytes;
    const firstSeq = seqOfTransferId(transferIdOfWords(new Uint32Array(body.buffer, body.byteOffset, wordsPerRecord), w.id));
    const lastSeq = firstSeq + count - 1;
    for (const sample of this.current.samples) if (sample.seq >= firstSeq && sample.seq <= lastSeq) sample.refused = true;
    for (const reservoir of this.idReservoirs) reservoir.forgetSeqs(firstSeq, lastSeq);
    this.transfersRefusedWhole += count;
  }

  /** refusedForSliceMoney for a transfer of nextInput. */
  inputRefusedForSliceMoney(transfer: TransferInput): boolean {
    return this.takeBackRefused(transfer.id, Number(transfer.debitAccountId) - 1, Number(transfer.creditAccountId) - 1, Number(transfer.amount));
  }

  private takeBackRefused(id: bigint, debit: number, credit: number, amount: number): boolean {
    const group = this.hotDebitGroup;
    if (group === null || debit !== this.universe.hotDebitIndex || this.universe.shardOf[credit] === group.home) return false;
    const issued = this.issued['hot-debit'];
    issued.refused++;
    issued.amount -= amount;
    this.amountIssuedTotal -= amount;
    this.hotDebitPaidByShard[this.universe.shardOf[credit]] -= amount;
    if (this.expectedDebits !== null) {
      this.expectedDebits[debit] -= amount;
      this.expectedCredits![credit] -= amount;
    }
    if (this.hotDebitRefusedIds.length < refusedIdsKeptMax) this.hotDebitRefusedIds.push(id);
    const seq = seqOfTransferId(id);
    // Rare (a slice empty before its refill), and at most sampleTransfersMax to look through.
    const sample = issued.samples.find((s) => s.seq === seq);
    if (sample !== undefined) sample.refused = true;
    return true;
  }

  /**
   * Before `count` more transfers: every sum stays exact (the largest, funding + load, only grows, by at
   * most amountCycle a transfer), and a hot-debit transfer never overdraws the funded account (it would be
   * refused, and the expected balances would be wrong). Either failing means a run far past any sensible length.
   */
  private checkRoom(count: number): void {
    if (this.transferSeq + count > seqMax) throw new RangeError(`the transfer ids' sequence numbers would pass ${seqMax}: shorten the run`);
    const grows = count * amountCycle;
    if (this.amountFundedTotal + this.amountIssuedTotal + grows > exactSumMax) {
      throw new RangeError(`the bench's sums would pass 2^53 (${this.amountFundedTotal + this.amountIssuedTotal} so far): shorten the run`);
    }
    if (this.currentWorkload === 'hot-debit' && this.issued['hot-debit'].amount + grows > this.amountFundedTotal) {
      throw new RangeError(`the hot-debit account would run out of funds (${this.amountFundedTotal} funded, ${this.issued['hot-debit'].amount} spent): fund it first, or more`);
    }
  }

  private writeNext(words: Uint32Array, at: number): void {
    const seq = ++this.transferSeq;
    pickPair(this.currentWorkload, this.universe, this, this.pair);
    const { debit, credit } = this.pair;
    const amount = 1 + (seq % amountCycle);
    const issued = this.current;
    issued.transfers++;
    this.addToSums(debit, credit, amount);
    // Account ids below 2^32 fill one word; the other words of the record stay zero as the protocol requires.
    writeTransferId(words, at + w.id, this.idMs, this.runTag, seq);
    words[at + w.debit] = debit + 1;
    words[at + w.credit] = credit + 1;
    words[at + w.amount] = amount;
    words[at + w.ledger] = benchLedger;
    words[at + w.codeAndFlags] = benchTransferCode; // code in the low half, flags (none) in the high half
    this.maybeSample(issued, words, at, seq, debit, credit, amount);
  }

  /** A transfer's amount into every sum (`amount` < 0: taken back out of them, transfer counts included). */
  private addToSums(debit: number, credit: number, amount: number): void {
    const shardOf = this.universe.shardOf;
    const hotDebit = debit === this.universe.hotDebitIndex;
    if (hotDebit) this.hotDebitPaidByShard[shardOf[credit]] += amount;
    // A hot-outbound account's debit is served on the payee's shard (by its slice there, or by the account at home).
    if (shardOf[debit] !== shardOf[credit] && !(hotDebit && this.hotDebitGroup !== null)) {
      this.crossShardTransfersIssued += Math.sign(amount);
      this.crossAmountByPair[shardOf[debit] * this.shardCount + shardOf[credit]] += amount;
    }
    this.amountIssuedTotal += amount;
    this.current.amount += amount;
    if (this.expectedDebits !== null) {
      this.expectedDebits[debit] += amount;
      this.expectedCredits![credit] += amount;
    }
  }

  /** The millisecond prefix of the next ids: now, or the last one if the clock stepped back (ids keep increasing). */
  private readClock(): void {
    const nowMs = Date.now();
    if (nowMs > this.idMs) this.idMs = nowMs;
  }

  /** Reservoir sampling per workload: every transfer of a workload has the same chance to be among its samples. */
  private maybeSample(issued: WorkloadIssued, words: Uint32Array, at: number, seq: number, debit: number, credit: number, amount: number): void {
    const samples = issued.samples;
    const slot = samples.length < sampleTransfersMax ? samples.length : this.below(issued.transfers);
    if (slot >= sampleTransfersMax) return;
    const id = transferIdOfWords(words, at + w.id);
    samples[slot] = { id, seq, debitAccountId: this.accountId(debit), creditAccountId: this.accountId(credit), amount: BigInt(amount), workload: this.currentWorkload, refused: false };
  }

  /** An integer in [0, bound), from the 32-bit xorshift state. */
  below(bound: number): number {
    return Math.floor(this.unit() * bound);
  }

  /** xorshift32: cheap, seeded, good enough to spread load (and to draw Zipf ranks at 2^-32 resolution). */
  unit(): number {
    let x = this.randomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    return this.randomState / 4294967296;
  }
}

// The layout facts the word offsets above rely on.
if (TransferLayout.code % 4 !== 0 || TransferLayout.flags !== TransferLayout.code + 2 || AccountLayout.id !== 0) {
  throw new Error('transfer-source: record layout changed; revisit the word offsets');
}
