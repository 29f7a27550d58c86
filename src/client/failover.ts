// A client of a replicated ledger (issue #15) given several gateways: it talks to one at a time and follows the
// primary. A request whose socket closes (the node died), or a write answered `not_primary` or `unavailable` (a
// follower, a node stepping down or changing roles), goes again to the next gateway — to the primary a
// `not_primary` names when it names one — until the call's timeout. Only what is safe to send twice is sent
// again: writes carry the caller's ids (a resend of a transfer that posted answers `exists`), and reads change
// nothing. Adjustments, day closes, snapshots and reconciliation's uploads and imports are not resent: their outcome
// is reported as it came.

import { TallyError, errors } from '../core/errors.js';
import { Operation, isWriteOperation } from '../core/operations.js';
import { Connection, type ConnectionAccess } from './connection.js';

/** Between two tries when every gateway refused (a takeover takes a few seconds). */
const retryPauseMs = 100;

/** What the client needs of its link to the ledger (Connection is one). */
export interface RequestLink {
  request(operation: number, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

const reads = new Set<number>([
  Operation.lookup_accounts,
  Operation.lookup_transfers,
  Operation.get_account_transfers,
  Operation.query_transfers,
  Operation.query_accounts,
  Operation.get_day_report,
  Operation.get_balance_at_day,
  Operation.get_account_statement,
  Operation.get_subject_balances,
  Operation.get_trial_balance,
  Operation.get_bookkeeping_status,
  Operation.get_adjustments,
  Operation.get_audit_log,
  Operation.get_snapshot_status,
  Operation.lookup_ledger_accounts,
  Operation.get_recon_batches,
  Operation.get_recon_batch,
  Operation.get_recon_exceptions,
  Operation.get_settle_strategies,
  Operation.settle_preview,
  Operation.get_settle_statement,
]);

export class FailoverLink implements RequestLink {
  readonly #urls: readonly string[];
  readonly #access: ConnectionAccess;
  readonly #connectTimeoutMs: number;
  #at = 0;
  #current: Promise<Connection> | null = null;
  #closed = false;

  private constructor(urls: readonly string[], access: ConnectionAccess, connectTimeoutMs: number, first: Connection, at: number) {
    this.#urls = urls;
    this.#access = access;
    this.#connectTimeoutMs = connectTimeoutMs;
    this.#at = at;
    this.#current = Promise.resolve(first);
  }

  /** Connects to the first gateway of `urls` that answers (in order). */
  static async open(urls: readonly string[], connectTimeoutMs: number, access: ConnectionAccess): Promise<FailoverLink> {
    let last: unknown = null;
    for (let at = 0; at < urls.length; at++) {
      try {
        return new FailoverLink(urls, access, connectTimeoutMs, await Connection.open(urls[at]!, connectTimeoutMs, access), at);
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof TallyError ? last : errors.connectionClosed(`cannot connect to any of ${urls.join(', ')}`);
  }

  async request(operation: number, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    const resendable = isWriteOperation(operation) || reads.has(operation);
    for (;;) {
      const left = Math.max(1, Math.round(deadline - performance.now()));
      let connection: Connection;
      try {
        connection = await this.#connection(left);
      } catch (error) {
        if (this.#closed || performance.now() >= deadline) throw error;
        await this.#next(null);
        await pause(Math.min(retryPauseMs, deadline - performance.now()));
        continue;
      }
      try {
        return await connection.request(operation, body, left);
      } catch (error) {
        if (this.#closed || !resendable || !(error instanceof TallyError) || performance.now() >= deadline) throw error;
        if (error.code === 'connection_closed') {
          await this.#next(null);
          continue;
        }
        if (isWriteOperation(operation) && (error.code === 'not_primary' || error.code === 'unavailable')) {
          await this.#next(error.code === 'not_primary' ? primaryNamedIn(error.message) : null);
          await pause(Math.min(retryPauseMs, deadline - performance.now()));
          continue;
        }
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = await this.#current?.catch(() => null);
    this.#current = null;
    await current?.close();
  }

  #connection(timeoutMs: number): Promise<Connection> {
    if (this.#closed) return Promise.reject(errors.connectionClosed('closed by the client'));
    this.#current ??= Connection.open(this.#urls[this.#at]!, Math.min(timeoutMs, this.#connectTimeoutMs), this.#access);
    const current = this.#current;
    // A failed attempt is forgotten, so that the next call dials again.
    current.catch(() => {
      if (this.#current === current) this.#current = null;
    });
    return current;
  }

  /** Moves to `url` when it is one of ours, else to the next gateway; the old socket is closed. */
  async #next(url: string | null): Promise<void> {
    const old = this.#current;
    this.#current = null;
    const named = url === null ? -1 : this.#urls.indexOf(url);
    this.#at = named >= 0 && named !== this.#at ? named : (this.#at + 1) % this.#urls.length;
    const connection = await old?.catch(() => null);
    await connection?.close().catch(() => {});
  }
}

/** The gateway URL a not_primary message names (`… (ws://host:port)`), or null. */
function primaryNamedIn(message: string): string | null {
  return /\((wss?:\/\/[^\s)]+)\)/.exec(message)?.[1] ?? null;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
