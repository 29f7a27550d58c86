// Pair generation per workload: every pick is two different accounts, the hot account is always on its
// side and never elsewhere, cross-shard always crosses, same-shard never does; and the transfer source
// keeps exact sums (funding included) and refuses to overdraw the hot-debit account; a hot-outbound hot-debit
// account is created with its flag, pays from the payee's shard, and a slice refusal is taken back out of every sum.
import { describe, expect, it } from 'vitest';
import { TransferSource, hotDebitFundingMinor } from '../../../bench/load/transfer-source.js';
import { crossesShards, newAccountUniverse, pickPair, workloadNames, type Pair, type RandomSource, type Workload } from '../../../bench/load/workloads.js';
import { zipfTable } from '../../../bench/load/zipf.js';
import { decodeTransfer } from '../../../src/core/wire/records.js';
import { shardOfId } from '../../../src/core/routing.js';
import { AccountFlags } from '../../../src/core/types.js';
import { mulberry32 } from '../../support/prng.js';

const regularCount = 2000;
const shardCount = 3;
const picks = 20_000;

function seeded(seed: number): RandomSource {
  const next = mulberry32(seed);
  return { unit: next, below: (bound) => Math.floor(next() * bound) };
}

function pairsOf(workload: Workload): Pair[] {
  const universe = newAccountUniverse(regularCount, shardCount, shardOfId);
  universe.zipf = zipfTable(regularCount, 1);
  const random = seeded(42);
  return Array.from({ length: picks }, () => {
    const out = { debit: -1, credit: -1 };
    pickPair(workload, universe, random, out);
    return out;
  });
}

describe('pickPair', () => {
  const universe = newAccountUniverse(regularCount, shardCount, shardOfId);
  const isRegular = (i: number) => Number.isInteger(i) && i >= 0 && i < regularCount;
  const shard = (i: number) => universe.shardOf[i];

  it.each(workloadNames.map((w) => [w]))('%s: two different accounts every time', (workload) => {
    expect(pairsOf(workload).filter((p) => p.debit === p.credit)).toEqual([]);
  });

  const rules: [Workload, (p: Pair) => boolean][] = [
    ['uniform', (p) => isRegular(p.debit) && isRegular(p.credit)],
    ['zipf', (p) => isRegular(p.debit) && isRegular(p.credit)],
    ['hot-credit', (p) => p.credit === universe.hotCreditIndex && isRegular(p.debit)],
    ['hot-debit', (p) => p.debit === universe.hotDebitIndex && isRegular(p.credit)],
    ['cross-shard', (p) => isRegular(p.debit) && isRegular(p.credit) && shard(p.debit) !== shard(p.credit)],
    ['same-shard', (p) => isRegular(p.debit) && isRegular(p.credit) && shard(p.debit) === shard(p.credit)],
  ];
  it.each(rules)('%s: every pair keeps to its rule', (workload, rule) => {
    const broken = pairsOf(workload).filter((p) => !rule(p));
    expect(broken).toEqual([]);
  });

  it('uniform and the hot workloads reach every shard on the uniform side', () => {
    for (const [workload, side] of [
      ['uniform', 'credit'],
      ['hot-credit', 'debit'],
      ['hot-debit', 'credit'],
    ] as const) {
      const shards = new Set(pairsOf(workload).map((p) => shard(p[side])));
      expect(shards.size, workload).toBe(shardCount);
    }
  });

  it('zipf: the top-ranked account is debited about P(rank 0) of the time', () => {
    const share = pairsOf('zipf').filter((p) => p.debit === 0).length / picks;
    expect(share).toBeCloseTo(zipfTable(regularCount, 1).probability(0), 2);
  });

  it('which workloads cross shards', () => {
    expect(workloadNames.filter((w) => crossesShards(w, 2))).toEqual(['uniform', 'zipf', 'hot-credit', 'hot-debit', 'cross-shard']);
    expect(workloadNames.filter((w) => crossesShards(w, 1))).toEqual([]);
  });
});

describe('TransferSource', () => {
  it('funds the hot-debit account once, and keeps Σ expected debits = Σ expected credits = issued + funded', () => {
    const source = new TransferSource(500, 2, 7);
    const funding = source.fundingTransfer();
    expect(funding.debitAccountId).toBe(source.fundingAccountId);
    expect(funding.creditAccountId).toBe(source.hotDebitAccountId);
    expect(funding.amount).toBe(BigInt(hotDebitFundingMinor));
    expect(() => source.fundingTransfer()).toThrow(/funded once/);
    for (const workload of workloadNames) {
      source.workload = workload;
      source.nextBody(1000);
      source.nextInput();
    }
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    const expected = source.amountIssuedTotal + source.amountFundedTotal;
    expect(sum(source.expectedDebits!)).toBe(expected);
    expect(sum(source.expectedCredits!)).toBe(expected);
    expect(source.transfersIssued).toBe(workloadNames.length * 1001);
    expect(source.expectedCredits![Number(source.hotCreditAccountId) - 1]).toBe(source.issued['hot-credit'].amount);
    expect(source.expectedDebits![Number(source.hotDebitAccountId) - 1]).toBe(source.issued['hot-debit'].amount);
    expect(source.expectedCredits![Number(source.hotDebitAccountId) - 1]).toBe(hotDebitFundingMinor);
  });

  it('refuses hot-debit transfers before the funding', () => {
    const source = new TransferSource(500, 2, 7);
    source.workload = 'hot-debit';
    expect(() => source.nextBody(10)).toThrow(/run out of funds/);
  });

  it('creates the hot-debit account with no overdraft, every other without balance rules', () => {
    const source = new TransferSource(10, 2, 7);
    const accounts = source.accounts(0, source.accountTotal);
    expect(accounts.map((a) => a.id)).toEqual(Array.from({ length: 13 }, (_, i) => BigInt(i + 1)));
    expect(accounts.filter((a) => a.flags !== 0).map((a) => a.id)).toEqual([source.hotDebitAccountId]);
  });
});

describe('TransferSource with a hot-outbound hot-debit account', () => {
  const shards = 3;
  function funded(): TransferSource {
    const source = new TransferSource(600, shards, 11, undefined, true);
    source.fundingTransfer();
    source.workload = 'hot-debit';
    return source;
  }
  const transfersOf = (body: Uint8Array) => Array.from({ length: body.byteLength / 128 }, (_, i) => decodeTransfer(new DataView(body.buffer, body.byteOffset), i * 128));

  it('creates the account hot_outbound | debits_must_not_exceed_credits, at creation (there is no marking it later)', () => {
    const source = funded();
    const flags = source.accounts(0, source.accountTotal).filter((a) => a.flags !== 0);
    expect(flags).toEqual([expect.objectContaining({ id: source.hotDebitAccountId, flags: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits })]);
    expect(source.hotDebitGroup?.home).toBe(shardOfId(source.hotDebitAccountId, shards));
  });

  it('counts none of its transfers as cross-shard (each is served on the payee shard), and sums what it paid per payee shard', () => {
    const source = funded();
    const fundingOnly = [...source.crossAmountByPair];
    const transfers = transfersOf(source.nextBody(3000));
    expect(source.crossShardTransfersIssued).toBe(0);
    expect([...source.crossAmountByPair]).toEqual(fundingOnly);
    const byShard = Array.from({ length: shards }, (_, s) => transfers.filter((t) => shardOfId(t.creditAccountId, shards) === s).reduce((sum, t) => sum + Number(t.amount), 0));
    expect([...source.hotDebitPaidByShard]).toEqual(byShard);
  });

  it('takes a slice refusal back out of every sum; a refusal of a home-shard payee or of another workload is a failure', () => {
    const source = funded();
    const body = source.nextBody(400);
    const transfers = transfersOf(body);
    const home = source.hotDebitGroup!.home;
    const offHome = transfers.findIndex((t) => shardOfId(t.creditAccountId, shards) !== home);
    const atHome = transfers.findIndex((t) => shardOfId(t.creditAccountId, shards) === home);
    const t = transfers[offHome];
    const before = { issued: source.amountIssuedTotal, paid: source.issued['hot-debit'].amount, credit: source.expectedCredits![Number(t.creditAccountId) - 1] };
    const sample = source.issued['hot-debit'].samples.find((s) => s.id === t.id)!;
    expect(source.refusedForSliceMoney(body, offHome)).toBe(true);
    expect(source.hotDebitRefused).toBe(1);
    expect(source.hotDebitRefusedIds).toEqual([t.id]);
    expect(source.amountIssuedTotal).toBe(before.issued - Number(t.amount));
    expect(source.issued['hot-debit'].amount).toBe(before.paid - Number(t.amount));
    expect(source.expectedCredits![Number(t.creditAccountId) - 1]).toBe(before.credit - Number(t.amount));
    expect(sample.refused).toBe(true);
    expect(source.refusedForSliceMoney(body, atHome)).toBe(false);
    source.workload = 'uniform';
    const uniform = source.nextBody(1);
    expect(source.refusedForSliceMoney(uniform, 0)).toBe(false);
    expect(source.hotDebitRefused).toBe(1);
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(sum(source.expectedDebits!)).toBe(source.amountIssuedTotal + source.amountFundedTotal);
    expect(sum(source.expectedCredits!)).toBe(source.amountIssuedTotal + source.amountFundedTotal);
  });

  it('takes back a refused client input the same way', () => {
    const source = funded();
    let input = source.nextInput();
    while (shardOfId(input.creditAccountId, shards) === source.hotDebitGroup!.home) input = source.nextInput();
    const before = source.amountIssuedTotal;
    expect(source.inputRefusedForSliceMoney(input)).toBe(true);
    expect(source.amountIssuedTotal).toBe(before - Number(input.amount));
    expect(source.hotDebitRefusedIds).toEqual([input.id]);
  });
});

describe('TransferSource funding', () => {
  it.each([1, 2, 3, 4])('counts the funding transfer on its transit pair when it crosses shards (%i shards)', (shards) => {
    const source = new TransferSource(500, shards, 7);
    source.fundingTransfer();
    const [from, to] = [shardOfId(source.fundingAccountId, shards), shardOfId(source.hotDebitAccountId, shards)];
    const expected = new Float64Array(shards * shards);
    if (from !== to) expected[from * shards + to] = hotDebitFundingMinor;
    expect(source.crossAmountByPair).toEqual(expected);
    expect(source.crossShardTransfersIssued).toBe(0);
  });
});
