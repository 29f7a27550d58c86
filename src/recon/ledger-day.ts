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
import { ledgerRowsOf, ledgerSideOf, PackedLedgerRowsBuilder } from '../core/recon/ledger-rows.js';
import type { LedgerRow } from '../core/recon/matcher.js';
import { filterPacked, statusOfKind, transferIdAt, withStatus, type PackedLedgerRows } from '../core/recon/packed-ledger-rows.js';
import { shardOfId } from '../core/routing.js';
import type { AccountHistoryEntry, Transfer } from '../core/types.js';
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
  const transfers: Transfer[] = [];
  const took = (entries: readonly AccountHistoryEntry[]): PageRead => {
    for (const entry of entries) transfers.push(entry.transfer);
    onProgress(transfers.length);
    return { entries: entries.length, lastTimestamp: entries[entries.length - 1]?.transfer.timestamp ?? 0n };
  };
  const statement = await readDayPages(channel, day, bounds, async () => {
    const read = await client.getAccountStatement(channel.accounts.clearing, day, day);
    if (read === null) return null;
    return { ...took(read.entries), truncated: read.truncated, openingMinor: net(read.opening), closingMinor: net(read.closing) };
  }, async (timestampMin, timestampMax) => took(await client.getAccountTransfers({ accountId: channel.accounts.clearing, timestampMin, timestampMax, limit: historyPageMax })));
  const rows = ledgerRowsOf(transfers, ledgerSideOf(channel), bounds.businessDayOf);
  await settleOpenHolds(client, rows);
  return {
    ledger: rows.filter((row) => row.businessDay === day),
    later: rows.filter((row) => row.businessDay !== day),
    openingMinor: statement.openingMinor,
    closingMinor: statement.closingMinor,
    transfersRead: transfers.length,
  };
}

/** Holds whose post or void was not among the entries read: their state now, by id (a few per day). */
async function settleOpenHolds(client: Pick<LedgerReads, 'lookupTransfers'>, rows: Pick<LedgerRow, 'transferId' | 'status' | 'amountMinor'>[]): Promise<void> {
  const open = rows.filter((row) => row.status === 'pending');
  for (let i = 0; i < open.length; i += historyPageMax) {
    const chunk = open.slice(i, i + historyPageMax);
    const states = await client.lookupTransfers(chunk.map((row) => row.transferId));
    const byId = new Map(states.map((state) => [state.id, state]));
    for (const row of chunk) {
      const state = byId.get(row.transferId);
      if (state?.status === 'pending_voided') row.status = 'voided';
      else if (state?.status === 'pending_expired') row.status = 'expired';
      else if (state?.status === 'pending_posted') {
        row.status = 'posted';
        row.amountMinor = state.amountPosted;
      }
    }
  }
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
  let transfersRead = 0;
  const took = (entries: Uint8Array): PageRead => {
    const count = entries.byteLength / HistoryEntryLayout.bytes;
    builder.add(entries, HistoryEntryLayout.bytes);
    transfersRead += count;
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
  const rows = builder.build();
  await settleOpenPackedHolds(reads, rows);
  return {
    ledger: filterPacked(rows, (i) => rows.businessDay[i] === day && keep(rows, i)),
    later: filterPacked(rows, (i) => rows.businessDay[i] !== day && keep(rows, i)),
    openingMinor: statement.openingMinor,
    closingMinor: statement.closingMinor,
    transfersRead,
  };
}

/** settleOpenHolds for packed rows: only the holds get a bigint id. */
async function settleOpenPackedHolds(reads: Pick<LedgerReads, 'lookupTransfers'>, rows: PackedLedgerRows): Promise<void> {
  const open: number[] = [];
  for (let i = 0; i < rows.count; i++) if (statusOfKind(rows.kinds[i]!) === 'pending') open.push(i);
  const asRows = open.map((i) => ({ index: i, row: { transferId: transferIdAt(rows, i), status: 'pending', amountMinor: 0n } as Pick<LedgerRow, 'transferId' | 'status' | 'amountMinor'> }));
  await settleOpenHolds(reads, asRows.map(({ row }) => row));
  for (const { index, row } of asRows) {
    if (row.status === 'pending') continue;
    rows.kinds[index] = withStatus(rows.kinds[index]!, row.status);
    if (row.status === 'posted') rows.words.set([0n, row.amountMinor], index * 6 + 4);
  }
}
