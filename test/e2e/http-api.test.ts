// The HTTP/JSON API (issue #16) on a real server: reads and writes with the binary RPC's validation and result
// codes, ids and amounts as decimal strings, problem+json errors, keys and scopes as for frames, and every response
// validated against the OpenAPI document the server serves (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { newId, newIdOnShardOf } from '../../src/client/index.js';
import { hashSecret, newSecret } from '../../src/gateway/auth.js';
import { openApiDocument } from '../../src/gateway/openapi.js';
import { repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';

const secrets = { poster: newSecret(), reader: newSecret(), slow: newSecret() };
let keysDir: string;
let server: ServerProcess;
let spec: typeof openApiDocument;
const ajv = new Ajv2020({ strict: false, allErrors: true });

beforeAll(async () => {
  keysDir = mkdtempSync(path.join(tmpdir(), 'tally-http-keys-'));
  const keysFile = path.join(keysDir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [{ id: 'poster', scopes: ['post', 'read'], sha256: hashSecret(secrets.poster) }, { id: 'reader', scopes: ['read'], sha256: hashSecret(secrets.reader) }, { id: 'slow', scopes: ['read', 'post'], sha256: hashSecret(secrets.slow), eventsPerSecond: 3 }] }));
  server = await startServerProcess({ shardCount: 2, env: { TALLY_KEYS: keysFile } });
  spec = (await (await fetch(`${server.httpUrl}/v1/openapi.json`)).json()) as typeof openApiDocument;
  ajv.addSchema(spec, 'openapi.json');
}, 60_000);

afterAll(async () => {
  await server?.cleanup();
  if (keysDir) rmSync(keysDir, { recursive: true, force: true });
});

/** Calls the API and checks the response against the document's schema for that path, method and status. */
async function call(method: 'GET' | 'POST', route: string, template: string, options: { key?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? secrets.poster}` };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.httpUrl}${route}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  const body = JSON.parse(text);
  const operation = (spec.paths as Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>)[template]![method.toLowerCase()]!;
  const declared = operation.responses[String(response.status)];
  expect(declared, `${method} ${template} answers ${response.status}, which the document declares`).toBeDefined();
  const [type] = Object.keys(declared!.content);
  expect(response.headers.get('content-type')).toBe(type);
  const pointer = `openapi.json#/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${response.status}/content/${type!.replaceAll('/', '~1')}/schema`;
  const validate = ajv.getSchema(pointer)!;
  expect(validate(body), `${method} ${route} → ${response.status}: ${ajv.errorsText(validate.errors)}\n${text.slice(0, 500)}`).toBe(true);
  return { status: response.status, body };
}

describe('the HTTP/JSON API', () => {
  const [a, b, t] = [newId(), newId(), newId()];

  test('docs/openapi.json is the document the server serves', () => {
    expect(JSON.parse(readFileSync(path.join(repoRoot(), 'docs', 'openapi.json'), 'utf8'))).toEqual(spec);
  });

  test('writes: accounts, transfers, account operations, with the binary RPC\'s result codes', async () => {
    const accounts = await call('POST', '/v1/accounts', '/v1/accounts', { body: [{ id: String(a), ledger: 156, code: 1 }, { id: String(b), ledger: 156, code: 1, flags: 0 }, { id: String(a), ledger: 156, code: 2 }] });
    expect(accounts).toEqual({ status: 200, body: { results: [{ index: 0, result: 'ok' }, { index: 1, result: 'ok' }, { index: 2, result: 'exists_with_different_fields' }] } });
    const transfers = await call('POST', '/v1/transfers', '/v1/transfers', { body: [{ id: String(t), debit_account_id: String(a), credit_account_id: String(b), amount: '1234', ledger: 156, code: 1 }, { id: String(newId()), debit_account_id: String(a), credit_account_id: '77', amount: '1', ledger: 156, code: 1 }] });
    expect(transfers.body.results.map((r: { result: string }) => r.result)).toEqual(['ok', 'account_not_found']);
    const operations = await call('POST', '/v1/account-operations', '/v1/account-operations', { body: [{ id: String(newId()), account_id: String(b), kind: 'freeze', amount: '100' }] });
    expect(operations.body.results).toEqual([{ index: 0, result: 'ok' }]);
  });

  test('reads: an account, a transfer, a history; amounts and ids as strings', async () => {
    const account = await call('GET', `/v1/accounts/${b}`, '/v1/accounts/{id}', { key: secrets.reader });
    expect(account.body).toMatchObject({ id: String(b), ledger: 156, credits_posted: '1234', frozen: '100', status: 'active' });
    const transfer = await call('GET', `/v1/transfers/${t}`, '/v1/transfers/{id}', { key: secrets.reader });
    expect(transfer.body).toMatchObject({ id: String(t), amount: '1234', status: 'posted', debit_account_id: String(a) });
    const history = await call('GET', `/v1/accounts/${a}/transfers?limit=10`, '/v1/accounts/{id}/transfers', { key: secrets.reader });
    expect(history.body).toHaveLength(1);
    expect(history.body[0].balance_after).toMatchObject({ debits_posted: '1234' });
    const trial = await call('GET', '/v1/ledgers/156/trial-balance', '/v1/ledgers/{ledger}/trial-balance', { key: secrets.reader });
    expect(trial.body.balanced).toBe(true);
    await call('GET', '/v1/ledgers/156/subject-balances', '/v1/ledgers/{ledger}/subject-balances', { key: secrets.reader });
    expect((await call('GET', '/v1/accounts/99', '/v1/accounts/{id}', { key: secrets.reader })).status).toBe(404);
  });

  test('queries: transfers and accounts by field, page by page, as the lookups show them', async () => {
    // Two accounts on one shard (their transfers post there at once) and one wherever it lands: the accounts'
    // query merges both shards. Ledger 840 is this test's alone.
    const c = newId();
    const [d, e] = [newIdOnShardOf(c, 2), newId()];
    const created = await call('POST', '/v1/accounts', '/v1/accounts', { body: [c, d, e].map((id) => ({ id: String(id), ledger: 840, code: 3, user_data_32: 42 })) });
    expect(created.body.results.map((r: { result: string }) => r.result)).toEqual(['ok', 'ok', 'ok']);
    const ids = [newId(), newId(), newId(), newId()].map(String);
    const legs = [[c, d], [c, d], [d, c], [c, d]];
    for (const [i, [from, to]] of legs.entries()) {
      const posted = await call('POST', '/v1/transfers', '/v1/transfers', { body: [{ id: ids[i], debit_account_id: String(from), credit_account_id: String(to), amount: String(10 * (i + 1)), ledger: 840, code: 9 }] });
      expect(posted.body.results).toEqual([{ index: 0, result: 'ok' }]);
    }

    /** Every page of a query, following `next`; each response validated against the document. */
    const pages = async (route: string, template: string, kind: 'transfers' | 'accounts'): Promise<any[]> => {
      const rows: any[] = [];
      let after: string | null = null;
      for (let page = 0; page < 20; page++) {
        const { status, body } = await call('GET', after === null ? route : `${route}&after=${encodeURIComponent(after)}`, template, { key: secrets.reader });
        expect(status).toBe(200);
        rows.push(...body[kind]);
        after = body.next;
        if (after === null) return rows;
      }
      throw new Error(`${route}: no end after 20 pages`);
    };
    const byLedger = await pages('/v1/transfers?ledger=840&limit=3', '/v1/transfers', 'transfers');
    expect(byLedger.map((t) => t.id)).toEqual(ids);
    expect(byLedger[0]).toEqual((await call('GET', `/v1/transfers/${ids[0]}`, '/v1/transfers/{id}', { key: secrets.reader })).body);
    expect((await pages('/v1/transfers?code=9&ledger=840&reversed=true&limit=1', '/v1/transfers', 'transfers')).map((t) => t.id)).toEqual([...ids].reverse());
    expect((await pages(`/v1/transfers?account_id=${c}&direction=credits`, '/v1/transfers', 'transfers')).map((t) => t.id)).toEqual([ids[2]]);
    expect((await pages(`/v1/transfers?account_id=${c}&direction=debits&status=posted&limit=1000`, '/v1/transfers', 'transfers')).map((t) => t.id)).toEqual([ids[0], ids[1], ids[3]]);
    expect(await pages('/v1/transfers?ledger=840&status=pending', '/v1/transfers', 'transfers')).toEqual([]);

    const accounts = await pages('/v1/accounts?ledger=840&user_data_32=42&status=active&limit=2', '/v1/accounts', 'accounts');
    // Each shard stamps its own accounts: e may come before or after c and d, but the rows are in timestamp order.
    expect(accounts.map((a) => a.id).sort()).toEqual([c, d, e].map(String).sort());
    expect(accounts.map((a) => BigInt(a.timestamp))).toEqual(accounts.map((a) => BigInt(a.timestamp)).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
    expect(accounts.find((a) => a.id === String(e))).toEqual((await call('GET', `/v1/accounts/${e}`, '/v1/accounts/{id}', { key: secrets.reader })).body);

    // Balances at an instant: after the second transfer, before any, before the account was there.
    const at = byLedger[1].timestamp as string;
    const second = await call('GET', `/v1/accounts/${c}/balances?at=${at}`, '/v1/accounts/{id}/balances', { key: secrets.reader });
    expect(second.body).toEqual({ account_id: String(c), at, debits_posted: '30', credits_posted: '0', debits_pending: '0', credits_pending: '0', transfer_id: ids[1] });
    const opened = accounts.find((a) => a.id === String(c)).timestamp as string;
    const before = await call('GET', `/v1/accounts/${c}/balances?at=${opened}`, '/v1/accounts/{id}/balances', { key: secrets.reader });
    expect(before.body).toMatchObject({ debits_posted: '0', credits_posted: '0', transfer_id: null });
    expect((await call('GET', `/v1/accounts/${c}/balances?at=${BigInt(opened) - 1n}`, '/v1/accounts/{id}/balances', { key: secrets.reader })).status).toBe(404);

    // The ledger's refusals of a filter, and the door's of a parameter, are problem+json too.
    const unindexed = await call('GET', '/v1/transfers?status=posted', '/v1/transfers', { key: secrets.reader });
    expect(unindexed).toMatchObject({ status: 400, body: { code: 'body_invalid' } });
    expect(unindexed.body.detail).toMatch(/at least one indexed filter/);
    const unknown = await call('GET', '/v1/accounts?ledger=840&colour=red', '/v1/accounts', { key: secrets.reader });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'body_invalid' } });
    expect(unknown.body.detail).toMatch(/unknown query parameter "colour"/);
  });

  test('refusals are problem+json: bad JSON numbers, unknown fields, scopes, keys', async () => {
    const numbers = await call('POST', '/v1/transfers', '/v1/transfers', { body: [{ id: 1, debit_account_id: String(a), credit_account_id: String(b), amount: 5, ledger: 156, code: 1 }] });
    expect(numbers).toMatchObject({ status: 400, body: { code: 'body_invalid' } });
    expect(numbers.body.detail).toMatch(/never JSON numbers/);
    const unknown = await call('POST', '/v1/accounts', '/v1/accounts', { body: [{ id: '5', ledger: 1, code: 1, colour: 'red' }] });
    expect(unknown).toMatchObject({ status: 400, body: { code: 'body_invalid' } });
    const forbidden = await call('POST', '/v1/accounts', '/v1/accounts', { key: secrets.reader, body: [{ id: '5', ledger: 1, code: 1 }] });
    expect(forbidden).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    const anonymous = await call('GET', `/v1/accounts/${a}`, '/v1/accounts/{id}', { key: 'tk_wrong' });
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    expect((await call('POST', '/v1/transfers', '/v1/transfers', { body: [] })).body.code).toBe('batch_empty');
    // A key's rate holds over HTTP as over its sockets: 3 events a second, a batch of 5 is never taken.
    const tooMany = Array.from({ length: 5 }, () => ({ id: String(newId()), ledger: 156, code: 1 }));
    expect(await call('POST', '/v1/accounts', '/v1/accounts', { key: secrets.slow, body: tooMany })).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    // Nothing of the refused requests was done.
    expect((await call('GET', '/v1/accounts/5', '/v1/accounts/{id}', { key: secrets.reader })).status).toBe(404);
  });
});
