// A day close cut short between shards (run `npm run build` first: the workers load dist/). Shard 0 cuts
// first and the others follow; a kill -9 (or a failed follower) in between leaves a follower one cut behind.
// Found by `npm run fuzz` (kill-in-cut): the next close_day made shard 0 close day D+1 and the follower day D,
// and the bookkeeping worker died on "every shard closed the same day". The next close makes the missed cut
// first, so every shard closes the same day and the report passes — also after a restart in between.

import { describe, expect, it } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../src/core/business-day.js';
import type { ShardDayClose } from '../../src/core/books/day-close.js';
import { Operation } from '../../src/core/operations.js';
import { encodeAccounts, encodeTransfers } from '../../src/core/wire/records.js';
import { ShardControl, cutDayBody } from '../../src/shards/shard/shard-messages.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 3;
const ledger = 1;
const sets = useShardSets('tally-cut-catch-up-', { shardCount, transit: fastTransit, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false } });
const today = (): number => new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')).dayOf(BigInt(Date.now()) * 1_000_000n);

async function post(set: ShardSet, from: bigint): Promise<void> {
  const accounts = Array.from({ length: shardCount }, (_, shard) => idsOnShard(shard, 1, from, shardCount)[0]!);
  await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))));
  const transfers = accounts.map((id, i) => ({ id: from + BigInt(i), debitAccountId: id, creditAccountId: accounts[(i + 1) % shardCount]!, amount: 10n, ledger, code: 1 }));
  await set.execute(Operation.create_transfers, encodeTransfers(transfers));
  await set.transit.idle(10_000);
}

/** What a crash between shard 0's cut and its followers' leaves: shard 0 one day ahead. */
async function cutShardZeroOnly(set: ShardSet): Promise<ShardDayClose> {
  const reply = await set.hosts[0]!.runInternal(ShardControl.cutDay, cutDayBody(0, false), true);
  return JSON.parse(new TextDecoder().decode(reply)) as ShardDayClose;
}

describe('a day close cut short between shards', () => {
  it('is completed by the next close: every shard closes the same day and the report passes, across a restart', async () => {
    let set = await sets.start();
    expect(JSON.parse(await set.closeDayReport(today()))).toMatchObject({ passed: true });
    await post(set, 1_000n);
    const dayOne = JSON.parse(await set.closeDayReport()) as { day: number; dayBegun: number; passed: boolean };
    expect(dayOne.passed).toBe(true);

    await post(set, 2_000n);
    const partial = await cutShardZeroOnly(set);
    expect(partial.day).toBe(dayOne.dayBegun);
    set = await sets.restart(set);
    await post(set, 3_000n);

    const next = JSON.parse(await set.closeDayReport()) as { day: number; dayBegun: number; passed: boolean; shards: { day?: number }[] };
    expect(next.passed).toBe(true);
    expect(next.day).toBe(partial.dayBegun);
    // And the day after: all shards stand on the same day again.
    await post(set, 4_000n);
    const after = JSON.parse(await set.closeDayReport()) as { day: number; passed: boolean };
    expect(after).toMatchObject({ day: next.dayBegun, passed: true });
  });
});
