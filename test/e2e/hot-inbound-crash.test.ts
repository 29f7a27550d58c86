// Hot-inbound accounts (缓冲入账) end to end, through kill -9: the real server (2 shards) takes a stream
// of credits to two hot merchants — one marked by hand, one marked by the server itself when its credit
// rate crosses the threshold — from payers on both shards (same-shard and cross-shard credits), and is
// SIGKILLed mid-stream several times. After each restart, from the outside:
//   1. every acknowledged credit is present (nothing buffered is lost);
//   2. each merchant's credits_posted + credits_buffered equals the sum of the present transfers to it,
//      and the buffers drain to zero within the bound once the traffic stops;
//   3. conservation holds, and a second restart (a replay of the journal) answers byte for byte the same;
// and at the end GET /health reports the buffer waits under the 1 s bound (p99).

import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { AccountOperationFlags, connect, type AccountState, type Client, type TransferInput } from 'tally-ledger/client';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { mulberry32 } from '../support/prng.js';
import { newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const ledger = 156;
const code = 7;
const cycles = 3;
const writers = 4;
const creditsPerCallMax = 24;
const killAfterAckedMin = 1000;
const killAfterAckedMax = 4000;
/** The server's summary interval and the bound its buffered credits must apply within. */
const applyIntervalMs = 100;
const applyBoundMs = 1000;
/** Credits per second that mark an account hot by itself (low, so the test's traffic crosses it). */
const autoThreshold = 200;

const seed = Number(process.env.TALLY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);

let server: ServerProcess;
let payers: bigint[] = [];
/** [marked by hand, marked by the threshold], on shard 1: payers on shard 0 credit them across shards. */
let merchants: bigint[] = [];
const sent = new Map<bigint, TransferInput>();
const acked = new Set<bigint>();
let transferSeq = 0n;

beforeAll(async () => {
  console.log(`hot-inbound-crash.test seed ${seed} (set TALLY_CRASH_SEED=${seed} to replay)`);
  server = await startServerProcess({
    shardCount,
    env: { TALLY_HOT_APPLY_MS: String(applyIntervalMs), TALLY_HOT_THRESHOLD: String(autoThreshold), TALLY_HOT_UNMARK_QUIET: '3600' },
  });
  payers = [...newIdsOnShard(4, 0, shardCount), ...newIdsOnShard(4, 1, shardCount)];
  merchants = newIdsOnShard(2, 1, shardCount);
  const client = await connect({ url: server.url });
  const created = await client.createAccounts([...payers, ...merchants].map((id) => ({ id, ledger, code })));
  expect(created.every((r) => r.result === 'ok')).toBe(true);
  const marked = await client.accountOperations([{ id: 1n, accountId: merchants[0]!, kind: 'mark_hot', flags: AccountOperationFlags.credits }]);
  expect(marked.map((r) => r.result)).toEqual(['ok']);
  await client.close();
});

afterAll(async () => {
  await server?.cleanup();
});

test(`buffered credits survive ${cycles} SIGKILLs, apply within the bound, and replay identically`, async () => {
  // Sustained credits until the threshold marks the second merchant (its rate window is a whole second:
  // a slow machine needs a few bursts), so that the kills below also hit an automatic mark.
  for (let burst = 0; burst < 20 && !(await isAutoMarked()); burst++) await creditUntilKilled(2000, false);
  expect(await isAutoMarked(), 'the credit-rate threshold marks a busy account by itself').toBe(true);
  for (let cycle = 1; cycle <= cycles; cycle++) {
    const killAfterAcked = killAfterAckedMin + Math.floor(random() * (killAfterAckedMax - killAfterAckedMin));
    const ackedInCycle = await creditUntilKilled(killAfterAcked);
    await server.restart();
    const first = await settled();
    console.log(`cycle ${cycle}: killed after ${ackedInCycle} acknowledged credits`);
    await checkLedger(first);

    await server.kill('SIGKILL');
    await server.restart();
    const second = await settled();
    expect(second.accounts, 'accounts after a replay of the journal').toEqual(first.accounts);
  }
  // The automatic mark was journaled: it survived the kills.
  expect(await isAutoMarked()).toBe(true);

  // A last burst with no kill: its waits are what the bound speaks of (p99 over the recent credits).
  await creditUntilKilled(2000, false);
  const after = await settled();
  expect(after.drainedMs, 'buffers drain within the bound once credits stop').toBeLessThan(applyBoundMs * 3);
  await checkLedger(after);
  const { hotInbound } = JSON.parse((await server.health()).body) as { hotInbound: { accounts: number; creditsApplied: number; delayMsP99: number } };
  expect(hotInbound.accounts).toBe(2);
  expect(hotInbound.creditsApplied).toBeGreaterThan(0);
  expect(hotInbound.delayMsP99).toBeLessThanOrEqual(applyBoundMs);
});

async function isAutoMarked(): Promise<boolean> {
  const client = await connect({ url: server.url });
  try {
    const [account] = await client.lookupAccounts([merchants[1]!]);
    return account?.hotInbound === true && account.hotInboundAuto === true;
  } finally {
    await client.close();
  }
}

/** Writers send credits to the merchants until `stopAfter` are acknowledged; then SIGKILL (or just stop). */
async function creditUntilKilled(stopAfter: number, kill = true): Promise<number> {
  const clients: Client[] = await Promise.all(Array.from({ length: writers }, () => connect({ url: server.url, timeoutMs: 30_000 })));
  let ackedNow = 0;
  let stopped: Promise<unknown> | null = null;
  const loop = async (client: Client): Promise<void> => {
    while (stopped === null) {
      const call = Array.from({ length: 1 + Math.floor(random() * creditsPerCallMax) }, () => newCredit());
      const results = await client.createTransfers(call).catch((error: unknown) => error as { code?: string });
      if (!Array.isArray(results)) {
        expect(results.code, 'the only failure a killed server may cause').toBe('connection_closed');
        return;
      }
      expect(results.map((r) => r.result)).toEqual(call.map(() => 'ok'));
      for (const t of call) acked.add(t.id);
      ackedNow += call.length;
      if (ackedNow >= stopAfter && stopped === null) stopped = kill ? server.kill('SIGKILL') : Promise.resolve();
    }
  };
  await Promise.all(clients.map((client) => loop(client)));
  await stopped;
  await Promise.all(clients.map((client) => client.close()));
  return ackedNow;
}

function newCredit(): TransferInput {
  transferSeq++;
  const t: TransferInput = {
    id: (BigInt(seed) << 96n) | transferSeq,
    debitAccountId: payers[Math.floor(random() * payers.length)]!,
    creditAccountId: merchants[Math.floor(random() * merchants.length)]!,
    amount: BigInt(1 + Math.floor(random() * 5_000)),
    ledger,
    code,
  };
  sent.set(t.id, t);
  return t;
}

interface Settled {
  accounts: AccountState[];
  /** How long after traffic stopped (and credits in transit landed) the buffers were empty. */
  drainedMs: number;
}

/** Once every cross-shard credit landed and every buffer applied (the bound, plus a restart's replay). */
async function settled(): Promise<Settled> {
  const client = await connect({ url: server.url, timeoutMs: 30_000 });
  try {
    const started = performance.now();
    let accounts: AccountState[] = [];
    await vi.waitFor(
      async () => {
        const { transit } = JSON.parse((await server.health()).body) as { transit: { inFlight: number; reconciles: number } };
        expect(transit.reconciles).toBeGreaterThanOrEqual(1);
        expect(transit.inFlight).toBe(0);
        accounts = await client.lookupAccounts([...payers, ...merchants]);
        expect(accounts.every((a) => a.creditsBuffered === 0n)).toBe(true);
      },
      { timeout: 20_000, interval: 20 },
    );
    return { accounts, drainedMs: performance.now() - started };
  } finally {
    await client.close();
  }
}

async function checkLedger({ accounts }: Settled): Promise<void> {
  const client = await connect({ url: server.url, timeoutMs: 30_000 });
  try {
    const found = await client.lookupTransfers([...sent.keys()]);
    const present = new Map(found.map((t) => [t.id, t]));
    const missing = [...acked].filter((id) => !present.has(id));
    expect(missing, 'acknowledged credits missing after the crash').toEqual([]);
    const expected = new Map<bigint, { debits: bigint; credits: bigint }>();
    for (const t of present.values()) {
      const debit = expected.get(t.debitAccountId) ?? { debits: 0n, credits: 0n };
      debit.debits += t.amount;
      expected.set(t.debitAccountId, debit);
      const credit = expected.get(t.creditAccountId) ?? { debits: 0n, credits: 0n };
      credit.credits += t.amount;
      expected.set(t.creditAccountId, credit);
    }
    let debits = 0n;
    let credits = 0n;
    for (const a of accounts) {
      const want = expected.get(a.id) ?? { debits: 0n, credits: 0n };
      expect({ id: a.id, debits: a.debitsPosted, credits: a.creditsPosted + (a.creditsBuffered ?? 0n) }).toEqual({ id: a.id, ...want });
      debits += a.debitsPosted;
      credits += a.creditsPosted;
    }
    // Payers and merchants only trade with each other here (transit halves net to zero once settled).
    expect(debits).toBe(credits);
  } finally {
    await client.close();
  }
}
