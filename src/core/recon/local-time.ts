// Local wall-clock times in statements (`2021-01-28 17:07:11`, `28.01.2021`) read by a date format and resolved to
// UTC milliseconds in the channel's IANA time zone, with the zone's rules as Intl knows them (issue #17). Pure: no
// clock is read. Like java.time and Temporal ("compatible"), a wall time a DST change skips reads as the same time
// after the change (02:30 → 03:30), and one it repeats as the earlier of the two instants.

import { assert } from '../assert.js';
import { zoneOffsetsCachedMax } from '../limits.js';

/** A wall-clock time as a statement writes it (no zone). Months and days are 1-based. */
export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The pieces a date format is made of; any other character is literal text that must be there as written. */
const formatTokens = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss'] as const;
type FormatToken = (typeof formatTokens)[number];

const msPerMinute = 60_000;
/** How far back the earlier offset of a repeated hour is looked for (DST moves the clock by 30 min to 2 h). */
const overlapProbeMs = 6 * 3_600_000;

/** Why `format` is no date format this reader knows, or null: it needs yyyy, MM and dd, each once. */
export function localTimeFormatProblem(format: string): string | null {
  const seen = new Set<FormatToken>();
  for (let at = 0; at < format.length; ) {
    const token = formatTokens.find((t) => format.startsWith(t, at));
    if (token === undefined) {
      if (/[A-Za-z]/.test(format[at]!) && format[at] !== 'T') return `${JSON.stringify(format)}: "${format[at]}" is no part of a date format (yyyy MM dd HH mm ss)`;
      at++;
      continue;
    }
    if (seen.has(token)) return `${JSON.stringify(format)}: ${token} twice`;
    seen.add(token);
    at += token.length;
  }
  const missing = (['yyyy', 'MM', 'dd'] as const).filter((t) => !seen.has(t));
  return missing.length === 0 ? null : `${JSON.stringify(format)} lacks ${missing.join(', ')}`;
}

/** A date format split once into its tokens and literal characters (a bill reads a million times by one format). */
type FormatPart = FormatToken | { literal: number };
const compiledFormats = new Map<string, readonly FormatPart[]>();
/** Formats come from a channel's configuration: a few. Past this many, the cache starts again. */
const compiledFormatsMax = 64;

function compiledFormat(format: string): readonly FormatPart[] {
  let parts = compiledFormats.get(format);
  if (parts !== undefined) return parts;
  const built: FormatPart[] = [];
  for (let f = 0; f < format.length; ) {
    const token = formatTokens.find((k) => format.startsWith(k, f));
    built.push(token ?? { literal: format.charCodeAt(f) });
    f += token?.length ?? 1;
  }
  if (compiledFormats.size >= compiledFormatsMax) compiledFormats.clear();
  compiledFormats.set(format, (parts = built));
  return parts;
}

const digit0 = 48;
const digit9 = 57;

/** The wall time `text` states in `format` (yyyy MM dd HH mm ss, other characters literal); null when it is no such time. */
export function readLocalTime(text: string, format: string): LocalTime | null {
  const time: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  let t = 0;
  for (const part of compiledFormat(format)) {
    if (typeof part !== 'string') {
      if (text.charCodeAt(t) !== part.literal) return null;
      t++;
      continue;
    }
    if (t + part.length > text.length) return null;
    let value = 0;
    for (let end = t + part.length; t < end; t++) {
      const code = text.charCodeAt(t);
      if (code < digit0 || code > digit9) return null;
      value = value * 10 + code - digit0;
    }
    setField(time, part, value);
  }
  return t === text.length && isPossibleLocalTime(time) ? time : null;
}

function setField(time: LocalTime, token: FormatToken, value: number): void {
  if (token === 'yyyy') time.year = value;
  else if (token === 'MM') time.month = value;
  else if (token === 'dd') time.day = value;
  else if (token === 'HH') time.hour = value;
  else if (token === 'mm') time.minute = value;
  else time.second = value;
}

/** Whether the wall time exists on the calendar. Years before 1000 are no statement's (and Date.UTC reads 0–99 as 1900–1999). */
export function isPossibleLocalTime(time: LocalTime): boolean {
  if (time.year < 1000 || time.month < 1 || time.month > 12 || time.day < 1) return false;
  if (time.day > daysInMonth(time.year, time.month)) return false;
  return time.hour <= 23 && time.minute <= 59 && time.second <= 59;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** yyyymmdd of a wall time (a booking or value date column). */
export function dateNumberOfLocal(time: LocalTime): number {
  return time.year * 10_000 + time.month * 100 + time.day;
}

/** UTC ms of the wall time `text` (in `format`) in `timeZone`; null when the text is no such time. The zone must be one Intl knows (isTimeZone). */
export function localTimeMs(text: string, format: string, timeZone: string): number | null {
  const time = readLocalTime(text, format);
  return time === null ? null : zonedMs(time, timeZone);
}

const isoDateTime = /^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})?$/;

/** UTC ms of an ISO 8601 date-time (camt DtTm: `2014-12-31T13:15:00+01:00`, `…:00.023Z`, or zone-less, then read in `timeZone`); null when it is none. */
export function isoTimeMs(text: string, timeZone: string): number | null {
  const match = isoDateTime.exec(text);
  const time = match === null ? null : readLocalTime(match[1]!, 'yyyy-MM-ddTHH:mm:ss');
  if (match === null || time === null) return null;
  const fractionMs = Number((match[2] ?? '').slice(0, 3).padEnd(3, '0'));
  const zone = match[3];
  if (zone === undefined) return zonedMs(time, timeZone) + fractionMs;
  const offsetMinutes = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second) - offsetMinutes * msPerMinute + fractionMs;
}

/** UTC ms of a wall time in `timeZone`: the offset at that instant, then again at the instant it gives (DST). */
export function zonedMs(time: LocalTime, timeZone: string): number {
  const wall = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second);
  const first = offsetMs(wall, timeZone);
  let instant = wall - first;
  const second = offsetMs(instant, timeZone);
  // A different offset there: the wall time is near a change; the second one is right (or, in a gap, the one before it).
  if (second !== first) instant = wall - second;
  // A repeated hour: a larger offset a little earlier that also gives this wall time is the earlier instant.
  const before = offsetMs(instant - overlapProbeMs, timeZone);
  if (before > offsetMs(instant, timeZone) && offsetMs(wall - before, timeZone) === before) instant = wall - before;
  return instant;
}

/** yyyymmdd of the local date at `ms` in `timeZone`. */
export function dateNumberOfMs(ms: number, timeZone: string): number {
  const wall = new Date(ms + offsetMs(ms, timeZone));
  return wall.getUTCFullYear() * 10_000 + (wall.getUTCMonth() + 1) * 100 + wall.getUTCDate();
}

/** Whether Intl knows `timeZone` (an IANA name such as Asia/Shanghai, or UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterOf(timeZone);
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone: offset in ms by the UTC minute it holds for (zones change offset on whole minutes). */
const offsets = new Map<string, Map<number, number>>();
let offsetsCached = 0;

function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at the instant `ms` (local = UTC + offset). */
function offsetMs(ms: number, timeZone: string): number {
  const minute = Math.floor(ms / msPerMinute);
  let zone = offsets.get(timeZone);
  const cached = zone?.get(minute);
  if (cached !== undefined) return cached;
  assert(isTimeZone(timeZone), 'a time zone Intl knows (checked where the channel is configured)');
  const at = minute * msPerMinute;
  const parts: Record<string, number> = {};
  for (const part of formatterOf(timeZone).formatToParts(new Date(at))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const offset = Date.UTC(parts['year']!, parts['month']! - 1, parts['day']!, parts['hour']!, parts['minute']!, parts['second']!) - at;
  if (offsetsCached >= zoneOffsetsCachedMax) {
    offsets.clear();
    offsetsCached = 0;
  }
  if (zone === undefined || !offsets.has(timeZone)) offsets.set(timeZone, (zone = new Map()));
  zone.set(minute, offset);
  offsetsCached++;
  return offset;
}
