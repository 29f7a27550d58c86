// The ledger's business-day calendar: which business day (日切 day) an accounting time belongs to,
// and the instant each day is cut. Pure: time is passed in as bigint ns since the Unix epoch (UTC);
// zone rules come from Intl, deterministic for one tz database (a tzdata update can move future cuts,
// so store the day a posting got rather than recompute it). It never reads the clock or does I/O.

import { assert } from './assert.js';

/**
 * A calendar date written as the number yyyymmdd (2026-11-23 is 20261123), in the proleptic
 * Gregorian calendar. Every date is a business day: the ledger cuts every day, weekends and
 * holidays included, so next/previous are plain calendar arithmetic.
 */
export type BusinessDay = number;

/** Earliest year of a business day: early enough for any epoch-based timestamp in any zone
 * (1970-01-01Z is still 1969-12-31 west of Greenwich); earlier dates are no ledger's business. */
export const businessDayYearMin = 1900;

/** Latest year of a business day: four digits keep yyyymmdd at eight and 'YYYY-MM-DD' round-trips;
 * u64 nanoseconds since 1970 end in 2554, long before it. */
export const businessDayYearMax = 9999;

/** Cut instants dayOf examines to correct its local-date guess. A guess is at most one day off (a
 * fold or gap around the cut moves it by hours, a skipped local date by one more), so four is ample;
 * more would mean the cut instants are not increasing, which is a bug. */
export const dayLocateStepsMax = 4;

/**
 * When the ledger closes its day: at local wall-clock time `cutTime` ('HH:MM', 24-hour clock) in
 * IANA zone `timeZone`. Build one with parseDayCutSchedule, which validates both.
 */
export interface DayCutSchedule {
  readonly cutTime: string;
  readonly timeZone: string;
}

const msPerSecond = 1000;
const minutesPerDay = 1440;
const msPerDay = 86_400_000;
const nsPerMs = 1_000_000n;
const nsPerDay = 86_400_000_000_000n;
const cutTimePattern = /^([01]\d|2[0-3]):([0-5]\d)$/;
const dashedDayPattern = /^(\d{4})-(\d{2})-(\d{2})$/;
const compactDayPattern = /^(\d{4})(\d{2})(\d{2})$/;

// Timestamps outside these bounds are refused before they are turned into a Number of ms, so the
// conversion is exact. The two-day margin covers zone offsets; the resulting day is checked again.
const instantNsMin = BigInt(Date.UTC(businessDayYearMin, 0, 1) - 2 * msPerDay) * nsPerMs;
const instantNsMax = BigInt(Date.UTC(businessDayYearMax + 1, 0, 1) + 2 * msPerDay) * nsPerMs;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function makeDay(year: number, month: number, day: number): BusinessDay {
  return year * 10_000 + month * 100 + day;
}

function yearOf(day: BusinessDay): number {
  return Math.floor(day / 10_000);
}

function monthOf(day: BusinessDay): number {
  return Math.floor(day / 100) % 100;
}

function dayOfMonth(day: BusinessDay): number {
  return day % 100;
}

/** True when `n` is a yyyymmdd number naming a real date within the supported years. */
export function isBusinessDay(value: unknown): value is BusinessDay {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) return false;
  const year = yearOf(value);
  const month = monthOf(value);
  const day = dayOfMonth(value);
  if (year < businessDayYearMin || year > businessDayYearMax) return false;
  if (month < 1 || month > 12) return false;
  return day >= 1 && day <= daysInMonth(year, month);
}

function checkBusinessDay(value: unknown, what: string): asserts value is BusinessDay {
  if (isBusinessDay(value)) return;
  const years = `${businessDayYearMin}–${businessDayYearMax}`;
  throw new RangeError(`${what} ${String(value)} is not a business day: expected yyyymmdd naming a real date in years ${years}`);
}

/** '2026-11-23' for 20261123. */
export function formatBusinessDay(date: BusinessDay): string {
  checkBusinessDay(date, 'formatBusinessDay: day');
  const month = String(monthOf(date)).padStart(2, '0');
  const day = String(dayOfMonth(date)).padStart(2, '0');
  return `${yearOf(date)}-${month}-${day}`;
}

/** Parses '2026-11-23' or '20261123'; throws RangeError naming the text if it is not a real date. */
export function parseBusinessDay(text: string): BusinessDay {
  const match = typeof text === 'string' ? (dashedDayPattern.exec(text) ?? compactDayPattern.exec(text)) : null;
  if (match === null) {
    throw new RangeError(`business day ${JSON.stringify(text)} must be written 'YYYY-MM-DD' or 'YYYYMMDD'`);
  }
  const day = makeDay(Number(match[1]), Number(match[2]), Number(match[3]));
  if (!isBusinessDay(day)) {
    throw new RangeError(
      `business day ${JSON.stringify(text)} is not a real date in years ${businessDayYearMin}–${businessDayYearMax}`,
    );
  }
  return day;
}

// The unchecked steps: callers near the ends of the supported range may step one day past them.
function stepForward(date: BusinessDay): BusinessDay {
  const year = yearOf(date);
  const month = monthOf(date);
  const day = dayOfMonth(date);
  if (day < daysInMonth(year, month)) return date + 1;
  return month < 12 ? makeDay(year, month + 1, 1) : makeDay(year + 1, 1, 1);
}

function stepBack(date: BusinessDay): BusinessDay {
  const year = yearOf(date);
  const month = monthOf(date);
  const day = dayOfMonth(date);
  if (day > 1) return date - 1;
  if (month > 1) return makeDay(year, month - 1, daysInMonth(year, month - 1));
  return makeDay(year - 1, 12, 31);
}

/** The calendar day after `d` (month, year and leap-year aware). */
export function nextBusinessDay(day: BusinessDay): BusinessDay {
  checkBusinessDay(day, 'nextBusinessDay: day');
  const next = stepForward(day);
  checkBusinessDay(next, 'nextBusinessDay: the day after');
  return next;
}

/** The calendar day before `d` (month, year and leap-year aware). */
export function previousBusinessDay(day: BusinessDay): BusinessDay {
  checkBusinessDay(day, 'previousBusinessDay: day');
  const previous = stepBack(day);
  checkBusinessDay(previous, 'previousBusinessDay: the day before');
  return previous;
}

/**
 * The latest day a commanded cut may begin while the current business day is `current` (0 before a store's
 * first) and the calendar's is `today`: the day after whichever is later. So a cut may begin the next day
 * (days cut by hand may run ahead of the calendar, one at a time), catch up with the calendar after days
 * without a cut, or close today early. A day further ahead would date every posting after it until the
 * calendar got there (and the scheduled cuts would do nothing meanwhile): a typo, never a business day.
 */
export function latestDayToBegin(current: BusinessDay, today: BusinessDay): BusinessDay {
  checkBusinessDay(today, 'latestDayToBegin: today');
  const base = isBusinessDay(current) && current > today ? current : today;
  return stepForward(base); // unchecked: past 9999-12-31 it names no business day, and no day passes a check against it
}

/**
 * Validates a cut time ('HH:MM', 00:00–23:59) and an IANA time zone; throws RangeError naming the bad
 * value. The zone is stored under the canonical name Intl resolves it to ('etc/utc' becomes 'UTC'),
 * so equal schedules compare equal.
 */
export function parseDayCutSchedule(cutTime: string, timeZone: string): DayCutSchedule {
  if (typeof cutTime !== 'string' || !cutTimePattern.test(cutTime)) {
    throw new RangeError(`cut time ${JSON.stringify(cutTime)} must be 'HH:MM' on a 24-hour clock (00:00–23:59)`);
  }
  if (typeof timeZone !== 'string' || timeZone === '') {
    throw new RangeError(`time zone ${JSON.stringify(timeZone)} must be an IANA name such as 'Asia/Shanghai' or 'UTC'`);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
  } catch {
    throw new RangeError(`time zone ${JSON.stringify(timeZone)} is not an IANA time zone known to Intl`);
  }
  return { cutTime, timeZone: resolved };
}

function floorDivide(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? quotient - 1n : quotient;
}

/** A local wall-clock reading: the date, and the reading as if it were a UTC instant (ms). */
interface WallReading {
  readonly date: BusinessDay;
  readonly wallMs: number;
}

/**
 * Assigns instants to business days for one schedule.
 *
 * Convention: business day D runs from the cut on local date D − 1 (inclusive) to the cut on local
 * date D (exclusive), where the cut on a date is its cut time on that date and cut time '00:00' means
 * midnight at the end of the date (24:00). So with '00:00' business day D is simply local date D; with
 * '23:00' a posting at 23:30 local belongs to the next day, the usual bank convention for postings
 * after the evening cut. Any other cut time is read the same way as '23:00': with '02:00', day D ends at
 * 02:00 on date D, so everything from 02:00 on belongs to D + 1.
 *
 * Daylight saving: the cut on a date is the earliest instant whose local reading is at or past the cut
 * time. When the cut time falls in a spring-forward gap that is the first instant after the gap (the
 * transition itself); when it occurs twice in a fall-back fold it is the first occurrence, so the
 * repeated hour belongs to the next day. Cut instants never decrease. A local date a zone skips
 * entirely (Pacific/Apia, 2011-12-30) can give an empty day (with '00:00' its cut equals the previous
 * day's); dayOf never returns an empty day.
 *
 * Not thread-safe by design: each shard owns its calendar, whose cache is mutated by dayOf.
 */
export class BusinessCalendar {
  readonly schedule: DayCutSchedule;
  private readonly cutMinuteOfDay: number;
  private readonly wallFormat: Intl.DateTimeFormat;
  // The window of the day dayOf answered last, [windowStartNs, windowEndNs). Empty until first use.
  // Postings arrive in increasing time, so almost every call is answered by two comparisons.
  private windowStartNs = 0n;
  private windowEndNs = 0n;
  private windowDay: BusinessDay = 0;

  constructor(schedule: DayCutSchedule) {
    // Re-validate: a schedule may be an object literal or come from storage.
    this.schedule = parseDayCutSchedule(schedule.cutTime, schedule.timeZone);
    const [hours, minutes] = this.schedule.cutTime.split(':').map(Number);
    // '00:00' is midnight at the end of the date (24:00), so that business day D is local date D.
    this.cutMinuteOfDay = hours * 60 + minutes === 0 ? minutesPerDay : hours * 60 + minutes;
    // Every option is explicit: defaults (hour cycle, calendar, digits) vary by locale and version.
    this.wallFormat = new Intl.DateTimeFormat('en-US', {
      timeZone: this.schedule.timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    assert(this.cutMinuteOfDay > 0 && this.cutMinuteOfDay <= minutesPerDay, 'cut minute within (00:00, 24:00]');
  }

  /** The business day a posting with accounting time `tsNs` belongs to. */
  dayOf(tsNs: bigint): BusinessDay {
    if (tsNs >= this.windowStartNs && tsNs < this.windowEndNs) return this.windowDay;
    // Crossing into the following day is the common miss on a hot path: one cut instant moves the window.
    // A timestamp a day or more past the window is unlikely to be in the next day, so it skips the try.
    if (tsNs >= this.windowEndNs && tsNs - this.windowEndNs < nsPerDay && this.windowEndNs > this.windowStartNs) {
      const nextDay = stepForward(this.windowDay);
      const nextEndNs = isBusinessDay(nextDay) ? this.cutNs(nextDay) : this.windowEndNs;
      if (tsNs < nextEndNs) return this.setWindow(nextDay, this.windowEndNs, nextEndNs);
    }
    return this.locate(tsNs);
  }

  /** The instant (ns) at which business day `day` ends: the cut on local date `day` (24:00 for '00:00'). */
  cutInstantNs(day: BusinessDay): bigint {
    checkBusinessDay(day, 'cutInstantNs: day');
    if (day === this.windowDay && this.windowEndNs > this.windowStartNs) return this.windowEndNs;
    return this.cutNs(day);
  }

  /** The first cut instant strictly after `tsNs`: the end of the business day `tsNs` belongs to. */
  nextCutAfterNs(tsNs: bigint): bigint {
    this.dayOf(tsNs);
    assert(this.windowEndNs > tsNs, 'the window found by dayOf ends after the timestamp');
    return this.windowEndNs;
  }

  private setWindow(day: BusinessDay, startNs: bigint, endNs: bigint): BusinessDay {
    assert(startNs < endNs, 'a business day window is not empty');
    this.windowDay = day;
    this.windowStartNs = startNs;
    this.windowEndNs = endNs;
    return day;
  }

  /** Finds the day from scratch: guess from the local reading, then let the cut instants decide. */
  private locate(tsNs: bigint): BusinessDay {
    if (tsNs < instantNsMin || tsNs > instantNsMax) {
      throw new RangeError(`timestamp ${tsNs} ns is outside years ${businessDayYearMin}–${businessDayYearMax}`);
    }
    const reading = this.readWall(Number(floorDivide(tsNs, nsPerMs)));
    const minuteOfDay = Math.floor((reading.wallMs - Date.UTC(...ymd(reading.date))) / 60_000);
    // Folds, gaps and skipped dates can make this guess a day off; the loop below corrects it.
    let day = minuteOfDay >= this.cutMinuteOfDay ? stepForward(reading.date) : reading.date;
    for (let step = 0; step < dayLocateStepsMax; step++) {
      const endNs = this.cutNs(day);
      if (tsNs >= endNs) {
        day = stepForward(day);
        continue;
      }
      const startNs = this.cutNs(stepBack(day));
      if (tsNs < startNs) {
        day = stepBack(day);
        continue;
      }
      if (!isBusinessDay(day)) {
        const years = `${businessDayYearMin}–${businessDayYearMax}`;
        throw new RangeError(`timestamp ${tsNs} ns belongs to day ${day}, outside years ${years}`);
      }
      return this.setWindow(day, startNs, endNs);
    }
    assert(false, `dayOf found no day for ${tsNs} ns within ${dayLocateStepsMax} steps in ${this.schedule.timeZone}`);
  }

  /** The cut on local date `day` in ns; see the class comment for gaps and folds. */
  private cutNs(day: BusinessDay): bigint {
    const wantedMs = Date.UTC(...ymd(day), 0, this.cutMinuteOfDay);
    // The offsets a day either side bound every offset near the cut (transitions are far apart).
    const viaEarlierOffsetMs = wantedMs - this.offsetMs(wantedMs - msPerDay);
    const viaLaterOffsetMs = wantedMs - this.offsetMs(wantedMs + msPerDay);
    const lowMs = Math.min(viaEarlierOffsetMs, viaLaterOffsetMs);
    const highMs = Math.max(viaEarlierOffsetMs, viaLaterOffsetMs);
    let cutMs: number;
    if (this.readWall(lowMs).wallMs === wantedMs) cutMs = lowMs; // Also the first occurrence in a fold.
    else if (this.readWall(highMs).wallMs === wantedMs) cutMs = highMs;
    else cutMs = this.firstAtOrPast(wantedMs, lowMs, highMs); // The cut time falls in a gap.
    // The cut reads at or past the cut time by construction; this checks it is the earliest such second.
    assert(this.readWall(cutMs - msPerSecond).wallMs < wantedMs, 'the second before the cut reads before it');
    return BigInt(cutMs) * nsPerMs;
  }

  /** Bisects whole seconds for the first instant in (lowMs, highMs] reading at or past wantedMs. */
  private firstAtOrPast(wantedMs: number, lowMs: number, highMs: number): number {
    assert(this.readWall(lowMs).wallMs < wantedMs, `gap search starts before the cut in ${this.schedule.timeZone}`);
    assert(this.readWall(highMs).wallMs >= wantedMs, `gap search ends past the cut in ${this.schedule.timeZone}`);
    let low = lowMs;
    let high = highMs;
    // Offsets are whole seconds, so transitions fall on whole seconds and the search can step by them.
    while (high - low > msPerSecond) {
      const middle = low + Math.floor((high - low) / (2 * msPerSecond)) * msPerSecond;
      if (this.readWall(middle).wallMs >= wantedMs) high = middle;
      else low = middle;
    }
    return high;
  }

  /** The zone's offset from UTC at instant `ms`, in ms (whole seconds). */
  private offsetMs(ms: number): number {
    const secondMs = Math.floor(ms / msPerSecond) * msPerSecond;
    return this.readWall(secondMs).wallMs - secondMs;
  }

  /** Reads the local wall clock at instant `ms`, to the second. */
  private readWall(ms: number): WallReading {
    let year = 0;
    let month = 0;
    let day = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.wallFormat.formatToParts(new Date(ms))) {
      if (part.type === 'year') year = Number(part.value);
      else if (part.type === 'month') month = Number(part.value);
      else if (part.type === 'day') day = Number(part.value);
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
      else if (part.type === 'second') second = Number(part.value);
    }
    assert(month >= 1 && day >= 1 && hour < 24, `Intl read a wall clock in ${this.schedule.timeZone}`);
    return { date: makeDay(year, month, day), wallMs: Date.UTC(year, month - 1, day, hour, minute, second) };
  }
}

/** Arguments for Date.UTC: year, zero-based month, day. */
function ymd(day: BusinessDay): [number, number, number] {
  return [yearOf(day), monthOf(day) - 1, dayOfMonth(day)];
}
