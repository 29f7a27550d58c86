// One shard's business days: the day cut (日切) and the closed days' queries. A cut is one journal entry
// (Ledger.cutDay); once it is durable the closing balances of the day that ended are stored by chunk
// (unchanged chunks are not written again) with the shard's day-close summary, and the cut's reply is that
// summary. Postings go on meanwhile: they belong to the new day. Closed days never change; replay after a
// crash rewrites a closed day whose store write did not finish, from the same journal position. The stored
// closing balances are derived from the journal, so a store write that fails never stops the shard: the day
// stays owed (kept in memory, stored strictly in order) and is written again later.

import { assert } from '../../core/assert.js';
import { BusinessCalendar, isBusinessDay, latestDayToBegin, nextBusinessDay } from '../../core/business-day.js';
import { summarizeClosedDay, type ShardDayClose } from '../../core/books/day-close.js';
import { TallyError, errors, hasErrorCode } from '../../core/errors.js';
import {
  BalanceAtDayLayout,
  HistoryFilterLayout,
  StatementFlags,
  StatementLayout,
  StatementReplyLayout,
  idBytes,
} from '../../core/layout.js';
import type { ClosedDay, Ledger } from '../../core/posting/ledger.js';
import { historyPageMax } from '../../core/limits.js';
import { Operation } from '../../core/operations.js';
import { isDerivedIdAt } from '../../core/posting/validate.js';
import { viewOf } from '../../core/u128.js';
import { retryWithBackoff } from '../storage/storage-health.js';

/** What the day book needs of the shard's store (JournalStore satisfies it). */
export interface DayStore {
  isDayClosed(day: number): boolean;
  writeClosedDay(day: number, cutSeq: number, balances: BigUint64Array, previous: BigUint64Array | null, summary: string): Promise<number>;
  closingAt(slot: number, day: number): BigUint64Array | null;
  daySummary(day: number): string | undefined;
}

export interface DayCutPlan {
  /** The cut's journal entry, or null when the shard already began that day (a retried command). */
  entry: { seq: number; entry: Uint8Array } | null;
  /**
   * Runs once the entry is durable: stores the closing balances and answers the summary (JSON bytes). A store
   * write that fails does not fail the cut (the journal holds it): the day stays owed (storeOwedLater).
   */
  afterDurable: () => Promise<Uint8Array>;
}

/** A closed day whose closing balances and summary are not stored yet. */
interface OwedDay {
  closed: ClosedDay;
  summary: string;
  /** Closing balances of the closed day before it, stored by the time this one is: only chunks that differ are written. */
  previous: BigUint64Array | null;
}

/** How a shard retries owed closed days (storeOwedLater); without it they wait for the next cut or start. */
export interface OwedDaysRetry {
  shardIndex: number;
  /** Why the store may not be written now (its disk under the free-space reserve), or null. */
  lowSpace: () => TallyError | null;
  /** True once the shard stops: no further try starts. */
  stopped: () => boolean;
  /** Anything but a storage failure is a programmer error: the shard stops, as anywhere else. */
  fail: (error: unknown) => void;
  /** One JSON log line. */
  log: (line: string) => void;
}

const encoder = new TextEncoder();

export class DayBook {
  readonly #ledger: Ledger;
  readonly #store: DayStore;
  readonly #calendar: BusinessCalendar;
  readonly #retry: OwedDaysRetry | null;
  /** True while storeOwedLater's tries run: one loop at a time. */
  #retrying = false;
  /** Closing balances of the last closed day (stored or owed): what the next closed day is compared with. */
  #closedLast: BigUint64Array | null = null;
  /** Closed days not stored yet, oldest first: stored strictly in that order (each is compared with the one before). */
  readonly #owed: OwedDay[] = [];
  /** The store write in flight (of #owed[0]), shared by every caller that waits for the owed days. */
  #storing: Promise<void> | null = null;

  constructor(ledger: Ledger, store: DayStore, calendar: BusinessCalendar, retry: OwedDaysRetry | null = null) {
    this.#ledger = ledger;
    this.#store = store;
    this.#calendar = calendar;
    this.#retry = retry;
  }

  /**
   * After replay: owes the store every replayed closed day whose write a crash interrupted (or left without a
   * summary), and stores them. Rejects storage_failed when a write fails; the days stay owed, and the next
   * call (or storeOwed) resumes at the day that failed.
   */
  async recover(): Promise<number> {
    for (const closed of this.#ledger.takeClosedDays()) {
      // A day closed without a readable summary was damaged by an earlier version (its summary write failed
      // and a retry stored another value): written again, with the same bytes the journal gives.
      if (this.#store.isDayClosed(closed.day) && this.#store.daySummary(closed.day) !== undefined) this.#closedLast = closed.balances;
      else this.#owe(closed);
    }
    return this.storeOwed();
  }

  /** Closed days whose closing balances are not stored yet. */
  get owedDays(): number {
    return this.#owed.length;
  }

  /**
   * After a store write failed (`error`): stores the owed days after growing waits (storage-health.ts) until
   * none is left, beside the postings, never while the disk is under its reserve. One error line when it
   * begins and one info line when done, however many tries: a write that keeps failing floods nothing.
   */
  storeOwedLater(error: TallyError): void {
    const retry = this.#retry;
    if (retry === null || this.#retrying) return;
    this.#retrying = true;
    const log = (level: string, msg: string, fields: Record<string, unknown>): void => retry.log(JSON.stringify({ level, msg, shard: retry.shardIndex, ...fields }));
    log('error', 'closing balances of a closed day could not be stored; the shard retries, postings go on', { owedDays: this.#owed.length, error: error.message });
    let failures = 0;
    const attempt = async (): Promise<void> => {
      const low = retry.lowSpace();
      if (low !== null) throw low;
      await this.storeOwed();
    };
    const onFailure = (failed: unknown): void => {
      failures++;
      if (!hasErrorCode(failed, 'storage_failed')) retry.fail(failed);
    };
    void retryWithBackoff(attempt, { attemptsBefore: 0, onFailure, stopped: retry.stopped }).then((done) => {
      this.#retrying = false;
      if (done) log('info', 'closing balances stored', { failedTries: failures });
    });
  }

  /**
   * Stores every owed closed day, oldest first, one write at a time; resolves with how many this call saw
   * stored. Rejects storage_failed at the first write that fails (it and every later day stay owed).
   */
  async storeOwed(): Promise<number> {
    let stored = 0;
    while (this.#owed.length > 0) {
      this.#storing ??= this.#storeOldest().finally(() => (this.#storing = null));
      await this.#storing;
      stored++;
    }
    return stored;
  }

  /**
   * The first business day of a new store (by the calendar), or null once one has begun. Later cuts are
   * the shard set's to order (scheduled or commanded), so that all shards cut together and every closed
   * day gets its report.
   */
  openingDay(nowNs: bigint): number | null {
    return this.#ledger.businessDay === 0 ? this.#calendar.dayOf(nowNs) : null;
  }

  /**
   * Plans the cut that begins `day` (0: the day after the current one). A day must be a real date; one the
   * shard has begun already answers the stored summary (a retried command); a later one may lie at most a
   * day past both the current day and the calendar's (latestDayToBegin) — unless the shard `follows` a cut
   * the first shard made, whose day it takes as it is. Refused days (body_invalid) change nothing.
   */
  cut(day: number, nowNs: bigint, follows = false): DayCutPlan {
    const current = this.#ledger.businessDay;
    const target = day === 0 ? this.#dayAfterCurrent(nowNs) : day;
    if (!isBusinessDay(target)) throw errors.bodyInvalid(`day ${target} is not a business day: a real date written yyyymmdd, years 1900–9999`);
    if (target <= current) {
      // Already cut (by the schedule, or a retried command): answer the summary of the day that ended before `target`.
      return { entry: null, afterDurable: () => Promise.resolve(this.#summaryBefore(target)) };
    }
    if (!follows && day !== 0) {
      const latest = latestDayToBegin(current, this.#calendar.dayOf(nowNs));
      if (target > latest) throw errors.bodyInvalid(`day ${target} is too far ahead: the current business day is ${current}, so the latest day a cut may begin now is ${latest}`);
    }
    const entry = this.#ledger.cutDay(target, nowNs);
    const closed = this.#ledger.takeClosedDays();
    assert(closed.length === 1, 'a cut closes exactly one day');
    return { entry, afterDurable: () => this.#afterCut(closed[0]!) };
  }

  isQuery(operation: number): boolean {
    return operation === DayQuery.balanceAtDay || operation === DayQuery.statement;
  }

  query(operation: number, body: Uint8Array): Uint8Array {
    if (operation === DayQuery.balanceAtDay) return this.#balanceAtDay(body);
    if (operation === DayQuery.statement) return this.#statement(body);
    throw errors.operationUnknown(operation);
  }

  /** Once the cut is durable: owes its day, stores what is owed, answers the day's summary (stored or not). */
  async #afterCut(closed: ClosedDay): Promise<Uint8Array> {
    const owed = this.#owe(closed);
    try {
      await this.storeOwed();
    } catch (error) {
      if (!hasErrorCode(error, 'storage_failed')) throw error;
      // The cut stands (it is journaled, and replay derives the same closing balances): report and retry later.
      this.storeOwedLater(error);
    }
    return encoder.encode(owed.summary);
  }

  #owe(closed: ClosedDay): OwedDay {
    const last = this.#owed.at(-1);
    assert(last === undefined || last.closed.cutSeq < closed.cutSeq, 'closed days are owed in cut order');
    const summary = JSON.stringify(summarizeClosedDay(this.#ledger.state, closed) satisfies ShardDayClose);
    const owed = { closed, summary, previous: this.#closedLast };
    this.#closedLast = closed.balances;
    this.#owed.push(owed);
    return owed;
  }

  async #storeOldest(): Promise<void> {
    const { closed, summary, previous } = this.#owed[0]!;
    await this.#store.writeClosedDay(closed.day, closed.cutSeq, closed.balances, previous, summary);
    assert(this.#owed[0]?.closed === closed, 'owed days are stored in order, one at a time');
    this.#owed.shift();
  }

  /** The day after the current one; a store's first day is the calendar's. */
  #dayAfterCurrent(nowNs: bigint): number {
    const current = this.#ledger.businessDay;
    if (current === 0) return this.#calendar.dayOf(nowNs);
    if (!isBusinessDay(current) || current >= 99991231) throw errors.bodyInvalid(`the current business day ${current} has no next day: name the day to begin`);
    return nextBusinessDay(current);
  }

  #summaryBefore(day: number): Uint8Array {
    const cuts = this.#ledger.dayCuts;
    const index = cuts.findIndex((c) => c.day >= day);
    // The day that ended at the cut which began `day` (or the first later one).
    const ended = index <= 0 ? 0 : cuts[index - 1]!.day;
    const owed = this.#owed.find((o) => o.closed.day === ended);
    const summary = owed?.summary ?? this.#store.daySummary(ended);
    if (summary === undefined) throw errors.bodyInvalid(`day ${ended} has no stored close on shard ${this.#ledger.state.shardIndex} yet`);
    return encoder.encode(summary);
  }

  #closedThrough(): number {
    const cuts = this.#ledger.dayCuts;
    return cuts.length < 2 ? 0 : cuts[cuts.length - 2]!.day;
  }

  #slotOf(body: Uint8Array, expectedBytes: number, what: string): { view: DataView; slot: number } {
    if (body.byteLength !== expectedBytes) throw errors.bodyInvalid(`${what} takes a ${expectedBytes}-byte body, got ${body.byteLength}`);
    const view = viewOf(body);
    // The ledger's own accounts answer as unknown ones, as lookups do (core/posting/queries.ts).
    return { view, slot: isDerivedIdAt(view, 0) ? -1 : this.#ledger.state.accounts.slotAt(view, 0) };
  }

  /** A query's day must be closed, and its closing balances stored (a later write must not answer for it). */
  #checkClosed(day: number): void {
    const closedThrough = this.#closedThrough();
    if (day > closedThrough) throw errors.bodyInvalid(`business day ${day} is not closed yet (last closed: ${closedThrough})`);
    const owed = this.#owed[0];
    if (owed !== undefined && day >= owed.closed.day) {
      throw errors.storageFailed(`shard ${this.#ledger.state.shardIndex}: the closing balances of day ${owed.closed.day} are not stored yet; the shard retries the write`);
    }
  }

  #balanceAtDay(body: Uint8Array): Uint8Array {
    const { view, slot } = this.#slotOf(body, BalanceAtDayLayout.bytes, 'balance at day');
    const day = view.getUint32(BalanceAtDayLayout.day, true);
    this.#checkClosed(day);
    if (slot < 0) return new Uint8Array(0);
    const closing = this.#store.closingAt(slot, day) ?? new BigUint64Array(5);
    return new Uint8Array(closing.buffer.slice(0, 40));
  }

  #statement(body: Uint8Array): Uint8Array {
    const { view, slot } = this.#slotOf(body, StatementLayout.bytes, 'statement');
    const fromDay = view.getUint32(StatementLayout.fromDay, true);
    const toDay = view.getUint32(StatementLayout.toDay, true);
    const limit = view.getUint32(StatementLayout.limit, true);
    if (fromDay > toDay) throw errors.bodyInvalid(`statement from day ${fromDay} is after to day ${toDay}`);
    if (limit < 1 || limit > historyPageMax) throw errors.bodyInvalid(`statement limit must be 1..${historyPageMax}, got ${limit}`);
    this.#checkClosed(toDay);
    if (slot < 0) return new Uint8Array(0);
    // Opening = the closing of the day before: the latest stored at or below fromDay − 1 (yyyymmdd keys sort
    // as days do, so 20260100 finds 20251231). Day 0 (before the first cut) opens with nothing.
    const opening = (fromDay === 0 ? null : this.#store.closingAt(slot, fromDay - 1)) ?? new BigUint64Array(5);
    const closing = this.#store.closingAt(slot, toDay) ?? new BigUint64Array(5);
    const { fromNs, toNs } = this.#window(fromDay, toDay);
    const filter = new Uint8Array(HistoryFilterLayout.bytes);
    const filterView = viewOf(filter);
    filter.set(body.subarray(0, idBytes), HistoryFilterLayout.accountId);
    filterView.setBigUint64(HistoryFilterLayout.timestampMin, fromNs, true);
    filterView.setBigUint64(HistoryFilterLayout.timestampMax, toNs, true);
    filterView.setUint32(HistoryFilterLayout.limit, limit, true);
    const entries = this.#ledger.query(Operation.get_account_transfers, filter);
    const count = entries.byteLength / 160;
    const reply = new Uint8Array(StatementReplyLayout.bytes + entries.byteLength);
    const out = viewOf(reply);
    for (let w = 0; w < 4; w++) {
      out.setBigUint64(StatementReplyLayout.opening + w * 8, opening[w]!, true);
      out.setBigUint64(StatementReplyLayout.closing + w * 8, closing[w]!, true);
    }
    out.setUint32(StatementReplyLayout.count, count, true);
    // A full page may not be the whole statement: the caller pages on with a later from-timestamp (history).
    out.setUint32(StatementReplyLayout.flags, count === limit ? StatementFlags.truncated : 0, true);
    reply.set(entries, StatementReplyLayout.bytes);
    return reply;
  }

  /** The timestamps strictly between the cut that began `fromDay` (or the first later day) and the cut that ended `toDay`. */
  #window(fromDay: number, toDay: number): { fromNs: bigint; toNs: bigint } {
    const cuts = this.#ledger.dayCuts;
    const begin = cuts.find((c) => c.day >= fromDay);
    const end = cuts.find((c) => c.day > toDay);
    assert(end !== undefined, 'a closed day has a cut after it');
    return { fromNs: begin === undefined || begin.timestamp >= end.timestamp ? end.timestamp : begin.timestamp + 1n, toNs: end.timestamp - 1n };
  }
}

/** Read tasks the day book answers (numbered among the shard controls). */
export const DayQuery = {
  balanceAtDay: 30,
  statement: 31,
} as const;

