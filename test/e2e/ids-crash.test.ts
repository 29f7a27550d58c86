// Issue #14 through the real server, with SIGKILLs: transfer ids are unique ledger-wide whatever the timing. Each id
// is sent twice at the same moment, from a payer on shard 0 and from one on shard 1 (same payee, same amount), by
// several clients at once; the server is killed mid-load and restarted on the same data dir. Then, for every id:
//   1. at most one of its two transfers was ever answered `ok`, and none answered `ok` is missing;
//   2. it is held once: lookupTransfers finds one transfer, and the payers' debits add up to one amount per id held;
//   3. retrying both variants posts nothing: the holder's answers `exists`, the other `exists_with_different_fields`
//      (an id no shard holds yet posts once, and the other variant then answers `exists_with_different_fields`).
// The seed is printed; TALLY_IDS_CRASH_SEED replays a run.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, newId, type Client, type TransferInput } from 'tally-ledger/client';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { mulberry32 } from '../support/prng.js';
import { newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const clients = 6;
const killAfterAckedMin = 200;
const killAfterAckedMax = 1500;
const cycles = 2;
const ledger = 841;
const code = 3;
const amount = 7n;

const seed = Number(process.env.TALLY_IDS_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);

let server: ServerProcess;
let payers: bigint[] = [];
let payee = 0n;
/** Per id, its two variants (payer on shard 0, payer on shard 1) and the answers each got. */
const sent = new Map<bigint, { variants: [TransferInput, TransferInput]; answers: string[] }>();

beforeAll(async () => {
  console.log(`ids-crash.test seed ${seed} (set TALLY_IDS_CRASH_SEED=${seed} to replay)`);
  server = await startServerProcess({ shardCount });
  payers = [newIdsOnShard(1, 0, shardCount)[0]!, newIdsOnShard(1, 1, shardCount)[0]!];
  payee = newIdsOnShard(1, 1, shardCount)[0]!;
  const client = await connect({ url: server.url });
  const results = await client.createAccounts([...payers, payee].map((id) => ({ id, ledger, code })));
  expect(results.every((r) => r.result === 'ok')).toBe(true);
  await client.close();
});

afterAll(async () => {
  await server?.cleanup();
});

test(`an id sent from two shards at once is held once, through ${cycles} SIGKILLs`, async () => {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const killAfter = killAfterAckedMin + Math.floor(random() * (killAfterAckedMax - killAfterAckedMin));
    await loadUntilKilled(killAfter);
    console.log(`cycle ${cycle}: killed; restarting`);
    await server.restart();
    const client = await connect({ url: server.url });
    try {
      await checkHeldOnce(client);
      console.log(`cycle ${cycle}: checked; retrying`);
      await retryBoth(client);
      await checkHeldOnce(client);
    } finally {
      await client.close();
    }
    console.log(`cycle ${cycle}: ${sent.size} ids sent twice, killed after ${killAfter} acknowledged`);
  }
}, 180_000);

/** Every client sends pairs until `killAfter` transfers were answered ok; then SIGKILL, and the calls fail. */
async function loadUntilKilled(killAfter: number): Promise<void> {
  let okCount = 0;
  let killed: Promise<unknown> | null = null;
  const connections = await Promise.all(Array.from({ length: clients }, () => connect({ url: server.url, timeoutMs: 10_000 })));
  await Promise.all(
    connections.map(async (client) => {
      while (killed === null) {
        const id = newId();
        const variants = payers.map((payer) => ({ id, debitAccountId: payer, creditAccountId: payee, amount, ledger, code })) as [TransferInput, TransferInput];
        const entry = { variants, answers: ['', ''] };
        sent.set(id, entry);
        // Both at once, on one connection (one frame or two), or the second from another connection.
        const other = connections[Math.floor(random() * connections.length)]!;
        const answers = await Promise.all([
          client.createTransfers([variants[0]]).then((r) => r[0]!.result as string, () => 'failed'),
          other.createTransfers([variants[1]]).then((r) => r[0]!.result as string, () => 'failed'),
        ]);
        entry.answers = answers;
        okCount += answers.filter((a) => a === 'ok').length;
        if (okCount >= killAfter && killed === null) killed = server.kill('SIGKILL');
      }
    }),
  );
  await killed;
  await Promise.all(connections.map((c) => c.close().catch(() => {})));
}

/** Each id answered ok at most once, held once if answered ok, and the payers' debits one amount per id held. */
async function checkHeldOnce(client: Client): Promise<void> {
  const ids = [...sent.keys()];
  let held = 0;
  for (let from = 0; from < ids.length; from += 8000) {
    const found = await client.lookupTransfers(ids.slice(from, from + 8000));
    const byId = new Map(found.map((t) => [t.id, t]));
    for (const id of ids.slice(from, from + 8000)) {
      const { variants, answers } = sent.get(id)!;
      expect(answers.filter((a) => a === 'ok').length, `id ${id}: answered ok twice`).toBeLessThanOrEqual(1);
      const transfer = byId.get(id);
      const okIndex = answers.indexOf('ok');
      if (okIndex >= 0) expect(transfer?.debitAccountId, `id ${id}: acknowledged from payer ${okIndex}, then missing or another`).toBe(variants[okIndex]!.debitAccountId);
      if (transfer !== undefined) held++;
    }
  }
  const accounts = await client.lookupAccounts(payers);
  const debits = accounts.reduce((sum, a) => sum + a.debitsPosted, 0n);
  expect(debits, 'the payers paid once per id held').toBe(BigInt(held) * amount);
}

/** Retrying both variants of every id posts nothing new: the holder's answers exists, the other the mismatch. */
async function retryBoth(client: Client): Promise<void> {
  const ids = [...sent.keys()];
  const found = new Map<bigint, bigint>();
  for (let from = 0; from < ids.length; from += 8000) {
    for (const t of await client.lookupTransfers(ids.slice(from, from + 8000))) found.set(t.id, t.debitAccountId);
  }
  for (let from = 0; from < ids.length; from += 4000) {
    const slice = ids.slice(from, from + 4000);
    for (const variant of [0, 1] as const) {
      const results = await client.createTransfers(slice.map((id) => sent.get(id)!.variants[variant]));
      results.forEach((r, i) => {
        const id = slice[i]!;
        const holder = found.get(id);
        if (holder === undefined) {
          // Held nowhere until now: the first variant posts it (and it is held from now on).
          expect(r.result, `id ${id}: held nowhere, variant ${variant}`).toBe(variant === 0 ? 'ok' : 'exists_with_different_fields');
          if (variant === 0) {
            found.set(id, payers[0]!);
            sent.get(id)!.answers[0] = 'ok';
          }
          return;
        }
        expect(r.result, `id ${id}: variant ${variant}, held from ${holder}`).toBe(holder === payers[variant] ? 'exists' : 'exists_with_different_fields');
      });
    }
  }
}
