// The typed client: one connection, write calls coalesced per operation, lookups merged by id.
// Every call settles: with its results, or with a TallyError (the gateway's code, `timeout`, `connection_closed`).

import { AccountLayout, AccountOperationLayout, TransferLayout } from '../core/layout.js';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { clientTimeoutMsDefault, clientTimeoutMsMax, healthReplyBytesMax, historyPageMax } from '../core/limits.js';
import type { DayReport } from '../core/books/day-report.js';
import type { ShardLag, SubjectBalanceRow, TrialBalanceReply } from '../core/books/books-replies.js';
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
  decodeAccountQueryPage,
  decodeAccountStates,
  decodeHistoryEntries,
  decodeTransferQueryPage,
  decodeTransferStates,
  encodeAccountOperations,
  encodeAccounts,
  encodeHistoryFilter,
  encodeQueryFilter,
  encodeTransfers,
  type AccountInput,
  type AccountOperationInput,
  type EventResult,
  type HistoryFilterInput,
  type QueryFilterInput,
  type QueryPage,
  type TransferInput,
} from '../core/wire/records.js';
import type { AccountHistoryEntry, AccountState, TransferState } from '../core/types.js';
import { LookupBatcher, WriteBatcher } from './batcher.js';
import { errors } from '../core/errors.js';
import { Connection, type ClientTls } from './connection.js';
import { FailoverLink, type RequestLink } from './failover.js';
import { newIdOnShardOf } from './ids.js';
import type { Adjustment, AdjustmentDetail } from '../core/admin/adjustments.js';
import type { AuditRecord } from '../core/admin/audit-log.js';
import type { SnapshotStatus } from '../core/admin/snapshot-manifest.js';
import {
  decodeAdjustmentDetail,
  encodeAdjustmentId,
  encodeFields,
  encodeSubmitAdjustment,
  type AdjustmentFilter,
  type AdjustmentInput,
  type AdjustmentWithTransfers,
  type AuditLogPage,
} from './admin.js';
import type { ReconBatch, ReconExceptionsPage } from '../core/recon/batches.js';
import {
  checkReconFile,
  encodeReconBatchId,
  encodeReconImport,
  encodeReconUploadChunk,
  reconFileSha256,
  uploadInChunks,
  type ReconBatchesFilter,
  type ReconExceptionsFilter,
  type ReconImportInput,
  type ReconUploadReply,
} from './recon.js';
import type { SettlePreviewReply, SettleRunReply, SettleStatement, SettleStatementPage, SettleStrategyChange } from '../core/wire/settle-bodies.js';
import {
  encodeSettleApproval,
  encodeSettleRejection,
  encodeSettleRunDate,
  encodeSettleStatementQuery,
  encodeSettleStrategiesFilter,
  encodeSettleStrategySubmission,
  gatherStatement,
  settleRunTimeoutMsMin,
  type SettleMerchantsPage,
  type SettleStrategiesFilter,
  type SettleStrategyInput,
} from './settle.js';

/** An account's balances at an instant (Client.getBalances). */
export interface BalancesAt {
  accountId: bigint;
  at: bigint;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  /** The last transfer at or before `at` (null: none yet, the balances are zero). */
  transferId: bigint | null;
}

export interface ConnectOptions {
  /** ws:// or wss:// address of a Tally gateway, e.g. `ws://127.0.0.1:3000`. */
  url?: string;
  /**
   * Replicated mode (issue #15): the gateways of every node (primary and followers), instead of `url`. The client
   * talks to one at a time and follows the primary: a call whose socket closes, or a write answered `not_primary`
   * or `unavailable`, is sent again to the next gateway (to the primary a `not_primary` names) until its timeout.
   * Only writes (their ids make a resend safe: one that posted answers `exists`) and reads are sent again.
   */
  urls?: readonly string[];
  /** Per-call timeout in ms (also the connect timeout); default clientTimeoutMsDefault. */
  timeoutMs?: number;
  /**
   * The API key's secret (`tally keys new`), sent as `Authorization: Bearer <key>` when the socket opens.
   * Needed when the server runs with --keys: without a valid one every call rejects with `unauthenticated`.
   */
  apiKey?: string;
  /** TLS trust for a wss:// server: `ca` (e.g. its self-signed certificate) or `rejectUnauthorized: false`. */
  tls?: ClientTls;
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
  /**
   * Admin scope: lookupAccounts that also finds the accounts the ledger opens itself — transit and suspense
   * accounts (ids whose top 32 bits are all ones), slices of hot-outbound accounts — which lookupAccounts leaves
   * out at any shard count. For operators: a suspense balance to resolve, a transit pair's turnover.
   */
  lookupLedgerAccounts(ids: readonly bigint[]): Promise<AccountState[]>;
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
   * An account's balances as they stood at any instant `at` (ns since the epoch): after every one of its transfers
   * stamped at or before it, read from the history's running balances (one indexed read, never a scan). Null when
   * the account does not exist or was created after `at`. Frozen amounts are not part of the history.
   */
  getBalances(accountId: bigint, options: { at: bigint }): Promise<BalancesAt | null>;
  /**
   * One page of the transfers matching `filter`, in (timestamp, id) order (newest first with `reversed`), with their
   * state as lookupTransfers gives it. Name at least one of accountId, userData128/64/32, ledger or code: each is
   * indexed (a query never scans history); the other fields (flags, status, direction, timestamps) narrow further.
   * `next` is null at the end; otherwise pass it as `after` for the next page. A page may hold fewer rows than
   * `limit` (default 100) and still have a `next`: each call does bounded work.
   */
  queryTransfers(filter: QueryFilterInput): Promise<QueryPage<TransferState>>;
  /** One page of the accounts matching `filter` (ledger, code, userData128/64/32, flags, status), as queryTransfers pages. */
  queryAccounts(filter: QueryFilterInput): Promise<QueryPage<AccountState>>;
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
  getTrialBalance(ledger: number, day?: number): Promise<TrialBalanceReply>;
  /** How far the bookkeeping shard has booked each shard's journal. */
  getBookkeepingStatus(): Promise<ShardLag[]>;
  /**
   * Adjustments (调账, admin scope): submits transfers with a reason for approval by another key. Nothing
   * posts yet; resolves with the pending adjustment (its `id` is what the checker approves).
   */
  submitAdjustment(input: AdjustmentInput): Promise<Adjustment>;
  /**
   * Approves a pending adjustment submitted by another key: its transfers post as one request and the
   * adjustment, now approved, comes back with one result per transfer (refusals included). The maker's
   * own key is refused with `forbidden`.
   */
  approveAdjustment(id: string): Promise<Adjustment>;
  /** Rejects a pending adjustment (its maker may withdraw it the same way); nothing posts. */
  rejectAdjustment(id: string, reason?: string): Promise<Adjustment>;
  /** Adjustments newest first (without transfers), optionally of one status; page with `before`. */
  getAdjustments(filter?: AdjustmentFilter): Promise<Adjustment[]>;
  /** One adjustment with its transfers (and results once approved), or null. */
  getAdjustment(id: string): Promise<AdjustmentWithTransfers | null>;
  /** Audit records (admin actions, refused calls) after record `after`, oldest first. */
  getAuditLog(page?: AuditLogPage): Promise<AuditRecord[]>;
  /**
   * Starts an online snapshot (admin scope) into `out`, an absolute path on the SERVER's machine that is
   * absent or empty; answers at once. Follow it with getSnapshotStatus() until `state` is not 'running'.
   */
  startSnapshot(out: string): Promise<SnapshotStatus>;
  /** The snapshot in progress, or the last one since the server started; null when none ran. */
  getSnapshotStatus(): Promise<SnapshotStatus | null>;
  /**
   * Reconciliation (对账, admin scope): stores bytes `offset`.. of a statement file named by its SHA-256 (`total`
   * bytes in all) on the server. Answers how much of the file the server holds, from offset 0: a chunk that does not
   * continue it is not stored (send again from `received`). The last chunk completes the file if the bytes hash to
   * `sha256` (else body_invalid, and the upload starts over).
   */
  reconUpload(sha256: string, offset: number, total: number, chunk: Uint8Array): Promise<ReconUploadReply>;
  /**
   * Uploads a whole statement file in chunks (reconUpload), going on from what the server already holds of it, and
   * answers its SHA-256 for reconImport. `onProgress` hears the bytes the server holds after each chunk.
   */
  reconUploadFile(bytes: Uint8Array, onProgress?: (sent: number, total: number) => void): Promise<string>;
  /**
   * Imports uploaded files as one batch of a channel: the server checks them, matches them with the ledger's
   * business day and the channel's pending pool, and answers the stored batch (refused, with its problems, when
   * the files do not add up).
   */
  reconImport(input: ReconImportInput): Promise<ReconBatch>;
  /** Reconciliation batches newest first, optionally of one channel; page with `before`. */
  getReconBatches(filter?: ReconBatchesFilter): Promise<ReconBatch[]>;
  /** One reconciliation batch, or null. */
  getReconBatch(id: string): Promise<ReconBatch | null>;
  /** A page of a batch's exceptions; `next` is the `after` of the next page, null at the end. */
  getReconExceptions(filter: ReconExceptionsFilter): Promise<ReconExceptionsPage>;
  /**
   * Settlement (清结算, admin scope): submits a version of a merchant's fee strategy, effective from an instant; it
   * applies once another key approves it (maker–checker). Answers the pending change.
   */
  submitSettleStrategy(input: SettleStrategyInput): Promise<SettleStrategyChange>;
  /** Approves a pending strategy change (a key other than its maker's). */
  approveSettleStrategy(id: string): Promise<SettleStrategyChange>;
  /** Rejects a pending strategy change (its maker may withdraw it the same way). */
  rejectSettleStrategy(id: string, reason?: string): Promise<SettleStrategyChange>;
  /** Strategy changes newest first, optionally of one merchant or status; page with `before`. */
  getSettleStrategies(filter?: SettleStrategiesFilter): Promise<SettleStrategyChange[]>;
  /**
   * What a settlement run on `date` ('YYYY-MM-DD') would do, with the balance check; nothing is posted or stored.
   * Waits at least settleRunTimeoutMsMin (10 minutes) for the reply.
   */
  settlePreview(date: string, page?: SettleMerchantsPage): Promise<SettlePreviewReply>;
  /**
   * Runs settlement for `date` and answers once every transfer is posted (or refused). Waits at least
   * settleRunTimeoutMsMin (10 minutes); a run the client stops waiting for still finishes on the server, and is
   * never sent again by the client (getSettleStatement shows what it did).
   */
  settleRun(date: string, page?: SettleMerchantsPage): Promise<SettleRunReply>;
  /** A merchant's settlement of a run date, or null when the merchant was in no posted run that date. */
  /** The merchant's statement of a run date, every page of lines gathered (null: none). */
  getSettleStatement(merchant: string, date: string, onProgress?: (read: number, total: number) => void): Promise<SettleStatement | null>;
  /** One page of it: every run's summary and up to `limit` lines from `after` (a page's `next`). */
  getSettleStatementPage(merchant: string, date: string, after?: number, limit?: number): Promise<SettleStatementPage | null>;
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
  const access = { apiKey: options.apiKey, tls: options.tls };
  if (options.urls !== undefined) {
    const link = await FailoverLink.open(options.urls, timeoutMs, access);
    const shardCount = await firstShardCount(options.urls, timeoutMs, options.tls);
    return new TallyClient(link, timeoutMs, shardCount);
  }
  const url = options.url!;
  const shardCount = await fetchShardCount(url, timeoutMs, options.tls);
  const connection = await Connection.open(url, timeoutMs, access);
  return new TallyClient(connection, timeoutMs, shardCount);
}

/** The shard count the first gateway of `urls` that answers reports. */
async function firstShardCount(urls: readonly string[], timeoutMs: number, tls: ClientTls | undefined): Promise<number> {
  let last: unknown = null;
  for (const url of urls) {
    try {
      return await fetchShardCount(url, timeoutMs, tls);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

/** GET /health on the gateway's port (open, no key): `{"status":"ok","shards":N}`. */
async function fetchShardCount(url: string, timeoutMs: number, tls: ClientTls | undefined): Promise<number> {
  const healthUrl = new URL('/health', url.replace(/^ws/, 'http'));
  let health: unknown;
  try {
    health = JSON.parse(await getText(healthUrl, timeoutMs, tls));
  } catch (error) {
    throw errors.connectionClosed(`cannot read ${healthUrl.href}: ${(error as Error).message}`);
  }
  const shards = (health as { shards?: unknown } | null)?.shards;
  if (!Number.isInteger(shards) || (shards as number) < 1) throw errors.connectionClosed(`${healthUrl.href} did not report a shard count`);
  return shards as number;
}

/** A GET with node:http(s), which (unlike fetch) takes the same TLS trust options as the WebSocket. */
function getText(url: URL, timeoutMs: number, tls: ClientTls | undefined): Promise<string> {
  const get = url.protocol === 'https:' ? httpsGet : httpGet;
  const options = { signal: AbortSignal.timeout(timeoutMs), ca: tls?.ca, rejectUnauthorized: tls?.rejectUnauthorized ?? true };
  return new Promise((resolve, reject) => {
    const request = get(url, options, (response) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > healthReplyBytesMax) request.destroy(new Error(`reply longer than ${healthReplyBytesMax} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

function checkConnectOptions(options: ConnectOptions): number {
  if (options?.urls !== undefined) {
    if (options.url !== undefined) throw new TypeError('connect: give url or urls, not both');
    if (!Array.isArray(options.urls) || options.urls.length === 0 || options.urls.some((url) => typeof url !== 'string' || !/^wss?:\/\/./.test(url))) {
      throw new TypeError(`connect: urls must be a non-empty list of ws:// or wss:// addresses, got ${JSON.stringify(options.urls)}`);
    }
  } else if (typeof options?.url !== 'string' || !/^wss?:\/\/./.test(options.url)) {
    throw new TypeError(`connect: url must be a ws:// or wss:// address, got ${String(options?.url)}`);
  }
  const timeoutMs = options.timeoutMs ?? clientTimeoutMsDefault;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > clientTimeoutMsMax) {
    throw new TypeError(`connect: timeoutMs must be an integer in 1..${clientTimeoutMsMax}, got ${String(options.timeoutMs)}`);
  }
  // Visible ASCII only: it travels in an HTTP header, where a line break would inject headers of its own.
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]{1,4096}$/.test(options.apiKey))) {
    throw new TypeError('connect: apiKey must be a non-empty string of visible ASCII characters (the secret `tally keys new` printed)');
  }
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) throw new TypeError('connect: tls must be an object { ca?, rejectUnauthorized? }');
  return timeoutMs;
}

class TallyClient implements Client {
  private readonly accounts: WriteBatcher;
  private readonly transfers: WriteBatcher;
  private readonly operations: WriteBatcher;
  private readonly accountLookups: LookupBatcher<AccountState>;
  private readonly transferLookups: LookupBatcher<TransferState>;
  private readonly ledgerAccountLookups: LookupBatcher<AccountState>;

  constructor(
    private readonly connection: RequestLink,
    private readonly timeoutMs: number,
    readonly shardCount: number,
  ) {
    this.accounts = new WriteBatcher(connection, Operation.create_accounts, AccountLayout.flags, timeoutMs);
    this.transfers = new WriteBatcher(connection, Operation.create_transfers, TransferLayout.flags, timeoutMs);
    this.operations = new WriteBatcher(connection, Operation.account_operations, AccountOperationLayout.flags, timeoutMs);
    this.accountLookups = new LookupBatcher(connection, Operation.lookup_accounts, decodeAccountStates, timeoutMs);
    this.transferLookups = new LookupBatcher(connection, Operation.lookup_transfers, decodeTransferStates, timeoutMs);
    this.ledgerAccountLookups = new LookupBatcher(connection, Operation.lookup_ledger_accounts, decodeAccountStates, timeoutMs);
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

  async lookupLedgerAccounts(ids: readonly bigint[]): Promise<AccountState[]> {
    return this.ledgerAccountLookups.submit(ids);
  }

  async lookupTransfers(ids: readonly bigint[]): Promise<TransferState[]> {
    return this.transferLookups.submit(ids);
  }

  async getAccountTransfers(filter: HistoryFilterInput): Promise<AccountHistoryEntry[]> {
    const reply = await this.connection.request(Operation.get_account_transfers, encodeHistoryFilter(filter), this.timeoutMs);
    return decodeHistoryEntries(reply);
  }

  async queryTransfers(filter: QueryFilterInput): Promise<QueryPage<TransferState>> {
    const reply = await this.connection.request(Operation.query_transfers, encodeQueryFilter(filter, 'transfers'), this.timeoutMs);
    return decodeTransferQueryPage(reply);
  }

  async queryAccounts(filter: QueryFilterInput): Promise<QueryPage<AccountState>> {
    const reply = await this.connection.request(Operation.query_accounts, encodeQueryFilter(filter, 'accounts'), this.timeoutMs);
    return decodeAccountQueryPage(reply);
  }

  async getBalances(accountId: bigint, options: { at: bigint }): Promise<BalancesAt | null> {
    const at = options?.at;
    if (typeof at !== 'bigint' || at < 1n || at >= 1n << 64n) throw new TypeError(`getBalances: at must be a bigint timestamp in ns (1..2^64-1), got ${String(at)}`);
    const [account] = await this.lookupAccounts([accountId]);
    if (account === undefined || account.timestamp > at) return null;
    const [last] = await this.getAccountTransfers({ accountId, timestampMax: at, limit: 1, reversed: true });
    if (last === undefined) return { accountId, at, debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, transferId: null };
    return { accountId, at, ...last.balanceAfter, transferId: last.transfer.id };
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

  async getTrialBalance(ledger: number, day = 0): Promise<TrialBalanceReply> {
    return decodeJson<TrialBalanceReply>(await this.connection.request(Operation.get_trial_balance, encodeLedgerDay(ledger, day), this.timeoutMs));
  }

  async getBookkeepingStatus(): Promise<ShardLag[]> {
    return decodeJson<ShardLag[]>(await this.connection.request(Operation.get_bookkeeping_status, new Uint8Array(0), this.timeoutMs));
  }

  async submitAdjustment(input: AdjustmentInput): Promise<Adjustment> {
    return decodeJson<Adjustment>(await this.connection.request(Operation.submit_adjustment, encodeSubmitAdjustment(input), this.timeoutMs));
  }

  async approveAdjustment(id: string): Promise<Adjustment> {
    return decodeJson<Adjustment>(await this.connection.request(Operation.approve_adjustment, encodeAdjustmentId(id), this.timeoutMs));
  }

  async rejectAdjustment(id: string, reason?: string): Promise<Adjustment> {
    return decodeJson<Adjustment>(await this.connection.request(Operation.reject_adjustment, encodeAdjustmentId(id, reason), this.timeoutMs));
  }

  async getAdjustments(filter?: AdjustmentFilter): Promise<Adjustment[]> {
    return decodeJson<Adjustment[]>(await this.connection.request(Operation.get_adjustments, encodeFields(filter), this.timeoutMs));
  }

  async getAdjustment(id: string): Promise<AdjustmentWithTransfers | null> {
    const [found] = decodeJson<AdjustmentDetail[]>(await this.connection.request(Operation.get_adjustments, encodeAdjustmentId(id), this.timeoutMs));
    return found === undefined ? null : decodeAdjustmentDetail(found);
  }

  async getAuditLog(page?: AuditLogPage): Promise<AuditRecord[]> {
    return decodeJson<AuditRecord[]>(await this.connection.request(Operation.get_audit_log, encodeFields(page), this.timeoutMs));
  }

  async startSnapshot(out: string): Promise<SnapshotStatus> {
    if (typeof out !== 'string' || out === '') throw new TypeError(`startSnapshot: out must be a non-empty path, got ${String(out)}`);
    return decodeJson<SnapshotStatus>(await this.connection.request(Operation.start_snapshot, new TextEncoder().encode(JSON.stringify({ out })), this.timeoutMs));
  }

  async getSnapshotStatus(): Promise<SnapshotStatus | null> {
    return decodeJson<SnapshotStatus | null>(await this.connection.request(Operation.get_snapshot_status, new Uint8Array(0), this.timeoutMs));
  }

  async reconUpload(sha256: string, offset: number, total: number, chunk: Uint8Array): Promise<ReconUploadReply> {
    return decodeJson<ReconUploadReply>(await this.connection.request(Operation.recon_upload, encodeReconUploadChunk(sha256, offset, total, chunk), this.timeoutMs));
  }

  async reconUploadFile(bytes: Uint8Array, onProgress?: (sent: number, total: number) => void): Promise<string> {
    checkReconFile(bytes);
    const sha256 = reconFileSha256(bytes);
    await uploadInChunks(bytes, sha256, (offset, chunk) => this.reconUpload(sha256, offset, bytes.byteLength, chunk), onProgress);
    return sha256;
  }

  async reconImport(input: ReconImportInput): Promise<ReconBatch> {
    return decodeJson<ReconBatch>(await this.connection.request(Operation.recon_import, encodeReconImport(input), this.timeoutMs));
  }

  async getReconBatches(filter?: ReconBatchesFilter): Promise<ReconBatch[]> {
    return decodeJson<ReconBatch[]>(await this.connection.request(Operation.get_recon_batches, encodeFields(filter), this.timeoutMs));
  }

  async getReconBatch(id: string): Promise<ReconBatch | null> {
    return decodeJson<ReconBatch | null>(await this.connection.request(Operation.get_recon_batch, encodeReconBatchId(id), this.timeoutMs));
  }

  async getReconExceptions(filter: ReconExceptionsFilter): Promise<ReconExceptionsPage> {
    if (typeof filter !== 'object' || filter === null) throw new TypeError('getReconExceptions: pass { batch, outcome?, after?, limit? }');
    return decodeJson<ReconExceptionsPage>(await this.connection.request(Operation.get_recon_exceptions, encodeFields(filter), this.timeoutMs));
  }

  async submitSettleStrategy(input: SettleStrategyInput): Promise<SettleStrategyChange> {
    return decodeJson<SettleStrategyChange>(await this.connection.request(Operation.submit_settle_strategy, encodeSettleStrategySubmission(input), this.timeoutMs));
  }

  async approveSettleStrategy(id: string): Promise<SettleStrategyChange> {
    return decodeJson<SettleStrategyChange>(await this.connection.request(Operation.approve_settle_strategy, encodeSettleApproval(id), this.timeoutMs));
  }

  async rejectSettleStrategy(id: string, reason?: string): Promise<SettleStrategyChange> {
    return decodeJson<SettleStrategyChange>(await this.connection.request(Operation.reject_settle_strategy, encodeSettleRejection(id, reason), this.timeoutMs));
  }

  async getSettleStrategies(filter?: SettleStrategiesFilter): Promise<SettleStrategyChange[]> {
    return decodeJson<SettleStrategyChange[]>(await this.connection.request(Operation.get_settle_strategies, encodeSettleStrategiesFilter(filter), this.timeoutMs));
  }

  // ConnectOptions has one timeout for every call; a preview or run reads (and a run posts) every item due, so
  // these two wait at least settleRunTimeoutMsMin, and longer when the client was connected with a longer timeout.
  async settlePreview(date: string, page?: SettleMerchantsPage): Promise<SettlePreviewReply> {
    const body = encodeSettleRunDate(date, 'settlePreview', page);
    return decodeJson<SettlePreviewReply>(await this.connection.request(Operation.settle_preview, body, Math.max(this.timeoutMs, settleRunTimeoutMsMin)));
  }

  async settleRun(date: string, page?: SettleMerchantsPage): Promise<SettleRunReply> {
    const body = encodeSettleRunDate(date, 'settleRun', page);
    return decodeJson<SettleRunReply>(await this.connection.request(Operation.settle_run, body, Math.max(this.timeoutMs, settleRunTimeoutMsMin)));
  }

  async getSettleStatementPage(merchant: string, date: string, after = 0, limit?: number): Promise<SettleStatementPage | null> {
    return decodeJson<SettleStatementPage | null>(await this.connection.request(Operation.get_settle_statement, encodeSettleStatementQuery(merchant, date, after, limit), this.timeoutMs));
  }

  getSettleStatement(merchant: string, date: string, onProgress?: (read: number, total: number) => void): Promise<SettleStatement | null> {
    return gatherStatement((after) => this.getSettleStatementPage(merchant, date, after), onProgress);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
