// `tally account ID`, `tally transfer ID`, `tally history ID`: what a support engineer looks up on a running
// server, without writing code. Amounts are shown with the ledger's scale (its currency's decimal places when the
// ledger is numbered after an ISO 4217 currency, else --scale, else integer minor units); --json prints the
// records as the client returns them, amounts as integer minor units in strings.

import { connect, type Client } from '../client/client.js';
import { formatAmount } from '../client/amounts.js';
import { currencyOfLedger } from '../client/currency-scales.js';
import type { AccountHistoryEntry, AccountState, TransferState } from '../core/types.js';
import { historyPageMax } from '../core/limits.js';
import { decimalU128 } from '../core/u128.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { integerOption, parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

type LookupKind = 'account' | 'transfer' | 'history';

const common = `${clientFlagsUsage}
  --scale N     decimal places of the amounts shown (default: the ledger's currency when the ledger is an
                ISO 4217 numeric code, e.g. 156 CNY → 2; else 0, integer minor units)
  --json        the record(s) as JSON (ids and amounts as decimal strings of integer minor units)
  -h, --help    print this help`;

export const lookupUsages: Record<LookupKind, string> = {
  account: `usage: tally account ID [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--scale N] [--json]

Prints an account: ledger, code, status, balances (posted, pending, frozen) and flags.
${common}

Exit status 0 when found, 1 when the server has no such account, 2 usage error.`,
  transfer: `usage: tally transfer ID [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--scale N] [--json]

Prints a transfer: accounts, amount, status (posted, pending, voided, …), what posted or was reversed.
${common}

Exit status 0 when found, 1 when the server has no such transfer, 2 usage error.`,
  history: `usage: tally history ID [--limit N] [--newest-first] [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--scale N] [--json]

Prints an account's transfers, oldest first, each with the account's balances after it.
  --limit N       at most N transfers (default 100, at most ${historyPageMax})
  --newest-first  the newest first
${common}

Exit status 0 (an account without transfers prints none), 2 usage error.`,
};

/** Resolves with the exit status. */
export async function lookupCommand(kind: LookupKind, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const usage = lookupUsages[kind];
  const refuse = (message: string) => new UsageError(message, usage);
  const flags = { ...clientFlags, scale: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' }, 'newest-first': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  // The id comes first (`tally account 123 --json`); anything else is a flag.
  const [first, ...rest] = argv;
  const { values } = parseFlags(first === undefined || first.startsWith('-') ? argv : rest, flags, refuse);
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (first === undefined || first.startsWith('-')) throw refuse(`tally ${kind} takes an id first`);
  const id = idArgument(first, refuse);
  if (kind !== 'history' && (values.limit !== undefined || values['newest-first'] !== undefined)) throw refuse(`--limit and --newest-first are options of tally history`);
  const scale = values.scale === undefined ? null : integerOption('--scale', values.scale, 0, 18, refuse);
  const limit = values.limit === undefined ? 100 : integerOption('--limit', values.limit, 1, historyPageMax, refuse);
  const client = await connect(clientConnectOptions(values, env, 30_000, refuse));
  try {
    const show = { json: values.json === true, scale };
    if (kind === 'account') return await printAccount(client, id, show);
    if (kind === 'transfer') return await printTransfer(client, id, show);
    return await printHistory(client, id, limit, values['newest-first'] === true, show);
  } finally {
    await client.close();
  }
}

interface Show {
  json: boolean;
  scale: number | null;
}

function idArgument(text: string, refuse: (message: string) => UsageError): bigint {
  const id = decimalU128(text);
  if (id === null || id === 0n) throw refuse(`an id is a decimal number in 1..2^128-1, got ${JSON.stringify(text)}`);
  return id;
}

async function printAccount(client: Client, id: bigint, show: Show): Promise<number> {
  const [account] = await client.lookupAccounts([id]);
  return printFound('account', id, account, show, (a) => formatAccount(a, show.scale));
}

async function printTransfer(client: Client, id: bigint, show: Show): Promise<number> {
  const [transfer] = await client.lookupTransfers([id]);
  return printFound('transfer', id, transfer, show, (t) => formatTransfer(t, show.scale));
}

/** Prints a record looked up (as JSON or formatted): 0, or 1 when none was found. */
function printFound<T>(what: string, id: bigint, found: T | undefined, show: Show, format: (record: T) => string): number {
  if (found === undefined) return notFound(what, id, show);
  console.log(show.json ? asJson(found) : format(found));
  return 0;
}

async function printHistory(client: Client, accountId: bigint, limit: number, newestFirst: boolean, show: Show): Promise<number> {
  const entries = await client.getAccountTransfers({ accountId, limit, reversed: newestFirst });
  if (show.json) {
    for (const entry of entries) console.log(asJson(entry));
    return 0;
  }
  for (const entry of entries) console.log(formatHistoryEntry(accountId, entry, show.scale));
  console.error(`${entries.length} transfer(s) of account ${accountId}${entries.length === limit ? ` (the first ${limit}; --limit for more)` : ''}`);
  return 0;
}

function notFound(what: string, id: bigint, show: Show): number {
  if (show.json) console.log('null');
  console.error(`tally: no ${what} ${id} on this server`);
  return 1;
}

/** Scale and unit shown for a ledger: --scale wins, then its currency, else integer minor units. */
export function unitOf(ledger: number, scale: number | null): { scale: number; unit: string } {
  const currency = currencyOfLedger(ledger);
  if (scale !== null) return { scale, unit: currency?.code ?? `(ledger ${ledger})` };
  if (currency !== undefined) return { scale: currency.scale, unit: currency.code };
  return { scale: 0, unit: '(minor units)' };
}

export function formatAccount(a: AccountState, scale: number | null): string {
  const { scale: s, unit } = unitOf(a.ledger, scale);
  const amount = (value: bigint): string => formatAmount(value, s);
  const lines = [
    `account ${a.id}: ${a.status}, ledger ${a.ledger}, code ${a.code}, flags ${a.flags}, created ${timeOf(a.timestamp)}`,
    `  posted   debits ${amount(a.debitsPosted)}  credits ${amount(a.creditsPosted)}  balance (credits − debits) ${amount(a.creditsPosted - a.debitsPosted)} ${unit}`,
    `  pending  debits ${amount(a.debitsPending)}  credits ${amount(a.creditsPending)}  frozen ${amount(a.frozen)} ${unit}`,
  ];
  if (a.creditsBuffered !== undefined && a.creditsBuffered > 0n) lines.push(`  hot-inbound: ${amount(a.creditsBuffered)} ${unit} in ${a.creditsBufferedCount ?? 0} credits buffered`);
  if (a.sliceBalances !== undefined && a.sliceBalances > 0n) lines.push(`  hot-outbound: ${amount(a.sliceBalances)} ${unit} held in slices`);
  lines.push(`  user data 128 ${a.userData128}, 64 ${a.userData64}, 32 ${a.userData32}`);
  return lines.join('\n');
}

export function formatTransfer(t: TransferState, scale: number | null): string {
  const { scale: s, unit } = unitOf(t.ledger, scale);
  const amount = (value: bigint): string => formatAmount(value, s);
  const lines = [
    `transfer ${t.id}: ${t.status}, ${amount(t.amount)} ${unit} from ${t.debitAccountId} to ${t.creditAccountId}, ledger ${t.ledger}, code ${t.code}, flags ${t.flags}, at ${timeOf(t.timestamp)}`,
  ];
  if (t.pendingId !== 0n) lines.push(`  refers to ${t.pendingId}`);
  if (t.amountPosted > 0n) lines.push(`  posted ${amount(t.amountPosted)} ${unit}`);
  if (t.amountReversed > 0n) lines.push(`  reversed ${amount(t.amountReversed)} ${unit}`);
  if (t.timeoutSeconds > 0) lines.push(`  timeout ${t.timeoutSeconds} s`);
  if (t.returnReason !== undefined) lines.push(`  returned: ${t.returnReason}`);
  lines.push(`  user data 128 ${t.userData128}, 64 ${t.userData64}, 32 ${t.userData32}`);
  return lines.join('\n');
}

export function formatHistoryEntry(accountId: bigint, entry: AccountHistoryEntry, scale: number | null): string {
  const t = entry.transfer;
  const { scale: s, unit } = unitOf(t.ledger, scale);
  const amount = (value: bigint): string => formatAmount(value, s);
  const debit = t.debitAccountId === accountId;
  const other = debit ? t.creditAccountId : t.debitAccountId;
  const after = entry.balanceAfter;
  return `${timeOf(t.timestamp)} ${t.id} ${debit ? '-' : '+'}${amount(t.amount)} ${unit} ${debit ? 'to' : 'from'} ${other} code ${t.code}  balance after ${amount(after.creditsPosted - after.debitsPosted)} (pending debits ${amount(after.debitsPending)}, credits ${amount(after.creditsPending)})`;
}

function timeOf(timestampNs: bigint): string {
  return timestampNs === 0n ? '-' : new Date(Number(timestampNs / 1_000_000n)).toISOString();
}

function asJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
