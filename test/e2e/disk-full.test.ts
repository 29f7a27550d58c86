// A full disk, end to end (issue #5): a real `tally serve` whose --data lives on a small tmpfs, clients
// posting transfers continuously (a quarter of them credit the other shard), and the disk fills twice:
//   1. slowly, into the free-space reserve: the shards stop writing by themselves (storage_failed) before
//      LMDB meets ENOSPC, no worker restarts, and they write again once space returns;
//   2. past what a batch needs while still above the reserve, then to the last byte: a commit fails in LMDB
//      (a short write, EIO, or ENOSPC), the failed shard's worker is replaced and replays its journal, takes
//      writes again once space returns — all without restarting the server.
// Throughout: every call ends ok, storage_failed or shard_unavailable within a bound (never a silent drop),
// a call answered storage_failed left nothing behind, reads go on while the disk is full; afterwards, and
// again after SIGKILL and a restart, every transfer acknowledged ok is present, each balance is the sum of
// the transfers present, and Σ debits = Σ credits.
// The disk (test/support/full-disk.ts): a 32 MiB tmpfs filled by a file written until ENOSPC and deleted to
// give space back; where mounting is refused, the server's file size limit (RLIMIT_FSIZE) lowered to its
// data files' size and raised again (step 1 is skipped then: statfs cannot see that limit).
// TALLY_DISK_FULL_MECHANISM=tmpfs|fsize picks one; when neither works the test fails, never skips.
// TALLY_DISK_FULL_ECHO=1 shows the server's log.
// lmdb-js 3.5.6 formats a failed page write's message into a 100-byte heap buffer that long numbers overflow
// (mdb.c, mdb_page_flush): the server may then abort in step 2. That is reported loudly and tolerated — the
// abort is a crash like SIGKILL, after which the durability checks below must hold all the same.

import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { batchEventsMax, connect, type Client, type TransferInput } from 'tally-ledger/client';
import { spaceOf } from '../../src/shards/storage/storage-health.js';
import { prepareFullDisk, type FullDisk } from '../support/full-disk.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { mulberry32 } from '../support/prng.js';
import { readBack, type ReadBack } from '../support/read-back.js';
import { newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const accountsPerShard = 8;
/** Client connections per shard; each only debits accounts of its shard, so a frame is one shard's task. */
const clientsPerShard = 2;
const loopsPerClient = 3;
const transfersPerCallMax = 32;
const ledger = 978;
const code = 7;
/** The tmpfs: its reserve (1/32, 1 MiB) is smaller than the largest journal entry (8,190 transfers, 1.6 MB). */
const tmpfsBytes = 32 * 1024 * 1024;
/** Transfers acknowledged before the disk fills. */
const warmUpAckedMin = 1_500;
/** How long the disk stays full once the first storage_failed came back (reads are checked meanwhile). */
const fullHoldMs = 3_000;
/** Longest any call may take, whatever the disk does: a caller is answered, never left hanging. */
const callMsMax = 10_000;
/** Bounds for the phases to show what they wait for (generous: a slow CI machine). */
const firstFailureWaitMs = 15_000;
const resumeWaitMs = 15_000;
/**
 * Free space above the reserve left in step 2: the shards go on writing, but the burst (a batch of batchEventsMax
 * from each shard, with random user data that LZ4 cannot shrink) does not fit in it and the reserve together.
 */
const stepTwoHeadroomBytes = 256 * 1024;
/** Transfers acknowledged per shard after space returned, before the load stops. */
const resumedAckedMin = 200;
/** The only errors a caller may get: both say the call did not (storage_failed) or may not (shard_unavailable) have posted. */
const errorCodesAllowed = ['storage_failed', 'shard_unavailable'];

const seed = Number(process.env.TALLY_DISK_FULL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);

let disk: FullDisk | null = null;
let server: ServerProcess | null = null;
const accountsByShard: bigint[][] = [];
const sent = new Map<bigint, TransferInput>();
const acked = new Set<bigint>();
/** Transfers of calls answered storage_failed: none of them may be present. */
const refused = new Set<bigint>();
let transferSeq = 0n;

beforeAll(async () => {
  console.log(`disk-full.test seed ${seed} (set TALLY_DISK_FULL_SEED=${seed} to replay)`);
  disk = prepareFullDisk(tmpfsBytes);
  console.log(`disk-full.test: the disk is ${disk.name}`);
  server = await startServerProcess({ shardCount, dataDir: disk.dir, echo: process.env.TALLY_DISK_FULL_ECHO === '1' });
  for (let shard = 0; shard < shardCount; shard++) accountsByShard.push(newIdsOnShard(accountsPerShard, shard, shardCount));
  const client = await connect({ url: server.url });
  try {
    const results = await client.createAccounts(accountsByShard.flat().map((id) => ({ id, ledger, code })));
    expect(results.map((r) => r.result)).toEqual(accountsByShard.flat().map(() => 'ok'));
  } finally {
    await client.close();
  }
});

afterAll(async () => {
  try {
    await server?.cleanup(); // SIGKILL: nothing holds the mount any more
  } finally {
    disk?.dispose();
  }
});

test('a full disk: callers get errors, never a silent drop; reads go on; writes resume when space returns; nothing acknowledged is lost', async () => {
  const live = server!;
  let load = startLoad(live);
  let aborted = false;
  try {
    await waitFor(() => load.acked >= warmUpAckedMin, 30_000, `${warmUpAckedMin} acknowledged transfers before the disk fills`);
    if (disk!.fillLeaving !== null) await lowOnSpace(live, load, disk!.fillLeaving);
    else console.log('disk-full.test: step 1 (the free-space reserve) skipped: statfs cannot see a file size limit');
    aborted = await fullAtOnce(live, load);
  } finally {
    await load.stop();
  }
  report(load);
  if (aborted) {
    await live.restart(); // on the same data dir, space given back: recovery as after any crash
    load = startLoad(live);
    await waitFor(() => load.ackedPerShard.every((n) => n >= resumedAckedMin), resumeWaitMs, 'transfers acknowledged by the restarted server');
    await load.stop();
    report(load);
  }

  await checkLedgerSettled(live, 'after space returned');

  await live.kill('SIGKILL');
  await live.restart();
  await checkLedgerSettled(live, 'after SIGKILL and restart');

  const client = await connect({ url: live.url });
  try {
    const call = nextCall(0);
    expect((await client.createTransfers(call)).map((r) => r.result)).toEqual(call.map(() => 'ok'));
    for (const t of call) acked.add(t.id);
  } finally {
    await client.close();
  }
  await checkLedgerSettled(live, 'after a post on the restarted server');
});

/** Step 1: the disk runs into its reserve. The shards refuse writes themselves: LMDB never fails, no worker restarts. */
async function lowOnSpace(live: ServerProcess, load: Load, fillLeaving: (freeBytes: number) => void): Promise<void> {
  const space = spaceOf(disk!.dir)!;
  // Under the reserve, with most of it left: what is written before the shards notice (≤ storageWatchMs) fits.
  fillLeaving(Math.floor((space.reserveBytes * 3) / 4));
  const refusedBefore = load.codes.storage_failed!;
  await waitFor(() => load.codes.storage_failed! > refusedBefore, firstFailureWaitMs, 'a storage_failed answer once the disk is under its reserve');
  const readsBefore = load.readsOk;
  await sleep(fullHoldMs);
  expect(load.readsOk - readsBefore, 'lookups answered while the disk is under its reserve').toBeGreaterThan(0);
  expect(live.output(), 'the shards paused by themselves').toMatch(/under its reserve/);
  expect(live.output(), 'no LMDB write failed, no worker restarted').not.toMatch(/worker stopping|was not made durable/);
  await giveSpaceBack(live, load, 'step 1');
}

/**
 * Step 2: the disk fills to the last byte while commits are in flight: they fail in LMDB (ENOSPC), the
 * failed shards' workers are replaced and replay. Returns true when lmdb-js's heap overflow aborted the
 * server (see the top of this file); any other death of the server fails the test.
 */
async function fullAtOnce(live: ServerProcess, load: Load): Promise<boolean> {
  const refusedBefore = load.codes.storage_failed!;
  // Above the reserve the shards keep writing; the largest batch then needs more than is left, so its commit
  // fails in LMDB (with a file size limit, any growth fails). Then the disk fills to the last byte.
  if (disk!.fillLeaving !== null) disk!.fillLeaving(spaceOf(disk!.dir)!.reserveBytes + stepTwoHeadroomBytes);
  else disk!.fill(live.pid);
  // On both shards at once, within one free-space watch: small commits after the fill may reuse LMDB's free pages.
  await Promise.all([0, 1].map((shard) => load.burst(shard, batchEventsMax)));
  disk!.fill(live.pid);
  await waitFor(() => load.codes.storage_failed! > refusedBefore || !isAlive(live.pid), firstFailureWaitMs, 'a storage_failed answer once the disk is full');
  const readsBefore = load.readsOk;
  await sleep(fullHoldMs);
  if (!isAlive(live.pid)) return serverAborted(live, load);
  expect(load.readsOk - readsBefore, 'lookups answered while the disk is full').toBeGreaterThan(0);
  expect(live.output(), 'a commit failed in LMDB and its shard worker was replaced').toMatch(/worker stopping, it restarts from its journal: .*was not made durable/);
  await giveSpaceBack(live, load, 'step 2');
  return isAlive(live.pid) ? false : serverAborted(live, load);
}

/** Deletes the filler (or raises the limit) and waits for every shard to acknowledge transfers again, the server never restarted. */
async function giveSpaceBack(live: ServerProcess, load: Load, step: string): Promise<void> {
  const freedAt = performance.now();
  disk!.free(live.pid);
  const ackedAtFree = [...load.ackedPerShard];
  await waitFor(
    () => load.ackedPerShard.every((n, shard) => n - ackedAtFree[shard]! >= resumedAckedMin) || !isAlive(live.pid),
    resumeWaitMs,
    `${resumedAckedMin} transfers acknowledged on every shard once space returned (no restart)`,
  );
  if (isAlive(live.pid)) console.log(`disk-full.test: ${step}: writes resumed on every shard ${Math.round(performance.now() - freedAt)} ms after space returned`);
}

/** The server died in step 2: tolerated only as the known lmdb-js abort (glibc reports the corrupt heap). */
async function serverAborted(live: ServerProcess, load: Load): Promise<true> {
  const exit = await live.kill('SIGKILL'); // already gone: resolves with how it ended
  const output = live.output();
  expect(output, `the server died (${JSON.stringify(exit)}) without glibc's heap-corruption report`).toMatch(heapCorruption);
  console.warn(`disk-full.test: WARNING: the server aborted on a failed LMDB write (${output.match(heapCorruption)![0]}): lmdb-js 3.5.6 overflows a 100-byte heap buffer with the error message (mdb_page_flush); continuing as after a crash`);
  load.serverDied = true;
  try {
    disk!.free(live.pid);
  } catch {
    // The file size limit died with the process.
  }
  return true;
}

/** What glibc prints when it finds the heap corrupt (then aborts). */
const heapCorruption = /malloc\(\)[^\n]*|corrupted [^\n]*|free\(\)[^\n]*|double free[^\n]*|Fatal glibc error[^\n]*/;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function report(load: Load): void {
  console.log(`disk-full.test: ${acked.size} acknowledged, ${refused.size} refused storage_failed; calls by outcome ${JSON.stringify(load.codes)}; longest call ${Math.round(load.callMsLongest)} ms`);
  expect(load.callMsLongest, 'longest call').toBeLessThan(callMsMax);
  // connection_closed only when the server aborted (above); otherwise ok, storage_failed or shard_unavailable.
  expect(load.unexpected.filter((what) => !(load.serverDied && what.startsWith('connection_closed'))), 'answers other than ok, storage_failed and shard_unavailable').toEqual([]);
}

interface Load {
  /** Set once the server aborted: calls after it end connection_closed. */
  serverDied: boolean;
  readonly acked: number;
  readonly ackedPerShard: number[];
  readonly codes: Record<string, number>;
  readonly readsOk: number;
  readonly callMsLongest: number;
  readonly unexpected: string[];
  /** One call of `transfers` transfers debiting accounts of `shard` (a journal entry big enough to grow the file). */
  burst(shard: number, transfers: number): Promise<void>;
  stop(): Promise<void>;
}

/** Writers per shard (each call debits accounts of one shard) and one reader, until stop(). */
function startLoad(live: ServerProcess): Load {
  let stopping = false;
  const state = {
    acked: 0,
    ackedPerShard: Array.from({ length: shardCount }, () => 0),
    codes: { ok: 0, storage_failed: 0, shard_unavailable: 0 } as Record<string, number>,
    readsOk: 0,
    callMsLongest: 0,
    unexpected: [] as string[],
  };
  const clients: Client[] = [];
  const clientsByShard: Client[][] = Array.from({ length: shardCount }, () => []);
  /** Posts one call and books its outcome; true when it was acknowledged. */
  const post = async (client: Client, shard: number, call: TransferInput[]): Promise<boolean> => {
    const started = performance.now();
    const outcome = await client.createTransfers(call).catch((error: unknown) => error as { code?: string; message?: string });
    state.callMsLongest = Math.max(state.callMsLongest, performance.now() - started);
    if (Array.isArray(outcome)) {
      const results = outcome.map((r) => r.result);
      if (results.some((r) => r !== 'ok')) state.unexpected.push(`results ${[...new Set(results)].join(',')}`);
      for (const t of call) acked.add(t.id);
      state.codes.ok++;
      state.acked += call.length;
      state.ackedPerShard[shard]! += call.length;
      return true;
    }
    const errorCode = String(outcome.code);
    state.codes[errorCode] = (state.codes[errorCode] ?? 0) + 1;
    if (!errorCodesAllowed.includes(errorCode)) state.unexpected.push(`${errorCode}: ${String(outcome.message)}`);
    if (errorCode === 'storage_failed') for (const t of call) refused.add(t.id);
    return false;
  };
  const writer = async (client: Client, shard: number): Promise<void> => {
    while (!stopping) {
      if (!(await post(client, shard, nextCall(shard)))) await sleep(5); // a refused caller backs off a little, as a real one would
    }
  };
  const reader = async (client: Client): Promise<void> => {
    while (!stopping) {
      const accounts = await client.lookupAccounts(accountsByShard.flat()).catch(() => null);
      if (accounts !== null && accounts.length === shardCount * accountsPerShard) state.readsOk++;
      await sleep(20);
    }
  };
  const running = (async () => {
    const loops: Promise<void>[] = [];
    for (let shard = 0; shard < shardCount; shard++) {
      for (let c = 0; c < clientsPerShard; c++) {
        const client = await connect({ url: live.url, timeoutMs: callMsMax + 5_000 });
        clients.push(client);
        clientsByShard[shard]!.push(client);
        for (let l = 0; l < loopsPerClient; l++) loops.push(writer(client, shard));
      }
    }
    const readClient = await connect({ url: live.url, timeoutMs: callMsMax + 5_000 });
    clients.push(readClient);
    loops.push(reader(readClient));
    await Promise.all(loops);
  })();
  return {
    serverDied: false,
    get acked() {
      return state.acked;
    },
    ackedPerShard: state.ackedPerShard,
    codes: state.codes,
    get readsOk() {
      return state.readsOk;
    },
    get callMsLongest() {
      return state.callMsLongest;
    },
    unexpected: state.unexpected,
    async burst(shard, transfers) {
      await post(clientsByShard[shard]![0]!, shard, nextCall(shard, transfers, true));
    },
    async stop() {
      stopping = true;
      await running;
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

function randomBits(bits: number): bigint {
  let value = 0n;
  for (let at = 0; at < bits; at += 32) value = (value << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return value;
}

/**
 * A call of `count` (1..transfersPerCallMax) transfers debiting accounts of `shard`; a quarter credit the other
 * shard. `incompressible`: with random user data, so that the journal's compression cannot shrink the call much.
 */
function nextCall(shard: number, count = 1 + Math.floor(random() * transfersPerCallMax), incompressible = false): TransferInput[] {
  const pool = accountsByShard[shard]!;
  const call: TransferInput[] = [];
  for (let i = 0; i < count; i++) {
    const debit = Math.floor(random() * pool.length);
    const crossShard = random() < 0.25;
    const creditPool = crossShard ? accountsByShard[(shard + 1) % shardCount]! : pool;
    const credit = crossShard ? Math.floor(random() * creditPool.length) : (debit + 1 + Math.floor(random() * (pool.length - 1))) % pool.length;
    transferSeq++;
    const transfer: TransferInput = {
      id: (BigInt(seed) << 96n) | (BigInt(Math.floor(random() * 2 ** 32)) << 64n) | transferSeq,
      debitAccountId: pool[debit]!,
      creditAccountId: creditPool[credit]!,
      amount: BigInt(1 + Math.floor(random() * 10_000)),
      ledger,
      code,
      ...(incompressible ? { userData128: randomBits(128), userData64: randomBits(64) } : {}),
    };
    sent.set(transfer.id, transfer);
    call.push(transfer);
  }
  return call;
}

function snapshot(live: ServerProcess): Promise<ReadBack> {
  return readBack(live.url, accountsByShard.flat(), [...sent.keys()]);
}

/** Acknowledged ⇒ present as sent; storage_failed ⇒ absent; balances = Σ present transfers; Σ debits = Σ credits. */
function checkLedger({ accounts, transfers }: ReadBack, when: string): void {
  const missing = [...acked].filter((id) => !transfers.has(id));
  expect(missing, `acknowledged transfers missing ${when}`).toEqual([]);
  const leftBehind = [...refused].filter((id) => transfers.has(id));
  expect(leftBehind, `transfers of calls answered storage_failed, present ${when}`).toEqual([]);
  const expected = new Map(accounts.map((a) => [a.id, { debits: 0n, credits: 0n }]));
  for (const t of transfers.values()) {
    const input = sent.get(t.id)!;
    expect([t.debitAccountId, t.creditAccountId, t.amount, t.status]).toEqual([input.debitAccountId, input.creditAccountId, input.amount, 'posted']);
    expected.get(t.debitAccountId)!.debits += t.amount;
    expected.get(t.creditAccountId)!.credits += t.amount;
  }
  const actual = accounts.map((a) => ({ id: a.id, debits: a.debitsPosted, credits: a.creditsPosted, pending: a.debitsPending + a.creditsPending }));
  expect(actual, `balances = Σ transfers present, ${when}`).toEqual(accounts.map((a) => ({ id: a.id, ...expected.get(a.id)!, pending: 0n })));
  const debits = accounts.reduce((sum, a) => sum + a.debitsPosted, 0n);
  const credits = accounts.reduce((sum, a) => sum + a.creditsPosted, 0n);
  expect(debits, `conservation ${when}: Σ debits posted = Σ credits posted`).toBe(credits);
}

/**
 * checkLedger once cross-shard credits have landed. GET /health's transit.inFlight counts what the relay
 * holds; an instruction it has yet to fetch from its sender (after a gap) lands a reconcile later, so the
 * check is retried for a while: a credit that never lands still fails it.
 */
async function checkLedgerSettled(live: ServerProcess, when: string): Promise<void> {
  await transitSettled(live);
  const started = performance.now();
  let tries = 0;
  await vi.waitFor(
    async () => {
      tries++;
      checkLedger(await snapshot(live), when);
    },
    { timeout: 15_000, interval: 250 },
  );
  if (tries > 1) console.log(`disk-full.test: ${when}: the ledger checked out after ${tries} tries (${Math.round(performance.now() - started)} ms): credits were still landing`);
}

/** Once the relay has reconciled and no cross-shard credit is in flight (GET /health). */
async function transitSettled(live: ServerProcess): Promise<void> {
  await vi.waitFor(
    async () => {
      const { transit } = JSON.parse((await live.health()).body) as { transit: { inFlight: number; reconciles: number } };
      expect(transit.reconciles).toBeGreaterThanOrEqual(1);
      expect(transit.inFlight).toBe(0);
    },
    { timeout: 20_000, interval: 20 },
  );
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`disk-full.test: no ${what} within ${timeoutMs} ms\n--- server output ---\n${server?.output() ?? ''}`);
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
