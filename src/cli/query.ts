// `tally transfers …` and `tally accounts …`: queryTransfers / queryAccounts from the shell (issue #16) — the
// support engineer's "which transfers carry order 12345", "what did merchant 77 take today". Filters are flags;
// pages are followed by cursor up to --limit rows (or one page with --page, printing the cursor to go on with).

import { connect } from '../client/client.js';
import type { AccountState, AccountStatusName, TransferState, TransferStatusName } from '../core/types.js';
import { AccountStatus, TransferStatus } from '../core/types.js';
import { queryPageMax } from '../core/limits.js';
import { decimalU128 } from '../core/u128.js';
import type { QueryCursor, QueryFilterInput, QueryPage } from '../core/wire/records.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { formatAccount, formatTransfer } from './lookup.js';
import { integerOption, parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

type QueryKind = 'transfers' | 'accounts';

const filters = `  --user-data-128 N, --user-data-64 N, --user-data-32 N, --ledger N, --code N
                  fields that must match (decimal)
  --flags N       flags that must all be set
  --status S      ${'{'}status name${'}'}
  --since NS, --until NS
                  inclusive bounds on the timestamp (ns since the epoch)
  --limit N       rows to print, following pages (default 100)
  --page          one page of at most --limit rows (≤ ${queryPageMax}), then the cursor for --after
  --after CURSOR  continue after a cursor printed by --page
  --newest-first  the newest first`;

export const queryUsages: Record<QueryKind, string> = {
  transfers: `usage: tally transfers [--account ID [--debits|--credits]] [filters] [--url ws://HOST:PORT] [--key KEY] [--json]

Prints the transfers that match, oldest first. Name at least one of --account, --user-data-128, --user-data-64,
--user-data-32, --ledger, --code (each is indexed; a query never scans history).
  --account ID    transfers debiting or crediting the account (--debits or --credits: one side only)
${filters.replace('{status name}', Object.keys(TransferStatus).join(', '))}
${clientFlagsUsage}
  --scale N       decimal places of the amounts shown (default: the ledger's currency, else 0)
  --json          one JSON record per line

Exit status 0 (none found prints none), 2 usage error.`,
  accounts: `usage: tally accounts [filters] [--url ws://HOST:PORT] [--key KEY] [--json]

Prints the accounts that match, oldest first.
${filters.replace('{status name}', Object.keys(AccountStatus).join(', '))}
${clientFlagsUsage}
  --scale N       decimal places of the amounts shown (default: the ledger's currency, else 0)
  --json          one JSON record per line

Exit status 0 (none found prints none), 2 usage error.`,
};

/** Resolves with the exit status. */
export async function queryCommand(kind: QueryKind, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const usage = queryUsages[kind];
  const refuse = (message: string) => new UsageError(message, usage);
  const text = { type: 'string' } as const;
  const flag = { type: 'boolean' } as const;
  const options = {
    ...clientFlags,
    account: text,
    debits: flag,
    credits: flag,
    'user-data-128': text,
    'user-data-64': text,
    'user-data-32': text,
    ledger: text,
    code: text,
    flags: text,
    status: text,
    since: text,
    until: text,
    limit: text,
    page: flag,
    after: text,
    'newest-first': flag,
    scale: text,
    json: flag,
    help: { type: 'boolean', short: 'h' },
  } as const;
  const { values } = parseFlags(argv, options, refuse);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const big = (name: string, value: string | undefined, max: bigint): bigint | undefined => {
    if (value === undefined) return undefined;
    const parsed = decimalU128(value);
    if (parsed === null || parsed > max) throw refuse(`--${name} is a decimal number in 0..${max}, got ${JSON.stringify(value)}`);
    return parsed;
  };
  const small = (name: string, value: string | undefined, max: number): number | undefined => (value === undefined ? undefined : integerOption(`--${name}`, value, 0, max, refuse));
  if (kind === 'accounts' && (values.account !== undefined || values.debits === true || values.credits === true)) throw refuse('--account, --debits and --credits are options of tally transfers');
  if (values.debits === true && values.credits === true) throw refuse('--debits and --credits exclude each other');
  if ((values.debits === true || values.credits === true) && values.account === undefined) throw refuse('--debits and --credits need --account');
  const statuses: readonly string[] = Object.keys(kind === 'transfers' ? TransferStatus : AccountStatus);
  if (values.status !== undefined && !statuses.includes(values.status)) throw refuse(`--status is one of ${statuses.join(', ')}, got ${JSON.stringify(values.status)}`);
  const u64Max = (1n << 64n) - 1n;
  const filter: QueryFilterInput = {
    accountId: big('account', values.account, (1n << 128n) - 1n),
    userData128: big('user-data-128', values['user-data-128'], (1n << 128n) - 1n),
    userData64: big('user-data-64', values['user-data-64'], u64Max),
    userData32: small('user-data-32', values['user-data-32'], 0xffff_ffff),
    ledger: small('ledger', values.ledger, 0xffff_ffff),
    code: small('code', values.code, 0xffff),
    flags: small('flags', values.flags, 0xffff),
    status: values.status as TransferStatusName | AccountStatusName | undefined,
    direction: values.debits === true ? 'debits' : values.credits === true ? 'credits' : undefined,
    timestampMin: big('since', values.since, u64Max),
    timestampMax: big('until', values.until, u64Max),
    reversed: values['newest-first'] === true,
    after: values.after === undefined ? undefined : cursorArgument(values.after, refuse),
  };
  for (const key of Object.keys(filter) as (keyof QueryFilterInput)[]) if (filter[key] === undefined) delete filter[key];
  const indexed = ['accountId', 'userData128', 'userData64', 'userData32', 'ledger', 'code'] as const;
  if (kind === 'transfers' && !indexed.some((key) => filter[key] !== undefined && filter[key] !== 0 && filter[key] !== 0n)) {
    throw refuse('name at least one of --account, --user-data-128, --user-data-64, --user-data-32, --ledger, --code');
  }
  const onePage = values.page === true;
  const limit = values.limit === undefined ? 100 : integerOption('--limit', values.limit, 1, onePage ? queryPageMax : 10_000_000, refuse);
  const scale = values.scale === undefined ? null : integerOption('--scale', values.scale, 0, 18, refuse);
  const client = await connect(clientConnectOptions(values, env, 30_000, refuse));
  try {
    const ask = (after: QueryCursor | undefined, rows: number): Promise<QueryPage<TransferState | AccountState>> => {
      const page = { ...filter, after, limit: Math.min(rows, queryPageMax) };
      return kind === 'transfers' ? client.queryTransfers(page) : client.queryAccounts(page);
    };
    let printed = 0;
    let after = filter.after;
    let next: QueryCursor | null = null;
    do {
      const page = await ask(after, limit - printed);
      for (const row of page.rows) {
        if (values.json === true) console.log(JSON.stringify(row, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)));
        else console.log(kind === 'transfers' ? formatTransfer(row as TransferState, scale) : formatAccount(row as AccountState, scale));
        printed++;
      }
      next = page.next;
      after = next ?? undefined;
    } while (!onePage && next !== null && printed < limit);
    const more = next === null ? '' : onePage || printed >= limit ? `; more follow: --after ${next.timestamp}-${next.id}` : '';
    console.error(`${printed} ${kind === 'transfers' ? 'transfer' : 'account'}(s)${more}`);
    return 0;
  } finally {
    await client.close();
  }
}

function cursorArgument(text: string, refuse: (message: string) => UsageError): QueryCursor {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const timestamp = match === null ? null : decimalU128(match[1]!);
  const id = match === null ? null : decimalU128(match[2]!);
  if (timestamp === null || id === null || timestamp === 0n || timestamp >= 1n << 64n) throw refuse(`--after takes a cursor TIMESTAMP-ID as printed by --page, got ${JSON.stringify(text)}`);
  return { timestamp, id };
}
