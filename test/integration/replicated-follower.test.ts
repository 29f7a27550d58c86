// Followers (issue #15): a shard set that applies the primary's JetStream streams into its own data directory and
// serves reads, on real worker threads (run `npm run build` first) and a throwaway 3-node NATS cluster. A live
// follower answers every read as the primary does once it has caught up, a delayed one only after its delay, and
// both refuse writes `not_primary`, naming the primary.

import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeHistoryEntries, decodeResults, decodeTransferStates, encodeHistoryFilter, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import type { ReplicationOptions } from '../../src/shards/replication/journal-stream.js';
import { TransferFlags } from '../../src/core/types.js';
import { useReplicatedSets } from '../support/replicated-fixture.js';
import { idsOnShard, openAccounts, transferOn } from '../support/shard-set-fixture.js';

const ledger = 2;
const shardCount = 2;
const transfer = transferOn(ledger);
const [a0, b0] = idsOnShard(0, 2, 5_000n, shardCount);
const [a1, b1] = idsOnShard(1, 2, 5_000n, shardCount);
const ids = [a0!, b0!, a1!, b1!];

const fixture = useReplicatedSets('tally-follower-', shardCount);
const newDir = (): string => fixture.newDir();
const close = (set: ShardSet): Promise<void> => fixture.close(set);

const start = (dataDir: string, replication: ReplicationOptions, follow?: { delayMs: number; untilMs?: number }): Promise<ShardSet> => fixture.start(dataDir, replication, follow);

async function post(set: ShardSet, transfers: Parameters<typeof encodeTransfers>[0]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

/** What a caller can read of the test's accounts and transfers: balances, transfer records, one history page each. */
async function reads(set: ShardSet, transferIds: bigint[]): Promise<unknown> {
  const accounts = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds(ids)));
  const transfers = decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds(transferIds)));
  const histories = [];
  for (const accountId of ids) histories.push(decodeHistoryEntries(await set.execute(Operation.get_account_transfers, encodeHistoryFilter({ accountId }))));
  return JSON.stringify({ accounts, transfers, histories }, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

/** Until each shard of `follower` holds every entry its stream holds. */
async function caughtUp(follower: ShardSet, timeout = 20_000): Promise<void> {
  await vi.waitFor(
    () => {
      const status = follower.replicationStatus();
      expect(status?.role).toBe('follower');
      expect(status!.shards).toHaveLength(shardCount);
      for (const shard of status!.shards) {
        expect(shard.lagEntries).toBe(0);
        expect(shard.seqApplied).toBeGreaterThan(0);
      }
    },
    { timeout, interval: 50 },
  );
}

describe('followers of the shard streams', () => {
  it('a live follower reads as the primary, follows new writes, survives its restart, and refuses writes not_primary', async () => {
    const replication: ReplicationOptions = { servers: fixture.nats.urls, cluster: fixture.newClusterName(), node: 'primary', replicas: 3, ackWaitMs: 3_000 };
    const primary = await start(newDir(), replication);
    await openAccounts(primary, ids.map((id) => ({ id, ledger, code: 1 })));
    expect(await post(primary, [transfer(1n, a0!, b0!, 5n), transfer(2n, a0!, a1!, 7n), transfer(3n, b1!, a0!, 3n, TransferFlags.pending)])).toEqual(['ok', 'ok', 'ok']);
    const followerDir = newDir();
    const follower = await start(followerDir, { ...replication, node: 'replica' }, { delayMs: 0 });
    await caughtUp(follower);
    // The primary's relay lands the credits; the follower gets them as the primary's apply_inbound entries.
    await vi.waitFor(async () => expect(await reads(follower, [1n, 2n, 3n])).toEqual(await reads(primary, [1n, 2n, 3n])), { timeout: 10_000, interval: 50 });
    await expect(post(follower, [transfer(4n, a0!, b0!, 1n)])).rejects.toMatchObject({ code: 'not_primary', message: expect.stringContaining('primary') });
    // Backups from a follower, so that they never load the primary: an online snapshot of its stores.
    const snapshotDir = join(newDir(), 'snap');
    follower.startSnapshot(snapshotDir);
    expect(await follower.snapshotSettled()).toMatchObject({ state: 'done' });
    // Live: later writes arrive by themselves, a big entry (in two messages) too.
    expect(await post(primary, [transfer(5n, b0!, a0!, 2n), transfer(6n, b1!, a0!, 3n, TransferFlags.post_pending, 3n)])).toEqual(['ok', 'ok']);
    expect(new Set(await post(primary, Array.from({ length: 8_190 }, (_, i) => transfer(1_000n + BigInt(i), a1!, b1!, 1n))))).toEqual(new Set(['ok']));
    const all = [1n, 2n, 3n, 5n, 6n, 1_000n, 9_189n];
    await vi.waitFor(async () => expect(await reads(follower, all)).toEqual(await reads(primary, all)), { timeout: 20_000, interval: 100 });
    // Restarted, it goes on from its own journal.
    await close(follower);
    expect(await post(primary, [transfer(7n, a0!, b1!, 4n)])).toEqual(['ok']);
    const again = await start(followerDir, { ...replication, node: 'replica' }, { delayMs: 0 });
    await vi.waitFor(async () => expect(await reads(again, [...all, 7n])).toEqual(await reads(primary, [...all, 7n])), { timeout: 20_000, interval: 100 });
  }, 90_000);

  it('a delayed follower applies an entry only once JetStream has held it for the delay', async () => {
    const replication: ReplicationOptions = { servers: fixture.nats.urls, cluster: fixture.newClusterName(), node: 'primary', replicas: 3, ackWaitMs: 3_000 };
    const primary = await start(newDir(), replication);
    await openAccounts(primary, ids.map((id) => ({ id, ledger, code: 1 })));
    const delayed = await start(newDir(), { ...replication, node: 'delayed' }, { delayMs: 2_500 });
    const posted = Date.now();
    expect(await post(primary, [transfer(1n, a0!, b0!, 9n)])).toEqual(['ok']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(decodeTransferStates(await delayed.execute(Operation.lookup_transfers, encodeIds([1n])))).toHaveLength(0);
    await vi.waitFor(async () => expect(decodeTransferStates(await delayed.execute(Operation.lookup_transfers, encodeIds([1n])))).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(Date.now() - posted).toBeGreaterThanOrEqual(2_400);
    expect(delayed.replicationStatus()!.shards[0]!.delayMs).toBe(2_500);
  }, 60_000);

  it('a follower held at a chosen time is promoted there onto new streams: the bad batch after it is not in them', async () => {
    const replication: ReplicationOptions = { servers: fixture.nats.urls, cluster: fixture.newClusterName(), node: 'primary', replicas: 3, ackWaitMs: 3_000 };
    const primary = await start(newDir(), replication);
    await openAccounts(primary, ids.map((id) => ({ id, ledger, code: 1 })));
    expect(await post(primary, [transfer(1n, a0!, b0!, 9n), transfer(2n, a1!, b1!, 4n)])).toEqual(['ok', 'ok']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const goodUntil = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The bad batch, on both shards.
    expect(await post(primary, [transfer(3n, a0!, b0!, 1_000n), transfer(4n, a1!, b1!, 2_000n)])).toEqual(['ok', 'ok']);
    const heldDir = newDir();
    const held = await start(heldDir, { ...replication, node: 'held' }, { delayMs: 0, untilMs: goodUntil });
    await vi.waitFor(async () => expect(decodeTransferStates(await held.execute(Operation.lookup_transfers, encodeIds([1n, 2n])))).toHaveLength(2), { timeout: 10_000, interval: 50 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(decodeTransferStates(await held.execute(Operation.lookup_transfers, encodeIds([3n, 4n])))).toHaveLength(0);
    await close(held);
    await close(primary);
    // Promoted at that point: the held journal starts new streams; the old ones keep the bad batch for the record.
    const promoted = await start(heldDir, { ...replication, cluster: fixture.newClusterName(), node: 'held' });
    expect(decodeAccountStates(await promoted.execute(Operation.lookup_accounts, encodeIds([a0!, b0!, a1!, b1!]))).map((a) => `${a.debitsPosted}/${a.creditsPosted}`)).toEqual(['9/0', '0/9', '4/0', '0/4']);
    expect(await post(promoted, [transfer(5n, a0!, b1!, 1n)])).toEqual(['ok']);
  }, 60_000);
});
