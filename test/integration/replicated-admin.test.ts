// DATA/admin in replicated mode (issue #15): the audit log and the adjustments of a primary reach its followers
// through the admin stream, change by change; a follower takes no admin write of its own; a follower that takes
// over has every change the old primary acknowledged, and the old primary's next change is refused not_primary,
// changing nothing; a store written embedded is published when it becomes a replicated primary; a delayed
// follower holds its admin log back with its ledger. A throwaway 3-node JetStream cluster on loopback ports.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { AdminStore } from '../../src/admin/admin-store.js';
import { AdminReplica } from '../../src/admin/admin-replica.js';
import type { AuditEntry } from '../../src/core/admin/audit-log.js';
import { errors } from '../../src/core/errors.js';
import { eventBytes } from '../../src/core/limits.js';
import type { ReplicationOptions } from '../../src/shards/replication/journal-stream.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';

let nats: NatsCluster;
const dirs: string[] = [];
const opened: { store: AdminStore; replica: AdminReplica | null }[] = [];
const quiet = (): void => {};
let clusterRun = 0;

beforeAll(async () => {
  nats = await startNatsCluster(3);
}, 60_000);

afterAll(async () => {
  for (const { store, replica } of opened) {
    await replica?.close().catch(() => {});
    await store.close().catch(() => {});
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await nats?.stop();
});

function replication(cluster: string, node: string): ReplicationOptions {
  return { servers: nats.urls, cluster, node, replicas: 3, ackWaitMs: 3_000 };
}

function newStore(): AdminStore {
  const dir = mkdtempSync(join(tmpdir(), 'tally-admin-replica-'));
  dirs.push(dir);
  const store = AdminStore.open(dir);
  opened.push({ store, replica: null });
  return store;
}

async function replicaOf(store: AdminStore, cluster: string, node: string, log: Parameters<typeof AdminReplica.open>[2] = quiet): Promise<AdminReplica> {
  const replica = await AdminReplica.open(store, replication(cluster, node), log);
  opened.find((o) => o.store === store)!.replica = replica;
  return replica;
}

const refused = (n: number): AuditEntry => ({ kind: 'refused', keyId: 'k1', operation: 5, code: 'body_invalid', detail: `bad frame ${n}` });
const action = (keyId: string, detail: string): AuditEntry => ({ kind: 'admin', keyId, operation: 40, code: 'ok', detail });
const records = (count: number): Uint8Array => new Uint8Array(count * eventBytes).fill(7);

/** Everything a caller can read of a store: the audit log and every adjustment, by status too. */
function contents(store: AdminStore): unknown {
  return {
    audit: store.auditAfter(0, 1_000),
    all: store.adjustments({ limit: 100 }),
    pending: store.adjustments({ status: 'pending', limit: 100 }).map((a) => a.id),
    approved: store.adjustments({ status: 'approved', limit: 100 }).map((a) => a.id),
    rejected: store.adjustments({ status: 'rejected', limit: 100 }).map((a) => a.id),
  };
}

/** A few changes of every kind: refusals, a submission, an approval started and decided, a rejection. */
async function someChanges(store: AdminStore, tag: string): Promise<void> {
  for (let n = 0; n < 3; n++) await store.record(refused(n));
  await store.submitAdjustment({ id: `adj_${tag}0`, maker: 'maker', reason: 'fix a posting', records: records(2) }, action('maker', `adj_${tag}0: submitted`));
  await store.submitAdjustment({ id: `adj_${tag}1`, maker: 'maker', reason: 'another', records: records(1) }, action('maker', `adj_${tag}1: submitted`));
  await store.startApproval(`adj_${tag}0`, 'checker', action('checker', `adj_${tag}0: approval started`));
  await store.decideAdjustment(`adj_${tag}0`, { status: 'approved', checker: 'checker', results: [] }, action('checker', `adj_${tag}0: approved`));
  await store.decideAdjustment(`adj_${tag}1`, { status: 'rejected', checker: 'checker', rejectReason: 'no' }, action('checker', `adj_${tag}1: rejected`));
}

describe('the admin store replicated through its stream', () => {
  test('a follower has every change; its own writes are refused; a takeover keeps them and fences the old primary', async () => {
    const cluster = `admin${process.pid}x${++clusterRun}`;
    const primary = newStore();
    const follower = newStore();
    const logged: unknown[] = [];
    const primaryLog = await replicaOf(primary, cluster, 'a', (line) => logged.push(line.audit));
    await primaryLog.lead(() => null);
    const followerLog = await replicaOf(follower, cluster, 'b');
    followerLog.follow(errors.notPrimary('node b follows'));

    await someChanges(primary, 'a000000000000000000');
    expect(primary.auditSeqLast()).toBe(8);
    await vi.waitFor(() => expect(follower.auditSeqLast()).toBe(8), { timeout: 10_000 });
    expect(contents(follower)).toEqual(contents(primary));

    // A follower takes no admin write; what it would record stays out of the ledger's audit log.
    await expect(follower.submitAdjustment({ id: 'adj_b000000000000000000x', maker: 'm', reason: 'r', records: records(1) }, action('m', 'x'))).rejects.toMatchObject({ code: 'not_primary' });
    await follower.record(refused(99));
    expect(follower.auditSeqLast()).toBe(8);

    // Takeover: the follower writes on from where the stream ends; the old primary is refused and changes nothing.
    await followerLog.lead(() => null);
    await follower.record(refused(100));
    expect(follower.auditSeqLast()).toBe(9);
    await expect(primary.record(refused(101))).rejects.toMatchObject({ code: 'not_primary' });
    await expect(primary.submitAdjustment({ id: 'adj_a000000000000000000z', maker: 'm', reason: 'r', records: records(1) }, action('m', 'z'))).rejects.toMatchObject({ code: 'not_primary' });
    expect(primary.auditSeqLast()).toBe(8);
    expect(primary.adjustment('adj_a000000000000000000z')).toBeUndefined();
    // Deposed, it records nothing of its own any more: what it would audit goes to its log, as a follower's.
    await primary.record(refused(102));
    expect(primary.auditSeqLast()).toBe(8);
    expect(logged).toContainEqual(expect.objectContaining({ detail: 'bad frame 102' }));

    // The old primary, following again, takes the new primary's changes.
    primaryLog.follow(errors.notPrimary('node a follows'));
    await vi.waitFor(() => expect(primary.auditSeqLast()).toBe(9), { timeout: 10_000 });
    expect(contents(primary)).toEqual(contents(follower));
  }, 60_000);

  test("a primary whose write gate is shut publishes nothing and stores nothing", async () => {
    const cluster = `admin${process.pid}x${++clusterRun}`;
    const store = newStore();
    const log = await replicaOf(store, cluster, 'a');
    let gate: Error | null = null;
    await log.lead(() => gate);
    await store.record(refused(1));
    gate = errors.notPrimary('the lease lapsed');
    await expect(store.record(refused(2))).rejects.toMatchObject({ code: 'not_primary' });
    gate = null;
    await store.record(refused(3));
    expect(store.auditAfter(0, 10).map((r) => r.detail)).toEqual(['bad frame 1', 'bad frame 3']);
  }, 30_000);

  test('a store written embedded is published when it becomes a replicated primary; a follower then has it all', async () => {
    const cluster = `admin${process.pid}x${++clusterRun}`;
    const embedded = newStore();
    await someChanges(embedded, 'c000000000000000000');
    const log = await replicaOf(embedded, cluster, 'a');
    await log.lead(() => null);
    await embedded.record(refused(50));
    const follower = newStore();
    (await replicaOf(follower, cluster, 'b')).follow(errors.notPrimary('node b follows'));
    await vi.waitFor(() => expect(follower.auditSeqLast()).toBe(9), { timeout: 10_000 });
    expect(contents(follower)).toEqual(contents(embedded));
  }, 30_000);

  test('a follower held at a point takes no change stored after it', async () => {
    const cluster = `admin${process.pid}x${++clusterRun}`;
    const primary = newStore();
    await (await replicaOf(primary, cluster, 'a')).lead(() => null);
    await primary.record(refused(1));
    await primary.record(refused(2));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const untilMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await primary.record(refused(3));
    const held = newStore();
    (await replicaOf(held, cluster, 'b')).follow(errors.notPrimary('held'), { delayMs: 0, untilMs });
    await vi.waitFor(() => expect(held.auditSeqLast()).toBe(2), { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(held.auditSeqLast()).toBe(2);
  }, 30_000);
});
