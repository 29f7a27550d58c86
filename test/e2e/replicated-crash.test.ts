// Replicated mode under kill -9 (issue #15), end to end: the real server (`tally serve --nats …`, 2 shards) on a
// throwaway 3-node JetStream cluster, concurrent transfer load (a third of it across shards), SIGKILL at a random
// moment, restart on the same data dir. After each kill every transfer acknowledged `ok` is there and balances
// conserve money; at the end the disk is thrown away and a server on an empty data dir, fed by the streams alone,
// answers every account and transfer exactly as the old disk did (RPO 0 for acknowledged writes).
// The seed is printed; TALLY_CRASH_SEED replays a run.

import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { connect, type Client, type TransferInput } from 'tally-ledger/client';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { startNatsCluster, type NatsCluster } from '../support/nats-cluster.js';
import { newIdsOnShard } from './shard-ids.js';
import { mulberry32 } from '../support/prng.js';
import { readBack } from '../support/read-back.js';

const shardCount = 2;
const cycles = 3;
const ledger = 851;
const code = 4;
const seed = Number(process.env.TALLY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);

let nats: NatsCluster;
let server: ServerProcess;
let replica: ServerProcess | null = null;
const accounts: bigint[][] = [];
const sent = new Map<bigint, TransferInput>();
const acked = new Set<bigint>();
let transferSeq = 0n;

function natsEnv(): Record<string, string> {
  return { TALLY_NATS: nats.urls.join(','), TALLY_NATS_CLUSTER: `crash${seed}`, TALLY_NODE: 'primary', TALLY_NATS_REPLICAS: '3' };
}

beforeAll(async () => {
  console.log(`replicated-crash.test seed ${seed} (set TALLY_CRASH_SEED=${seed} to replay)`);
  nats = await startNatsCluster(3);
  server = await startServerProcess({ shardCount, env: natsEnv() });
  for (let shard = 0; shard < shardCount; shard++) accounts.push(newIdsOnShard(10, shard, shardCount));
  const client = await connect({ url: server.url });
  const results = await client.createAccounts(accounts.flat().map((id) => ({ id, ledger, code })));
  expect(results.every((r) => r.result === 'ok')).toBe(true);
  await client.close();
}, 60_000);

afterAll(async () => {
  await replica?.cleanup();
  await server?.cleanup();
  await nats?.stop();
});

test(`acknowledged transfers survive ${cycles} SIGKILLs in replicated mode, and a lost disk is rebuilt from the streams`, async () => {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const killAfter = 300 + Math.floor(random() * 3_000);
    await loadUntilKilled(killAfter);
    await server.restart();
    await transitSettled(server);
    const after = await readBack(server.url, accounts.flat(), [...sent.keys()]);
    const missing = [...acked].filter((id) => !after.transfers.has(id));
    expect(missing, `cycle ${cycle}: acknowledged transfers missing after the kill`).toEqual([]);
    const debits = after.accounts.reduce((sum, a) => sum + a.debitsPosted, 0n);
    const credits = after.accounts.reduce((sum, a) => sum + a.creditsPosted, 0n);
    expect(debits, 'conservation').toBe(credits);
    console.log(`cycle ${cycle}: killed after ${killAfter} acknowledged; ${after.transfers.size} of ${sent.size} sent are posted`);
  }
  const primary = await readBack(server.url, accounts.flat(), [...sent.keys()]);
  await server.kill('SIGKILL');
  // A new disk: the streams alone rebuild every shard.
  replica = await startServerProcess({ shardCount, env: { ...natsEnv(), TALLY_NODE: 'replacement' } });
  await transitSettled(replica);
  const rebuilt = await readBack(replica.url, accounts.flat(), [...sent.keys()]);
  expect(rebuilt.accounts).toEqual(primary.accounts);
  expect(rebuilt.transfers).toEqual(primary.transfers);
}, 240_000);

async function loadUntilKilled(killAfter: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: 3 }, () => connect({ url: server.url, timeoutMs: 30_000 })));
  let ackedHere = 0;
  let killed: Promise<unknown> | null = null;
  const loop = async (client: Client): Promise<void> => {
    while (killed === null) {
      const call = nextCall();
      const results = await client.createTransfers(call).catch((error: unknown) => error as { code?: string });
      if (!Array.isArray(results)) {
        expect(results.code, 'the only failure a killed server may cause').toBe('connection_closed');
        return;
      }
      expect(results.map((r) => r.result)).toEqual(call.map(() => 'ok'));
      for (const t of call) acked.add(t.id);
      ackedHere += call.length;
      if (ackedHere >= killAfter && killed === null) killed = server.kill('SIGKILL');
    }
  };
  await Promise.all(clients.flatMap((client) => Array.from({ length: 4 }, () => loop(client))));
  await killed;
  await Promise.all(clients.map((c) => c.close()));
}

function nextCall(): TransferInput[] {
  const count = 1 + Math.floor(random() * 32);
  const call: TransferInput[] = [];
  for (let i = 0; i < count; i++) {
    const shard = Math.floor(random() * shardCount);
    const pool = accounts[shard]!;
    const cross = random() < 1 / 3;
    const creditPool = cross ? accounts[(shard + 1) % shardCount]! : pool;
    const debit = Math.floor(random() * pool.length);
    const credit = cross ? Math.floor(random() * creditPool.length) : (debit + 1 + Math.floor(random() * (pool.length - 1))) % pool.length;
    transferSeq++;
    const transfer: TransferInput = {
      id: (BigInt(seed) << 96n) | transferSeq,
      debitAccountId: pool[debit]!,
      creditAccountId: creditPool[credit]!,
      amount: BigInt(1 + Math.floor(random() * 1_000)),
      ledger,
      code,
    };
    sent.set(transfer.id, transfer);
    call.push(transfer);
  }
  return call;
}

async function transitSettled(process: ServerProcess): Promise<void> {
  await vi.waitFor(
    async () => {
      const { transit } = JSON.parse((await process.health()).body) as { transit: { inFlight: number; reconciles: number } };
      expect(transit.reconciles).toBeGreaterThanOrEqual(1);
      expect(transit.inFlight).toBe(0);
    },
    { timeout: 30_000, interval: 50 },
  );
}
