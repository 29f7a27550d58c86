// The working-day calendar of settlement (issue #18), held as data: which weekdays are the weekend, the public
// holidays, and the weekend days worked in their place (调休). Dates are yyyymmdd numbers, the BusinessDay of
// ../business-day.ts, whose parsing and calendar stepping this reuses. Its words differ on purpose: there a
// "business day" is the ledger's day-cut day (日切), and every date is one; here a "working day" is a day banks
// pay out. A calendar knows only the dates it covers (firstDay..lastDay): asking about a date beyond them is
// refused, because treating next year's unknown holidays as working days would pay merchants on the wrong day.
//
// Settlement cycles, for a trade on day d (the business day its posting belongs to):
//  - Dn (D0, D1, D3, …): d + n calendar days (自然日). Weekends and holidays count and the date is never moved:
//    a D1 merchant's Friday trades are paid on Saturday, holiday or not (the platform advances the funds, 垫资).
//  - T+n, n ≥ 1: the n-th working day after d, d itself not counted. A trade on a Friday, Saturday or Sunday
//    before an ordinary weekend is paid T+1 on Monday (周末交易顺延至下一个工作日).
//  - T+0: d when it is a working day, else the first working day after it.

import { assert } from '../assert.js';
import { formatBusinessDay, isBusinessDay, nextBusinessDay, parseBusinessDay, type BusinessDay } from '../business-day.js';
import { SettleError } from './settle-errors.js';
import { calendarDatesMax, nameCharsMax, nonWorkingRunDaysMax, settlementCycleDaysMax } from './settle-limits.js';

/** ISO weekday: 1 is Monday, 7 is Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** A calendar as written in configuration; dates as yyyymmdd numbers or 'YYYY-MM-DD' text. */
export interface WorkingCalendarSpec {
  readonly name: string;
  readonly firstDay: BusinessDay | string;
  readonly lastDay: BusinessDay | string;
  readonly weekendDays: readonly number[];
  readonly holidays: readonly (BusinessDay | string)[];
  /** 调休: weekend days that are working days. Each must fall on a weekend day. */
  readonly workingWeekendDays: readonly (BusinessDay | string)[];
}

export interface WorkingCalendar {
  readonly name: string;
  readonly firstDay: BusinessDay;
  readonly lastDay: BusinessDay;
  readonly weekendDays: ReadonlySet<Weekday>;
  readonly holidays: ReadonlySet<BusinessDay>;
  readonly workingWeekendDays: ReadonlySet<BusinessDay>;
}

const msPerDay = 86_400_000;

/** The ISO weekday of a date. */
export function weekdayOf(day: BusinessDay): Weekday {
  assert(isBusinessDay(day), 'weekdayOf takes a real yyyymmdd date');
  const daysSinceEpoch = Date.UTC(Math.floor(day / 10_000), (Math.floor(day / 100) % 100) - 1, day % 100) / msPerDay;
  // 1970-01-01 was a Thursday (ISO 4); the double modulo keeps dates before 1970 non-negative.
  return ((((daysSinceEpoch + 3) % 7) + 7) % 7) + 1 as Weekday;
}

function readDay(name: string, what: string, value: BusinessDay | string): BusinessDay {
  if (typeof value === 'number' && isBusinessDay(value)) return value;
  try {
    return parseBusinessDay(value as string);
  } catch {
    throw new SettleError('calendar_invalid', `calendar ${name}: ${what} ${JSON.stringify(value)} is no date (yyyymmdd or 'YYYY-MM-DD')`);
  }
}

/** Checks a calendar spec; throws SettleError naming the first bad value. */
export function buildWorkingCalendar(spec: WorkingCalendarSpec): WorkingCalendar {
  const refuse = (why: string): never => {
    throw new SettleError('calendar_invalid', `calendar ${spec.name}: ${why}`);
  };
  if (typeof spec.name !== 'string' || spec.name === '' || spec.name.length > nameCharsMax) refuse(`name must be 1 to ${nameCharsMax} characters`);
  const firstDay = readDay(spec.name, 'firstDay', spec.firstDay);
  const lastDay = readDay(spec.name, 'lastDay', spec.lastDay);
  if (firstDay > lastDay) refuse(`firstDay ${formatBusinessDay(firstDay)} is after lastDay ${formatBusinessDay(lastDay)}`);
  const weekendDays = new Set<Weekday>();
  for (const value of spec.weekendDays) {
    if (!Number.isSafeInteger(value) || value < 1 || value > 7) refuse(`weekend day ${value} must be an ISO weekday, 1 (Monday) to 7 (Sunday)`);
    if (weekendDays.has(value as Weekday)) refuse(`weekend day ${value} is listed twice`);
    weekendDays.add(value as Weekday);
  }
  if (spec.holidays.length + spec.workingWeekendDays.length > calendarDatesMax) refuse(`more than ${calendarDatesMax} dates`);
  const dates = (list: readonly (BusinessDay | string)[], what: string): Set<BusinessDay> => {
    const set = new Set<BusinessDay>();
    for (const value of list) {
      const day = readDay(spec.name, what, value);
      const shown = formatBusinessDay(day);
      if (day < firstDay || day > lastDay) refuse(`${what} ${shown} is outside the calendar's dates ${formatBusinessDay(firstDay)}..${formatBusinessDay(lastDay)}`);
      if (set.has(day)) refuse(`${what} ${shown} is listed twice`);
      set.add(day);
    }
    return set;
  };
  const holidays = dates(spec.holidays, 'holiday');
  const workingWeekendDays = dates(spec.workingWeekendDays, 'working weekend day');
  for (const day of workingWeekendDays) {
    const shown = formatBusinessDay(day);
    if (holidays.has(day)) refuse(`${shown} is both a holiday and a working weekend day`);
    if (!weekendDays.has(weekdayOf(day))) refuse(`working weekend day ${shown} is not a weekend day: list only weekend days worked (调休)`);
  }
  return { name: spec.name, firstDay, lastDay, weekendDays, holidays, workingWeekendDays };
}

function checkCovered(calendar: WorkingCalendar, day: BusinessDay, why: string): void {
  if (!isBusinessDay(day)) throw new SettleError('date_invalid', `${day} is no yyyymmdd date`);
  if (day >= calendar.firstDay && day <= calendar.lastDay) return;
  const range = `${formatBusinessDay(calendar.firstDay)}..${formatBusinessDay(calendar.lastDay)}`;
  throw new SettleError('date_not_covered', `calendar ${calendar.name} covers ${range}, not ${formatBusinessDay(day)}${why}: load its holidays first`);
}

/** Whether banks pay out on `day`: a 调休 working weekend day, or neither a weekend day nor a holiday. */
export function isWorkingDay(calendar: WorkingCalendar, day: BusinessDay): boolean {
  checkCovered(calendar, day, '');
  if (calendar.workingWeekendDays.has(day)) return true;
  return !calendar.holidays.has(day) && !calendar.weekendDays.has(weekdayOf(day));
}

/** The first working day strictly after `day`. */
export function nextWorkingDay(calendar: WorkingCalendar, day: BusinessDay): BusinessDay {
  let candidate = day;
  for (let step = 0; step <= nonWorkingRunDaysMax; step++) {
    candidate = nextBusinessDay(candidate); // The calendar day after: every date is a ledger business day.
    checkCovered(calendar, candidate, ` (looking for the working day after ${formatBusinessDay(day)})`);
    if (isWorkingDay(calendar, candidate)) return candidate;
  }
  throw new SettleError('calendar_invalid', `calendar ${calendar.name} has no working day within ${nonWorkingRunDaysMax} days after ${formatBusinessDay(day)}`);
}

/** The n-th working day after `day` (day itself not counted); `day` itself when n is 0. */
export function addWorkingDays(calendar: WorkingCalendar, day: BusinessDay, n: number): BusinessDay {
  checkDays(n);
  checkCovered(calendar, day, '');
  let result = day;
  for (let i = 0; i < n; i++) result = nextWorkingDay(calendar, result);
  return result;
}

/** A settlement cycle: D (calendar days) or T (working days) and how many. */
export interface SettlementCycle {
  readonly kind: 'D' | 'T';
  readonly days: number;
}

function checkDays(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > settlementCycleDaysMax) {
    throw new SettleError('cycle_invalid', `${n} days must be a whole number from 0 to ${settlementCycleDaysMax}`);
  }
}

const cyclePattern = /^([DT])\+?(\d{1,3})$/;

/** 'D0', 'D1', 'D3', 'T+1', 'T1', 'T+0' → a cycle; anything else is refused. */
export function parseSettlementCycle(text: string): SettlementCycle {
  const match = typeof text === 'string' ? cyclePattern.exec(text) : null;
  if (match === null) throw new SettleError('cycle_invalid', `settlement cycle ${JSON.stringify(text)} must be Dn or T+n, e.g. D0, D1, T+1`);
  const days = Number(match[2]);
  checkDays(days);
  return { kind: match[1] as 'D' | 'T', days };
}

/** The day a trade of `tradeDay` is paid on `cycle`; see the module comment for the definitions. */
export function settlementDate(calendar: WorkingCalendar, tradeDay: BusinessDay, cycle: SettlementCycle): BusinessDay {
  checkDays(cycle.days);
  if (!isBusinessDay(tradeDay)) throw new SettleError('date_invalid', `${tradeDay} is no yyyymmdd date`);
  if (cycle.kind === 'D') {
    let result = tradeDay;
    for (let i = 0; i < cycle.days; i++) result = nextBusinessDay(result);
    return result;
  }
  if (cycle.days === 0) return isWorkingDay(calendar, tradeDay) ? tradeDay : nextWorkingDay(calendar, tradeDay);
  return addWorkingDays(calendar, tradeDay, cycle.days);
}
