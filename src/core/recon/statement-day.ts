// Which business day a channel's statement is about (issue #17): the day each row carries by the channel's rule
// (the local date of its transaction time in the channel's zone, or its booking or value date), and the one day all
// of a statement's rows share — a statement of several days names its day explicitly.

import type { ChannelConfig } from './channel-config.js';
import { dateNumberOfMs } from './local-time.js';
import type { StatementRow } from './statement-row.js';
import { asRowSource, type StatementRowSource } from './statement-row-table.js';

type DatedRow = Pick<StatementRow, 'transactionTimeMs' | 'valueDate' | 'bookingDate'>;

/** yyyymmdd of the row by the channel's rule; 0 when the row has no such date. */
export function rowBusinessDay(row: DatedRow, channel: ChannelConfig): number {
  if (channel.businessDay === 'transactionTime') return row.transactionTimeMs === null ? 0 : dateNumberOfMs(row.transactionTimeMs, channel.timeZone);
  return channel.businessDay === 'valueDate' ? row.valueDate : row.bookingDate;
}

/** The days the rows carry (0s left out), ascending. */
export function statementDays(rows: readonly StatementRow[] | StatementRowSource, channel: ChannelConfig): number[] {
  const source = asRowSource(rows);
  const days = new Set<number>();
  const dated = { transactionTimeMs: null as number | null, valueDate: 0, bookingDate: 0 };
  for (let i = 0; i < source.length; i++) {
    dated.transactionTimeMs = source.transactionTimeMs(i);
    dated.valueDate = source.valueDate(i);
    dated.bookingDate = source.bookingDate(i);
    const day = rowBusinessDay(dated, channel);
    if (day !== 0) days.add(day);
  }
  return [...days].sort((a, b) => a - b);
}
