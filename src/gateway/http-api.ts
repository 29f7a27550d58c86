// The HTTP/JSON API (issue #16) on the gateway's port: what support staff, scripts and REST tools call with curl.
// Every route is one request operation of the binary RPC (balances at an instant: two, as the client's getBalances),
// run by the same LedgerService after the same checks (`checkRequestBody`, keys and scopes, the key's rate, for each
// operation): the same validation and the same result codes. JSON carries ids and amounts as decimal strings (never
// JSON numbers: they lose precision past 2^53), fields in snake_case; errors are problem+json (RFC 9457) with the
// error code. docs/openapi.json describes it and is served at /v1/openapi.json. The binary RPC stays the fast path.

import type { HttpRequest, HttpResponse } from '@trufflesuite/uws-js-unofficial';
import { TallyError, errors, type ErrorCodeName } from '../core/errors.js';
import { frameBytesMax, historyPageMax, queryPageMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import { AccountStatus, TransferStatus, type AccountHistoryEntry, type AccountState, type TransferState } from '../core/types.js';
import { decodeBalanceAtDay, decodeJson, decodeStatement, encodeBalanceAtDay, encodeDay, encodeLedgerDay, encodeStatement } from '../core/wire/books-bodies.js';
import {
  decodeAccountQueryPage,
  decodeAccountStates,
  decodeHistoryEntries,
  decodeResults,
  decodeTransferQueryPage,
  decodeTransferStates,
  encodeAccountOperations,
  encodeAccounts,
  encodeHistoryFilter,
  encodeIds,
  encodeQueryFilter,
  encodeTransfers,
  queryLimitDefault,
  type AccountInput,
  type AccountOperationInput,
  type QueryCursor,
  type QueryFilterInput,
  type TransferInput,
} from '../core/wire/records.js';
import { checkRequestBody, errorReason } from '../core/wire/wire.js';
import { decimalU128 } from '../core/u128.js';
import { requestEvents, serviceError } from './service-replies.js';
import type { WireOperationNumber } from '../core/operations.js';
import type { Caller, LedgerService } from './ledger-service.js';
import { openApiDocument } from './openapi.js';

/** Who may call, as the gateway decides it for a frame: the caller, or the refusal (unauthenticated, forbidden, rate_limited, shutting_down). */
export type HttpAuthorize = (authorization: string, operation: number, events: number) => Caller | TallyError;
/** Records a refused call (the gateway's audit of refusals). */
export type HttpRefused = (keyId: string | null, operation: number, error: TallyError, remote: string) => void;

/** HTTP status of each error code: what a REST client retries on and what it does not. */
const statusOf: Record<ErrorCodeName, number> = {
  frame_invalid: 400,
  frame_too_large: 413,
  batch_too_large: 413,
  batch_empty: 400,
  operation_unknown: 404,
  body_invalid: 400,
  shard_unavailable: 503,
  storage_failed: 503,
  overloaded: 503,
  timeout: 504,
  shutting_down: 503,
  connection_closed: 503,
  unauthenticated: 401,
  forbidden: 403,
  rate_limited: 429,
  unavailable: 503,
  not_primary: 421,
};

/** HTTP requests in the service at once, over all clients: past it a request is refused overloaded (503) before it
 * runs. The sockets have their own per-connection bound; this one keeps plain HTTP from bypassing it. */
export const httpRequestsInFlightMax = 1024;

const statusText: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large', 421: 'Misdirected Request', 429: 'Too Many Requests', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

interface Route {
  method: 'get' | 'post';
  /** For a write: its operation, so that the caller is known before the body is read. */
  writes?: WireOperationNumber;
  pattern: RegExp;
  run: (match: RegExpExecArray, query: URLSearchParams, body: unknown) => Call;
}

/** One call of the ledger service, and how its reply becomes JSON (null: 404), or a FollowUp. */
interface Call {
  operation: WireOperationNumber;
  body: Uint8Array;
  reply: (body: Uint8Array) => unknown;
}

/** A reply that is not the answer yet: the route makes this next call with what the first one found. */
class FollowUp {
  constructor(readonly call: Call) {}
}

const idPattern = '([0-9]{1,39})';
const routes: Route[] = [
  { method: 'get', pattern: new RegExp(`^/v1/accounts/${idPattern}$`), run: (m) => lookup(Operation.lookup_accounts, idOf(m[1]!), (b) => decodeAccountStates(b).map(accountJson)[0] ?? null) },
  { method: 'get', pattern: new RegExp(`^/v1/transfers/${idPattern}$`), run: (m) => lookup(Operation.lookup_transfers, idOf(m[1]!), (b) => decodeTransferStates(b).map(transferJson)[0] ?? null) },
  { method: 'get', pattern: new RegExp(`^/v1/accounts/${idPattern}/transfers$`), run: (m, q) => history(idOf(m[1]!), q) },
  { method: 'get', pattern: new RegExp(`^/v1/accounts/${idPattern}/balances$`), run: (m, q) => balances(idOf(m[1]!), q) },
  { method: 'get', pattern: new RegExp(`^/v1/accounts/${idPattern}/statement$`), run: (m, q) => statement(idOf(m[1]!), q) },
  { method: 'get', pattern: /^\/v1\/days\/([0-9]{8})\/report$/, run: (m) => ({ operation: Operation.get_day_report, body: encodeDay(Number(m[1])), reply: (b) => decodeJson<unknown>(b) }) },
  { method: 'get', pattern: /^\/v1\/ledgers\/([0-9]{1,10})\/trial-balance$/, run: (m, q) => books(Operation.get_trial_balance, m[1]!, q) },
  { method: 'get', pattern: /^\/v1\/ledgers\/([0-9]{1,10})\/subject-balances$/, run: (m, q) => books(Operation.get_subject_balances, m[1]!, q) },
  { method: 'get', pattern: /^\/v1\/transfers$/, run: (_m, q) => queryRecords('transfers', q) },
  { method: 'get', pattern: /^\/v1\/accounts$/, run: (_m, q) => queryRecords('accounts', q) },
  { method: 'post', writes: Operation.create_accounts, pattern: /^\/v1\/accounts$/, run: (_m, _q, body) => write(Operation.create_accounts, encodeAccounts(records(body, 'accounts', accountFields).map(accountInput))) },
  { method: 'post', writes: Operation.create_transfers, pattern: /^\/v1\/transfers$/, run: (_m, _q, body) => write(Operation.create_transfers, encodeTransfers(records(body, 'transfers', transferFields).map(transferInput))) },
  { method: 'post', writes: Operation.account_operations, pattern: /^\/v1\/account-operations$/, run: (_m, _q, body) => write(Operation.account_operations, encodeAccountOperations(records(body, 'account operations', operationFields).map(operationInput))) },
];

export class HttpApi {
  readonly #service: LedgerService;
  readonly #authorize: HttpAuthorize;
  readonly #refused: HttpRefused;
  readonly #log: (line: string) => void;
  readonly #openApi: string;
  #inFlight = 0;

  constructor(service: LedgerService, authorize: HttpAuthorize, refused: HttpRefused, log: (line: string) => void) {
    this.#service = service;
    this.#log = log;
    this.#authorize = authorize;
    this.#refused = refused;
    this.#openApi = JSON.stringify(openApiDocument);
  }

  /** Answers one HTTP request under /v1/. */
  handle(res: HttpResponse, req: HttpRequest): void {
    // Everything is read from req now: uWS invalidates it when this handler returns.
    const method = req.getMethod().toLowerCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const authorization = req.getHeader('authorization');
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    let aborted = false;
    res.onAborted(() => (aborted = true));
    const answer = (status: number, type: string, text: string): void => {
      if (aborted) return;
      res.cork(() => res.writeStatus(`${status} ${statusText[status] ?? ''}`.trim()).writeHeader('content-type', type).end(text));
    };
    const problem = (error: TallyError): void => {
      const details = problemOf(error, path);
      answer(details.status, 'application/problem+json', JSON.stringify(details));
    };
    if (path === '/v1/openapi.json' && method === 'get') return answer(200, 'application/json', this.#openApi);
    const matching = routes.filter((r) => r.pattern.test(path));
    if (matching.length === 0) return problem(new TallyError('operation_unknown', `no such resource: ${path} (the API is described at /v1/openapi.json)`));
    const route = matching.find((r) => r.method === method);
    if (route === undefined) {
      return answer(405, 'application/problem+json', JSON.stringify({ type: 'about:blank', title: 'Method Not Allowed', status: 405, detail: `${method.toUpperCase()} ${path}: use ${matching.map((r) => r.method.toUpperCase()).join(' or ')}`, instance: path }));
    }
    const run = (body: unknown): void => {
      let call: Call;
      try {
        call = route.run(route.pattern.exec(path)!, query, body);
      } catch (error) {
        return problem(requestError(error, this.#log));
      }
      perform(call);
    };
    // Each call of a route is checked, authorized and counted as its own request: a FollowUp is no free ride.
    const perform = (call: Call): void => {
      try {
        checkRequestBody(call.operation, call.body);
      } catch (error) {
        return problem(requestError(error, this.#log));
      }
      const caller = this.#authorize(authorization, call.operation, requestEvents(call.operation, call.body));
      if (caller instanceof TallyError) {
        this.#refused(null, call.operation, caller, remote);
        return problem(caller);
      }
      if (this.#inFlight >= httpRequestsInFlightMax) return problem(errors.overloaded(`${this.#inFlight} HTTP requests in flight (max ${httpRequestsInFlightMax}): retry later`));
      this.#inFlight++;
      let replied: Promise<Uint8Array>;
      try {
        replied = this.#service.execute(call.operation, call.body, caller);
      } catch (error) {
        replied = Promise.reject(error);
      }
      replied.finally(() => this.#inFlight--).catch(() => {});
      replied.then(
        (reply) => {
          let value: unknown;
          try {
            value = call.reply(reply);
          } catch (error) {
            return problem(serviceError(error, this.#log)); // never an unhandled rejection on the gateway's thread
          }
          if (value instanceof FollowUp) return perform(value.call);
          if (value === null) return problem(new TallyError('operation_unknown', `not found: ${path}`));
          answer(200, 'application/json', JSON.stringify(value));
        },
        (error: unknown) => {
          const refused = serviceError(error, this.#log);
          if (refused.code !== 'shard_unavailable' && refused.code !== 'storage_failed') this.#refused(caller.keyId, call.operation, refused, remote);
          problem(refused);
        },
      );
    };
    if (method !== 'post') return run(undefined);
    // Who may write is known before the body: an unknown key or a read-only one is refused without reading it.
    const writer = this.#authorize(authorization, route.writes!, 0);
    if (writer instanceof TallyError) {
      this.#refused(null, route.writes!, writer, remote);
      return problem(writer);
    }
    readBody(res, (text) => {
      if (text === null) return problem(errors.frameTooLarge(frameBytesMax + 1, frameBytesMax));
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return problem(errors.bodyInvalid('the body is not JSON'));
      }
      run(parsed);
    });
  }
}

/** Collects a request body up to frameBytesMax; null past it. */
function readBody(res: HttpResponse, done: (text: string | null) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let over = false;
  res.onData((chunk, isLast) => {
    if (!over) {
      bytes += chunk.byteLength;
      if (bytes > frameBytesMax) over = true;
      else chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this call
    }
    if (isLast) done(over ? null : Buffer.concat(chunks).toString('utf8'));
  });
}

function problemOf(error: TallyError, instance: string): { type: string; title: string; status: number; detail: string; code: string; instance: string } {
  return { type: `https://tally.dev/problems/${error.code}`, title: error.code, status: statusOf[error.code], detail: errorReason(error), code: error.code, instance };
}

/** What building a request from the caller's input threw: the record encoders' TypeError or RangeError are the caller's. */
function requestError(error: unknown, log: (line: string) => void): TallyError {
  if (error instanceof TypeError || error instanceof RangeError) return errors.bodyInvalid(error.message);
  return serviceError(error, log); // a TallyError as it is; anything else a defect, logged
}

// ---- requests ------------------------------------------------------------------------------------

function idOf(text: string): bigint {
  const id = decimalU128(text);
  if (id === null || id === 0n) throw errors.bodyInvalid(`an id is 1..2^128-1, got ${text}`);
  return id;
}

function lookup(operation: WireOperationNumber, id: bigint, reply: (body: Uint8Array) => unknown): Call {
  return { operation, body: encodeIds([id]), reply };
}

function write(operation: WireOperationNumber, body: Uint8Array): Call {
  return { operation, body, reply: (b) => ({ results: decodeResults(b).map((r) => ({ index: r.index, result: r.result, ...(r.reason === undefined ? {} : { reason: r.reason }) })) }) };
}

function history(accountId: bigint, query: URLSearchParams): Call {
  onlyParameters(query, ['limit', 'reversed', 'timestamp_min', 'timestamp_max']);
  const limit = query.has('limit') ? integerParameter(query, 'limit', 1, historyPageMax) : 100;
  const reversed = booleanParameter(query, 'reversed');
  const body = encodeHistoryFilter({ accountId, limit, reversed, timestampMin: bigintParameter(query, 'timestamp_min'), timestampMax: bigintParameter(query, 'timestamp_max') });
  return { operation: Operation.get_account_transfers, body, reply: (b) => decodeHistoryEntries(b).map(historyJson) };
}

/** An account's balances at the end of a closed business day (`day`) or at an instant (`at`): one of them. */
function balances(accountId: bigint, query: URLSearchParams): Call {
  onlyParameters(query, ['day', 'at']);
  if (query.has('day') === query.has('at')) throw errors.bodyInvalid('give one of the query parameters day (a closed business day, yyyymmdd) or at (an instant, ns since the epoch)');
  return query.has('day') ? balanceAtDay(accountId, query) : balancesAt(accountId, fieldParameter(query, 'at', 'u64')!);
}

function balanceAtDay(accountId: bigint, query: URLSearchParams): Call {
  const day = integerParameter(query, 'day', 1, 99_991_231, true);
  return { operation: Operation.get_balance_at_day, body: encodeBalanceAtDay(accountId, day), reply: (b) => {
    const found = decodeBalanceAtDay(b);
    return found === null ? null : { account_id: String(accountId), day, ...snakeJson(found) as object };
  } };
}

/**
 * The balances after the account's last entry at or before `at`, as the client's getBalances: lookup_accounts, then
 * get_account_transfers newest first, one entry. An account created after `at` did not exist then (404); one with no
 * entry by then had zero balances.
 */
function balancesAt(accountId: bigint, at: bigint): Call {
  return lookup(Operation.lookup_accounts, accountId, (b) => {
    const [account] = decodeAccountStates(b);
    if (account === undefined || account.timestamp > at) return null;
    const body = encodeHistoryFilter({ accountId, timestampMax: at, limit: 1, reversed: true });
    return new FollowUp({ operation: Operation.get_account_transfers, body, reply: (h) => {
      const [last] = decodeHistoryEntries(h);
      const found = last?.balanceAfter ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      return { account_id: String(accountId), at: String(at), ...(snakeJson(found) as object), transfer_id: last === undefined ? null : String(last.transfer.id) };
    } });
  });
}

function statement(accountId: bigint, query: URLSearchParams): Call {
  onlyParameters(query, ['from', 'to', 'limit']);
  const from = integerParameter(query, 'from', 1, 99_991_231, true);
  const to = integerParameter(query, 'to', 1, 99_991_231, true);
  const limit = query.has('limit') ? integerParameter(query, 'limit', 1, historyPageMax) : historyPageMax;
  return { operation: Operation.get_account_statement, body: encodeStatement(accountId, from, to, limit), reply: (b) => {
    const found = decodeStatement(accountId, from, to, b);
    return found === null ? null : { ...(snakeJson({ ...found, entries: [] }) as object), entries: found.entries.map(historyJson) };
  } };
}

function books(operation: WireOperationNumber, ledgerText: string, query: URLSearchParams): Call {
  onlyParameters(query, ['day']);
  const ledger = Number(ledgerText);
  const day = query.has('day') ? integerParameter(query, 'day', 0, 99_991_231) : 0;
  return { operation, body: encodeLedgerDay(ledger, day), reply: (b) => decodeJson<unknown>(b) };
}

/**
 * GET /v1/transfers (query_transfers) or /v1/accounts (query_accounts): each filter parameter must match exactly.
 * A filter field of 0 means "any" on the wire, so here a parameter of 0 is refused rather than silently ignored:
 * leave it out to match any. Which filters query_transfers needs, and how they combine, the ledger decides.
 */
function queryRecords(kind: 'transfers' | 'accounts', query: URLSearchParams): Call {
  onlyParameters(query, queryParameters[kind]);
  const filter: QueryFilterInput = {
    userData128: fieldParameter(query, 'user_data_128', 'u128'),
    userData64: fieldParameter(query, 'user_data_64', 'u64'),
    userData32: numberOf(fieldParameter(query, 'user_data_32', 'u32')),
    ledger: numberOf(fieldParameter(query, 'ledger', 'u32')),
    code: numberOf(fieldParameter(query, 'code', 'u16')),
    flags: numberOf(fieldParameter(query, 'flags', 'u16', 0n)),
    status: nameParameter(query, 'status', Object.keys(kind === 'transfers' ? TransferStatus : AccountStatus)) as QueryFilterInput['status'],
    timestampMin: bigintParameter(query, 'timestamp_min'),
    timestampMax: bigintParameter(query, 'timestamp_max'),
    limit: query.has('limit') ? integerParameter(query, 'limit', 1, queryPageMax) : queryLimitDefault,
    reversed: booleanParameter(query, 'reversed'),
    after: cursorParameter(query, 'after'),
  };
  if (kind === 'accounts') {
    return { operation: Operation.query_accounts, body: encodeQueryFilter(filter, kind), reply: (b) => {
      const page = decodeAccountQueryPage(b);
      return pageJson(kind, page.rows.map(accountJson), page.next);
    } };
  }
  filter.accountId = fieldParameter(query, 'account_id', 'u128');
  filter.direction = nameParameter(query, 'direction', ['debits', 'credits']) as QueryFilterInput['direction'];
  if (filter.direction !== undefined && filter.accountId === undefined) throw errors.bodyInvalid('query parameter direction needs account_id (the debits or credits of which account)');
  return { operation: Operation.query_transfers, body: encodeQueryFilter(filter, kind), reply: (b) => {
    const page = decodeTransferQueryPage(b);
    return pageJson(kind, page.rows.map(transferJson), page.next);
  } };
}

const queryParameters = {
  transfers: ['account_id', 'user_data_128', 'user_data_64', 'user_data_32', 'ledger', 'code', 'flags', 'status', 'direction', 'timestamp_min', 'timestamp_max', 'limit', 'reversed', 'after'],
  accounts: ['user_data_128', 'user_data_64', 'user_data_32', 'ledger', 'code', 'flags', 'status', 'timestamp_min', 'timestamp_max', 'limit', 'reversed', 'after'],
} as const;

/** A page's rows and its cursor as `<timestamp>-<id>` in decimal: opaque to callers, who only send it back as `after`. */
function pageJson(kind: 'transfers' | 'accounts', rows: unknown[], next: QueryCursor | null): unknown {
  return { [kind]: rows, next: next === null ? null : `${next.timestamp}-${next.id}` };
}

function cursorParameter(query: URLSearchParams, name: string): QueryCursor | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const match = /^([0-9]{1,20})-([0-9]{1,39})$/.exec(text);
  const timestamp = match === null ? 0n : BigInt(match[1]!);
  const id = match === null ? null : decimalU128(match[2]!);
  if (timestamp < 1n || timestamp > widthMax.u64 || id === null) throw errors.bodyInvalid(`query parameter ${name} must be the next cursor of a page, got ${JSON.stringify(text)}`);
  return { timestamp, id };
}

function onlyParameters(query: URLSearchParams, known: readonly string[]): void {
  const unknown = [...new Set(query.keys())].filter((name) => !known.includes(name));
  if (unknown.length > 0) throw errors.bodyInvalid(`unknown query parameter${unknown.length === 1 ? '' : 's'} ${unknown.map((name) => JSON.stringify(name)).join(', ')} (known: ${known.join(', ') || 'none'})`);
  // A repeated parameter has no one meaning (the first? all of them?): refused rather than guessed.
  for (const name of new Set(query.keys())) if (query.getAll(name).length > 1) throw errors.bodyInvalid(`query parameter ${name} is given more than once`);
}

const widthMax = { u16: 0xffffn, u32: 0xffff_ffffn, u64: (1n << 64n) - 1n, u128: (1n << 128n) - 1n } as const;
const widthText = { u16: '65535', u32: '4294967295', u64: '2^64-1', u128: '2^128-1' } as const;

/** An unsigned integer of `width` in decimal, min..max (default 1: 0 would match nothing in particular); undefined when absent. */
function fieldParameter(query: URLSearchParams, name: string, width: keyof typeof widthMax, min = 1n): bigint | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  const value = /^[0-9]{1,39}$/.test(text) ? BigInt(text) : -1n;
  if (value < min || value > widthMax[width]) throw errors.bodyInvalid(`query parameter ${name} must be an integer in ${min}..${widthText[width]} in decimal, got ${JSON.stringify(text)}`);
  return value;
}

function numberOf(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function nameParameter(query: URLSearchParams, name: string, names: readonly string[]): string | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!names.includes(text)) throw errors.bodyInvalid(`query parameter ${name} must be one of ${names.join(', ')}, got ${JSON.stringify(text)}`);
  return text;
}

function integerParameter(query: URLSearchParams, name: string, min: number, max: number, required = false): number {
  const text = query.get(name);
  if (text === null) {
    if (required) throw errors.bodyInvalid(`query parameter ${name} is required`);
    return min;
  }
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw errors.bodyInvalid(`query parameter ${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  return value;
}

function bigintParameter(query: URLSearchParams, name: string): bigint {
  const text = query.get(name);
  if (text === null) return 0n;
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) >= 1n << 64n) throw errors.bodyInvalid(`query parameter ${name} must be a u64 in decimal, got ${JSON.stringify(text)}`);
  return BigInt(text);
}

function booleanParameter(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === 'false') return false;
  if (text === 'true') return true;
  throw errors.bodyInvalid(`query parameter ${name} is true or false, got ${JSON.stringify(text)}`);
}

// ---- JSON records in -----------------------------------------------------------------------------

type FieldKind = 'id' | 'u32' | 'string';
const accountFields: Record<string, FieldKind> = { id: 'id', ledger: 'u32', code: 'u32', flags: 'u32', user_data_128: 'id', user_data_64: 'id', user_data_32: 'u32' };
const transferFields: Record<string, FieldKind> = {
  id: 'id',
  debit_account_id: 'id',
  credit_account_id: 'id',
  amount: 'id',
  pending_id: 'id',
  ledger: 'u32',
  code: 'u32',
  flags: 'u32',
  timeout_seconds: 'u32',
  user_data_128: 'id',
  user_data_64: 'id',
  user_data_32: 'u32',
};
const operationFields: Record<string, FieldKind> = { id: 'id', account_id: 'id', kind: 'string', freeze_id: 'id', amount: 'id', flags: 'u32', user_data_128: 'id', user_data_64: 'id', user_data_32: 'u32' };

/** A JSON array of records (or `{ "<what>": [...] }`), each checked field by field: decimal strings for ids and amounts. */
function records(body: unknown, what: string, fields: Record<string, FieldKind>): Record<string, unknown>[] {
  if (!Array.isArray(body)) throw errors.bodyInvalid(`the body is a JSON array of ${what}`);
  if (body.length === 0) throw errors.batchEmpty();
  return body.map((record: unknown, index) => {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw errors.bodyInvalid(`${what}[${index}] is not a JSON object`);
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(record)) {
      const kind = fields[name];
      if (kind === undefined) throw errors.bodyInvalid(`${what}[${index}]: unknown field ${JSON.stringify(name)} (fields: ${Object.keys(fields).join(', ')})`);
      out[camel(name)] = fieldValue(value, kind, `${what}[${index}].${name}`);
    }
    return out;
  });
}

function fieldValue(value: unknown, kind: FieldKind, where: string): unknown {
  if (kind === 'id') {
    const decimal = decimalU128(value);
    if (decimal === null) throw errors.bodyInvalid(`${where} is a decimal string of an unsigned integer (ids and amounts are never JSON numbers), got ${JSON.stringify(value)}`);
    return decimal;
  }
  if (kind === 'u32') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw errors.bodyInvalid(`${where} is an integer in 0..4294967295, got ${JSON.stringify(value)}`);
    return value;
  }
  if (typeof value !== 'string') throw errors.bodyInvalid(`${where} is a string, got ${JSON.stringify(value)}`);
  return value;
}

function required(record: Record<string, unknown>, names: readonly string[], what: string): void {
  for (const name of names) if (record[name] === undefined) throw errors.bodyInvalid(`${what}: field ${snake(name)} is required`);
}

function accountInput(record: Record<string, unknown>): AccountInput {
  required(record, ['id', 'ledger', 'code'], 'an account');
  return record as unknown as AccountInput;
}

function transferInput(record: Record<string, unknown>): TransferInput {
  required(record, ['id', 'debitAccountId', 'creditAccountId', 'amount', 'ledger', 'code'], 'a transfer');
  return record as unknown as TransferInput;
}

function operationInput(record: Record<string, unknown>): AccountOperationInput {
  required(record, ['id', 'accountId', 'kind'], 'an account operation');
  return record as unknown as AccountOperationInput;
}

// ---- JSON records out ----------------------------------------------------------------------------

function accountJson(account: AccountState): unknown {
  return snakeJson(account);
}

function transferJson(transfer: TransferState): unknown {
  return snakeJson(transfer);
}

function historyJson(entry: AccountHistoryEntry): unknown {
  return { transfer: snakeJson(entry.transfer), balance_after: snakeJson(entry.balanceAfter) };
}

/** Keys in snake_case, bigints as decimal strings. */
function snakeJson(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(snakeJson);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), snakeJson(v)]));
  return value;
}

function snake(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1_$2').replace(/([a-zA-Z])([0-9])/g, '$1_$2').toLowerCase();
}

function camel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
