// Business days across the shards (日切): the cut on every shard in order, the transit it leaves between
// shards, the day report the bookkeeping shard builds from them, and the timer that closes each day at the
// calendar's cut. Postings go on throughout: a cut is one journal entry in each shard's arrival order.
// A cut runs one at a time with snapshot barriers (OneAtATime), so it never straddles a snapshot's cut.

import { assert } from '../../core/assert.js';
import type { BusinessCalendar } from '../../core/business-day.js';
import type { ShardDayClose } from '../../core/books/day-close.js';
import type { InFlightAmount } from '../../core/books/day-report.js';
import { errors, hasErrorCode } from '../../core/errors.js';
import type { QuietInstant } from './quiet-instant.js';
import type { BookkeepingHost } from '../bookkeeping/bookkeeping-host.js';
import type { TransitRelay } from '../relay/transit-relay.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl, cutDayBody } from '../shard/shard-messages.js';
import type { OneAtATime } from './one-at-a-time.js';
import type { Shutdown } from './shutdown.js';

/** Longest the day scheduler sleeps before looking at the clock again. */
const dayScheduleRecheckMsMax = 3_600_000;

/** Reconcile rounds a day cut waits for the relay to hold every instruction issued before it (each fetches up to a delivery's worth per pair). */
const dayCutReconcileRoundsMax = 1000;

/** The last closed day and whether its report passed; failed reports since start (a signal for monitoring). */
export interface DaysStatus {
  lastClosedDay: number;
  lastReportPassed: boolean | null;
  failedReports: number;
}

export class DayClosing {
  readonly #hosts: readonly ShardHost[];
  readonly #transit: Pick<TransitRelay, 'pause' | 'resume' | 'reconcile' | 'queuedThrough' | 'inFlightAt'>;
  /** Makes the quiet instant the cut is taken at (quiet-instant.ts). */
  readonly #quiet: QuietInstant;
  readonly #bookkeeping: Pick<BookkeepingHost, 'dayReport'>;
  /** Shared with the snapshot barrier: a cut never straddles a snapshot's cut. */
  readonly #oneAtATime: OneAtATime;
  readonly #shutdown: Pick<Shutdown, 'begun'>;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The last day report this process produced or read back, and how many failed since start. */
  #status: DaysStatus = { lastClosedDay: 0, lastReportPassed: null, failedReports: 0 };

  constructor(
    hosts: readonly ShardHost[],
    transit: Pick<TransitRelay, 'pause' | 'resume' | 'reconcile' | 'queuedThrough' | 'inFlightAt'>,
    bookkeeping: Pick<BookkeepingHost, 'dayReport'>,
    oneAtATime: OneAtATime,
    shutdown: Pick<Shutdown, 'begun'>,
    quiet: QuietInstant,
  ) {
    assert(hosts.length >= 1, 'a shard set has a shard');
    this.#hosts = hosts;
    this.#transit = transit;
    this.#bookkeeping = bookkeeping;
    this.#oneAtATime = oneAtATime;
    this.#shutdown = shutdown;
    this.#quiet = quiet;
  }

  /**
   * The day cut on every shard (日切): shard 0 begins the next business day (or `day`), then every other
   * shard begins the same day. Each answers the summary of the day that ended (idempotent: a retry or a
   * shard already past the day answers the stored summary). Postings go on throughout.
   */
  async cutDay(day = 0): Promise<ShardDayClose[]> {
    if (this.#shutdown.begun) throw errors.shuttingDown();
    const [firstHost, ...otherHosts] = this.#hosts;
    const first = parseDayClose(await firstHost!.runInternal(ShardControl.cutDay, cutDayBody(day, false), true));
    // The others take the day shard 0 began as it is: shard 0 checked it against the calendar and its day.
    const rest = await Promise.all(otherHosts.map((host) => this.#follow(host, first)));
    const closes = [first, ...rest.map(parseDayClose)];
    assert(closes.length === this.#hosts.length, 'one day close per shard');
    return closes;
  }

  /**
   * A shard other than 0 cuts to the day shard 0 began. Shard 0 always cuts first, so a crash (or a failed
   * follower) can leave a shard one cut behind it — never more, since every later cut brings the followers
   * to the day shard 0 ended first. That missed cut is made first (the day shard 0 just closed begins on the
   * follower too; a follower already there answers its stored summary), so every shard closes the same day.
   */
  async #follow(host: ShardHost, first: ShardDayClose): Promise<Uint8Array> {
    if (first.day !== 0) {
      await host.runInternal(ShardControl.cutDay, cutDayBody(first.day, true), true).catch((error: unknown) => {
        // A follower already at the day whose summary is not readable is where it must be: the cut below decides.
        if (!hasErrorCode(error, 'body_invalid')) throw error;
      });
    }
    return host.runInternal(ShardControl.cutDay, cutDayBody(first.dayBegun, true), true);
  }

  /**
   * The day cut at a quiet instant: transfer requests wait (RequestRouting.quiet) until those in flight are
   * answered and their credits have landed, then every shard cuts, then they go on. Account operations and
   * reads go on throughout.
   */
  async closeDay(day = 0): Promise<{ closes: ShardDayClose[]; inFlight: InFlightAmount[] }> {
    // Where nothing is between shards (issue #14): every shard closes the day with what one shard would hold; past
    // the quiet instant's bound the cut goes ahead and reports what was in flight.
    return this.#quiet('day cut', () => this.#cutWithTransit(day));
  }

  /**
   * The cut with whatever transit is left (nothing, after a quiet instant): deliveries pause (receivers' marks
   * stand still), every shard cuts, the relay fetches every instruction issued before the cuts, and the money
   * still between shards at the cut is summed per ledger and pair; then deliveries resume.
   */
  async #cutWithTransit(day: number): Promise<{ closes: ShardDayClose[]; inFlight: InFlightAmount[] }> {
    await this.#transit.pause();
    try {
      const closes = await this.cutDay(day);
      const issued = closes.map((close) => Float64Array.from(close.transitIssued));
      const applied = closes.map((close) => Float64Array.from(close.transitApplied));
      for (let round = 0; !this.#relayHolds(issued); round++) {
        if (round >= dayCutReconcileRoundsMax) throw errors.shardUnavailable(0, 'transit instructions issued before the cut could not all be fetched');
        await this.#transit.reconcile();
      }
      return { closes, inFlight: this.#transit.inFlightAt(issued, applied) };
    } finally {
      this.#transit.resume();
    }
  }

  /**
   * Closes the business day everywhere and returns its day report (JSON text, core/books/day-report.ts): the
   * cut on every shard, then the bookkeeping shard's checks once it has booked every shard through its
   * cut. A report is stored once and never changes; closing an already closed day returns it.
   */
  async closeDayReport(day = 0): Promise<string> {
    // Only the cut itself excludes a snapshot barrier: the report is built from what the cut stored, and
    // waits for the bookkeeper, which may take long (a restored directory rebuilds a missing report at start).
    const { closes, inFlight } = await this.#oneAtATime.run(() => this.closeDay(day));
    const text = await this.#bookkeeping.dayReport(closes, inFlight);
    const report = JSON.parse(text) as { day: number; passed: boolean };
    if (report.day >= this.#status.lastClosedDay) this.#status = { ...this.#status, lastClosedDay: report.day, lastReportPassed: report.passed };
    if (!report.passed) this.#status.failedReports++;
    return text;
  }

  /** The last closed day and whether its report passed; failed reports since start. */
  status(): DaysStatus {
    return { ...this.#status };
  }

  /**
   * Cuts every business day at the calendar's cut instant (and at once when the shards' day is behind the
   * calendar, e.g. after the server was down over a cut), producing and logging each day's report.
   */
  schedule(calendar: BusinessCalendar, log: (line: string) => void = (line) => console.error(line)): void {
    const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
    const failed = (what: string) => (error: unknown): void => {
      if (!this.#shutdown.begun) log(JSON.stringify({ level: 'error', msg: what, error: String(error) })); // a cut cut short by shutdown is retried at the next start
    };
    const cut = async (): Promise<void> => {
      const text = await this.closeDayReport(calendar.dayOf(nowNs()));
      const report = JSON.parse(text) as { day: number; passed: boolean; failures: string[] };
      log(JSON.stringify({ level: report.passed ? 'info' : 'error', msg: 'day closed', day: report.day, passed: report.passed, failures: report.failures }));
    };
    const arm = (): void => {
      if (this.#shutdown.begun) return;
      const untilNextMs = Number((calendar.nextCutAfterNs(nowNs()) - nowNs()) / 1_000_000n) + 1;
      // Re-armed at least hourly: a timer is not a clock (sleep, clock steps).
      this.#timer = setTimeout(() => {
        void cut().catch(failed('scheduled day cut failed')).finally(arm);
      }, Math.min(untilNextMs, dayScheduleRecheckMsMax));
      this.#timer.unref();
    };
    void cut().catch(failed('day cut at start failed')).finally(arm);
  }

  /** Stops the schedule: no cut starts after this (one under way ends with the shards). */
  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  /** True once the relay holds every instruction each shard issued to each other shard before its cut. */
  #relayHolds(issued: readonly Float64Array[]): boolean {
    const shardCount = this.#hosts.length;
    assert(issued.length === shardCount, 'issued marks of every shard');
    for (let from = 0; from < shardCount; from++) {
      for (let to = 0; to < shardCount; to++) if (from !== to && this.#transit.queuedThrough(from, to) < issued[from]![to]!) return false;
    }
    return true;
  }
}

function parseDayClose(reply: Uint8Array): ShardDayClose {
  return JSON.parse(new TextDecoder().decode(reply)) as ShardDayClose;
}
