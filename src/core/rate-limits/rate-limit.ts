// A token bucket measured in events: it refills `eventsPerSecond` and holds at most one second's worth,
// so a caller may burst a second's budget and then goes at the rate. Pure: the caller passes the time
// (integer ms from a monotonic clock); nothing here reads a clock. Tokens are kept × 1,000 (milli-events)
// as safe integers, so a refill of a fraction of an event is never rounded away.

import { assert } from '../assert.js';
import { eventsPerSecondMax } from '../limits.js';

/** Milli-events per event: the bucket's fixed-point scale. */
const milli = 1000;

export class TokenBucket {
  /** At most one second's worth, in milli-events (eventsPerSecond × 1,000). */
  readonly #capacityMilli: number;
  #tokensMilli: number;
  #lastMs: number;

  constructor(
    readonly eventsPerSecond: number,
    nowMs: number,
  ) {
    assert(Number.isInteger(eventsPerSecond) && eventsPerSecond >= 1 && eventsPerSecond <= eventsPerSecondMax, 'a bucket has a rate in 1..eventsPerSecondMax');
    assert(Number.isSafeInteger(nowMs), 'time is passed as integer ms');
    this.#capacityMilli = eventsPerSecond * milli;
    this.#tokensMilli = this.#capacityMilli; // a new caller may burst at once
    this.#lastMs = nowMs;
  }

  /**
   * Takes `events` tokens if the bucket holds them and returns 0; otherwise takes nothing and returns the
   * ms until it will hold them (Infinity when `events` is more than one second's worth: it never will).
   */
  take(events: number, nowMs: number): number {
    assert(Number.isInteger(events) && events >= 1, 'a request costs at least one event');
    this.#refill(nowMs);
    const needMilli = events * milli;
    if (needMilli > this.#capacityMilli) return Number.POSITIVE_INFINITY;
    if (needMilli > this.#tokensMilli) return Math.ceil((needMilli - this.#tokensMilli) / this.eventsPerSecond); // eventsPerSecond milli-events per ms
    this.#tokensMilli -= needMilli;
    assert(this.#tokensMilli >= 0 && this.#tokensMilli <= this.#capacityMilli, 'tokens stay within 0..capacity');
    return 0;
  }

  /** Whole events the bucket holds at `nowMs` (for tests and diagnostics). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return Math.floor(this.#tokensMilli / milli);
  }

  #refill(nowMs: number): void {
    assert(Number.isSafeInteger(nowMs), 'time is passed as integer ms');
    if (nowMs <= this.#lastMs) return; // a clock that stands still (or steps back) refills nothing
    // One second refills the whole bucket: capping the gap keeps the product a safe integer after any pause.
    const elapsedMs = Math.min(nowMs - this.#lastMs, milli);
    this.#tokensMilli = Math.min(this.#capacityMilli, this.#tokensMilli + elapsedMs * this.eventsPerSecond);
    this.#lastMs = nowMs;
    assert(this.#tokensMilli >= 0 && this.#tokensMilli <= this.#capacityMilli, 'tokens stay within 0..capacity');
  }
}
