// The typed client: one connection, write calls coalesced per operation, lookups merged by id.
// Every call settles: with its results, or with a TallyError (the gateway's code, `timeout`, `connection_closed`).

import { AccountLayout, AccountOperationLayout, TransferLayout } from '../core/layout.js';
import { clientTimeoutMsDefault, clientTimeoutMsMax, historyPageMax } from '../core/limits.js';
import type { DayReport } from '../core/day-report.js';
import type { ShardLag, SubjectBalanceRow } from '../core/books-replies.js';
import {
  decodeBalanceAtDay,
  decodeJson,
  decodeStatement,
  encodeBalanceAtDay,
  encodeDay,
  encodeLedgerDay,
  encodeStatement,
  type AccountStatement,
  type DayBalances,
} from './books.js';
import { Operation } from '../core/operations.js';
import {
  decodeAccountStates,
  decodeHistoryEntries,
  decodeTransferStates,
  encodeAccountOperations,
  encodeAccounts,
  encodeHistoryFilter,
  encodeTransfers,
  type AccountInput,
  type AccountOperationInput,
  type EventResult,
  type HistoryFilterInput,
  type TransferInput,
} from '../core/records.js';
import type { AccountHistoryEntry, AccountState, TransferState } from '../core/types.js';
import { LookupBatcher, WriteBatcher } from './batcher.js';
import { errors } from '../core/errors.js';
import { Connection } from './connection.js';
import { newIdOnShardOf } from './ids.js';

export interface ConnectOptions {
  /** ws:// or wss:// address of a Tally gateway, e.g. `ws://127.0.0.1:3000`. */
  url: string;
  /** Per-call timeout in ms (also the connect timeout); default clientTimeoutMsDefault. */
  timeoutMs?: number;
}

export interface Client {
  /** One result per account, in input order; `index` is the position in this call. */
  createAccounts(accounts: readonly AccountInput[]): Promise<EventResult[]>;
  /**
   * One result per transfer, in input order. Concurrent calls share frames; more than batchEventsMax
   * transfers go out as consecutive frames split between linked chains, each frame atomic on its own:
   * if a later frame fails, earlier ones may have been applied (retrying with the same ids is safe).
   */
  createTransfers(transfers: readonly TransferInput[]): Promise<EventResult[]>;
  /** Freeze, unfreeze, block, unblock, close: one result per operation, in input order. */
  accountOperations(operations: readonly AccountOperationInput[]): Promise<EventResult[]>;
  /** The accounts found, in the order of `ids` (ids not found are left out). */
  lookupAccounts(ids: readonly bigint[]): Promise<AccountState[]>;
  /** The transfers found, with their state, in the order of `ids` (ids not found are left out). */
  lookupTransfers(ids: readonly bigint[]): Promise<TransferState[]>;
  /**
   * One page (up to `limit`, default historyPageMax) of an account's transfers with its balances after
   * each, oldest first (newest first with `reversed`). Bounds are inclusive timestamps in ns; to page,
   * pass the last entry's `transfer.timestamp + 1n` as the next `timestampMin` (or `− 1n` as the next
   * `timestampMax` when reversed) until a page comes back shorter than `limit`.
   */
  getAccountTransfers(filter: HistoryFilterInput): Promise<AccountHistoryEntry[]>;
  /**
   * The day cut (日切) now: every shard closes its business day and begins the next (or `day`,
   * yyyymmdd), postings go on, and the bookkeeping shard's day report comes back (总分核对, trial
   * balance, transit). Closing a day already closed returns its stored report.
   */
  closeDay(day?: number): Promise<DayReport>;
  /** The stored report of a closed business day, or null. */
  getDayReport(day: number): Promise<DayReport | null>;
  /** An account's balances at the end of a closed business day (null: no such account). */
  getBalanceAtDay(accountId: bigint, day: number): Promise<DayBalances | null>;
  /** Opening balance, entries and closing balance of an account over closed business days fromDay..toDay. */
  getAccountStatement(accountId: bigint, fromDay: number, toDay: number, limit?: number): Promise<AccountStatement | null>;
  /** Subject balances (科目余额) of a ledger at every level of the chart, through a business day (default: all booked). */
  getSubjectBalances(ledger: number, day?: number): Promise<SubjectBalanceRow[]>;
  /** The trial balance (试算平衡) of a ledger through a business day (default: all booked). */
  getTrialBalance(ledger: number, day?: number): Promise<unknown>;
  /** How far the bookkeeping shard has booked each shard's journal. */
  getBookkeepingStatus(): Promise<ShardLag[]>;
  /** Closes the connection; calls still waiting reject with `connection_closed`. */
  close(): Promise<void>;
  /** The server's shard count, read from GET /health when connecting. */
  readonly shardCount: number;
  /**
   * A new time-ordered id that routes to the same shard as `accountId`. Colocated accounts transfer
   * in one local step (the credit is visible at once, not a moment after the reply), and a linked
   * chain on one shard skips the cross-shard vote and commit (a few fsyncs).
   */
  newColocatedId(accountId: bigint): bigint;
}

/** Connects to a gateway. Rejects with `connection_closed` if it cannot, or `timeout` after timeoutMs. */
export async function connect(options: ConnectOptions): Promise<Client> {
  const timeoutMs = checkConnectOptions(options);
  const shardCount = await fetchShardCount(options.url, timeoutMs);
  const connection = await Connection.open(options.url, timeoutMs);
  return new TallyClient(connection, timeoutMs, shardCount);
}

/** GET /health on the gateway's port: `{"status":"ok","shards":N}`. */
async function fetchShardCount(url: string, timeoutMs: number): Promise<number> {
  const healthUrl = new URL('/health', url.replace(/^ws/, 'http'));
  let health: unknown;
  try {
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(timeoutMs) });
    health = await response.json();
  } catch (error) {
    throw errors.connectionClosed(`cannot read ${healthUrl.href}: ${(error as Error).message}`);
  }
  const shards = (health as { shards?: unknown } | null)?.shards;
  if (!Number.isInteger(shards) || (shards as number) < 1) throw errors.connectionClosed(`${healthUrl.href} did not report a shard count`);
  return shards as number;
}

function checkConnectOptions(options: ConnectOptions): number {
  if (typeof options?.url !== 'string' || !/^wss?:\/\/./.test(options.url)) {
    throw new TypeError(`connect: url must be a ws:// or wss:// address, got ${String(options?.url)}`);
  }
  const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > clientTimeoutMsMax) {
    throw new TypeError(`connect: timeoutMs must be an integer in 1..${clientTimeoutMsMax}, got ${String(options.timeoutMs)}`);
  }
  return timeoutMs;
}

class TallyClient implements Client {
  private readonly accounts: WriteBatcher;
  private readonly transfers: WriteBatcher;
  private readonly operations: WriteBatcher;
  private readonly accountLookups: LookupBatcher<AccountState>;
  private readonly transferLookups: LookupBatcher<TransferState>;

  constructor(
    private readonly connection: Connection,
    private readonly timeoutMs: number,
    readonly shardCount: number,
  ) {
    this.accounts = new WriteBatcher(connection, Operation.create_accounts, AccountLayout.flags, timeoutMs);
    this.transfers = new WriteBatcher(connection, Operation.create_transfers, TransferLayout.flags, timeoutMs);
    this.operations = new WriteBatcher(connection, Operation.account_operations, AccountOperationLayout.flags, timeoutMs);
    this.accountLookups = new LookupBatcher(connection, Operation.lookup_accounts, decodeAccountStates, timeoutMs);
    this.transferLookups = new LookupBatcher(connection, Operation.lookup_transfers, decodeTransferStates, timeoutMs);
  }

  newColocatedId(accountId: bigint): bigint {
    return newIdOnShardOf(accountId, this.shardCount);
  }

  // The methods are async so that an encoding TypeError becomes a rejection, like every other failure.
  async createAccounts(accounts: readonly AccountInput[]): Promise<EventResult[]> {
    return this.accounts.submit(encodeAccounts(accounts));
  }

  async createTransfers(transfers: readonly TransferInput[]): Promise<EventResult[]> {
    return this.transfers.submit(encodeTransfers(transfers));
  }

  async accountOperations(operations: readonly AccountOperationInput[]): Promise<EventResult[]> {
    return this.operations.submit(encodeAccountOperations(operations));
  }

  async lookupAccounts(ids: readonly bigint[]): Promise<AccountState[]> {
    return this.accountLookups.submit(ids);
  }

  async lookupTransfers(ids: readonly bigint[]): Promise<TransferState[]> {
    return this.transferLookups.submit(ids);
  }

  async getAccountTransfers(filter: HistoryFilterInput): Promise<AccountHistoryEntry[]> {
    const reply = await this.connection.request(Operation.get_account_transfers, encodeHistoryFilter(filter), this.timeoutMs);
    return decodeHistoryEntries(reply);
  }

  async closeDay(day = 0): Promise<DayReport> {
    const body = day === 0 ? new Uint8Array(0) : encodeDay(day);
    return decodeJson<DayReport>(await this.connection.request(Operation.close_day, body, this.timeoutMs));
  }

  async getDayReport(day: number): Promise<DayReport | null> {
    return decodeJson<DayReport | null>(await this.connection.request(Operation.get_day_report, encodeDay(day), this.timeoutMs));
  }

  async getBalanceAtDay(accountId: bigint, day: number): Promise<DayBalances | null> {
    return decodeBalanceAtDay(await this.connection.request(Operation.get_balance_at_day, encodeBalanceAtDay(accountId, day), this.timeoutMs));
  }

  async getAccountStatement(accountId: bigint, fromDay: number, toDay: number, limit = historyPageMax): Promise<AccountStatement | null> {
    const reply = await this.connection.request(Operation.get_account_statement, encodeStatement(accountId, fromDay, toDay, limit), this.timeoutMs);
    return decodeStatement(accountId, fromDay, toDay, reply);
  }

  async getSubjectBalances(ledger: number, day = 0): Promise<SubjectBalanceRow[]> {
    return decodeJson<SubjectBalanceRow[]>(await this.connection.request(Operation.get_subject_balances, encodeLedgerDay(ledger, day), this.timeoutMs));
  }

  async getTrialBalance(ledger: number, day = 0): Promise<unknown> {
    return decodeJson<unknown>(await this.connection.request(Operation.get_trial_balance, encodeLedgerDay(ledger, day), this.timeoutMs));
  }

  async getBookkeepingStatus(): Promise<ShardLag[]> {
    return decodeJson<ShardLag[]>(await this.connection.request(Operation.get_bookkeeping_status, new Uint8Array(0), this.timeoutMs));
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
