// Issue #17: a statement's local wall times read by the channel's date format and resolved in its IANA zone —
// Shanghai (no DST), Zurich across both DST changes (a skipped wall time reads as the same time after the change,
// a repeated one as the earlier instant, like java.time and Temporal), UTC; text not in the format and impossible
// dates are null, never a guess.

import { describe, expect, it } from 'vitest';
import { dateNumberOfMs, isoTimeMs, isTimeZone, localTimeFormatProblem, localTimeMs, readLocalTime } from '../../../../src/core/recon/local-time.js';

const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s);

describe('localTimeMs', () => {
  it.each([
    ['2021-01-28 17:07:11', 'yyyy-MM-dd HH:mm:ss', 'Asia/Shanghai', utc(2021, 1, 28, 9, 7, 11)],
    ['2021-01-28 00:00:00', 'yyyy-MM-dd HH:mm:ss', 'Asia/Shanghai', utc(2021, 1, 27, 16)],
    ['20240229', 'yyyyMMdd', 'UTC', utc(2024, 2, 29)],
    ['28.01.2021', 'dd.MM.yyyy', 'UTC', utc(2021, 1, 28)],
    ['12/31/2023', 'MM/dd/yyyy', 'UTC', utc(2023, 12, 31)],
    ['2024-07-01', 'yyyy-MM-dd', 'Europe/Zurich', utc(2024, 6, 30, 22)],
    ['2024/01/05 07:05', 'yyyy/MM/dd HH:mm', 'Europe/Zurich', utc(2024, 1, 5, 6, 5)],
    // Zurich, spring forward on 2024-03-31 at 02:00 CET → 03:00 CEST.
    ['31.03.2024 01:30', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 3, 31, 0, 30)],
    ['31.03.2024 03:30', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 3, 31, 1, 30)],
    ['31.03.2024 02:30', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 3, 31, 1, 30)], // skipped: read as 03:30 CEST
    // Zurich, fall back on 2024-10-27 at 03:00 CEST → 02:00 CET.
    ['27.10.2024 01:59', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 10, 26, 23, 59)],
    ['27.10.2024 02:30', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 10, 27, 0, 30)], // repeated: the earlier (CEST)
    ['27.10.2024 03:30', 'dd.MM.yyyy HH:mm', 'Europe/Zurich', utc(2024, 10, 27, 2, 30)],
  ])('%s (%s) in %s', (text, format, zone, expected) => {
    expect(localTimeMs(text, format, zone)).toBe(expected);
  });

  it.each([
    ['20230229', 'yyyyMMdd', 'no 29 February in 2023'],
    ['02/30/2024', 'MM/dd/yyyy', 'no 30 February'],
    ['2024-13-01', 'yyyy-MM-dd', 'no month 13'],
    ['2024-01-05 24:00:00', 'yyyy-MM-dd HH:mm:ss', 'no hour 24'],
    ['2024/01/05 7:05', 'yyyy/MM/dd HH:mm', 'one digit where the format has two'],
    ['2024-01-05', 'yyyy/MM/dd', 'another separator'],
    ['2024-01-05 ', 'yyyy-MM-dd', 'text after the date'],
    ['0999-01-05', 'yyyy-MM-dd', 'a year before 1000'],
    ['', 'yyyy-MM-dd', 'nothing'],
  ])('%s (%s) is null: %s', (text, format) => {
    expect(localTimeMs(text, format, 'UTC')).toBeNull();
  });

  it('reads the wall time apart from any zone, and names what a format lacks', () => {
    expect(readLocalTime('2021-01-28 17:07:11', 'yyyy-MM-dd HH:mm:ss')).toEqual({ year: 2021, month: 1, day: 28, hour: 17, minute: 7, second: 11 });
    expect(localTimeFormatProblem('yyyy-MM-dd HH:mm:ss')).toBeNull();
    expect(localTimeFormatProblem('yyyy-MM-ddTHH:mm:ss')).toBeNull();
    expect(localTimeFormatProblem('yy-MM-dd')).toMatch(/"y" is no part/);
    expect(localTimeFormatProblem('HH:mm')).toMatch(/lacks yyyy, MM, dd/);
    expect(localTimeFormatProblem('yyyy-MM-dd dd')).toMatch(/dd twice/);
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('dateNumberOfMs', () => {
  it('is the local date in the zone', () => {
    expect(dateNumberOfMs(utc(2021, 1, 28, 16, 30), 'Asia/Shanghai')).toBe(20210129);
    expect(dateNumberOfMs(utc(2021, 1, 28, 16, 30), 'UTC')).toBe(20210128);
    expect(dateNumberOfMs(utc(2024, 10, 26, 22, 30), 'Europe/Zurich')).toBe(20241027);
    expect(dateNumberOfMs(utc(2024, 10, 26, 21, 59), 'Europe/Zurich')).toBe(20241026);
  });
});

describe('isoTimeMs', () => {
  it('reads camt date-times with a zone as stated, and zone-less ones in the channel zone', () => {
    expect(isoTimeMs('2014-12-31T13:15:00+01:00', 'Asia/Shanghai')).toBe(utc(2014, 12, 31, 12, 15));
    expect(isoTimeMs('2014-12-31T13:15:00.023Z', 'Asia/Shanghai')).toBe(utc(2014, 12, 31, 13, 15) + 23);
    expect(isoTimeMs('2014-01-03T19:07:37', 'Europe/Amsterdam')).toBe(utc(2014, 1, 3, 18, 7, 37));
    expect(isoTimeMs('2014-01-03', 'UTC')).toBeNull();
    expect(isoTimeMs('2014-02-30T00:00:00Z', 'UTC')).toBeNull();
  });
});
