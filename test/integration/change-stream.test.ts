// The change stream (issue #15, docs/EVENTS.md): what a replicated ledger's shards committed, read back from their
// JetStream streams by the client's decoder and by `tally tail` (run `npm run build` first), on a throwaway 3-node
// NATS cluster.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { subscribeChanges, type ChangeEvent } from '../../src/client/changes.js';
import { Operation } from '../../src/core/operations.js';
import { TransferFlags } from '../../src/core/types.js';
import { decodeResults, encodeAccountOperations } from '../../src/core/wire/records.js';
import { startShards, type ShardSet } from '../../src/shards/set/shard-set.js';
import type { ReplicationOptions } from '../../src/shards/replication/journal-stream.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { cliPath } from '../support/server-process.js';
import { fastTransit, idsOnShard, openAccounts, transferOn, transferResults } from '../support/shard-set-fixture.js';

const ledger = 4;
const transfer = transferOn(ledger);
const [a0, b0] = idsOnShard(0, 2, 7_000n, 2);
const [a1] = idsOnShard(1, 1, 7_000n, 2);
let nats: NatsCluster;
let set: ShardSet;
let dataDir: string;
let replication: ReplicationOptions;

beforeAll(async () => {
  nats = await startNatsCluster(3);
  replication = { servers: nats.urls, cluster: 'changes', node: 'a', replicas: 3, ackWaitMs: 3_000 };
  dataDir = mkdtempSync(join(tmpdir(), 'tally-changes-'));
  set = await startShards({ dataDir, shardCount: 2, transit: fastTransit, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false }, replication });
  await openAccounts(set, [a0!, b0!, a1!].map((id) => ({ id, ledger, code: 1 })));
  expect(await transferResults(set, [transfer(1n, a0!, b0!, 30n), transfer(2n, a0!, a1!, 20n), transfer(3n, b0!, a0!, 5n, TransferFlags.pending), transfer(4n, b0!, a0!, 0n, TransferFlags.void_pending, 3n)])).toEqual(['ok', 'ok', 'ok', 'ok']);
  expect(decodeResults(await set.execute(Operation.account_operations, encodeAccountOperations([{ id: 50n, accountId: b0!, kind: 'freeze', amount: 1n }]))).map((r) => r.result)).toEqual(['ok']);
  // The cross-shard credit lands on shard 1 (its own entry there).
  await vi.waitFor(() => expect(set.transitStats().inFlight).toBe(0), { timeout: 5_000, interval: 20 });
}, 60_000);

afterAll(async () => {
  await set?.close();
  rmSync(dataDir, { recursive: true, force: true });
  await nats?.stop();
});

async function eventsOf(shard: number, untilSeq: number): Promise<ChangeEvent[]> {
  const subscription = subscribeChanges({ servers: nats.urls, cluster: 'changes', shard, untilSeq });
  const events: ChangeEvent[] = [];
  for await (const event of subscription.events) events.push(event);
  await subscription.stop();
  return events;
}

it('decodes every shard journal into events: accounts, transfers with balances after, credits landing, operations', async () => {
  // Once the status (read every second) shows every entry of both shards acknowledged.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  await vi.waitFor(() => expect(set.replicationStatus()!.shards.every((s) => s.backlog === 0 && (s.seqAcknowledged ?? 0) > 0)).toBe(true), { timeout: 5_000 });
  const status = set.replicationStatus()!;
  const [zero, one] = await Promise.all([0, 1].map((shard) => eventsOf(shard, status.shards[shard]!.seqAcknowledged!)));
  const transfers = zero!.filter((e) => e.kind === 'transfer');
  expect(transfers.map((e) => (e.kind === 'transfer' ? `${e.transfer.id}:${e.result}` : ''))).toEqual(['1:ok', '2:ok', '3:ok', '4:ok']);
  const first = transfers[0]!;
  expect(first.kind === 'transfer' && `${first.debitAfter.debitsPosted}/${first.creditAfter.creditsPosted}`).toBe('30/30');
  expect(zero!.filter((e) => e.kind === 'account').map((e) => (e.kind === 'account' ? e.account.id : 0n))).toEqual([a0, b0]);
  expect(zero!.some((e) => e.kind === 'account_operation' && e.result === 'ok')).toBe(true);
  expect(zero!.some((e) => e.kind === 'day_cut')).toBe(true);
  const landed = one!.filter((e) => e.kind === 'credit_landed');
  expect(landed.map((e) => (e.kind === 'credit_landed' ? `${e.transfer.id}→${e.transfer.creditAccountId}:${e.result}:${e.creditAfter.creditsPosted}` : ''))).toEqual([`2→${a1}:ok:20`]);
  // From a seq on: nothing before it.
  const later = await eventsOf(0, status.shards[0]!.seqAcknowledged!).then((all) => all.filter((e) => e.seq >= 3));
  const fromThree = subscribeChanges({ servers: nats.urls, cluster: 'changes', shard: 0, fromSeq: 3, untilSeq: status.shards[0]!.seqAcknowledged! });
  const seen: ChangeEvent[] = [];
  for await (const event of fromThree.events) seen.push(event);
  await fromThree.stop();
  expect(seen).toEqual(later);
}, 30_000);

it('tally tail --json --until-end prints them, one JSON object a line, with a summary', async () => {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [cliPath(), 'tail', '--nats', nats.urls.join(','), '--nats-cluster', 'changes', '--json', '--until-end'], { timeout: 30_000 });
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; transfer?: { id: string } });
  expect(lines.filter((l) => l.kind === 'transfer').map((l) => l.transfer!.id).sort()).toEqual(['1', '2', '3', '4']);
  expect(lines.some((l) => l.kind === 'credit_landed')).toBe(true);
  expect(stderr).toMatch(/tail: \d+ events from \d+ journal entries of 2 shards/);
}, 30_000);

it('tally monitor publishes and prints an alert when a watched balance crosses its threshold', async () => {
  const rules = join(dataDir, 'thresholds.json');
  const { writeFileSync } = await import('node:fs');
  // b0 holds 30 − 5 (void gave it back: 30) … a payment of 26 takes it from 30 to 4, below 10.
  writeFileSync(rules, JSON.stringify([{ account: String(b0), below: '10' }]));
  const { connect: natsConnect } = await import('@nats-io/transport-node');
  const nc = await natsConnect({ servers: nats.urls });
  const alerts = nc.subscribe('tally.changes.alerts.balance', { max: 1 });
  const { spawn } = await import('node:child_process');
  const monitor = spawn(process.execPath, [cliPath(), 'monitor', '--nats', nats.urls.join(','), '--nats-cluster', 'changes', '--thresholds', rules], { stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  monitor.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  let started = '';
  monitor.stderr.on('data', (chunk: Buffer) => (started += chunk.toString()));
  try {
    await vi.waitFor(() => expect(started).toMatch(/monitor: watching 1 accounts/), { timeout: 10_000 });
    expect(await transferResults(set, [transfer(60n, b0!, a0!, 26n)])).toEqual(['ok']);
    for await (const message of alerts) {
      const alert = JSON.parse(message.string()) as { account: string; direction: string; before: string; after: string; transferId: string };
      expect(alert).toMatchObject({ account: String(b0), direction: 'below', transferId: '60' });
      expect(BigInt(alert.after)).toBeLessThan(10n);
    }
    await vi.waitFor(() => expect(printed).toContain('"transferId":"60"'), { timeout: 5_000 });
  } finally {
    monitor.kill('SIGTERM');
    await nc.close();
  }
}, 30_000);
