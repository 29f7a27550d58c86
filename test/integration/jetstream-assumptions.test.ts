// What issue #15's design (docs/design/issue-15-replication.md) takes from NATS JetStream, checked against the
// nats-server the machines have, on a throwaway 3-node cluster (test/support/nats-cluster.ts):
//  1. single writer per stream by the log itself: a publish that names the last sequence it expects is refused when
//     another writer appended since (a deposed primary can never append), and a refused publish stores nothing;
//  2. an acknowledged publish is on a majority: with 1 of 3 nodes killed writes go on, with 2 of 3 killed a publish
//     is never acknowledged (it fails), and what was acknowledged before is still there on the survivor;
//  3. a lease in a replicated KV bucket: one creator wins, a renewal must name the revision it read (compare and set).

import { afterEach, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';

let cluster: NatsCluster | null = null;
const connections: NatsConnection[] = [];

afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close().catch(() => {});
  await cluster?.stop();
  cluster = null;
});

async function connected(c: NatsCluster, nodes = c.nodes): Promise<NatsConnection> {
  const nc = await c.connect(nodes);
  connections.push(nc);
  return nc;
}

async function shardStream(nc: NatsConnection): Promise<JetStreamClient> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'tally_test_shard_0', subjects: ['tally.test.shard.0'], num_replicas: 3, storage: 'file' as never });
  return jetstream(nc, { timeout: 2_000 });
}

const entry = (n: number): Uint8Array => new TextEncoder().encode(`entry ${n}`);

it('refuses a publish whose expected last sequence another writer has moved past', async () => {
  cluster = await startNatsCluster(3);
  const primary = await shardStream(await connected(cluster));
  const deposed = jetstream(await connected(cluster), { timeout: 2_000 });
  expect((await primary.publish('tally.test.shard.0', entry(1), { expect: { lastSequence: 0 } })).seq).toBe(1);
  expect((await primary.publish('tally.test.shard.0', entry(2), { expect: { lastSequence: 1 } })).seq).toBe(2);
  // The old primary still believes the stream ends at 1.
  await expect(deposed.publish('tally.test.shard.0', entry(99), { expect: { lastSequence: 1 } })).rejects.toThrow(/wrong last sequence/i);
  const jsm = await jetstreamManager(await connected(cluster));
  expect((await jsm.streams.info('tally_test_shard_0')).state.messages).toBe(2);
});

it('acknowledges only what a majority holds: writes go on without one node, fail without two', async () => {
  cluster = await startNatsCluster(3);
  const [first, second, third] = cluster.nodes as [NatsCluster['nodes'][0], NatsCluster['nodes'][0], NatsCluster['nodes'][0]];
  const js = await shardStream(await connected(cluster, [third]));
  let last = 0;
  for (let n = 1; n <= 3; n++) last = (await js.publish('tally.test.shard.0', entry(n), { expect: { lastSequence: last } })).seq;
  await cluster.kill(first);
  // The stream's leader may have been on it: a new one is elected, then writes go on.
  let acked = false;
  for (let attempt = 0; attempt < 40 && !acked; attempt++) {
    try {
      last = (await js.publish('tally.test.shard.0', entry(4), { expect: { lastSequence: last }, timeout: 1_000 })).seq;
      acked = true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  expect(acked).toBe(true);
  expect(last).toBe(4);
  await cluster.kill(second);
  await expect(js.publish('tally.test.shard.0', entry(5), { expect: { lastSequence: last }, timeout: 1_500 })).rejects.toThrow();
}, 60_000);

it('keeps a lease in a replicated KV bucket: one creator wins, a renewal names the revision it read', async () => {
  cluster = await startNatsCluster(3);
  const kvm = new Kvm(await connected(cluster));
  const leases = await kvm.create('tally_test_leases', { replicas: 3, history: 1 });
  const revision = await leases.create('shard.0', new TextEncoder().encode('node-a'));
  await expect(leases.create('shard.0', new TextEncoder().encode('node-b'))).rejects.toThrow();
  const renewed = await leases.update('shard.0', new TextEncoder().encode('node-a'), revision);
  expect(renewed).toBeGreaterThan(revision);
  // A stale holder (it read `revision`, another renewed since) cannot take it.
  await expect(leases.update('shard.0', new TextEncoder().encode('node-b'), revision)).rejects.toThrow();
  expect(new TextDecoder().decode((await leases.get('shard.0'))!.value)).toBe('node-a');
});
