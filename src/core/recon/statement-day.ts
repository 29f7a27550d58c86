// Which business day a channel's statement is about (issue #17): the day each row carries by the channel's rule
// (the local date of its transaction time in the channel's zone, or its booking or value date), and the one day all
// of a statement's rows share — a statement of several days names its day explicitly.

import type { ChannelConfig } from './channel-config.js';
import { dateNumberOfMs } from './local-time.js';
import type { StatementRow } from './statement-row.js';

/** yyyymmdd of the row by the channel's rule; 0 when the row has no such date. */
export function rowBusinessDay(row: StatementRow, channel: ChannelConfig): number {
  if (channel.businessDay === 'transactionTime') return row.transactionTimeMs === null ? 0 : dateNumberOfMs(row.transactionTimeMs, channel.timeZone);
  return channel.businessDay === 'valueDate' ? row.valueDate : row.bookingDate;
}

/** The days the rows carry (0s left out), ascending. */
export function statementDays(rows: readonly StatementRow[], channel: ChannelConfig): number[] {
  return [...new Set(rows.map((row) => rowBusinessDay(row, channel)).filter((day) => day !== 0))].sort((a, b) => a - b);
}
