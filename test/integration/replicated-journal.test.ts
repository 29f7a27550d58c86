// Replicated mode (issue #15, first step): every shard's journal also on its own JetStream stream, on real worker
// threads (run `npm run build` first) and a throwaway 3-node NATS cluster on loopback ports (never the machine's
// shared instance). A write is acknowledged only once JetStream holds it: the stream holds every acknowledged entry
// byte for byte, a new disk restarts from the stream alone, a node another one has overtaken on the stream is
// refused `not_primary`, and without a majority of NATS nodes a write answers `unavailable`, never `ok`.

import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { JournalStore } from '../../src/shards/shard/journal-store.js';
import { JournalStream, type ReplicationOptions } from '../../src/shards/replication/journal-stream.js';
import { bytesEqual } from '../../src/core/bytes.js';
import { startNatsCluster } from '../support/nats-cluster.js';
import { useReplicatedSets } from '../support/replicated-fixture.js';
import { ChainLog } from '../../src/shards/chains/chain-log.js';
import { ChainDecisionBucket } from '../../src/shards/replication/chain-decisions.js';
import { TransferFlags } from '../../src/core/types.js';
import { idsOnShard, openAccounts, transferOn } from '../support/shard-set-fixture.js';

const ledger = 1;
const shardCount = 2;
const transfer = transferOn(ledger);
const [a0, b0] = idsOnShard(0, 2, 1_000n, shardCount);
const [a1, b1] = idsOnShard(1, 2, 1_000n, shardCount);

const fixture = useReplicatedSets('tally-replicated-', shardCount);
const newDir = (): string => fixture.newDir();
const close = (set: ShardSet): Promise<void> => fixture.close(set);

/** Each test its own streams (a cluster name of its own), on the suite's NATS cluster. */
function replication(name: string, node = 'a', ackWaitMs = 3_000): ReplicationOptions {
  return { servers: fixture.nats.urls, cluster: name, node, replicas: 3, ackWaitMs };
}

const start = (dataDir: string, options: ReplicationOptions | null): Promise<ShardSet> => fixture.start(dataDir, options);

async function post(set: ShardSet, transfers: Parameters<typeof encodeTransfers>[0]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

async function balances(set: ShardSet, ids: bigint[]): Promise<string[]> {
  return decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds(ids))).map((a) => `${a.debitsPosted}/${a.creditsPosted}`);
}

/** Every entry of each shard's local journal, compared with its stream's copy; returns each stream's message count. */
async function streamsMatchJournals(dataDir: string, options: ReplicationOptions): Promise<number[]> {
  const counts: number[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const scratch = newDir();
    const store = JournalStore.openReadOnly(dataDir, shard, scratch);
    const stream = await JournalStream.open(options, shard);
    try {
      const tail = await stream.tail();
      expect(tail.entrySeq).toBe(store.seqLast);
      let seen = 0;
      for await (const [seq, entry] of stream.entriesFrom(1, tail.entrySeq)) {
        expect(seq).toBe(++seen);
        expect(bytesEqual(entry, store.entry(seq)!)).toBe(true);
      }
      expect(seen).toBe(store.seqLast);
      counts.push(tail.streamSeq);
    } finally {
      await stream.close();
      await store.close();
    }
  }
  return counts;
}

const accounts = [a0!, b0!, a1!, b1!].map((id) => ({ id, ledger, code: 1 }));

/** What `stream.entriesFrom(from, to)` yields, its caller stopping after `take` entries. */
async function readEntries(stream: JournalStream, from: number, to: number, take = Infinity): Promise<[number, Uint8Array][]> {
  const read: [number, Uint8Array][] = [];
  for await (const entry of stream.entriesFrom(from, to)) {
    read.push(entry);
    if (read.length >= take) break;
  }
  return read;
}

/** The next `count` entries of a follower's feed. */
async function take<T>(entries: AsyncGenerator<T>, count: number): Promise<T[]> {
  const taken: T[] = [];
  while (taken.length < count) {
    const next = await entries.next();
    if (next.done === true) throw new Error(`the feed ended after ${taken.length} of ${count} entries`);
    taken.push(next.value);
  }
  return taken;
}

/** The consumers JetStream holds on `stream`'s stream (a read must leave none behind). */
async function consumersOf(stream: JournalStream): Promise<string[]> {
  const nc = await fixture.nats.connect();
  try {
    const names: string[] = [];
    for await (const info of (await jetstreamManager(nc)).consumers.list(stream.names.stream)) names.push(info.name);
    return names;
  } finally {
    await nc.close();
  }
}

describe('replicated mode: shard journals on JetStream', () => {
  it('acknowledges writes that the streams hold byte for byte, entries past max_payload in parts', async () => {
    const options = replication(fixture.newClusterName());
    const dataDir = newDir();
    const set = await start(dataDir, options);
    await openAccounts(set, accounts);
    expect(await post(set, [transfer(1n, a0!, b0!, 5n), transfer(2n, a0!, a1!, 7n), transfer(3n, b1!, a0!, 3n)])).toEqual(['ok', 'ok', 'ok']);
    // 8,190 transfers in one entry: ~1.6 MB, above NATS's 1 MB max_payload.
    const big = Array.from({ length: 8_190 }, (_, i) => transfer(100n + BigInt(i), b0!, a0!, 1n));
    expect(new Set(await post(set, big))).toEqual(new Set(['ok']));
    await close(set);
    const messages = await streamsMatchJournals(dataDir, options);
    // Shard 0 (b0 → a0) took the big entry in two messages: one message more than it has entries.
    const store = JournalStore.openReadOnly(dataDir, 0, newDir());
    expect(messages[0]).toBe(store.seqLast + 1);
    await store.close();
  }, 60_000);

  it('starts on an empty disk from the streams alone, and an embedded store switching to them publishes its journal', async () => {
    const options = replication(fixture.newClusterName());
    const embeddedDir = newDir();
    const embedded = await start(embeddedDir, null);
    await openAccounts(embedded, accounts);
    expect(await post(embedded, [transfer(1n, a0!, b0!, 5n), transfer(2n, a0!, a1!, 7n)])).toEqual(['ok', 'ok']);
    await close(embedded);
    // The same data dir, now replicated: its whole journal goes to the streams first.
    const switched = await start(embeddedDir, options);
    expect(await post(switched, [transfer(3n, b1!, a0!, 3n)])).toEqual(['ok']);
    const before = await balances(switched, [a0!, b0!, a1!, b1!]);
    await close(switched);
    await streamsMatchJournals(embeddedDir, options);
    // A lost disk: a fresh data dir takes every entry from the streams and answers the same.
    const freshDir = newDir();
    const restored = await start(freshDir, options);
    expect(await balances(restored, [a0!, b0!, a1!, b1!])).toEqual(before);
    expect(await post(restored, [transfer(1n, a0!, b0!, 5n)])).toEqual(['exists']);
    expect(await post(restored, [transfer(4n, a0!, b0!, 1n)])).toEqual(['ok']);
  }, 60_000);

  it('keeps chain decisions in JetStream: a new disk decides votes in doubt as the old one would, and numbers groups past every epoch', async () => {
    const options = replication(fixture.newClusterName());
    const first = await ChainLog.open(newDir(), await ChainDecisionBucket.open(options));
    const committed = first.nextGroup();
    const neverLogged = first.nextGroup();
    await first.logCommit(committed);
    await first.close();
    const second = await ChainLog.open(newDir(), await ChainDecisionBucket.open(options));
    try {
      expect(second.epoch).toBeGreaterThan(first.epoch);
      expect(second.isCommitted(committed)).toBe(false); // not on this disk…
      expect(await second.wasCommitted(committed)).toBe(true); // …but decided
      expect(await second.wasCommitted(neverLogged)).toBe(false);
    } finally {
      await second.close();
    }
    // A chain across shards in replicated mode: voted, logged in the bucket, committed on both shards.
    const set = await start(newDir(), options);
    await openAccounts(set, accounts);
    expect(await post(set, [transfer(1n, a0!, b1!, 5n, TransferFlags.linked), transfer(2n, a1!, b0!, 6n)])).toEqual(['ok', 'ok']);
    expect(await balances(set, [a0!, b1!, a1!, b0!])).toEqual(['5/0', '0/5', '6/0', '0/6']);
  }, 60_000);

  it('refuses not_primary on a node whose stream another node has written since', async () => {
    const options = replication(fixture.newClusterName());
    const first = await start(newDir(), { ...options, node: 'first' });
    await openAccounts(first, accounts);
    // A second node starts from the streams (its own disk is empty) and writes: it is the streams' writer now.
    const second = await start(newDir(), { ...options, node: 'second' });
    expect(await post(second, [transfer(1n, a0!, b0!, 5n)])).toEqual(['ok']);
    // The first node's next write on shard 0 names a stream end that has moved: refused, never acknowledged.
    await expect(post(first, [transfer(2n, a0!, b0!, 5n)])).rejects.toMatchObject({ code: 'not_primary' });
    expect(await balances(second, [a0!, b0!])).toEqual(['5/0', '0/5']);
  }, 60_000);

  it('reads entries back through one consumer: whole, in order, any window, none left behind after a break', async () => {
    const stream = await JournalStream.open(replication(fixture.newClusterName()), 0);
    try {
      // 300 entries; entries 8, 48, 88, … past max_payload (1 MiB): two parts each, 88 three.
      const entries = Array.from({ length: 300 }, (_, i) => randomBytes(i % 40 === 7 ? (i === 87 ? 2_500_000 : 1_500_000) : 100 + ((i * 37) % 4_000)));
      await stream.publishAll(entries.map((entry, i) => [i + 1, entry]));
      expect((await stream.tail()).streamSeq).toBe(300 + 9);
      /** Entries `from`..`to` (`to` past the last: through the last), checked against what was published. */
      const expectEntries = (read: [number, Uint8Array][], from: number, to: number): void => {
        const seqs = Array.from({ length: Math.max(0, Math.min(to, 300) - from + 1) }, (_, i) => from + i);
        expect(read.map(([seq]) => seq), `entries ${from}..${to}`).toEqual(seqs);
        expect(read.filter(([seq, entry]) => !bytesEqual(entry, entries[seq - 1]!)).map(([seq]) => seq)).toEqual([]);
      };
      for (const [from, to] of [[1, 300], [1, 1], [8, 8], [88, 88], [40, 130], [88, 129], [9, 87], [250, 1_000], [300, 300], [301, 400], [120, 119]] as const) {
        expectEntries(await readEntries(stream, from, to), from, to);
      }
      // The caller stops early: the read's consumer is gone all the same.
      expectEntries(await readEntries(stream, 1, 300, 10), 1, 10);
      expectEntries(await readEntries(stream, 80, 300, 8), 80, 87);
      expect(await consumersOf(stream)).toEqual([]);
      expect(bytesEqual((await stream.entry(88))!, entries[87]!)).toBe(true);
      expect(await stream.entry(301)).toBeUndefined();
    } finally {
      await stream.close();
    }
  }, 60_000);

  it('follows the stream whole and in order, live, and leaves no consumer behind once stopped', async () => {
    const stream = await JournalStream.open(replication(fixture.newClusterName()), 0);
    try {
      // 300 entries; 8, 48, 88, … past max_payload (1 MiB): two parts each (1.6 MB, as a full entry), 88 three.
      const entries = Array.from({ length: 300 }, (_, i) => randomBytes(i % 40 === 7 ? (i === 87 ? 2_500_000 : 1_600_000) : 100 + ((i * 37) % 4_000)));
      await stream.publishAll(entries.map((entry, i) => [i + 1, entry]));
      const feed = stream.follow(1);
      const first = await take(feed.entries, 300);
      expect(first.map(([seq]) => seq)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(first.filter(([seq, entry]) => !bytesEqual(entry, entries[seq - 1]!)).map(([seq]) => seq)).toEqual([]);
      // Live: entries published after the feed caught up come by themselves, parts and all.
      const later = Array.from({ length: 20 }, (_, i) => randomBytes(i % 10 === 4 ? 1_600_000 : 2_000));
      const arriving = take(feed.entries, 20);
      await stream.publishAll(later.map((entry, i) => [301 + i, entry]));
      const live = await arriving;
      expect(live.map(([seq]) => seq)).toEqual(Array.from({ length: 20 }, (_, i) => 301 + i));
      expect(live.every(([seq, entry]) => bytesEqual(entry, later[seq - 301]!))).toBe(true);
      expect(await consumersOf(stream)).toHaveLength(1);
      // Stopped while it waits for the next entry: the wait ends, the consumer is gone.
      const waiting = feed.entries.next();
      await feed.stop();
      expect(await waiting).toMatchObject({ done: true });
      expect(await consumersOf(stream)).toEqual([]);
      // From the middle of the stream, stopped while its caller holds an entry and asks for no next one.
      const held = stream.follow(88);
      expect((await held.entries.next()).value?.[0]).toBe(88);
      expect(bytesEqual((await held.entries.next()).value![1], entries[88]!)).toBe(true);
      await held.stop();
      expect(await consumersOf(stream)).toEqual([]);
      expect(await held.entries.next()).toMatchObject({ done: true });
      // Stopped before it started: it never makes one.
      const unstarted = stream.follow(1);
      await unstarted.stop();
      expect(await unstarted.entries.next()).toMatchObject({ done: true });
      // A feed its caller leaves (a break, an error thrown at it): its consumer goes as well.
      const left = stream.follow(290);
      await take(left.entries, 3);
      await left.entries.return(undefined);
      expect(await consumersOf(stream)).toEqual([]);
      // As a follower's close does it: stop (not awaited), then the connection closes at once.
      const closing = stream.follow(1);
      await take(closing.entries, 1);
      void closing.stop();
    } finally {
      await stream.close();
    }
    await vi.waitFor(async () => expect(await consumersOf(stream)).toEqual([]), { timeout: 2_000, interval: 100 });
  }, 60_000);

  it('fails a read unavailable once NATS stops answering, rather than waiting for it', async () => {
    const local = await startNatsCluster(3);
    try {
      const stream = await JournalStream.open({ servers: local.urls, cluster: 'stalled', node: 'a', replicas: 3, ackWaitMs: 1_000 }, 0);
      await stream.publishAll(Array.from({ length: 200 }, (_, i) => [i + 1, randomBytes(1_000_000)]));
      const read = stream.entriesFrom(1, 200);
      expect((await read.next()).value?.[0]).toBe(1);
      for (const node of local.nodes) await local.kill(node);
      // The read may still hold a batch: it yields those, then fails (this test's timeout: it must not hang).
      await expect(
        (async () => {
          for await (const _ of read);
        })(),
      ).rejects.toMatchObject({ code: 'unavailable' });
      await stream.close();
    } finally {
      await local.stop();
    }
  }, 90_000);

  it('goes on without one NATS node, answers unavailable without a majority, never ok, and acknowledges again once one is back', async () => {
    const local = await startNatsCluster(3);
    try {
      const options: ReplicationOptions = { servers: local.urls, cluster: 'quorum', node: 'a', replicas: 3, ackWaitMs: 1_500 };
      const set = await start(newDir(), options);
      await openAccounts(set, accounts);
      expect(await post(set, [transfer(1n, a0!, b0!, 5n)])).toEqual(['ok']);
      const [n0, n1, n2] = local.nodes;
      // One of three down: the streams keep a majority (a new leader is elected where the lost one led).
      await local.kill(n2!);
      // A write caught by a leader election may answer unavailable (its outcome unknown): sent again, the same ids
      // answer exists once published. Within seconds both shards take writes again.
      const done = (results: string[]): boolean => results.length === 2 && results.every((r) => r === 'ok' || r === 'exists');
      let goesOn: string[] = [];
      for (let attempt = 0; attempt < 80 && !done(goesOn); attempt++) {
        goesOn = await post(set, [transfer(10n, a0!, b0!, 1n), transfer(11n, a1!, b1!, 1n)]).catch(() => []);
        if (!done(goesOn)) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(done(goesOn)).toBe(true);
      expect(await post(set, [transfer(12n, a1!, b1!, 1n)])).toEqual(['ok']);
      local.revive(n2!);
      await local.kill(n0!);
      await local.kill(n1!);
      await expect(post(set, [transfer(2n, a0!, b0!, 5n)])).rejects.toMatchObject({ code: 'unavailable' });
      local.revive(n0!);
      // Once a majority answers again the write held in the stream's queue is published: a resend finds it.
      let answer: string[] = [];
      for (let attempt = 0; attempt < 120; attempt++) {
        answer = await post(set, [transfer(2n, a0!, b0!, 5n)]).catch(() => []);
        if (answer.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(answer).toEqual(['exists']);
      expect(await post(set, [transfer(3n, a0!, b0!, 5n)])).toEqual(['ok']);
      expect(await balances(set, [a0!, b0!])).toEqual(['16/0', '0/16']);
    } finally {
      await local.stop();
    }
  }, 120_000);

  it('bounds what waits for JetStream: past its bytes the stream says so, and again once acknowledged', async () => {
    const local = await startNatsCluster(3);
    try {
      const options: ReplicationOptions = { servers: local.urls, cluster: 'backlog', node: 'a', replicas: 3, ackWaitMs: 500, backlog: { entries: 1_000, bytes: 3_000 } };
      const stream = await JournalStream.open(options, 0);
      const told: boolean[] = [];
      stream.onBacklog((over) => told.push(over));
      const entry = new Uint8Array(1_000).fill(7);
      await stream.publish(1, entry);
      const [n0, n1] = local.nodes;
      await local.kill(n0!);
      await local.kill(n1!);
      const waiting = [2, 3, 4, 5].map((seq) => stream.publish(seq, entry).catch((error: { code?: string }) => error.code));
      expect(stream.backlogBytes).toBe(4_000);
      expect(told).toEqual([true]);
      expect(await Promise.all(waiting)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable']);
      local.revive(n0!);
      await vi.waitFor(() => expect(stream.seqAcknowledged).toBe(5), { timeout: 60_000, interval: 100 });
      expect(told).toEqual([true, false]);
      expect(stream.backlogBytes).toBe(0);
      await stream.close();
    } finally {
      await local.stop();
    }
  }, 90_000);
});
