// One shard's business days: the day cut (日切) and the closed days' queries. A cut is one journal entry
// (Ledger.cutDay); once it is durable the closing balances of the day that ended are stored by chunk
// (unchanged chunks are not written again) with the shard's day-close summary, and the cut's reply is that
// summary. Postings go on meanwhile: they belong to the new day. Closed days never change; replay after a
// crash rewrites a closed day whose store write did not finish, from the same journal position.

import { assert } from '../core/assert.js';
import { BusinessCalendar, nextBusinessDay } from '../core/business-day.js';
import { summarizeClosedDay, type ShardDayClose } from '../core/day-close.js';
import { errors } from '../core/errors.js';
import {
  BalanceAtDayLayout,
  HistoryFilterLayout as F,
  StatementFlags,
  StatementLayout,
  StatementReplyLayout,
  idBytes,
} from '../core/layout.js';
import type { ClosedDay, Ledger } from '../core/ledger.js';
import { historyPageMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import { viewOf } from '../core/u128.js';

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
  /** Runs once the entry is durable: stores the closing balances and answers the summary (JSON bytes). */
  afterDurable: () => Promise<Uint8Array>;
}


const encoder = new TextEncoder();

export class DayBook {
  readonly #ledger: Ledger;
  readonly #store: DayStore;
  readonly #calendar: BusinessCalendar;
  /** Closing balances of the last closed day: the next cut writes only the chunks that changed since. */
  #closingLast: BigUint64Array | null = null;
  /** Closed days taken from the ledger whose balances recover() has not stored yet (a write failed: retried in order). */
  readonly #unstored: ClosedDay[] = [];

  constructor(ledger: Ledger, store: DayStore, calendar: BusinessCalendar) {
    this.#ledger = ledger;
    this.#store = store;
    this.#calendar = calendar;
  }

  /**
   * After replay: stores any closed day whose write a crash interrupted. Returns how many it wrote. After a
   * failed write (a full disk) call it again: it resumes at the day that failed.
   */
  async recover(): Promise<number> {
    this.#unstored.push(...this.#ledger.takeClosedDays());
    let written = 0;
    while (this.#unstored.length > 0) {
      const closed = this.#unstored[0]!;
      if (this.#store.isDayClosed(closed.day)) this.#closingLast = closed.balances;
      else {
        await this.#write(closed);
        written++;
      }
      this.#unstored.shift();
    }
    return written;
  }

  /**
   * The first business day of a new store (by the calendar), or null once one has begun. Later cuts are
   * the shard set's to order (scheduled or commanded), so that all shards cut together and every closed
   * day gets its report.
   */
  openingDay(nowNs: bigint): number | null {
    return this.#ledger.businessDay === 0 ? this.#calendar.dayOf(nowNs) : null;
  }

  /** Plans the cut that begins `day` (0: the day after the current one). */
  cut(day: number, nowNs: bigint): DayCutPlan {
    const current = this.#ledger.businessDay;
    const target = day === 0 ? (current === 0 ? this.#calendar.dayOf(nowNs) : nextBusinessDay(current)) : day;
    if (target <= current) {
      // Already cut (by the schedule, or a retried command): answer the summary of the day that ended before `target`.
      return { entry: null, afterDurable: () => Promise.resolve(this.#summaryBefore(target)) };
    }
    const entry = this.#ledger.cutDay(target, nowNs);
    const closed = this.#ledger.takeClosedDays();
    assert(closed.length === 1, 'a cut closes exactly one day');
    return {
      entry,
      afterDurable: async () => encoder.encode(await this.#write(closed[0]!)),
    };
  }

  isQuery(operation: number): boolean {
    return operation === DayQuery.balanceAtDay || operation === DayQuery.statement;
  }

  query(operation: number, body: Uint8Array): Uint8Array {
    if (operation === DayQuery.balanceAtDay) return this.#balanceAtDay(body);
    if (operation === DayQuery.statement) return this.#statement(body);
    throw errors.operationUnknown(operation);
  }

  async #write(closed: ClosedDay): Promise<string> {
    const summary = JSON.stringify(summarizeClosedDay(this.#ledger.state, closed) satisfies ShardDayClose);
    const previous = this.#closingLast;
    this.#closingLast = closed.balances;
    try {
      await this.#store.writeClosedDay(closed.day, closed.cutSeq, closed.balances, previous, summary);
    } catch (error) {
      this.#closingLast = previous; // a retry compares with the day before again, or it would skip chunks it never wrote
      throw error;
    }
    return summary;
  }

  #summaryBefore(day: number): Uint8Array {
    const cuts = this.#ledger.dayCuts;
    const index = cuts.findIndex((c) => c.day >= day);
    // The day that ended at the cut which began `day` (or the first later one).
    const ended = index <= 0 ? 0 : cuts[index - 1]!.day;
    const summary = this.#store.daySummary(ended);
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
    return { view, slot: this.#ledger.state.accounts.slotAt(view, 0) };
  }

  #checkClosed(day: number): void {
    const closedThrough = this.#closedThrough();
    if (day > closedThrough) throw errors.bodyInvalid(`business day ${day} is not closed yet (last closed: ${closedThrough})`);
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
    const opening = this.#store.closingAt(slot, fromDay - 1) ?? new BigUint64Array(5);
    const closing = this.#store.closingAt(slot, toDay) ?? new BigUint64Array(5);
    const { fromNs, toNs } = this.#window(fromDay, toDay);
    const filter = new Uint8Array(F.bytes);
    const filterView = viewOf(filter);
    filter.set(body.subarray(0, idBytes), F.accountId);
    filterView.setBigUint64(F.timestampMin, fromNs, true);
    filterView.setBigUint64(F.timestampMax, toNs, true);
    filterView.setUint32(F.limit, limit, true);
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

