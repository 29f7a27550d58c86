// Our side of a channel's business day, read from a running ledger (issue #17): the clearing account's statement of
// the closed day T and its history pages up to the day cut of the account's shard, then its postings of the window
// after the cut (paid before midnight, posted after), all in pages of history — never a query per row. Holds still
// open in what was read get their state from lookupTransfers (an expiry is in no history). A day not closed yet
// cannot be reconciled: the ledger refuses its statement. Two readers share the paging: rows of decoded transfers
// (the CLI, through the client) and packed rows built from the replies' bytes (the server's imports).

import type { LedgerBytesReads, LedgerReads } from './ledger-reads.js';
import { historyPageMax } from '../core/limits.js';
import { HistoryEntryLayout, StatementFlags, StatementReplyLayout, TransferLayout } from '../core/layout.js';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import { ledgerSideOf, PackedLedgerRowsBuilder } from '../core/recon/ledger-rows.js';
import type { LedgerRow } from '../core/recon/matcher.js';
import { filterPacked, statusOfKind, transferIdAt, unpackLedgerRows, withStatus, type PackedLedgerRows } from '../core/recon/packed-ledger-rows.js';
import { shardOfId } from '../core/routing.js';
import type { AccountHistoryEntry } from '../core/types.js';
import { eventBytes } from '../core/limits.js';
import { encodeTransfers } from '../core/wire/records.js';
import { viewOf } from '../core/u128.js';
import { nextBusinessDay } from '../core/business-day.js';

export class LedgerDayError extends Error {}

export interface LedgerDay {
  /** Postings of day T. */
  ledger: LedgerRow[];
  /** Postings of the window after T's cut. */
  later: LedgerRow[];
  /** The clearing account's posted balances (credits − debits) at the opening and close of T. */
  openingMinor: bigint;
  closingMinor: bigint;
  transfersRead: number;
}

const nsPerSecond = 1_000_000_000n;

/** One page read: how many entries it held, and the last one's timestamp (where the next page starts). */
interface PageRead {
  entries: number;
  lastTimestamp: bigint;
}

/** A statement read: its first page, whether more follow, and the balances it opens and closes with. */
interface StatementRead extends PageRead {
  truncated: boolean;
  openingMinor: bigint;
  closingMinor: bigint;
}

/** Where the day ends on the clearing account's shard, and what follows it. */
interface DayBounds {
  cut: bigint;
  windowEnd: bigint;
  next: number;
  businessDayOf: (timestamp: bigint) => number;
}

async function dayBounds(getDayReport: LedgerReads['getDayReport'], channel: ChannelConfig, day: number): Promise<DayBounds> {
  const report = await getDayReport(day);
  if (report === null) throw new LedgerDayError(`day ${day} is not closed on the ledger yet: a channel's day is reconciled after its cut`);
  const shard = shardOfId(channel.accounts.clearing, report.shards.length);
  const cutText = report.shards.find((row) => row.shard === shard)?.cutTimestamp;
  if (cutText === undefined) throw new LedgerDayError(`the day report of ${day} has no cut for shard ${shard}`);
  const cut = BigInt(cutText);
  const next = nextBusinessDay(day);
  return { cut, windowEnd: cut + BigInt(channel.tolerance.dateWindowSeconds) * nsPerSecond, next, businessDayOf: (timestamp) => (timestamp <= cut ? day : next) };
}

/**
 * The clearing account's pages of the day in order: the statement's, history pages up to the cut when it was
 * truncated, then the window after the cut. Each read hands its entries on itself; this only pages.
 */
async function readDayPages(channel: ChannelConfig, day: number, bounds: DayBounds, statement: () => Promise<StatementRead | null>, history: (from: bigint, to: bigint) => Promise<PageRead>): Promise<StatementRead> {
  const first = await statement();
  if (first === null) throw new LedgerDayError(`clearing account ${channel.accounts.clearing} of channel ${channel.name} does not exist on the ledger`);
  const historyBetween = async (from: bigint, to: bigint): Promise<void> => {
    for (let timestampMin = from; ; ) {
      const page = await history(timestampMin, to);
      if (page.entries < historyPageMax) return;
      timestampMin = page.lastTimestamp + 1n;
    }
  };
  if (first.truncated) await historyBetween(first.lastTimestamp + 1n, bounds.cut);
  if (channel.tolerance.dateWindowSeconds > 0) await historyBetween(bounds.cut + 1n, bounds.windowEnd);
  return first;
}

const net = (balances: { creditsPosted: bigint; debitsPosted: bigint }): bigint => balances.creditsPosted - balances.debitsPosted;

/** Our side of the day as rows (tally recon match, through the client). */
export async function readLedgerDay(client: LedgerReads, channel: ChannelConfig, day: number, onProgress: (transfersRead: number) => void = () => {}): Promise<LedgerDay> {
  const bounds = await dayBounds((d) => client.getDayReport(d), channel, day);
  const builder = new PackedLedgerRowsBuilder(ledgerSideOf(channel), bounds.businessDayOf);
  // The client decodes its pages; the rows are built from the records again, by the one builder the server uses.
  const took = (entries: readonly AccountHistoryEntry[]): PageRead => {
    builder.add(encodeTransfers(entries.map((entry) => entry.transfer)), eventBytes);
    onProgress(builder.transfersRead);
    return { entries: entries.length, lastTimestamp: entries[entries.length - 1]?.transfer.timestamp ?? 0n };
  };
  const statement = await readDayPages(channel, day, bounds, async () => {
    const read = await client.getAccountStatement(channel.accounts.clearing, day, day);
    if (read === null) return null;
    return { ...took(read.entries), truncated: read.truncated, openingMinor: net(read.opening), closingMinor: net(read.closing) };
  }, async (timestampMin, timestampMax) => took(await client.getAccountTransfers({ accountId: channel.accounts.clearing, timestampMin, timestampMax, limit: historyPageMax })));
  const packed = await finishDay(client, builder, statement, day, () => true);
  return { ...packed, ledger: unpackLedgerRows(packed.ledger), later: unpackLedgerRows(packed.later) };
}

/** Our side of the day packed, for an import's worker (recon-service.ts). */
export interface PackedLedgerDay {
  ledger: PackedLedgerRows;
  later: PackedLedgerRows;
  openingMinor: bigint;
  closingMinor: bigint;
  transfersRead: number;
}

/**
 * Our side of the day on the server: the reply bytes of each page built straight into packed rows
 * (PackedLedgerRowsBuilder), never decoded into transfers — a million of them were seconds of the gateway's thread
 * and a gigabyte of its heap. `keep` says which rows count (recon's own postings do not).
 */
export async function readLedgerDayPacked(reads: LedgerBytesReads, channel: ChannelConfig, day: number, keep: (rows: PackedLedgerRows, index: number) => boolean): Promise<PackedLedgerDay> {
  const bounds = await dayBounds((d) => reads.getDayReport(d), channel, day);
  const builder = new PackedLedgerRowsBuilder(ledgerSideOf(channel), bounds.businessDayOf);
  const took = (entries: Uint8Array): PageRead => {
    const count = entries.byteLength / HistoryEntryLayout.bytes;
    builder.add(entries, HistoryEntryLayout.bytes);
    const last = (count - 1) * HistoryEntryLayout.bytes + TransferLayout.timestamp;
    return { entries: count, lastTimestamp: count === 0 ? 0n : viewOf(entries).getBigUint64(last, true) };
  };
  const statement = await readDayPages(channel, day, bounds, async () => {
    const reply = await reads.statementBytes(channel.accounts.clearing, day, day);
    if (reply.byteLength === 0) return null;
    const view = viewOf(reply);
    const count = view.getUint32(StatementReplyLayout.count, true);
    const balances = (at: number) => ({ debitsPosted: view.getBigUint64(at, true), creditsPosted: view.getBigUint64(at + 8, true) });
    return {
      ...took(reply.subarray(StatementReplyLayout.bytes, StatementReplyLayout.bytes + count * HistoryEntryLayout.bytes)),
      truncated: (view.getUint32(StatementReplyLayout.flags, true) & StatementFlags.truncated) !== 0,
      openingMinor: net(balances(StatementReplyLayout.opening)),
      closingMinor: net(balances(StatementReplyLayout.closing)),
    };
  }, async (timestampMin, timestampMax) => took(await reads.historyBytes({ accountId: channel.accounts.clearing, timestampMin, timestampMax, limit: historyPageMax })));
  return finishDay(reads, builder, statement, day, keep);
}

/** The rows read, holds still open given their state now, split into the day and the days after. */
async function finishDay(reads: Pick<LedgerReads, 'lookupTransfers'>, builder: PackedLedgerRowsBuilder, statement: StatementRead, day: number, keep: (rows: PackedLedgerRows, index: number) => boolean): Promise<PackedLedgerDay> {
  const rows = builder.build();
  await settleOpenHolds(reads, rows);
  return {
    ledger: filterPacked(rows, (i) => rows.businessDay[i] === day && keep(rows, i)),
    later: filterPacked(rows, (i) => rows.businessDay[i] !== day && keep(rows, i)),
    openingMinor: statement.openingMinor,
    closingMinor: statement.closingMinor,
    transfersRead: builder.transfersRead,
  };
}

/** Holds whose post or void was not among the entries read: their state now, by id (a few per day). */
async function settleOpenHolds(reads: Pick<LedgerReads, 'lookupTransfers'>, rows: PackedLedgerRows): Promise<void> {
  const open: number[] = [];
  for (let i = 0; i < rows.count; i++) if (statusOfKind(rows.kinds[i]!) === 'pending') open.push(i);
  for (let from = 0; from < open.length; from += historyPageMax) {
    const chunk = open.slice(from, from + historyPageMax);
    const states = await reads.lookupTransfers(chunk.map((i) => transferIdAt(rows, i)));
    const byId = new Map(states.map((state) => [state.id, state]));
    for (const i of chunk) {
      const state = byId.get(transferIdAt(rows, i));
      if (state?.status === 'pending_voided') rows.kinds[i] = withStatus(rows.kinds[i]!, 'voided');
      else if (state?.status === 'pending_expired') rows.kinds[i] = withStatus(rows.kinds[i]!, 'expired');
      else if (state?.status === 'pending_posted') {
        rows.kinds[i] = withStatus(rows.kinds[i]!, 'posted');
        rows.words.set([0n, state.amountPosted], i * 6 + 4);
      }
    }
  }
}
