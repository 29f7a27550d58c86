// End to end: the real `tally serve` as a child process (2 shards, temp data dir) and the public
// client over real loopback sockets. Specs state what a caller sees; internals are never touched.
// Each spec builds its own accounts with fresh ids, so the specs share one server without interfering.

import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  AccountFlags,
  TransferFlags,
  connect,
  newId,
  type AccountInput,
  type Client,
  type EventResult,
  type TransferInput,
} from 'tally-ledger/client';
import { encodeRequest } from '../../src/client/frame-codec.js';
import { Operation } from '../../src/core/operations.js';
import { encodeAccounts } from '../../src/core/wire/records.js';
import { RawSocket } from '../support/raw-socket.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard, newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const ledger = 156;
const code = 1;

let server: ServerProcess;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startServerProcess({ shardCount });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await server?.cleanup();
});

async function newClient(): Promise<Client> {
  const client = await connect({ url: server.url, timeoutMs: 20_000 });
  clients.push(client);
  return client;
}

function account(id: bigint, flags = 0): AccountInput {
  return { id, ledger, code, flags };
}

function transfer(debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput {
  return { id: newId(), debitAccountId, creditAccountId, amount, ledger, code, ...extra };
}

function names(results: EventResult[]): string[] {
  return results.map((r) => r.result);
}

/** Creates the accounts and insists that every one was created. */
async function open(client: Client, accounts: AccountInput[]): Promise<void> {
  expect(names(await client.createAccounts(accounts))).toEqual(accounts.map(() => 'ok'));
}

async function balances(client: Client, id: bigint) {
  const [a] = await client.lookupAccounts([id]);
  expect(a, `account ${id} exists`).toBeDefined();
  return { debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending, frozen: a.frozen };
}

describe('health', () => {
  test('GET /health reports ok and the shard count', async () => {
    const { status, body } = await server.health();
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({ status: 'ok', shards: shardCount, transit: { inFlight: expect.any(Number), delayMsP99: expect.any(Number) } });
  });
});

describe('metrics', () => {
  test('GET /metrics counts requests by outcome, refused events by result name, and reads the shards', async () => {
    const client = await newClient();
    const [payer, payee] = newIdsOnShard(2, 0, shardCount);
    await open(client, [account(payer, AccountFlags.debits_must_not_exceed_credits), account(payee)]);
    expect(names(await client.createTransfers([transfer(payer, payee, 5n)]))).toEqual(['insufficient_funds']);
    const response = await fetch(new URL('/metrics', `http://127.0.0.1:${server.port}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^tally_requests_total\{operation="create_transfers",outcome="ok"\} [1-9]/m);
    expect(text).toMatch(/^tally_events_refused_total\{operation="create_transfers",result="insufficient_funds"\} [1-9]/m);
    expect(text).toMatch(/^tally_request_duration_seconds_bucket\{le="\+Inf",operation="create_accounts"\} [1-9]/m);
    for (let shard = 0; shard < shardCount; shard++) {
      expect(text).toMatch(new RegExp(`^tally_shard_tasks_outstanding\\{shard="${shard}"\\} \\d+`, 'm'));
      expect(text).toMatch(new RegExp(`^tally_bookkeeping_lag_entries\\{shard="${shard}"\\} \\d+`, 'm'));
    }
    expect(text).toMatch(/^tally_day_reports_failed 0$/m);
    expect(text).toMatch(/^tally_transit_in_flight \d+$/m);
    // Per-shard write latency and posting rate: the payer's shard answered the transfer above.
    expect(text).toMatch(/^tally_shard_write_duration_seconds_bucket\{le="\+Inf",shard="0"\} [1-9]/m);
    expect(text).toMatch(/^tally_shard_events_posted_total\{shard="0"\} [1-9]/m);
  });
});

describe('accounts and every kind of transfer', () => {
  test('fund, pay, refuse an overdraft, hold and post, hold and void, reverse, freeze and pay, unfreeze', async () => {
    const client = await newClient();
    const [bank, alice, bob, merchant] = newIdsOnShard(4, 0, shardCount);
    await open(client, [account(bank), account(alice, AccountFlags.debits_must_not_exceed_credits), account(bob, AccountFlags.debits_must_not_exceed_credits), account(merchant)]);

    const fund = transfer(bank, alice, 1000n);
    const pay = transfer(alice, bob, 300n);
    const hold = transfer(alice, merchant, 200n, { flags: TransferFlags.pending });
    const hold2 = transfer(alice, merchant, 100n, { flags: TransferFlags.pending });
    const freezeId = newId();
    // Order matters (later steps reference earlier ones), so each step is its own call, awaited in turn.
    const steps: { what: string; run: () => Promise<EventResult[]>; expected: string }[] = [
      { what: 'fund alice', run: () => client.createTransfers([fund]), expected: 'ok' },
      { what: 'alice pays bob', run: () => client.createTransfers([pay]), expected: 'ok' },
      { what: 'alice overdraws', run: () => client.createTransfers([transfer(alice, bob, 10_000n)]), expected: 'insufficient_funds' },
      { what: 'hold 200', run: () => client.createTransfers([hold]), expected: 'ok' },
      { what: 'post 150 of the hold', run: () => client.createTransfers([transfer(alice, merchant, 150n, { flags: TransferFlags.post_pending, pendingId: hold.id })]), expected: 'ok' },
      { what: 'post the hold again', run: () => client.createTransfers([transfer(alice, merchant, 0n, { flags: TransferFlags.post_pending, pendingId: hold.id })]), expected: 'pending_already_posted' },
      { what: 'hold 100', run: () => client.createTransfers([hold2]), expected: 'ok' },
      { what: 'void it', run: () => client.createTransfers([transfer(alice, merchant, 0n, { flags: TransferFlags.void_pending, pendingId: hold2.id })]), expected: 'ok' },
      { what: 'reverse 120 of the payment', run: () => client.createTransfers([transfer(bob, alice, 120n, { flags: TransferFlags.reversal, pendingId: pay.id })]), expected: 'ok' },
      { what: 'reverse beyond what remains', run: () => client.createTransfers([transfer(bob, alice, 181n, { flags: TransferFlags.reversal, pendingId: pay.id })]), expected: 'reversal_exceeds_remaining' },
      { what: 'freeze 100 of alice', run: () => client.accountOperations([{ id: freezeId, accountId: alice, kind: 'freeze', amount: 100n }]), expected: 'ok' },
      { what: 'spend frozen money', run: () => client.createTransfers([transfer(alice, bob, 600n)]), expected: 'insufficient_funds' },
      { what: 'pay 60 from the freeze', run: () => client.createTransfers([transfer(alice, merchant, 60n, { flags: TransferFlags.unfreeze_and_pay, pendingId: freezeId })]), expected: 'ok' },
      { what: 'unfreeze the rest', run: () => client.accountOperations([{ id: newId(), accountId: alice, kind: 'unfreeze', freezeId }]), expected: 'ok' },
    ];
    for (const step of steps) {
      const results = await step.run();
      expect({ step: step.what, results: names(results) }).toEqual({ step: step.what, results: [step.expected] });
    }

    const zero = { debitsPending: 0n, creditsPending: 0n, frozen: 0n };
    expect(await balances(client, bank)).toEqual({ debitsPosted: 1000n, creditsPosted: 0n, ...zero });
    expect(await balances(client, alice)).toEqual({ debitsPosted: 300n + 150n + 60n, creditsPosted: 1000n + 120n, ...zero });
    expect(await balances(client, bob)).toEqual({ debitsPosted: 120n, creditsPosted: 300n, ...zero });
    expect(await balances(client, merchant)).toEqual({ debitsPosted: 0n, creditsPosted: 150n + 60n, ...zero });

    const [payState, holdState, hold2State] = await client.lookupTransfers([pay.id, hold.id, hold2.id]);
    expect({ status: payState.status, amount: payState.amount, amountReversed: payState.amountReversed }).toEqual({ status: 'posted', amount: 300n, amountReversed: 120n });
    expect({ status: holdState.status, amount: holdState.amount, amountPosted: holdState.amountPosted }).toEqual({ status: 'pending_posted', amount: 200n, amountPosted: 150n });
    expect(hold2State.status).toBe('pending_voided');
  });

  test('lookups return what was created, in request order, and leave out unknown ids', async () => {
    const client = await newClient();
    const [a, b] = newIdsOnShard(2, 1, shardCount);
    await open(client, [{ id: a, ledger, code: 7, userData128: 42n, userData64: 43n, userData32: 44 }, account(b)]);
    const t = transfer(a, b, 5n, { userData128: 1n << 100n, userData64: 9n, userData32: 10, code: 3 });
    expect(names(await client.createTransfers([t]))).toEqual(['ok']);

    const accounts = await client.lookupAccounts([b, newId(), a]);
    expect(accounts.map((x) => x.id)).toEqual([b, a]);
    expect(accounts[1]).toMatchObject({ ledger, code: 7, userData128: 42n, userData64: 43n, userData32: 44, status: 'active', debitsPosted: 5n });
    expect(accounts[1].timestamp).toBeGreaterThan(0n);

    const [stored] = await client.lookupTransfers([newId(), t.id]);
    expect(stored).toMatchObject({ ...t, status: 'posted', amountPosted: 0n, amountReversed: 0n });
    expect(stored.timestamp).toBeGreaterThan(accounts[1].timestamp);
  });

  test('blocked and closed accounts refuse money; a balance refuses the close with its reason', async () => {
    const client = await newClient();
    const [source, target, empty] = newIdsOnShard(3, 0, shardCount);
    await open(client, [account(source), account(target), account(empty)]);
    const op = (accountId: bigint, kind: 'block' | 'unblock' | 'close', flags = 0) => client.accountOperations([{ id: newId(), accountId, kind, flags }]);
    expect(names(await op(target, 'block', 4))).toEqual(['ok']);
    expect(names(await client.createTransfers([transfer(source, target, 1n)]))).toEqual(['account_blocked']);
    expect(names(await op(target, 'unblock', 4))).toEqual(['ok']);
    expect(names(await client.createTransfers([transfer(source, target, 1n)]))).toEqual(['ok']);
    const [refused] = await op(target, 'close');
    expect({ result: refused.result, reason: refused.reason }).toEqual({ result: 'close_refused', reason: 'nonzero_balance' });
    expect(names(await op(empty, 'close'))).toEqual(['ok']);
    expect(names(await client.createTransfers([transfer(source, empty, 1n)]))).toEqual(['account_closed']);
    expect((await client.lookupAccounts([empty]))[0].status).toBe('closed');
  });

  test('a transfer between accounts on different shards posts: debit first, and the credit follows', async () => {
    const client = await newClient();
    const a = newIdOnShard(0, shardCount);
    const b = newIdOnShard(1, shardCount);
    await open(client, [account(a), account(b)]);
    expect(names(await client.createTransfers([transfer(a, b, 1n)]))).toEqual(['ok']);
    expect(await balances(client, a)).toMatchObject({ debitsPosted: 1n });
    await vi.waitFor(async () => expect(await balances(client, b)).toMatchObject({ creditsPosted: 1n }), { timeout: 5000, interval: 20 });
  });
});

describe('account history (cashflow)', () => {
  test("each line carries the account's balances right after that transfer", async () => {
    const client = await newClient();
    const [bank, alice, shop] = newIdsOnShard(3, 1, shardCount);
    await open(client, [account(bank), account(alice, AccountFlags.debits_must_not_exceed_credits), account(shop)]);
    const hold = transfer(alice, shop, 200n, { flags: TransferFlags.pending });
    const lines: { t: TransferInput; after: [bigint, bigint, bigint] }[] = [
      { t: transfer(bank, alice, 1000n), after: [0n, 1000n, 0n] },
      { t: transfer(alice, shop, 300n), after: [300n, 1000n, 0n] },
      { t: hold, after: [300n, 1000n, 200n] },
      { t: transfer(alice, shop, 150n, { flags: TransferFlags.post_pending, pendingId: hold.id }), after: [450n, 1000n, 0n] },
    ];
    for (const line of lines) expect(names(await client.createTransfers([line.t]))).toEqual(['ok']);
    const history = await client.getAccountTransfers({ accountId: alice });
    expect(history.map((e) => e.transfer.id)).toEqual(lines.map((l) => l.t.id));
    expect(history.map((e) => [e.balanceAfter.debitsPosted, e.balanceAfter.creditsPosted, e.balanceAfter.debitsPending])).toEqual(lines.map((l) => l.after));
  });

  test('getBalances reads the balances at any instant from the history (issue #16)', async () => {
    const client = await newClient();
    const [bank, dave] = newIdsOnShard(2, 0, shardCount);
    await open(client, [account(bank), account(dave)]);
    const [created] = await client.lookupAccounts([dave]);
    expect(await client.getBalances(dave, { at: created!.timestamp - 1n })).toBeNull();
    expect(await client.getBalances(dave, { at: created!.timestamp })).toMatchObject({ creditsPosted: 0n, transferId: null });
    const sent = [transfer(bank, dave, 100n), transfer(bank, dave, 20n), transfer(dave, bank, 5n)];
    for (const t of sent) expect(names(await client.createTransfers([t]))).toEqual(['ok']);
    const history = await client.getAccountTransfers({ accountId: dave });
    for (const [i, entry] of history.entries()) {
      // At each transfer's instant, and just before the next one: the balances after it.
      const at = await client.getBalances(dave, { at: entry.transfer.timestamp });
      expect(at).toMatchObject({ ...entry.balanceAfter, transferId: sent[i]!.id });
      const next = history[i + 1];
      if (next !== undefined) expect((await client.getBalances(dave, { at: next.transfer.timestamp - 1n }))?.transferId).toBe(sent[i]!.id);
    }
    expect(await client.getBalances(dave, { at: (1n << 64n) - 1n })).toMatchObject({ debitsPosted: 5n, creditsPosted: 120n });
    expect(await client.getBalances(12345n, { at: 1n })).toBeNull();
  });

  test('pages forward and backward cover the same lines in opposite orders, ending at the live balance', async () => {
    const client = await newClient();
    const [bank, carol] = newIdsOnShard(2, 0, shardCount);
    await open(client, [account(bank), account(carol)]);
    const sent: TransferInput[] = [];
    for (let round = 0; round < 5; round++) {
      // Ten concurrent calls per round: they share a frame, and their order inside it is call order.
      const batch = Array.from({ length: 10 }, (_, i) => transfer(bank, carol, BigInt(round * 10 + i + 1)));
      const results = await Promise.all(batch.map((t) => client.createTransfers([t])));
      expect(results.flat().map((r) => r.result)).toEqual(batch.map(() => 'ok'));
      sent.push(...batch);
    }

    const limit = 7;
    const forward = [];
    for (let timestampMin = 0n; ; ) {
      const page = await client.getAccountTransfers({ accountId: carol, timestampMin, limit });
      forward.push(...page);
      if (page.length < limit) break;
      timestampMin = page[page.length - 1].transfer.timestamp + 1n;
    }
    const backward = [];
    for (let timestampMax = 0n; ; ) {
      const page = await client.getAccountTransfers({ accountId: carol, timestampMax, limit, reversed: true });
      backward.push(...page);
      if (page.length < limit) break;
      timestampMax = page[page.length - 1].transfer.timestamp - 1n;
    }

    expect(forward.map((e) => e.transfer.id)).toEqual(sent.map((t) => t.id));
    expect(backward.map((e) => e.transfer.id)).toEqual([...sent].reverse().map((t) => t.id));
    let running = 0n;
    for (const [i, entry] of forward.entries()) {
      running += sent[i].amount;
      expect(entry.balanceAfter.creditsPosted).toBe(running);
      if (i > 0) expect(entry.transfer.timestamp).toBeGreaterThan(forward[i - 1].transfer.timestamp);
    }
    expect((await balances(client, carol)).creditsPosted).toBe(running);

    const middle = forward[20].transfer.timestamp;
    const window = await client.getAccountTransfers({ accountId: carol, timestampMin: middle, timestampMax: forward[24].transfer.timestamp });
    expect(window.map((e) => e.transfer.id)).toEqual(sent.slice(20, 25).map((t) => t.id));
  });
});

describe('idempotency', () => {
  test('a retry after reconnecting, and again after a server restart, returns the first outcome and moves nothing', async () => {
    const first = await newClient();
    const [payer, payee] = newIdsOnShard(2, 1, shardCount);
    await open(first, [account(payer, AccountFlags.debits_must_not_exceed_credits), account(payee)]);
    const refused = transfer(payer, payee, 50n); // payer has no money
    expect(names(await first.createTransfers([refused]))).toEqual(['insufficient_funds']);
    const funding = transfer(payee, payer, 80n);
    const payment = transfer(payer, payee, 30n);
    expect(names(await first.createTransfers([funding, payment]))).toEqual(['ok', 'ok']);
    await first.close();
    const expected = await balances(await newClient(), payer);

    const retry = async (client: Client) => {
      // Now the payer could afford `refused`, yet its first outcome stands: a retry never turns into a late success.
      expect(names(await client.createTransfers([payment, funding, refused]))).toEqual(['exists', 'exists', 'insufficient_funds']);
      expect(names(await client.createTransfers([{ ...payment, amount: 31n }]))).toEqual(['exists_with_different_fields']);
      expect(names(await client.createAccounts([account(payer, AccountFlags.debits_must_not_exceed_credits), account(payee, AccountFlags.debits_must_not_exceed_credits)]))).toEqual(['exists', 'exists_with_different_fields']);
      expect(await balances(client, payer)).toEqual(expected);
    };
    await retry(await newClient());

    expect((await server.kill('SIGTERM')).code).toBe(0);
    await server.restart();
    await retry(await newClient());
  });
});

describe('linked chains', () => {
  test('a chain applies entirely or not at all; a chain left open at the end of a call fails', async () => {
    const client = await newClient();
    const [bank, a, b] = newIdsOnShard(3, 0, shardCount);
    await open(client, [account(bank), account(a, AccountFlags.debits_must_not_exceed_credits), account(b)]);
    const linked = TransferFlags.linked;

    const broken = [transfer(bank, a, 100n, { flags: linked }), transfer(a, b, 60n, { flags: linked }), transfer(a, b, 60n), transfer(bank, b, 1n)];
    expect(names(await client.createTransfers(broken))).toEqual(['linked_event_failed', 'linked_event_failed', 'insufficient_funds', 'ok']);
    expect(await balances(client, a)).toMatchObject({ debitsPosted: 0n, creditsPosted: 0n });
    expect(await client.lookupTransfers(broken.slice(0, 3).map((t) => t.id))).toEqual([]);

    const whole = [transfer(bank, a, 100n, { flags: linked }), transfer(a, b, 60n, { flags: linked }), transfer(a, b, 40n)];
    expect(names(await client.createTransfers(whole))).toEqual(['ok', 'ok', 'ok']);
    expect(await balances(client, a)).toMatchObject({ debitsPosted: 100n, creditsPosted: 100n });

    // The failed chain's events were fine on their own: the same ids may be retried once the chain is sound.
    const retried = [{ ...broken[0] }, { ...broken[1], flags: 0 }];
    expect(names(await client.createTransfers([{ ...retried[0], flags: linked }, retried[1]]))).toEqual(['ok', 'ok']);

    expect(names(await client.createTransfers([transfer(bank, b, 1n), transfer(bank, b, 1n, { flags: linked })]))).toEqual(['ok', 'linked_event_chain_open']);
  });

  test('a chain whose transfers debit accounts on different shards posts whole, or not at all', async () => {
    const client = await newClient();
    const [x0, y0] = newIdsOnShard(2, 0, shardCount);
    const [x1, y1] = newIdsOnShard(2, 1, shardCount);
    await open(client, [account(x0), account(y0), account(x1, AccountFlags.debits_must_not_exceed_credits), account(y1)]);
    const refused = [transfer(x0, y0, 1n, { flags: TransferFlags.linked }), transfer(x1, y1, 1n)];
    expect(names(await client.createTransfers(refused))).toEqual(['linked_event_failed', 'insufficient_funds']);
    expect(await client.lookupTransfers(refused.map((t) => t.id))).toEqual([]);
    const chain = [transfer(x0, x1, 5n, { flags: TransferFlags.linked }), transfer(y1, y0, 3n)];
    expect(names(await client.createTransfers(chain))).toEqual(['ok', 'ok']);
    expect((await client.lookupTransfers(chain.map((t) => t.id))).map((t) => t.id)).toEqual(chain.map((t) => t.id));
    expect(names(await client.createTransfers(chain))).toEqual(['exists', 'exists']);
    expect(await balances(client, x0)).toMatchObject({ debitsPosted: 5n });
  });
});

describe('concurrency', () => {
  test('many concurrent calls from several clients are coalesced, and each caller gets its own results', async () => {
    const writers = await Promise.all([newClient(), newClient(), newClient()]);
    const [bank, ...payees] = newIdsOnShard(9, 1, shardCount);
    await open(writers[0], [account(bank), ...payees.map((id) => account(id))]);

    const callCount = 1500;
    // Every fifth call is invalid (amount 0) and every call of three events has a bad middle one, so a
    // result delivered to the wrong caller, or at the wrong index, shows up as a mismatch.
    const calls = Array.from({ length: callCount }, (_, i) => {
      const payee = payees[i % payees.length];
      const amount = i % 5 === 0 ? 0n : BigInt(i);
      if (i % 11 === 0) return [transfer(bank, payee, amount), transfer(bank, bank, 1n), transfer(bank, payee, 7n)];
      return [transfer(bank, payee, amount)];
    });
    const expectedOf = (events: TransferInput[]) =>
      events.map((t) => (t.debitAccountId === t.creditAccountId ? 'accounts_must_be_different' : t.amount === 0n ? 'amount_invalid' : 'ok'));
    const outcomes = await Promise.all(
      calls.map(async (events, i) => {
        const results = await writers[i % writers.length].createTransfers(events);
        return { indexes: results.map((r) => r.index), results: names(results) };
      }),
    );
    outcomes.forEach((outcome, i) => {
      expect(outcome).toEqual({ indexes: calls[i].map((_, k) => k), results: expectedOf(calls[i]) });
    });

    const credited = new Map<bigint, bigint>();
    for (const events of calls) for (const t of events) if (expectedOf([t])[0] === 'ok') credited.set(t.creditAccountId, (credited.get(t.creditAccountId) ?? 0n) + t.amount);
    // Concurrent lookups from every client, coalesced too.
    const looked = await Promise.all(payees.map((id, i) => writers[i % writers.length].lookupAccounts([id])));
    expect(looked.map(([a]) => a.creditsPosted)).toEqual(payees.map((id) => credited.get(id) ?? 0n));
    const total = [...credited.values()].reduce((x, y) => x + y, 0n);
    expect((await balances(writers[0], bank)).debitsPosted).toBe(total);
  });

  test('a call larger than one batch goes out as consecutive frames, all applied', async () => {
    const client = await newClient();
    const [bank, payee] = newIdsOnShard(2, 0, shardCount);
    await open(client, [account(bank), account(payee)]);
    const transfers = Array.from({ length: 9000 }, () => transfer(bank, payee, 1n));
    const results = await client.createTransfers(transfers);
    expect(results.length).toBe(9000);
    expect(results.every((r, i) => r.result === 'ok' && r.index === i)).toBe(true);
    // 9,000 credits in well under a second mark the payee hot-inbound (--hot-threshold 1,000/s): the
    // credits after the mark wait in its buffer until the next summary posting, and count there.
    const [after] = await client.lookupAccounts([payee]);
    expect(after!.creditsPosted + (after!.creditsBuffered ?? 0n)).toBe(9000n);
  });
});

describe('malformed frames', () => {
  test('get an error frame; the socket and the server keep serving', async () => {
    const raw = await RawSocket.open(server.port);
    try {
      raw.send(new Uint8Array([0xc1])); // 0xc1 is never used in msgpack
      const garbage = await raw.next();
      expect(garbage.error?.code).toBe('frame_invalid');

      raw.send(encodeRequest(7, 99, new Uint8Array(16)));
      const unknown = await raw.next();
      expect({ requestId: unknown.requestId, code: unknown.error?.code }).toEqual({ requestId: 7, code: 'operation_unknown' });

      raw.send(encodeRequest(8, Operation.create_transfers, new Uint8Array(100)));
      const ragged = await raw.next();
      expect({ requestId: ragged.requestId, code: ragged.error?.code }).toEqual({ requestId: 8, code: 'body_invalid' });

      const id = newIdOnShard(0, shardCount);
      raw.request(9, Operation.create_accounts, encodeAccounts([account(id)]));
      const created = await raw.next();
      expect(created.requestId).toBe(9);
      expect(created.error).toBeUndefined();

      const other = await newClient();
      expect(names(await other.createAccounts([account(newId())]))).toEqual(['ok']);
      expect((await other.lookupAccounts([id])).map((a) => a.id)).toEqual([id]);
    } finally {
      await raw.close();
    }
    expect((await server.health()).status).toBe(200);
  });
});
