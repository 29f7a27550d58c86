// Failover in replicated mode (issue #15), with real processes: `tally serve --nats` and `tally follow` on a
// throwaway 3-node JetStream cluster. kill -9 of the primary under load: the follower takes the abandoned lease and
// writes within seconds, with every transfer the old primary acknowledged; a node restarted while another holds
// the lease follows it; a clean stop hands the lease over at once; a primary paused past its lease (SIGSTOP) is
// refused not_primary once it runs again; the admin store (audit log, adjustments) moves with the primary. The seed
// is printed; TALLY_CRASH_SEED replays a run.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { connect, type Client, type TransferInput } from 'tally-ledger/client';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { newIdsOnShard } from './shard-ids.js';
import { mulberry32 } from '../support/prng.js';

const shardCount = 2;
const ledger = 862;
const seed = Number(process.env.TALLY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);
let nats: NatsCluster;
const processes: ServerProcess[] = [];
const dirs: string[] = [];
const accounts: bigint[] = [];
const acked = new Set<bigint>();
let nextId = BigInt(seed) << 64n;

function env(node: string): Record<string, string> {
  return { TALLY_NATS: nats.urls.join(','), TALLY_NATS_CLUSTER: `failover${seed}`, TALLY_NODE: node, TALLY_NATS_REPLICAS: '3', TALLY_NATS_ACK_MS: '2000' };
}

async function node(name: string, command: 'serve' | 'follow', dataDir?: string): Promise<ServerProcess> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), `tally-failover-${name}-`));
  if (dataDir === undefined) dirs.push(dir);
  const server = await startServerProcess({ shardCount, command, dataDir: dir, env: env(name), readyTimeoutMs: 30_000 });
  processes.push(server);
  return server;
}

beforeAll(async () => {
  console.log(`replicated-failover.test seed ${seed} (set TALLY_CRASH_SEED=${seed} to replay)`);
  nats = await startNatsCluster(3);
  for (let shard = 0; shard < shardCount; shard++) accounts.push(...newIdsOnShard(6, shard, shardCount));
}, 60_000);

afterAll(async () => {
  for (const server of processes) await server.cleanup().catch(() => {});
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await nats?.stop();
});

function transfer(): TransferInput {
  const debit = accounts[Math.floor(random() * accounts.length)]!;
  let credit = debit;
  while (credit === debit) credit = accounts[Math.floor(random() * accounts.length)]!;
  return { id: nextId++, debitAccountId: debit, creditAccountId: credit, amount: BigInt(1 + Math.floor(random() * 100)), ledger, code: 1 };
}

/** Until `server` takes a write: how long it took. */
async function firstWrite(server: ServerProcess, timeoutMs: number): Promise<number> {
  const started = performance.now();
  const client = await connect({ url: server.url, timeoutMs: 5_000 });
  try {
    for (;;) {
      const t = transfer();
      const answer = await client.createTransfers([t]).catch((error: { code?: string }) => error.code ?? 'error');
      if (Array.isArray(answer)) {
        expect(answer.map((r) => r.result)).toEqual(['ok']);
        acked.add(t.id);
        return performance.now() - started;
      }
      expect(['not_primary', 'unavailable']).toContain(answer);
      if (performance.now() - started > timeoutMs) throw new Error(`no write taken within ${timeoutMs} ms (last answer ${answer})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.close();
  }
}

async function present(server: ServerProcess): Promise<Set<bigint>> {
  const client = await connect({ url: server.url });
  try {
    const ids = [...acked];
    const found = new Set<bigint>();
    for (let i = 0; i < ids.length; i += 4_000) for (const t of await client.lookupTransfers(ids.slice(i, i + 4_000))) found.add(t.id);
    return found;
  } finally {
    await client.close();
  }
}

async function loadUntilKilled(server: ServerProcess, killAfter: number): Promise<void> {
  const clients: Client[] = await Promise.all(Array.from({ length: 2 }, () => connect({ url: server.url, timeoutMs: 30_000 })));
  let count = 0;
  let killed: Promise<unknown> | null = null;
  const loop = async (client: Client): Promise<void> => {
    while (killed === null) {
      const call = Array.from({ length: 1 + Math.floor(random() * 16) }, transfer);
      const answer = await client.createTransfers(call).catch(() => null);
      if (answer === null) return;
      expect(answer.map((r) => r.result)).toEqual(call.map(() => 'ok'));
      for (const t of call) acked.add(t.id);
      count += call.length;
      if (count >= killAfter && killed === null) killed = server.kill('SIGKILL');
    }
  };
  await Promise.all(clients.flatMap((client) => [loop(client), loop(client), loop(client)]));
  await killed;
  await Promise.all(clients.map((client) => client.close()));
}

test('a follower takes over from a killed primary with every acknowledged transfer; roles move on restart, stop and pause', async () => {
  const a = await node('a', 'serve');
  const client = await connect({ url: a.url });
  expect((await client.createAccounts(accounts.map((id) => ({ id, ledger, code: 1 })))).every((r) => r.result === 'ok')).toBe(true);
  // DATA/admin too: an adjustment submitted on the primary (and its audit record) is the new primary's after a failover.
  const adjustment = await client.submitAdjustment({ transfers: [transfer()], reason: 'moved before the failover' });
  const auditOnA = await client.getAuditLog();
  await client.close();
  const b = await node('b', 'follow');
  const bReader = await connect({ url: b.url });
  await expect(bReader.submitAdjustment({ transfers: [transfer()], reason: 'sent to a follower' })).rejects.toMatchObject({ code: 'not_primary' });
  await vi.waitFor(async () => expect(await bReader.getAuditLog()).toEqual(auditOnA), { timeout: 10_000, interval: 200 });
  await bReader.close();
  // 1. kill -9 of the primary under load: b takes over, with every transfer a acknowledged.
  await loadUntilKilled(a, 200 + Math.floor(random() * 2_000));
  const takeoverMs = await firstWrite(b, 20_000);
  console.log(`failover: b took its first write ${Math.round(takeoverMs)} ms after a was killed`);
  expect(acked.size).toBeGreaterThan(0);
  const onB = await present(b);
  expect([...acked].filter((id) => !onB.has(id)), 'acknowledged transfers missing on the new primary').toEqual([]);
  const bClient = await connect({ url: b.url });
  expect((await bClient.getAdjustments({ status: 'pending' })).map((p) => p.id)).toEqual([adjustment.id]);
  expect((await bClient.getAuditLog()).slice(0, auditOnA.length)).toEqual(auditOnA);
  await bClient.submitAdjustment({ transfers: [transfer()], reason: 'after the failover' });
  await bClient.close();
  // 2. a, restarted on its own disk (which may end with entries never acknowledged), finds b holding the lease: it
  // drops what the stream never took and follows b. A node on a fresh disk does the same.
  await a.restart();
  await vi.waitFor(async () => expect((await present(a)).size).toBe(acked.size), { timeout: 20_000, interval: 200 });
  const aClient = await connect({ url: a.url });
  await expect(aClient.createTransfers([transfer()])).rejects.toMatchObject({ code: 'not_primary' });
  await aClient.close();
  await a.kill('SIGTERM');
  const c = await node('c', 'serve');
  await vi.waitFor(async () => expect((await present(c)).size).toBe(acked.size), { timeout: 20_000, interval: 200 });
  const cClient = await connect({ url: c.url });
  await expect(cClient.createTransfers([transfer()])).rejects.toMatchObject({ code: 'not_primary' });
  await cClient.close();
  // 3. a clean stop of b hands the lease over at once: c takes writes.
  await b.kill('SIGTERM');
  const handoverMs = await firstWrite(c, 15_000);
  console.log(`handover: c took its first write ${Math.round(handoverMs)} ms after b stopped`);
  // 4. c paused past its lease: a new follower d takes over; c, resumed, is refused not_primary.
  const d = await node('d', 'follow');
  await vi.waitFor(async () => expect((await present(d)).size).toBe(acked.size), { timeout: 20_000, interval: 200 });
  process.kill(c.pid, 'SIGSTOP');
  const pausedTakeoverMs = await firstWrite(d, 20_000);
  console.log(`pause: d took its first write ${Math.round(pausedTakeoverMs)} ms after c was paused`);
  process.kill(c.pid, 'SIGCONT');
  const resumed = await connect({ url: c.url, timeoutMs: 10_000 });
  await expect(resumed.createTransfers([transfer()])).rejects.toMatchObject({ code: 'not_primary' });
  await resumed.close();
  const onD = await present(d);
  expect([...acked].filter((id) => !onD.has(id))).toEqual([]);
  // 5. A client given every gateway carries on through a kill -9 of the primary: each call answers ok (or exists,
  // for a resend of one that had posted), and every one is on the new primary.
  const e = await node('e', 'follow');
  await vi.waitFor(async () => expect((await present(e)).size).toBe(acked.size), { timeout: 20_000, interval: 200 });
  const multi = await connect({ urls: [d.url, e.url], timeoutMs: 30_000 });
  const sent: bigint[] = [];
  for (let call = 0; call < 30; call++) {
    if (call === 10) void d.kill('SIGKILL');
    const batch = [transfer(), transfer()];
    const results = await multi.createTransfers(batch);
    expect(results.every((r) => r.result === 'ok' || r.result === 'exists')).toBe(true);
    for (const t of batch) {
      sent.push(t.id);
      acked.add(t.id);
    }
  }
  await multi.close();
  const onE = await present(e);
  expect(sent.filter((id) => !onE.has(id))).toEqual([]);
}, 240_000);
