// Crash safety, end to end: concurrent transfer load against the real server (2 shards; about a third of
// the transfers credit an account on the other shard), SIGKILL at a random moment, restart on the same
// data dir, wait until every cross-shard credit has landed (the restarted relay refetches them from the
// senders' outboxes), then check from the outside:
//   1. every transfer acknowledged `ok` is present, with the fields that were sent;
//   2. nothing is half-applied: each transfer is present or absent as a whole, a linked chain is
//      present or absent as a whole, and every balance equals the sum of the present transfers;
//   3. conservation: Σ debits posted = Σ credits posted over all accounts;
//   4. replay is deterministic: after another restart, accounts and transfers are byte-for-byte the same;
//   5. retrying what was in flight is safe: present ids answer `exists`, absent ones post `ok`.
// Several kill cycles run on one data dir. The seed is printed; TALLY_CRASH_SEED replays a run.
// A second test does the same with many clients sending one or two transfers per call (issue #19): the server joins
// their frames into joint entries across connections, and every call acknowledged before the kill is present after.

import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { TransferFlags, connect, type AccountState, type Client, type TransferInput, type TransferState } from 'tally-ledger/client';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdsOnShard } from './shard-ids.js';
import { mulberry32 } from '../support/prng.js';
import { readBack, type ReadBack } from '../support/read-back.js';

const shardCount = 2;
const accountsPerShard = 12;
const cycles = 5;
/** How the load is shaped: clients, calls in flight per client, transfers per call at most. */
interface LoadShape {
  clients: number;
  loopsPerClient: number;
  eventsPerCallMax: number;
}
/** A few clients with calls of up to 48 transfers (each client joins its concurrent calls into frames too). */
const mixedCalls: LoadShape = { clients: 3, loopsPerClient: 6, eventsPerCallMax: 48 };
/** Many services, small calls: one or two transfers each (a linked pair), joined on the server across connections. */
const smallCalls: LoadShape = { clients: 24, loopsPerClient: 4, eventsPerCallMax: 2 };
const smallCallsCycles = 2;
/** The kill comes after this many acknowledged transfers in a cycle, drawn uniformly from the range. */
const killAfterAckedMin = 500;
const killAfterAckedMax = 6000;
const ledger = 840;
const code = 9;

const seed = Number(process.env.TALLY_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);

let server: ServerProcess;
const accountsByShard: bigint[][] = [];
const sent = new Map<bigint, TransferInput>();
/** Calls in send order; a call is the unit the client may have had in flight when the server died. */
const calls: TransferInput[][] = [];
const acked = new Set<bigint>();
/** Linked pairs: both transfers must be present, or neither. */
const chains: [bigint, bigint][] = [];
let transferSeq = 0n;

beforeAll(async () => {
  console.log(`crash.test seed ${seed} (set TALLY_CRASH_SEED=${seed} to replay)`);
  server = await startServerProcess({ shardCount });
  for (let shard = 0; shard < shardCount; shard++) accountsByShard.push(newIdsOnShard(accountsPerShard, shard, shardCount));
  const client = await connect({ url: server.url });
  const results = await client.createAccounts(accountsByShard.flat().map((id) => ({ id, ledger, code })));
  expect(results.every((r) => r.result === 'ok')).toBe(true);
  await client.close();
});

afterAll(async () => {
  await server?.cleanup();
});

test(`acknowledged transfers survive ${cycles} SIGKILLs; nothing is half-applied; replay is deterministic`, async () => {
  await killCycles(cycles, mixedCalls);
});

test(`small calls from ${smallCalls.clients} clients, joined on the server: acknowledged transfers survive ${smallCallsCycles} SIGKILLs`, async () => {
  await killCycles(smallCallsCycles, smallCalls);
});

async function killCycles(count: number, shape: LoadShape): Promise<void> {
  for (let cycle = 1; cycle <= count; cycle++) {
    const killAfterAcked = killAfterAckedMin + Math.floor(random() * (killAfterAckedMax - killAfterAckedMin));
    const { ackedInCycle, unsettled, joined } = await loadUntilKilled(killAfterAcked, shape);
    if (shape === smallCalls) expect(joined, 'requests joined across connections before the kill').toBeGreaterThan(0);

    await server.restart();
    await transitSettled();
    const first = await snapshot();
    const landed = [...sent.keys()].filter((id) => !acked.has(id) && first.transfers.has(id)).length;
    console.log(`cycle ${cycle}: killed after ${ackedInCycle} acknowledged transfers; of ${unsettled} in flight, ${landed} were durable`);
    checkAcknowledgedPresent(first.transfers);
    checkWholeness(first.transfers, first.accounts);

    await server.kill('SIGKILL');
    await server.restart();
    await transitSettled();
    const second = await snapshot();
    expect(second.accounts, 'accounts after a second replay').toEqual(first.accounts);
    expect(second.transfers, 'transfers after a second replay').toEqual(first.transfers);

    await retryUnacknowledged(first.transfers);
    await transitSettled();
    const settled = await snapshot();
    expect(settled.transfers.size).toBe(sent.size);
    checkWholeness(settled.transfers, settled.accounts);
  }
}

/** The server's count of transfer requests that shared a joint entry since it started (GET /metrics). */
async function joinedRequests(): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('tally_transfer_requests_joined '));
  expect(line, 'GET /metrics counts joined requests').toBeDefined();
  return Number(line!.split(' ')[1]);
}

/**
 * Drives concurrent calls until `killAfterAcked` transfers are acknowledged, SIGKILLs the server, and waits for every
 * call to settle. `joined`: requests the server had joined with others when the kill was sent.
 */
async function loadUntilKilled(killAfterAcked: number, shape: LoadShape): Promise<{ ackedInCycle: number; unsettled: number; joined: number }> {
  const clients = await Promise.all(Array.from({ length: shape.clients }, () => connect({ url: server.url, timeoutMs: 30_000 })));
  let ackedInCycle = 0;
  let killed: Promise<unknown> | null = null;
  let unsettled = 0;
  let joined = 0;
  /** Set as the signal goes: calls keep being sent until then, so that some are in flight when it lands. */
  let killSent = false;
  const loop = async (client: Client) => {
    while (!killSent) {
      const call = nextCall(shape.eventsPerCallMax);
      const results = await client.createTransfers(call).catch((error: unknown) => error as { code?: string });
      if (!Array.isArray(results)) {
        expect(results.code, 'the only failure a killed server may cause').toBe('connection_closed');
        unsettled += call.length;
        return;
      }
      expect(results.map((r) => r.result)).toEqual(call.map(() => 'ok'));
      for (const t of call) acked.add(t.id);
      ackedInCycle += call.length;
      // The kill is sent from inside a reply handler, while the other loops' calls are in flight.
      if (ackedInCycle >= killAfterAcked && killed === null) {
        // Read the count first, the kill right after: calls keep flowing meanwhile.
        killed = joinedRequests().then((count) => {
          joined = count;
          killSent = true;
          return server.kill('SIGKILL');
        });
      }
    }
  };
  const loops = clients.flatMap((client) => Array.from({ length: shape.loopsPerClient }, () => loop(client)));
  await Promise.all(loops);
  expect(killed).not.toBeNull();
  await killed;
  await Promise.all(clients.map((c) => c.close()));
  return { ackedInCycle, unsettled, joined };
}

/** A call of 1..eventsPerCallMax transfers between accounts of one shard each; about one in eight is a linked pair. */
function nextCall(eventsPerCallMax: number): TransferInput[] {
  const call: TransferInput[] = [];
  const count = 1 + Math.floor(random() * eventsPerCallMax);
  while (call.length < count) {
    const shard = Math.floor(random() * shardCount);
    if (random() < 0.125) {
      const first = newTransfer(shard, TransferFlags.linked);
      const second = newTransfer(shard, 0);
      chains.push([first.id, second.id]);
      call.push(first, second);
    } else {
      call.push(newTransfer(shard, 0));
    }
  }
  calls.push(call);
  for (const t of call) sent.set(t.id, t);
  return call;
}

/** Once the restarted relay has reconciled with every shard and no credit is in flight (GET /health). */
async function transitSettled(): Promise<void> {
  await vi.waitFor(
    async () => {
      const { transit } = JSON.parse((await server.health()).body) as { transit: { inFlight: number; reconciles: number } };
      expect(transit.reconciles).toBeGreaterThanOrEqual(1);
      expect(transit.inFlight).toBe(0);
    },
    { timeout: 20_000, interval: 20 },
  );
}

function newTransfer(shard: number, flags: number): TransferInput {
  const pool = accountsByShard[shard];
  const debit = Math.floor(random() * pool.length);
  // A third of the transfers credit the other shard: debit first here, the credit after, across the relay.
  const crossShard = random() < 1 / 3;
  const creditPool = crossShard ? accountsByShard[(shard + 1) % shardCount] : pool;
  const creditIndex = crossShard ? Math.floor(random() * creditPool.length) : (debit + 1 + Math.floor(random() * (pool.length - 1))) % pool.length;
  transferSeq++;
  return {
    // Ids from the seeded generator, so a replayed seed replays the same ids (2^96 of space, no collisions).
    id: (BigInt(seed) << 96n) | (BigInt(Math.floor(random() * 2 ** 32)) << 64n) | transferSeq,
    debitAccountId: pool[debit],
    creditAccountId: creditPool[creditIndex],
    amount: BigInt(1 + Math.floor(random() * 10_000)),
    ledger,
    code,
    flags,
    userData64: transferSeq,
  };
}

/** Every account, and every transfer ever sent that the server has, read through a fresh client. */
function snapshot(): Promise<ReadBack> {
  return readBack(server.url, accountsByShard.flat(), [...sent.keys()]);
}

function checkAcknowledgedPresent(present: Map<bigint, TransferState>): void {
  const missing = [...acked].filter((id) => !present.has(id));
  expect(missing, 'acknowledged transfers missing after the crash').toEqual([]);
}

function checkWholeness(present: Map<bigint, TransferState>, accounts: AccountState[]): void {
  for (const [id, stored] of present) {
    const input = sent.get(id);
    expect(input, `transfer ${id} present but never sent`).toBeDefined();
    expect(fieldsOf(stored)).toEqual(fieldsOf({ ...input!, status: 'posted' }));
  }
  for (const [a, b] of chains) expect(present.has(a), `linked pair ${a}/${b} applied by half`).toBe(present.has(b));

  const expected = new Map<bigint, { debits: bigint; credits: bigint }>();
  for (const account of accounts) expected.set(account.id, { debits: 0n, credits: 0n });
  for (const t of present.values()) {
    expected.get(t.debitAccountId)!.debits += t.amount;
    expected.get(t.creditAccountId)!.credits += t.amount;
  }
  const actual = accounts.map((a) => ({ id: a.id, debits: a.debitsPosted, credits: a.creditsPosted, pending: a.debitsPending + a.creditsPending }));
  expect(actual).toEqual(accounts.map((a) => ({ id: a.id, ...expected.get(a.id)!, pending: 0n })));

  const debits = accounts.reduce((sum, a) => sum + a.debitsPosted, 0n);
  const credits = accounts.reduce((sum, a) => sum + a.creditsPosted, 0n);
  expect(debits, 'conservation: Σ debits posted = Σ credits posted').toBe(credits);
}

function fieldsOf(t: Partial<TransferState> & TransferInput) {
  return {
    id: t.id,
    debitAccountId: t.debitAccountId,
    creditAccountId: t.creditAccountId,
    amount: t.amount,
    ledger: t.ledger,
    code: t.code,
    flags: t.flags ?? 0,
    userData64: t.userData64 ?? 0n,
    status: t.status,
  };
}

/** Sends again every call that was not acknowledged, as it was: present events answer `exists`, absent ones post. */
async function retryUnacknowledged(present: Map<bigint, TransferState>): Promise<void> {
  const client = await connect({ url: server.url, timeoutMs: 30_000 });
  try {
    const pending = calls.filter((call) => call.some((t) => !acked.has(t.id)));
    const outcomes = await Promise.all(pending.map((call) => client.createTransfers(call)));
    pending.forEach((call, i) => {
      expect(outcomes[i].map((r) => r.result)).toEqual(call.map((t) => (present.has(t.id) ? 'exists' : 'ok')));
      for (const t of call) acked.add(t.id);
    });
  } finally {
    await client.close();
  }
}

