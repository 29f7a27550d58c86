// The OpenAPI 3.1 description of the HTTP/JSON API (http-api.ts), served at GET /v1/openapi.json; docs/openapi.json
// is its copy on disk, kept equal by a test, and real responses are validated against it (test/e2e/http-api).

import { AccountStatus, TransferStatus } from '../core/types.js';

const decimal = (description: string) => ({ type: 'string', pattern: '^[0-9]{1,39}$', description });
const u32 = (description: string) => ({ type: 'integer', minimum: 0, maximum: 4294967295, description });
const id = decimal('An id (u128) in decimal.');
const amount = decimal('An amount in integer minor units (u64), in decimal.');
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const errorsOf = { '400': problem('The request is invalid (body_invalid, batch_empty); nothing was done.'), '401': problem('No or an unknown API key (unauthenticated).'), '403': problem("The key's scopes do not allow it (forbidden)."), '413': problem('The body or the batch is too large (frame_too_large, batch_too_large).'), '421': problem('This node is a follower (not_primary): send writes to the primary the detail names.'), '429': problem('The key is over its rate (rate_limited).'), '504': problem('The ledger did not answer in time (timeout): the outcome is unknown, retry with the same ids.'), '503': problem('The ledger cannot answer now (overloaded, shard_unavailable, storage_failed, unavailable, shutting_down); a write may be retried with the same ids.') };
const idParameter = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,39}$' }, description });
const dayParameter = (name: string, required: boolean, description: string) => ({ name, in: 'query', required, schema: { type: 'integer', minimum: required ? 19000101 : 0, maximum: 99991231 }, description });
const queryParameter = (name: string, schema: object, description: string) => ({ name, in: 'query', schema, description });
const u64Text = { type: 'string', pattern: '^[0-9]{1,20}$' };
const transferStatuses = Object.keys(TransferStatus);
const accountStatuses = Object.keys(AccountStatus);

/**
 * A query (query_transfers, query_accounts): one page of the records that match every filter parameter given, in
 * (timestamp, id) order. A filter parameter of 0 is refused: leave it out to match any.
 */
function queryRoute(summary: string, description: string, kind: 'transfers' | 'accounts') {
  const byAccount = [
    queryParameter('account_id', { type: 'string', pattern: '^[0-9]{1,39}$' }, 'Transfers debiting or crediting this account.'),
    queryParameter('direction', { type: 'string', enum: ['debits', 'credits'] }, 'With account_id: only its debits, or only its credits.'),
  ];
  const parameters = [
    ...(kind === 'transfers' ? byAccount : []),
    queryParameter('user_data_128', { type: 'string', pattern: '^[0-9]{1,39}$' }, 'User data (u128), in decimal, 1..2^128-1.'),
    queryParameter('user_data_64', u64Text, 'User data (u64), in decimal, 1..2^64-1.'),
    queryParameter('user_data_32', { type: 'integer', minimum: 1, maximum: 4294967295 }, 'User data (u32).'),
    queryParameter('ledger', { type: 'integer', minimum: 1, maximum: 4294967295 }, 'The ledger.'),
    queryParameter('code', { type: 'integer', minimum: 1, maximum: 65535 }, kind === 'transfers' ? 'The business type of the transfer.' : 'The account type.'),
    queryParameter('flags', { type: 'integer', minimum: 0, maximum: 65535 }, `${kind === 'transfers' ? 'TransferFlags' : 'AccountFlags'} bits that must all be set.`),
    queryParameter('status', { type: 'string', enum: kind === 'transfers' ? transferStatuses : accountStatuses }, `The ${kind === 'transfers' ? 'transfer' : 'account'} status.`),
    queryParameter('timestamp_min', u64Text, 'Inclusive lower bound, ns since the epoch.'),
    queryParameter('timestamp_max', u64Text, 'Inclusive upper bound, ns since the epoch.'),
    queryParameter('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, 'Rows in the page at most.'),
    queryParameter('reversed', { type: 'boolean', default: false }, 'Newest first.'),
    queryParameter('after', { type: 'string' }, 'The `next` of the previous page (an opaque cursor): the rows after it.'),
  ];
  const page = kind === 'transfers' ? 'TransferPage' : 'AccountPage';
  return {
    summary,
    description,
    parameters,
    responses: { '200': { description: 'One page: oldest first unless reversed. `next` is null at the end; otherwise pass it as `after` for the next page. A page may hold fewer rows than `limit` and still have a `next`.', ...json({ $ref: `#/components/schemas/${page}` }) }, ...errorsOf },
  };
}

/** A batch write: an array of `input` records in, one result per record out. */
function writeRoute(summary: string, input: string, record: string) {
  return {
    post: {
      summary,
      requestBody: { required: true, ...json({ type: 'array', minItems: 1, items: { $ref: `#/components/schemas/${input}` } }) },
      responses: { '200': { description: `One result per ${record}, in order.`, ...json({ $ref: '#/components/schemas/Results' }) }, ...errorsOf },
    },
  };
}

const balances = {
  debits_posted: amount,
  credits_posted: amount,
  debits_pending: amount,
  credits_pending: amount,
};

const transferProperties = {
  id,
  debit_account_id: id,
  credit_account_id: id,
  amount,
  pending_id: decimal('The pending transfer (post/void), the original (reversal) or the freeze (unfreeze-and-pay); 0 otherwise.'),
  user_data_128: decimal('User data (u128).'),
  user_data_64: decimal('User data (u64).'),
  user_data_32: u32('User data (u32).'),
  timeout_seconds: u32('A pending transfer times out after this many seconds (0: never).'),
  ledger: u32('The ledger (e.g. an ISO 4217 numeric currency code).'),
  code: u32('The business type of the transfer (u16).'),
  flags: u32('TransferFlags bits (docs/PROTOCOL.md).'),
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Tally HTTP/JSON API',
    version: '1',
    summary: 'Reads and writes of the Tally ledger over HTTP and JSON, beside the binary RPC.',
    description:
      'Every route runs one request operation of the binary RPC (docs/PROTOCOL.md; balances at an instant: two) through the same validation, ' +
      'keys, scopes and rate limits: the same result codes. Ids and amounts are decimal strings of unsigned integers ' +
      '(amounts in integer minor units), never JSON numbers. Errors are problem+json (RFC 9457) with the error code.',
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  },
  security: [{ bearer: [] }],
  paths: {
    '/v1/accounts': {
      get: queryRoute('Accounts by field (query_accounts, scope read)', 'The accounts that match every filter parameter given (ledger, code, user data, flags, status, timestamps).', 'accounts'),
      ...writeRoute('Create accounts (create_accounts, scope post)', 'AccountInput', 'account'),
    },
    '/v1/transfers': {
      get: queryRoute('Transfers by field (query_transfers, scope read)', 'The transfers that match every filter parameter given. At least one of account_id, user_data_128, user_data_64, user_data_32, ledger or code is needed (each is indexed); the others narrow further.', 'transfers'),
      ...writeRoute('Create transfers (create_transfers, scope post)', 'TransferInput', 'transfer'),
    },
    '/v1/account-operations': writeRoute('Freeze, unfreeze, block, unblock, close, mark hot (account_operations, scope post)', 'AccountOperationInput', 'operation'),
    '/v1/accounts/{id}': {
      get: {
        summary: 'An account (lookup_accounts, scope read)',
        parameters: [idParameter('id', 'The account id.')],
        responses: { '200': { description: 'The account.', ...json({ $ref: '#/components/schemas/Account' }) }, '404': problem('No such account.'), ...errorsOf },
      },
    },
    '/v1/accounts/{id}/transfers': {
      get: {
        summary: "An account's transfers with its balances after each (get_account_transfers, scope read)",
        parameters: [
          idParameter('id', 'The account id.'),
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 8190, default: 100 } },
          { name: 'reversed', in: 'query', schema: { type: 'boolean', default: false }, description: 'Newest first.' },
          { name: 'timestamp_min', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,20}$' }, description: 'Inclusive lower bound, ns since the epoch.' },
          { name: 'timestamp_max', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,20}$' }, description: 'Inclusive upper bound, ns since the epoch.' },
        ],
        responses: { '200': { description: 'Oldest first unless reversed.', ...json({ type: 'array', items: { $ref: '#/components/schemas/HistoryEntry' } }) }, ...errorsOf },
      },
    },
    '/v1/accounts/{id}/balances': {
      get: {
        summary: "An account's balances at the end of a closed business day (get_balance_at_day) or at an instant (lookup_accounts, get_account_transfers), scope read",
        description: 'Give exactly one of day and at.',
        parameters: [
          idParameter('id', 'The account id.'),
          { ...dayParameter('day', true, 'A closed business day, yyyymmdd.'), required: false },
          queryParameter('at', u64Text, 'An instant, ns since the epoch (1..2^64-1): the balances after the last entry at or before it.'),
        ],
        responses: {
          '200': { description: 'The balances at the end of the day, or at the instant.', ...json({ oneOf: [{ $ref: '#/components/schemas/DayBalances', required: ['account_id', 'day'] }, { $ref: '#/components/schemas/BalancesAt' }] }) },
          '404': problem('No such account (with at: none yet at that instant).'),
          ...errorsOf,
        },
      },
    },
    '/v1/accounts/{id}/statement': {
      get: {
        summary: "An account's statement over closed business days (get_account_statement, scope read)",
        parameters: [idParameter('id', 'The account id.'), dayParameter('from', true, 'First day, yyyymmdd.'), dayParameter('to', true, 'Last day, yyyymmdd.'), { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 8190 } }],
        responses: { '200': { description: 'Opening and closing balances and the entries between.', ...json({ $ref: '#/components/schemas/Statement' }) }, '404': problem('No such account.'), ...errorsOf },
      },
    },
    '/v1/transfers/{id}': {
      get: {
        summary: 'A transfer (lookup_transfers, scope read)',
        parameters: [idParameter('id', 'The transfer id.')],
        responses: { '200': { description: 'The transfer.', ...json({ $ref: '#/components/schemas/Transfer' }) }, '404': problem('No such transfer.'), ...errorsOf },
      },
    },
    '/v1/days/{day}/report': {
      get: {
        summary: "A closed business day's report (get_day_report, scope read)",
        parameters: [{ name: 'day', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{8}$' } }],
        responses: { '200': { description: 'The day report (docs/PROTOCOL.md "Business days and the books"), or null when the day is not closed.', ...json({ type: ['object', 'null'] }) }, ...errorsOf },
      },
    },
    '/v1/ledgers/{ledger}/trial-balance': {
      get: {
        summary: 'The trial balance (试算平衡) of a ledger (get_trial_balance, scope read)',
        parameters: [{ name: 'ledger', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,10}$' } }, dayParameter('day', false, 'Through this business day (default: everything booked).')],
        responses: { '200': { description: 'Totals and one row per leaf subject.', ...json({ $ref: '#/components/schemas/TrialBalance' }) }, ...errorsOf },
      },
    },
    '/v1/ledgers/{ledger}/subject-balances': {
      get: {
        summary: "Every subject's balance of a ledger (get_subject_balances, scope read)",
        parameters: [{ name: 'ledger', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]{1,10}$' } }, dayParameter('day', false, 'Through this business day (default: everything booked).')],
        responses: { '200': { description: 'One row per subject, by code.', ...json({ type: 'array', items: { $ref: '#/components/schemas/SubjectBalance' } }) }, ...errorsOf },
      },
    },
    '/v1/openapi.json': {
      get: { summary: 'This document', security: [], responses: { '200': { description: 'The OpenAPI document.', ...json({ type: 'object' }) } } },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key secret (tally keys new); none when the server runs without --keys.' } },
    schemas: {
      AccountInput: {
        type: 'object',
        required: ['id', 'ledger', 'code'],
        additionalProperties: false,
        properties: { id, ledger: u32('The ledger.'), code: u32('The account type (u16), mapped to a subject by the chart of accounts.'), flags: u32('AccountFlags bits.'), user_data_128: decimal('User data (u128).'), user_data_64: decimal('User data (u64).'), user_data_32: u32('User data (u32).') },
      },
      TransferInput: { type: 'object', required: ['id', 'debit_account_id', 'credit_account_id', 'amount', 'ledger', 'code'], additionalProperties: false, properties: transferProperties },
      AccountOperationInput: {
        type: 'object',
        required: ['id', 'account_id', 'kind'],
        additionalProperties: false,
        properties: {
          id,
          account_id: id,
          kind: { type: 'string', enum: ['freeze', 'unfreeze', 'block', 'unblock', 'close', 'mark_hot', 'unmark_hot'], description: 'What to do (docs/PROTOCOL.md).' },
          freeze_id: decimal('The freeze to release (unfreeze).'),
          amount,
          flags: u32('AccountOperationFlags bits.'),
          user_data_128: decimal('User data (u128).'),
          user_data_64: decimal('User data (u64).'),
          user_data_32: u32('User data (u32).'),
        },
      },
      Results: {
        type: 'object',
        required: ['results'],
        additionalProperties: false,
        properties: {
          results: {
            type: 'array',
            items: { type: 'object', required: ['index', 'result'], additionalProperties: false, properties: { index: { type: 'integer', minimum: 0 }, result: { type: 'string', description: 'ok, or the result code (docs/PROTOCOL.md "Result codes").' }, reason: { type: 'string' } } },
          },
        },
      },
      Account: {
        type: 'object',
        required: ['id', 'ledger', 'code', 'flags', 'user_data_128', 'user_data_64', 'user_data_32', 'timestamp', 'debits_posted', 'credits_posted', 'debits_pending', 'credits_pending', 'frozen', 'status'],
        additionalProperties: false,
        properties: {
          id,
          ledger: u32('The ledger.'),
          code: u32('The account type.'),
          flags: u32('AccountFlags bits.'),
          user_data_128: decimal('User data (u128).'),
          user_data_64: decimal('User data (u64).'),
          user_data_32: u32('User data (u32).'),
          timestamp: decimal('Created at, ns since the epoch.'),
          ...balances,
          frozen: amount,
          status: { type: 'string', enum: accountStatuses },
          hot_inbound: { type: 'boolean' },
          hot_inbound_auto: { type: 'boolean' },
          credits_buffered: amount,
          credits_buffered_count: { type: 'integer', minimum: 0 },
          slice_balances: amount,
        },
      },
      Transfer: {
        type: 'object',
        required: [...Object.keys(transferProperties), 'timestamp', 'status', 'amount_posted', 'amount_reversed'],
        additionalProperties: false,
        properties: {
          ...transferProperties,
          timestamp: decimal('Posted at, ns since the epoch.'),
          status: { type: 'string', enum: transferStatuses },
          amount_posted: amount,
          amount_reversed: amount,
          return_reason: { type: 'string' },
        },
      },
      HistoryEntry: {
        type: 'object',
        required: ['transfer', 'balance_after'],
        additionalProperties: false,
        properties: {
          transfer: { type: 'object', required: [...Object.keys(transferProperties), 'timestamp'], additionalProperties: false, properties: { ...transferProperties, timestamp: decimal('Posted at, ns since the epoch.') } },
          balance_after: { $ref: '#/components/schemas/DayBalances' },
        },
      },
      BalancesAt: {
        type: 'object',
        required: ['account_id', 'at', ...Object.keys(balances), 'transfer_id'],
        additionalProperties: false,
        properties: { account_id: id, at: decimal('The instant asked for, ns since the epoch.'), ...balances, transfer_id: { ...decimal('The last transfer at or before the instant; null: none yet (the balances are zero).'), type: ['string', 'null'] } },
      },
      Cursor: { type: ['string', 'null'], minLength: 1, description: 'Where the next page starts (opaque: send it back as `after`); null at the end.' },
      TransferPage: { type: 'object', required: ['transfers', 'next'], additionalProperties: false, properties: { transfers: { type: 'array', items: { $ref: '#/components/schemas/Transfer' } }, next: { $ref: '#/components/schemas/Cursor' } } },
      AccountPage: { type: 'object', required: ['accounts', 'next'], additionalProperties: false, properties: { accounts: { type: 'array', items: { $ref: '#/components/schemas/Account' } }, next: { $ref: '#/components/schemas/Cursor' } } },
      DayBalances: { type: 'object', required: Object.keys(balances), properties: { account_id: id, day: { type: 'integer' }, ...balances } },
      Statement: {
        type: 'object',
        required: ['account_id', 'from_day', 'to_day', 'opening', 'closing', 'entries', 'truncated'],
        additionalProperties: false,
        properties: {
          account_id: id,
          from_day: { type: 'integer' },
          to_day: { type: 'integer' },
          opening: { $ref: '#/components/schemas/DayBalances' },
          closing: { $ref: '#/components/schemas/DayBalances' },
          entries: { type: 'array', items: { $ref: '#/components/schemas/HistoryEntry' } },
          truncated: { type: 'boolean' },
        },
      },
      TrialBalance: {
        type: 'object',
        required: ['debitsTotal', 'creditsTotal', 'debitBalancesTotal', 'creditBalancesTotal', 'balanced', 'rows'],
        properties: {
          debitsTotal: amount,
          creditsTotal: amount,
          debitBalancesTotal: amount,
          creditBalancesTotal: amount,
          balanced: { type: 'boolean' },
          rows: { type: 'array', items: { type: 'object', required: ['code', 'level', 'side', 'debits', 'credits', 'balance'], properties: { code: { type: 'string' }, level: { type: 'integer' }, side: { enum: ['debit', 'credit'] }, debits: amount, credits: amount, balance: { type: 'string', pattern: '^-?[0-9]+$' } } } },
        },
      },
      SubjectBalance: {
        type: 'object',
        required: ['code', 'name', 'level', 'side', 'debits', 'credits', 'balance'],
        properties: { code: { type: 'string' }, name: { type: 'string' }, level: { type: 'integer' }, side: { type: 'string' }, debits: amount, credits: amount, balance: { type: 'string', pattern: '^-?[0-9]+$' } },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail', 'code'],
        properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string', description: 'The error code (docs/PROTOCOL.md "Operating errors").' }, instance: { type: 'string' } },
      },
    },
  },
} as const;
