// Issue #14, item 28: the day cut is made where nothing is between shards. Transfer requests wait while those in
// flight are answered and their credits land, then every shard cuts: each payee's closing balances hold every
// credit whose debit is in its payer's day, as one shard's would (run `npm run build` first: the workers load dist/).

import { describe, expect, it } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../src/core/business-day.js';
import { Operation } from '../../src/core/operations.js';
import { decodeResults, encodeAccounts, encodeTransfers } from '../../src/core/wire/records.js';
import { idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 3;
const ledger = 1;
// The relay's usual pace (not the fixture's fast one): credits take a while to land, so a cut that did not wait
// for them would find money between shards.
const sets = useShardSets('tally-cut-quiet-', { shardCount, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false } });
const today = (): number => new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')).dayOf(BigInt(Date.now()) * 1_000_000n);

interface TransitPair {
  from: number;
  to: number;
  outNet: string;
  inNet: string;
  inFlightAtCut: string;
}

describe('the day cut at a quiet instant', () => {
  it('cuts under cross-shard load with nothing in flight: every transit pair nets to zero at the cut, and no transfer fails', async () => {
    const set = await sets.start();
    expect(JSON.parse(await set.closeDayReport(today()))).toMatchObject({ passed: true });
    const accounts = Array.from({ length: shardCount }, (_, shard) => idsOnShard(shard, 4, 1n, shardCount)).flat();
    expect(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))))).every((r) => r.result === 'ok')).toBe(true);
    let nextId = 10_000n;
    let stop = false;
    const outcomes = new Map<string, number>();
    // Four callers, each with one request of 50 transfers at a time, every payee on another shard than its payer.
    const caller = async (seed: number): Promise<void> => {
      for (let round = 0; !stop; round++) {
        const transfers = Array.from({ length: 50 }, (_, k) => {
          const payer = accounts[(seed * 7 + round * 3 + k) % accounts.length]!;
          const payee = accounts[(seed * 7 + round * 3 + k + 4) % accounts.length]!; // 4 per shard: the next shard's
          return { id: nextId++, debitAccountId: payer, creditAccountId: payee, amount: 1n + BigInt(k), ledger, code: 1 };
        });
        for (const r of decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers)))) outcomes.set(r.result, (outcomes.get(r.result) ?? 0) + 1);
      }
    };
    const callers = [0, 1, 2, 3].map(caller);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const report = JSON.parse(await set.closeDayReport()) as { passed: boolean; checks: { transit: { pairs: TransitPair[] } } };
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await Promise.all(callers);
    expect(report.passed).toBe(true);
    const pairs = report.checks.transit.pairs;
    expect(pairs.length).toBeGreaterThan(0);
    // Money moved through every pair that day, and none of it was between shards at the cut.
    expect(pairs.filter((p) => p.outNet !== '0').length).toBeGreaterThan(0);
    for (const pair of pairs) expect({ ...pair, inNet: pair.outNet, inFlightAtCut: '0' }).toMatchObject(pair);
    expect([...outcomes.keys()]).toEqual(['ok']);
    expect(outcomes.get('ok')).toBeGreaterThan(1000);
  });
});
