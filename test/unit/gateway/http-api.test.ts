// The HTTP/JSON door's own rules against a scripted service (the e2e test runs the real ledger): a rejection that
// crossed a thread without its class keeps its code, as on the binary door; without keys, HTTP callers share the
// open caller's rate bucket (they have no socket of their own); nothing refused reaches the service. The query
// routes' parameters become exactly the filter the client's encoder writes, and every malformed one is refused
// body_invalid, naming it, before the service sees anything.

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Operation } from '../../../src/core/operations.js';
import { queryReply } from '../../../src/core/query-filter.js';
import { encodeAccountStates, encodeHistoryEntries, encodeHistoryFilter, encodeIds, encodeQueryFilter, encodeTransferStates } from '../../../src/core/wire/records.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { ScriptedService, accountFor, transferFor, type ServiceCall } from '../../support/scripted-service.js';

let service: ScriptedService;
let server: RunningServer;

beforeEach(async () => {
  service = new ScriptedService();
  server = await startServer({ host: '127.0.0.1', port: 0, service, keyRate: 4, log: () => {} });
});

afterEach(async () => {
  service.release();
  await server.close();
});

const accounts = (count: number) => JSON.stringify(Array.from({ length: count }, (_, i) => ({ id: String(i + 1), ledger: 1, code: 1 })));
const post = (body: string) => fetch(`http://127.0.0.1:${server.port}/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the HTTP/JSON door', () => {
  test('a rejection without its class (from a worker) answers its own code, as a frame would', async () => {
    service.failWith = Object.assign(new Error('overloaded: shard 1 is busy'), { code: 'overloaded' });
    const response = await post(accounts(1));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'overloaded', detail: 'shard 1 is busy' });
  });

  test('without keys, HTTP callers share one rate bucket: past it, 429 and the service never sees the request', async () => {
    expect((await post(accounts(3))).status).toBe(200);
    const refused = await post(accounts(3));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'rate_limited' });
    expect(service.calls).toHaveLength(1);
  });
});

const get = async (route: string): Promise<{ status: number; body: any }> => {
  const response = await fetch(`http://127.0.0.1:${server.port}${route}`);
  return { status: response.status, body: await response.json() };
};

/** A query reply of `rows` (each `rowBytes`) with a cursor when `next` is given. */
function pageOf(rows: Uint8Array, rowBytes: number, next?: { timestamp: bigint; id: bigint }): Uint8Array {
  const split = Array.from({ length: rows.byteLength / rowBytes }, (_, i) => rows.subarray(i * rowBytes, (i + 1) * rowBytes));
  return queryReply(split, rowBytes, next === undefined ? null : { timestamp: next.timestamp, id: encodeIds([next.id]) });
}

/** Query pages from the scripted rows; everything else as the scripted service answers it. */
function answerQueries(next?: { timestamp: bigint; id: bigint }): (call: ServiceCall) => Uint8Array {
  return (call) => {
    if (call.operation === Operation.query_transfers) return pageOf(encodeTransferStates([transferFor(1n), transferFor(3n)]), 160, next);
    if (call.operation === Operation.query_accounts) return pageOf(encodeAccountStates([accountFor(1n)]), 128, next);
    if (call.operation === Operation.lookup_transfers) return encodeTransferStates([transferFor(1n)]);
    return encodeAccountStates([accountFor(1n)]);
  };
}

describe('GET /v1/transfers and /v1/accounts (query_transfers, query_accounts)', () => {
  test('every parameter becomes the filter the client would send; rows as the lookups show them, the cursor as a string', async () => {
    service.replyWith = answerQueries({ timestamp: 1_700_000_000_000_000_123n, id: 2n ** 100n });
    const query = `account_id=7&user_data_128=${2n ** 100n}&user_data_64=18446744073709551615&user_data_32=3&ledger=156&code=2&flags=4&status=pending&direction=credits&timestamp_min=10&timestamp_max=20&limit=1000&reversed=true&after=15-99`;
    const page = await get(`/v1/transfers?${query}`);
    expect(page.status).toBe(200);
    expect(service.calls[0]!.operation).toBe(Operation.query_transfers);
    const filter = { accountId: 7n, userData128: 2n ** 100n, userData64: 2n ** 64n - 1n, userData32: 3, ledger: 156, code: 2, flags: 4, status: 'pending', direction: 'credits', timestampMin: 10n, timestampMax: 20n, limit: 1000, reversed: true, after: { timestamp: 15n, id: 99n } } as const;
    expect(service.calls[0]!.body).toEqual(encodeQueryFilter(filter, 'transfers'));
    expect(page.body.next).toBe(`1700000000000000123-${2n ** 100n}`);
    expect(page.body.transfers).toHaveLength(2);
    expect(page.body.transfers[0]).toEqual((await get('/v1/transfers/1')).body);
  });

  test('defaults: limit 100, oldest first, no cursor; the last page says next: null', async () => {
    service.replyWith = answerQueries();
    const page = await get('/v1/accounts?ledger=1');
    expect(service.calls[0]!.body).toEqual(encodeQueryFilter({ ledger: 1, limit: 100 }, 'accounts'));
    expect(page).toEqual({ status: 200, body: { accounts: [(await get('/v1/accounts/1')).body], next: null } });
    expect(Object.keys(page.body)).toEqual(['accounts', 'next']);
    // flags=0 asks for no bits, which every record has: taken, not refused.
    expect((await get('/v1/accounts?code=1&flags=0&status=closed')).status).toBe(200);
    expect(service.calls[2]!.body).toEqual(encodeQueryFilter({ code: 1, status: 'closed' }, 'accounts'));
  });

  test('a cursor from one page is taken back as after', async () => {
    service.replyWith = answerQueries({ timestamp: 5n, id: 6n });
    const first = await get('/v1/transfers?ledger=1&limit=2');
    await get(`/v1/transfers?ledger=1&limit=2&after=${encodeURIComponent(first.body.next)}`);
    expect(service.calls[1]!.body).toEqual(encodeQueryFilter({ ledger: 1, limit: 2, after: { timestamp: 5n, id: 6n } }, 'transfers'));
  });

  test.each([
    ['/v1/transfers?ledger=1&colour=red', /unknown query parameter "colour" \(known: account_id, /],
    ['/v1/transfers?colour=red&size=2', /unknown query parameters "colour", "size"/],
    ['/v1/accounts?account_id=5', /unknown query parameter "account_id"/],
    ['/v1/accounts?ledger=1&direction=debits', /unknown query parameter "direction"/],
    ['/v1/transfers?ledger=1&ledger=2', /ledger is given more than once/],
    ['/v1/transfers?ledger=0', /ledger must be an integer in 1\.\.4294967295/],
    ['/v1/transfers?ledger=4294967296', /ledger must be an integer in 1\.\.4294967295/],
    ['/v1/transfers?code=65536', /code must be an integer in 1\.\.65535/],
    ['/v1/transfers?code=1.5', /code must be an integer/],
    ['/v1/transfers?flags=65536&ledger=1', /flags must be an integer in 0\.\.65535/],
    ['/v1/transfers?user_data_32=0', /user_data_32 must be an integer in 1\.\.4294967295/],
    ['/v1/transfers?user_data_64=18446744073709551616', /user_data_64 must be an integer in 1\.\.2\^64-1/],
    ['/v1/transfers?user_data_128=abc', /user_data_128 must be an integer in 1\.\.2\^128-1/],
    [`/v1/transfers?account_id=${2n ** 128n}`, /account_id must be an integer in 1\.\.2\^128-1/],
    ['/v1/transfers?account_id=-1', /account_id must be an integer/],
    ['/v1/transfers?ledger=1&status=frozen', /status must be one of posted, pending, /],
    ['/v1/accounts?ledger=1&status=posted', /status must be one of active, /],
    ['/v1/transfers?ledger=1&direction=debits', /direction needs account_id/],
    ['/v1/transfers?account_id=1&direction=both', /direction must be one of debits, credits/],
    ['/v1/transfers?ledger=1&limit=0', /limit must be an integer in 1\.\.1000/],
    ['/v1/accounts?ledger=1&limit=1001', /limit must be an integer in 1\.\.1000/],
    ['/v1/transfers?ledger=1&reversed=yes', /reversed is true or false/],
    ['/v1/transfers?ledger=1&timestamp_min=x', /timestamp_min must be a u64/],
    ['/v1/transfers?ledger=1&after=abc', /after must be the next cursor of a page/],
    ['/v1/transfers?ledger=1&after=0-5', /after must be the next cursor/],
    ['/v1/transfers?ledger=1&after=5', /after must be the next cursor/],
    ['/v1/accounts?ledger=1&after=18446744073709551616-1', /after must be the next cursor/],
    [`/v1/accounts?ledger=1&after=1-${2n ** 128n}`, /after must be the next cursor/],
    ['/v1/accounts/5/balances', /one of the query parameters day .* or at/],
    ['/v1/accounts/5/balances?day=20250101&at=5', /one of the query parameters day .* or at/],
    ['/v1/accounts/5/balances?at=0', /at must be an integer in 1\.\.2\^64-1/],
    ['/v1/accounts/5/balances?at=1&colour=red', /unknown query parameter "colour" \(known: day, at\)/],
  ])('%s is refused body_invalid before the service sees it', async (route, detail) => {
    const refused = await get(route);
    expect(refused).toMatchObject({ status: 400, body: { code: 'body_invalid' } });
    expect(refused.body.detail).toMatch(detail);
    expect(service.calls).toHaveLength(0);
  });
});

describe('GET /v1/accounts/{id}/balances?at= (as the client\'s getBalances)', () => {
  test('the account, then its last entry at or before the instant: two calls, each as its own request', async () => {
    const found = await get('/v1/accounts/5/balances?at=10');
    expect(found).toEqual({ status: 200, body: { account_id: '5', at: '10', debits_posted: '0', credits_posted: '0', debits_pending: '0', credits_pending: '0', transfer_id: '6' } });
    expect(service.calls.map((c) => c.operation)).toEqual([Operation.lookup_accounts, Operation.get_account_transfers]);
    expect(service.calls[0]!.body).toEqual(encodeIds([5n]));
    expect(service.calls[1]!.body).toEqual(encodeHistoryFilter({ accountId: 5n, timestampMax: 10n, limit: 1, reversed: true }));
  });

  test('no entry by then: zero balances and transfer_id null', async () => {
    service.replyWith = (call) => (call.operation === Operation.lookup_accounts ? encodeAccountStates([accountFor(5n)]) : encodeHistoryEntries([]));
    expect((await get('/v1/accounts/5/balances?at=1')).body).toMatchObject({ debits_posted: '0', transfer_id: null });
  });

  test('no such account, or not yet at that instant: 404 after the lookup alone', async () => {
    expect((await get('/v1/accounts/4/balances?at=10')).body).toMatchObject({ status: 404, code: 'operation_unknown' });
    service.replyWith = (call) => (call.operation === Operation.lookup_accounts ? encodeAccountStates([{ ...accountFor(5n), timestamp: 100n }]) : encodeHistoryEntries([]));
    expect((await get('/v1/accounts/5/balances?at=99')).status).toBe(404);
    expect((await get('/v1/accounts/5/balances?at=100')).status).toBe(200);
    expect(service.calls.map((c) => c.operation)).toEqual([Operation.lookup_accounts, Operation.lookup_accounts, Operation.lookup_accounts, Operation.get_account_transfers]);
  });

  test('day= still asks get_balance_at_day', async () => {
    service.replyWith = () => new Uint8Array(0);
    expect((await get('/v1/accounts/5/balances?day=20250101')).status).toBe(404);
    expect(service.calls.map((c) => c.operation)).toEqual([Operation.get_balance_at_day]);
  });
});
