// The business-day calendar as a spec: yyyymmdd arithmetic, parsing, and which day an instant belongs
// to for a cut time in a zone, across daylight saving changes.
//
// Properties checked (fast-check, several zones and cut times, instants 2000–2100 plus instants near
// the cuts of the 2026 daylight-saving months):
//  1. Containment: cutInstantNs(previousBusinessDay(dayOf(ts))) <= ts < cutInstantNs(dayOf(ts)).
//  2. Monotonic: ts1 <= ts2 implies dayOf(ts1) <= dayOf(ts2).
//  3. Next cut: nextCutAfterNs(ts) > ts and it opens the next business day.
//  4. Cache: a calendar that has answered earlier questions answers like a fresh one.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BusinessCalendar,
  businessDayYearMax,
  businessDayYearMin,
  formatBusinessDay,
  isBusinessDay,
  latestDayToBegin,
  nextBusinessDay,
  parseBusinessDay,
  parseDayCutSchedule,
  previousBusinessDay,
  type BusinessDay,
} from '../../../src/core/business-day.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 300);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

const nsPerMs = 1_000_000n;
const nsPerHour = 3_600_000_000_000n;
const nsPerDay = 24n * nsPerHour;

/** Nanoseconds since the epoch of an ISO-8601 instant with an explicit offset. */
function ns(iso: string): bigint {
  const ms = Date.parse(iso);
  expect(Number.isNaN(ms), iso).toBe(false);
  return BigInt(ms) * nsPerMs;
}

function calendar(cutTime: string, timeZone: string): BusinessCalendar {
  return new BusinessCalendar(parseDayCutSchedule(cutTime, timeZone));
}

describe('BusinessDay arithmetic', () => {
  it.each([
    ['month end', 20261130, 20261201],
    ['year rollover', 20261231, 20270101],
    ['into a leap day', 20280228, 20280229],
    ['out of a leap day', 20280229, 20280301],
    ['February of a common year', 20260228, 20260301],
    ['century that is not a leap year', 21000228, 21000301],
    ['century that is a leap year', 20000228, 20000229],
    ['thirty-day month', 20260430, 20260501],
    ['mid month', 20261123, 20261124],
  ])('%s: %i is followed by %i', (_, day, next) => {
    expect(nextBusinessDay(day)).toBe(next);
    expect(previousBusinessDay(next)).toBe(day);
  });

  it.each([
    [20261123, true],
    [20280229, true],
    [20270229, false],
    [21000229, false],
    [20261301, false],
    [20261100, false],
    [20260431, false],
    [18991231, false],
    [19000101, true],
    [99991231, true],
    [100000101, false],
    [20261123.5, false],
    [-20261123, false],
  ])('isBusinessDay(%d) is %s', (n, valid) => {
    expect(isBusinessDay(n)).toBe(valid);
  });

  it('formats and parses both spellings', () => {
    expect(formatBusinessDay(20261123)).toBe('2026-11-23');
    expect(formatBusinessDay(20270105)).toBe('2027-01-05');
    expect(parseBusinessDay('2026-11-23')).toBe(20261123);
    expect(parseBusinessDay('20261123')).toBe(20261123);
    expect(parseBusinessDay('2028-02-29')).toBe(20280229);
    expect(parseBusinessDay(formatBusinessDay(19000101))).toBe(19000101);
  });

  it.each([
    ['2027-02-29', 'not a real date'],
    ['2026-13-01', 'not a real date'],
    ['2026-04-31', 'not a real date'],
    ['2026-00-10', 'not a real date'],
    ['1899-12-31', 'not a real date in years'],
    ['26-11-23', "'YYYY-MM-DD' or 'YYYYMMDD'"],
    ['2026/11/23', "'YYYY-MM-DD' or 'YYYYMMDD'"],
    ['2026-11-23T00:00', "'YYYY-MM-DD' or 'YYYYMMDD'"],
    ['202611230', "'YYYY-MM-DD' or 'YYYYMMDD'"],
    [' 20261123', "'YYYY-MM-DD' or 'YYYYMMDD'"],
    ['', "'YYYY-MM-DD' or 'YYYYMMDD'"],
  ])('parseBusinessDay(%j) throws a RangeError: %s', (text, why) => {
    expect(() => parseBusinessDay(text)).toThrow(RangeError);
    expect(() => parseBusinessDay(text)).toThrow(JSON.stringify(text));
    expect(() => parseBusinessDay(text)).toThrow(why);
  });

  it('refuses days that are not real dates, and stepping past the supported years', () => {
    expect(() => formatBusinessDay(20261332)).toThrow(RangeError);
    expect(() => formatBusinessDay(20261332)).toThrow('20261332');
    expect(() => nextBusinessDay(20260230)).toThrow(RangeError);
    expect(() => previousBusinessDay(Number.NaN)).toThrow(RangeError);
    expect(() => nextBusinessDay(businessDayYearMax * 10_000 + 1231)).toThrow(RangeError);
    expect(() => previousBusinessDay(businessDayYearMin * 10_000 + 101)).toThrow(RangeError);
  });
});

describe('latestDayToBegin', () => {
  it.each([
    ['a new store (no day yet): the calendar’s next day', 0, 20261204, 20261205],
    ['the current day is today: tomorrow', 20261204, 20261204, 20261205],
    ['days cut by hand ran ahead: the day after the current one', 20261210, 20261204, 20261211],
    ['days were not cut: the calendar’s next day', 20261101, 20261204, 20261205],
    ['across a month, a leap February and a year', 20240228, 20240228, 20240229],
    ['the last day of a year', 20261231, 20261130, 20270101],
    ['a current day that is no date (an earlier version’s journal): the calendar decides', 20261301, 20261204, 20261205],
  ])('%s', (_name, current, today, latest) => {
    expect(latestDayToBegin(current, today)).toBe(latest);
  });

  it('refuses a calendar day that is no date', () => {
    expect(() => latestDayToBegin(20261204, 20261301)).toThrow(RangeError);
  });
});

describe('parseDayCutSchedule', () => {
  it('accepts HH:MM and IANA zones, storing the canonical zone name', () => {
    expect(parseDayCutSchedule('23:00', 'Asia/Shanghai')).toEqual({ cutTime: '23:00', timeZone: 'Asia/Shanghai' });
    expect(parseDayCutSchedule('00:00', 'UTC')).toEqual({ cutTime: '00:00', timeZone: 'UTC' });
    expect(parseDayCutSchedule('23:59', 'asia/shanghai').timeZone).toBe('Asia/Shanghai');
  });

  it.each(['24:00', '7:00', '07:60', '0700', '07:00:00', ' 07:00', '', 'noon'])('refuses cut time %j', (cutTime) => {
    expect(() => parseDayCutSchedule(cutTime, 'UTC')).toThrow(RangeError);
    expect(() => parseDayCutSchedule(cutTime, 'UTC')).toThrow(`cut time ${JSON.stringify(cutTime)}`);
  });

  it.each(['Mars/Olympus_Mons', '', 'Asia/Shanghai '])('refuses time zone %j', (timeZone) => {
    expect(() => parseDayCutSchedule('00:00', timeZone)).toThrow(RangeError);
    expect(() => parseDayCutSchedule('00:00', timeZone)).toThrow(`time zone ${JSON.stringify(timeZone)}`);
  });

  it('is applied again by the BusinessCalendar constructor', () => {
    expect(() => new BusinessCalendar({ cutTime: '25:00', timeZone: 'UTC' })).toThrow(RangeError);
    expect(() => new BusinessCalendar({ cutTime: '00:00', timeZone: 'Nowhere/Land' })).toThrow(RangeError);
  });
});

// Each row: zone, cut time, instant, the business day it belongs to.
const dayOfExamples: [string, string, string, BusinessDay][] = [
  ['UTC', '00:00', '2026-11-23T00:00:00Z', 20261123],
  ['UTC', '00:00', '2026-11-23T23:59:59.999Z', 20261123],
  ['UTC', '00:00', '2026-11-24T00:00:00Z', 20261124],
  ['UTC', '00:00', '2026-12-31T23:59:59Z', 20261231],
  ['UTC', '00:00', '2027-01-01T00:00:00Z', 20270101],
  ['UTC', '18:00', '2026-11-23T18:00:00Z', 20261124],
  ['Asia/Shanghai', '00:00', '2026-11-23T23:59:59+08:00', 20261123],
  ['Asia/Shanghai', '00:00', '2026-11-24T00:00:00+08:00', 20261124],
  ['Asia/Shanghai', '00:00', '2026-11-23T16:30:00Z', 20261124],
  ['Asia/Shanghai', '23:00', '2026-11-23T22:59:59+08:00', 20261123],
  ['Asia/Shanghai', '23:00', '2026-11-23T23:00:00+08:00', 20261124],
  ['Asia/Shanghai', '23:00', '2026-11-23T23:30:00+08:00', 20261124],
  ['Asia/Shanghai', '23:00', '2026-11-24T00:30:00+08:00', 20261124],
  ['Asia/Shanghai', '23:00', '2026-12-31T23:30:00+08:00', 20270101],
  ['Asia/Shanghai', '23:00', '2028-02-28T23:30:00+08:00', 20280229],
  ['Asia/Shanghai', '23:00', '2028-02-29T23:30:00+08:00', 20280301],
  ['Asia/Shanghai', '00:00', '2028-02-29T12:00:00+08:00', 20280229],
  // New York springs forward on 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00Z).
  ['America/New_York', '00:00', '2026-03-08T01:59:59-05:00', 20260308],
  ['America/New_York', '00:00', '2026-03-08T03:00:00-04:00', 20260308],
  ['America/New_York', '00:00', '2026-03-08T23:59:59-04:00', 20260308],
  ['America/New_York', '00:00', '2026-03-09T00:00:00-04:00', 20260309],
  ['America/New_York', '02:30', '2026-03-08T01:59:59-05:00', 20260308],
  ['America/New_York', '02:30', '2026-03-08T03:00:00-04:00', 20260309],
  // New York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00Z); 01:00–02:00 happens twice.
  ['America/New_York', '01:30', '2026-11-01T01:29:59-04:00', 20261101],
  ['America/New_York', '01:30', '2026-11-01T01:30:00-04:00', 20261102],
  ['America/New_York', '01:30', '2026-11-01T01:15:00-05:00', 20261102],
  ['America/New_York', '01:30', '2026-11-01T01:45:00-05:00', 20261102],
  ['America/New_York', '00:00', '2026-11-01T01:30:00-04:00', 20261101],
  ['America/New_York', '00:00', '2026-11-01T01:30:00-05:00', 20261101],
  ['America/New_York', '00:00', '2026-11-01T23:59:59-05:00', 20261101],
];

describe('BusinessCalendar.dayOf', () => {
  it.each(dayOfExamples)('%s, cut %s: %s belongs to %i', (timeZone, cutTime, iso, day) => {
    const tsNs = ns(iso);
    expect(calendar(cutTime, timeZone).dayOf(tsNs)).toBe(day);
    expect(calendar(cutTime, timeZone).dayOf(tsNs + 999_999n)).toBe(day);
  });

  it('answers a run of increasing timestamps like fresh calendars do, across a year end', () => {
    const shared = calendar('23:00', 'Asia/Shanghai');
    const startNs = ns('2026-12-29T00:00:00+08:00');
    for (let tsNs = startNs; tsNs < startNs + 120n * nsPerHour; tsNs += nsPerHour) {
      expect(shared.dayOf(tsNs)).toBe(calendar('23:00', 'Asia/Shanghai').dayOf(tsNs));
    }
    expect(shared.dayOf(ns('2026-12-31T22:59:59+08:00'))).toBe(20261231);
    expect(shared.dayOf(ns('2026-12-31T23:00:00+08:00'))).toBe(20270101);
  });

  it('refuses instants outside the supported years', () => {
    const utc = calendar('00:00', 'UTC');
    expect(() => utc.dayOf(ns('1899-12-31T12:00:00Z'))).toThrow(RangeError);
    expect(() => utc.dayOf(1n << 80n)).toThrow(RangeError);
    expect(() => utc.dayOf(-(1n << 80n))).toThrow(RangeError);
    expect(utc.dayOf(0n)).toBe(19700101);
    expect(calendar('00:00', 'America/New_York').dayOf(0n)).toBe(19691231);
  });
});

// Each row: zone, cut time, business day, the instant it ends.
const cutExamples: [string, string, BusinessDay, string][] = [
  ['UTC', '00:00', 20261123, '2026-11-24T00:00:00Z'],
  ['UTC', '00:00', 20261231, '2027-01-01T00:00:00Z'],
  ['UTC', '23:00', 20261231, '2026-12-31T23:00:00Z'],
  ['Asia/Shanghai', '00:00', 20261123, '2026-11-24T00:00:00+08:00'],
  ['Asia/Shanghai', '23:00', 20261123, '2026-11-23T23:00:00+08:00'],
  ['Asia/Shanghai', '23:00', 20280229, '2028-02-29T23:00:00+08:00'],
  ['America/New_York', '00:00', 20260307, '2026-03-08T00:00:00-05:00'],
  ['America/New_York', '00:00', 20260308, '2026-03-09T00:00:00-04:00'],
  // 02:00 and 02:30 do not exist on 2026-03-08: the cut is the first instant after the gap.
  ['America/New_York', '02:00', 20260308, '2026-03-08T03:00:00-04:00'],
  ['America/New_York', '02:30', 20260308, '2026-03-08T03:00:00-04:00'],
  ['America/New_York', '02:30', 20260307, '2026-03-07T02:30:00-05:00'],
  ['America/New_York', '02:30', 20260309, '2026-03-09T02:30:00-04:00'],
  // 01:00 and 01:30 happen twice on 2026-11-01: the cut is the first occurrence (EDT).
  ['America/New_York', '01:00', 20261101, '2026-11-01T01:00:00-04:00'],
  ['America/New_York', '01:30', 20261101, '2026-11-01T01:30:00-04:00'],
  ['America/New_York', '02:00', 20261101, '2026-11-01T02:00:00-05:00'],
  ['America/New_York', '00:00', 20261101, '2026-11-02T00:00:00-05:00'],
  ['Europe/Berlin', '02:30', 20260329, '2026-03-29T03:00:00+02:00'],
  ['Europe/Berlin', '02:30', 20261025, '2026-10-25T02:30:00+02:00'],
];

describe('BusinessCalendar.cutInstantNs', () => {
  it.each(cutExamples)('%s, cut %s: %i ends at %s', (timeZone, cutTime, day, iso) => {
    const business = calendar(cutTime, timeZone);
    const cutNs = business.cutInstantNs(day);
    expect(cutNs).toBe(ns(iso));
    expect(business.dayOf(cutNs - 1n)).toBe(day);
    expect(business.dayOf(cutNs)).toBe(nextBusinessDay(day));
    expect(business.nextCutAfterNs(cutNs - 1n)).toBe(cutNs);
  });

  it('gives New York days of 23 and 25 hours on the 2026 changes, and 24 otherwise', () => {
    const newYork = calendar('00:00', 'America/New_York');
    const hours = (day: BusinessDay) =>
      (newYork.cutInstantNs(day) - newYork.cutInstantNs(previousBusinessDay(day))) / nsPerHour;
    expect(hours(20260307)).toBe(24n);
    expect(hours(20260308)).toBe(23n);
    expect(hours(20261101)).toBe(25n);
    expect(hours(20261102)).toBe(24n);
  });

  it('gives an empty day to a local date the zone skips, and dayOf never returns it', () => {
    // Samoa moved across the date line: 2011-12-29 24:00 was followed by 2011-12-31 00:00.
    const apia = calendar('00:00', 'Pacific/Apia');
    expect(apia.cutInstantNs(20111230)).toBe(apia.cutInstantNs(20111229));
    expect(apia.dayOf(apia.cutInstantNs(20111229) - 1n)).toBe(20111229);
    expect(apia.dayOf(apia.cutInstantNs(20111229))).toBe(20111231);
    expect(apia.nextCutAfterNs(apia.cutInstantNs(20111229))).toBe(apia.cutInstantNs(20111231));
  });

  it('refuses days that are not real dates', () => {
    expect(() => calendar('00:00', 'UTC').cutInstantNs(20260230)).toThrow(RangeError);
  });
});

describe('BusinessCalendar properties', () => {
  const zones = ['UTC', 'Asia/Shanghai', 'America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata'];
  const cutTimes = ['00:00', '01:30', '02:00', '02:30', '12:00', '23:00', '23:59'];
  // One calendar per schedule, shared across runs, so its cache sees timestamps in every order.
  const calendars = new Map<string, BusinessCalendar>();
  const calendarOf = (timeZone: string, cutTime: string): BusinessCalendar => {
    const key = `${timeZone} ${cutTime}`;
    if (!calendars.has(key)) calendars.set(key, calendar(cutTime, timeZone));
    return calendars.get(key)!;
  };
  const scheduleArbitrary = fc.record({ timeZone: fc.constantFrom(...zones), cutTime: fc.constantFrom(...cutTimes) });
  const anyInstantNs = fc.bigInt({ min: ns('2000-01-01T00:00:00Z'), max: ns('2100-01-01T00:00:00Z') });
  // Instants within three hours of a cut in the months when these zones change their clocks.
  const dstMonthDays = [...dayRange(20260301, 20260410), ...dayRange(20260920, 20261110)];
  const nearCut = (business: BusinessCalendar) =>
    fc
      .record({
        day: fc.constantFrom(...dstMonthDays),
        deltaNs: fc.oneof(fc.bigInt({ min: -3n * nsPerHour, max: 3n * nsPerHour }), fc.constantFrom(-1n, 0n, 1n)),
      })
      .map(({ day, deltaNs }) => business.cutInstantNs(day) + deltaNs);
  const caseArbitrary = scheduleArbitrary.chain(({ timeZone, cutTime }) => {
    const business = calendarOf(timeZone, cutTime);
    return fc.record({ business: fc.constant(business), tsNs: fc.oneof(anyInstantNs, nearCut(business)) });
  });

  it('places every instant inside its day: previous cut <= ts < own cut', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ business, tsNs }) => {
        const day = business.dayOf(tsNs);
        expect(business.cutInstantNs(day)).toBeGreaterThan(tsNs);
        expect(business.cutInstantNs(previousBusinessDay(day))).toBeLessThanOrEqual(tsNs);
      }),
      { numRuns: runs, seed },
    );
  });

  it('is monotonic: a later instant never belongs to an earlier day', () => {
    const pairArbitrary = caseArbitrary.chain(({ business, tsNs }) =>
      fc.record({
        business: fc.constant(business),
        tsNs: fc.constant(tsNs),
        // Mostly small steps, so that both instants often straddle a cut.
        laterNs: fc.oneof(fc.bigInt({ min: 0n, max: 2n * nsPerHour }), fc.bigInt({ min: 0n, max: 400n * nsPerDay })),
      }),
    );
    fc.assert(
      fc.property(pairArbitrary, ({ business, tsNs, laterNs }) => {
        expect(business.dayOf(tsNs + laterNs)).toBeGreaterThanOrEqual(business.dayOf(tsNs));
      }),
      { numRuns: runs, seed },
    );
  });

  it('finds the next cut strictly after an instant, and it opens the next day', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ business, tsNs }) => {
        const nextCutNs = business.nextCutAfterNs(tsNs);
        expect(nextCutNs).toBeGreaterThan(tsNs);
        expect(business.dayOf(nextCutNs)).toBe(nextBusinessDay(business.dayOf(tsNs)));
        expect(business.dayOf(nextCutNs - 1n)).toBe(business.dayOf(tsNs));
      }),
      { numRuns: runs, seed },
    );
  });

  it('answers from its cache exactly as a fresh calendar does', () => {
    fc.assert(
      fc.property(caseArbitrary, ({ business, tsNs }) => {
        const fresh = new BusinessCalendar(business.schedule);
        expect(business.dayOf(tsNs)).toBe(fresh.dayOf(tsNs));
        expect(business.nextCutAfterNs(tsNs)).toBe(fresh.nextCutAfterNs(tsNs));
      }),
      { numRuns: runs, seed },
    );
  });
});

/** Every day from `first` to `last`, inclusive. */
function dayRange(first: BusinessDay, last: BusinessDay): BusinessDay[] {
  const days: BusinessDay[] = [];
  for (let day = first; day <= last; day = nextBusinessDay(day)) days.push(day);
  return days;
}
