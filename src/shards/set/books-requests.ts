// The wire operations on business days and the books (docs/PROTOCOL.md): closing a day and its report go
// through the day closing, a closed day's balance or statement to the account's shard (its day book), the
// ledgers' subjects and trial balance to the bookkeeping shard. Bodies arrive checked by the gateway.

import { assert } from '../../core/assert.js';
import { Operation, isBooksOperation } from '../../core/operations.js';
import { shardOfIdAt } from '../../core/routing.js';
import { viewOf } from '../../core/u128.js';
import type { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import { DayQuery } from '../shard/day-book.js';
import type { ShardHost } from '../shard/shard-host.js';
import type { DayClosing } from './day-closing.js';
import type { RequestHandler } from './request-handlers.js';

type BooksBookkeeping = Pick<BookkeepingHost, 'report' | 'subjectBalances' | 'trialBalance' | 'status'>;

/** A handler for every books operation (isBooksOperation). */
export function booksHandlers(days: Pick<DayClosing, 'closeDayReport'>, bookkeeping: BooksBookkeeping, hosts: readonly ShardHost[]): [operation: number, handler: RequestHandler][] {
  const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value ?? null));
  const text = (value: string): Uint8Array => new TextEncoder().encode(value);
  /** A closed day's query, on the shard that owns the account named first in the body. */
  const dayQuery = (query: number): RequestHandler => async (body) => hosts[shardOfIdAt(viewOf(body), 0, hosts.length)]!.run(query, body, false);
  const handlers: [operation: number, handler: RequestHandler][] = [
    [Operation.close_day, async (body) => text(await days.closeDayReport(body.byteLength === 0 ? 0 : viewOf(body).getUint32(0, true)))],
    [Operation.get_day_report, async (body) => text((await bookkeeping.report(viewOf(body).getUint32(0, true))) ?? 'null')],
    [Operation.get_balance_at_day, dayQuery(DayQuery.balanceAtDay)],
    [Operation.get_account_statement, dayQuery(DayQuery.statement)],
    [Operation.get_subject_balances, async (body) => json(await bookkeeping.subjectBalances(viewOf(body).getUint32(0, true), dayOrAll(viewOf(body).getUint32(4, true))))],
    [Operation.get_trial_balance, async (body) => json(await bookkeeping.trialBalance(viewOf(body).getUint32(0, true), dayOrAll(viewOf(body).getUint32(4, true))))],
    [Operation.get_bookkeeping_status, async () => json(await bookkeeping.status())],
  ];
  const booksOperations = Object.values(Operation).filter(isBooksOperation);
  assert(handlers.length === booksOperations.length && booksOperations.every((op) => handlers.some(([operation]) => operation === op)), 'every books operation has its handler');
  return handlers;
}

/** Day 0 in a books query means "everything booked so far". */
function dayOrAll(day: number): number | undefined {
  return day === 0 ? undefined : day;
}
