// Working days and settlement dates on China's 2024–2025 public holiday calendar (国务院办公厅 notices), with its
// 调休 weekend working days: holiday chains, month and year ends, D1 and T+1 around a three-day holiday, and the
// calendar data refused when it is wrong or asked about dates it does not cover.

import { describe, expect, it } from 'vitest';
import {
  addWorkingDays,
  buildWorkingCalendar,
  isWorkingDay,
  nextWorkingDay,
  parseSettlementCycle,
  settlementDate,
  weekdayOf,
  type WorkingCalendarSpec,
} from '../../../../src/core/settle/working-calendar.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { refusal } from './refusal.js';
import { cnHolidays2025, cnWorkingWeekends2025 } from './settle-fixtures.js';

const spec: WorkingCalendarSpec = {
  name: 'CN',
  firstDay: '2024-01-01',
  lastDay: 20251231,
  weekendDays: [6, 7],
  holidays: [
    '2024-01-01',
    '2024-02-10', '2024-02-11', '2024-02-12', '2024-02-13', '2024-02-14', '2024-02-15', '2024-02-16', '2024-02-17',
    '2024-04-04', '2024-04-05', '2024-04-06',
    '2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04', '2024-05-05',
    '2024-06-10',
    '2024-09-15', '2024-09-16', '2024-09-17',
    '2024-10-01', '2024-10-02', '2024-10-03', '2024-10-04', '2024-10-05', '2024-10-06', '2024-10-07',
    ...cnHolidays2025,
  ],
  workingWeekendDays: [
    '2024-02-04', '2024-02-18', '2024-04-07', '2024-04-28', '2024-05-11', '2024-09-14', '2024-09-29', '2024-10-12',
    ...cnWorkingWeekends2025,
  ],
};
const cn = buildWorkingCalendar(spec);
const d1 = parseSettlementCycle('D1');
const t1 = parseSettlementCycle('T+1');

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);

describe('weekdayOf', () => {
  it.each([
    [19700101, 4],
    [19691231, 3],
    [20250530, 5],
    [20250928, 7],
    [20240229, 4],
  ])('%s is ISO weekday %s', (day, weekday) => expect(weekdayOf(day)).toBe(weekday));
});

describe('a D1 and a T+1 merchant around the Dragon Boat holiday (Sat 2025-05-31 to Mon 06-02)', () => {
  it('pays D1 on calendar days: Thursday trades on Friday, Friday trades on the holiday Saturday', () => {
    expect(settlementDate(cn, 20250529, d1)).toBe(20250530);
    expect(settlementDate(cn, 20250530, d1)).toBe(20250531);
    expect(settlementDate(cn, 20250602, d1)).toBe(20250603);
  });

  it('pays T+1 on working days: Friday, Saturday, Sunday and holiday Monday trades all on Tuesday', () => {
    expect(settlementDate(cn, 20250529, t1)).toBe(20250530);
    for (const day of [20250530, 20250531, 20250601, 20250602]) expect(settlementDate(cn, day, t1), String(day)).toBe(20250603);
  });

  it('pays D0 the same day and T+0 on the next working day when the trade day is not one', () => {
    expect(settlementDate(cn, 20250531, parseSettlementCycle('D0'))).toBe(20250531);
    expect(settlementDate(cn, 20250530, parseSettlementCycle('T+0'))).toBe(20250530);
    expect(settlementDate(cn, 20250531, parseSettlementCycle('T0'))).toBe(20250603);
  });
});

describe('holiday chains and 调休', () => {
  it('National Day 2025: Sunday 09-28 and Saturday 10-11 are worked, 10-01..10-08 are not', () => {
    expect(isWorkingDay(cn, 20250927)).toBe(false);
    expect(isWorkingDay(cn, 20250928)).toBe(true);
    for (let day = 20251001; day <= 20251008; day++) expect(isWorkingDay(cn, day), String(day)).toBe(false);
    expect(isWorkingDay(cn, 20251011)).toBe(true);
    expect(isWorkingDay(cn, 20251012)).toBe(false);
  });

  it.each([
    ['the 调休 Sunday before the break', 20250927, 20250928],
    ['the last day before the break', 20250930, 20251009],
    ['a trade inside the break', 20251004, 20251009],
    ['the Friday before the 调休 Saturday', 20251010, 20251011],
    ['the 调休 Saturday', 20251011, 20251013],
    ['Spring Festival 2024: the Friday before, to the 调休 Sunday', 20240209, 20240218],
    ['Spring Festival 2025, across the month end', 20250127, 20250205],
    ['Labour Day 2024: the 调休 Sunday before', 20240428, 20240429],
  ])('T+1 after %s', (_what, trade, paid) => {
    expect(settlementDate(cn, trade, t1)).toBe(paid);
    expect(nextWorkingDay(cn, trade)).toBe(paid);
  });

  it('counts T+n across a chain, 调休 days included', () => {
    expect(addWorkingDays(cn, 20250930, 0)).toBe(20250930);
    expect(addWorkingDays(cn, 20250930, 3)).toBe(20251011);
    expect(settlementDate(cn, 20250926, parseSettlementCycle('T+3'))).toBe(20250930); // Sun 28 (调休), Mon 29, Tue 30
    expect(settlementDate(cn, 20250929, parseSettlementCycle('T+3'))).toBe(20251010); // Tue 30, Thu 9, Fri 10
  });
});

describe('month and year ends', () => {
  it.each([
    ['D1 at a leap February end', 20240229, 'D1', 20240301],
    ['D1 at a common February end', 20250228, 'D1', 20250301],
    ['D1 at a month end', 20250131, 'D1', 20250201],
    ['D1 at the year end, onto New Year', 20241231, 'D1', 20250101],
    ['D3 across the year end', 20241230, 'D3', 20250102],
    ['T+1 at the year end, past New Year', 20241231, 'T+1', 20250102],
    ['T+1 at a month end Friday', 20250228, 'T+1', 20250303],
    ['T+2 at a month end Friday', 20240628, 'T+2', 20240702],
  ])('%s', (_what, trade, cycle, paid) => expect(settlementDate(cn, trade, parseSettlementCycle(cycle))).toBe(paid));

  it('refuses to look past the dates the calendar covers', () => {
    const error = refused(() => settlementDate(cn, 20251231, t1));
    expect(error.code).toBe('date_not_covered');
    expect(error.message).toBe("date_not_covered: calendar CN covers 2024-01-01..2025-12-31, not 2026-01-01 (looking for the working day after 2025-12-31): load its holidays first");
    expect(refused(() => isWorkingDay(cn, 20231231)).code).toBe('date_not_covered');
    expect(refused(() => isWorkingDay(cn, 20250230)).message).toBe('date_invalid: 20250230 is no yyyymmdd date');
    expect(refused(() => settlementDate(cn, 20251300, d1)).code).toBe('date_invalid');
    // D cycles count calendar days and need no holidays.
    expect(settlementDate(cn, 20251231, d1)).toBe(20260101);
  });
});

describe('other weekends', () => {
  it('follows the weekend days it is given (Friday and Saturday)', () => {
    const gulf = buildWorkingCalendar({ name: 'AE', firstDay: 20250101, lastDay: 20251231, weekendDays: [5, 6], holidays: [], workingWeekendDays: [] });
    expect(settlementDate(gulf, 20250529, t1)).toBe(20250601); // Thursday → Sunday
  });
});

describe('refusals', () => {
  const with_ = (change: Partial<WorkingCalendarSpec>): WorkingCalendarSpec => ({ ...spec, ...change });
  it.each([
    ['a 调休 day that is no weekend day', with_({ workingWeekendDays: ['2025-09-29'] }), 'working weekend day 2025-09-29 is not a weekend day'],
    ['a day both holiday and worked', with_({ holidays: ['2025-09-28'], workingWeekendDays: ['2025-09-28'] }), '2025-09-28 is both a holiday and a working weekend day'],
    ['a holiday outside the dates covered', with_({ holidays: ['2026-01-01'] }), 'holiday 2026-01-01 is outside the calendar\'s dates 2024-01-01..2025-12-31'],
    ['a holiday twice', with_({ holidays: ['2025-01-01', 20250101] }), 'holiday 2025-01-01 is listed twice'],
    ['an impossible date', with_({ holidays: ['2025-02-30'] }), 'holiday "2025-02-30" is no date'],
    ['a bad yyyymmdd', with_({ workingWeekendDays: [20251340] }), 'working weekend day 20251340 is no date'],
    ['weekday 0', with_({ weekendDays: [0] }), 'weekend day 0 must be an ISO weekday'],
    ['a weekend day twice', with_({ weekendDays: [6, 6] }), 'weekend day 6 is listed twice'],
    ['dates the wrong way round', with_({ firstDay: 20260101 }), 'firstDay 2026-01-01 is after lastDay 2025-12-31'],
    ['no name', with_({ name: '' }), 'name must be 1 to 64 characters'],
  ])('%s', (_what, bad, words) => {
    const error = refused(() => buildWorkingCalendar(bad));
    expect(error.code).toBe('calendar_invalid');
    expect(error.message).toContain(words);
  });

  it('stops at a run of non-working days longer than any real one', () => {
    const holidays = Array.from({ length: 40 }, (_, i) => 20250301 + i).filter((day) => day % 100 <= 31);
    const broken = buildWorkingCalendar(with_({ holidays: [...holidays, 20250401, 20250402, 20250403, 20250404, 20250405, 20250406, 20250407, 20250408, 20250409, 20250410] }));
    expect(refused(() => nextWorkingDay(broken, 20250228)).message).toContain('has no working day within 31 days after 2025-02-28');
  });

  it.each(['T-1', 'X1', 'D', 't+1', 'D1000', 'D400', ' D1'])('refuses the cycle %j', (text) => {
    expect(refused(() => parseSettlementCycle(text)).code).toBe('cycle_invalid');
  });

  it('reads the cycles it knows', () => {
    expect(['D0', 'D1', 'D3', 'T+1', 'T1', 'T+0', 'D366'].map(parseSettlementCycle)).toEqual([
      { kind: 'D', days: 0 }, { kind: 'D', days: 1 }, { kind: 'D', days: 3 }, { kind: 'T', days: 1 }, { kind: 'T', days: 1 }, { kind: 'T', days: 0 }, { kind: 'D', days: 366 },
    ]);
  });
});
