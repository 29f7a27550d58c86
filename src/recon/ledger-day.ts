// Our side of a channel's business day, read from a running ledger through the client (issue #17): the clearing
// account's statement of the closed day T and its history pages up to the day cut of the account's shard, then its
// postings of the window after the cut (paid before midnight, posted after), all in pages of history — never a
// query per row. Holds still open in what was read get their state from lookupTransfers (an expiry is in no
// history). A day not closed yet cannot be reconciled: the ledger refuses its statement.

import type { LedgerReads } from './ledger-reads.js';
import { historyPageMax } from '../core/limits.js';
import type { ChannelConfig } from '../core/recon/channel-config.js';
import { ledgerRowsOf, ledgerSideOf } from '../core/recon/ledger-rows.js';
import type { LedgerRow } from '../core/recon/matcher.js';
import { shardOfId } from '../core/routing.js';
import type { Transfer } from '../core/types.js';
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

/** Every history entry of the account with a timestamp in [from, to], oldest first, page by page. */
async function historyBetween(client: LedgerReads, accountId: bigint, from: bigint, to: bigint, into: Transfer[], onPage: (read: number) => void): Promise<void> {
  let timestampMin = from;
  for (;;) {
    const page = await client.getAccountTransfers({ accountId, timestampMin, timestampMax: to, limit: historyPageMax });
    for (const entry of page) into.push(entry.transfer);
    onPage(into.length);
    if (page.length < historyPageMax) return;
    timestampMin = page[page.length - 1]!.transfer.timestamp + 1n;
  }
}

export async function readLedgerDay(client: LedgerReads, channel: ChannelConfig, day: number, onProgress: (transfersRead: number) => void = () => {}): Promise<LedgerDay> {
  const clearing = channel.accounts.clearing;
  const report = await client.getDayReport(day);
  if (report === null) throw new LedgerDayError(`day ${day} is not closed on the ledger yet: a channel's day is reconciled after its cut`);
  const shard = shardOfId(clearing, report.shards.length);
  const cutText = report.shards.find((row) => row.shard === shard)?.cutTimestamp;
  if (cutText === undefined) throw new LedgerDayError(`the day report of ${day} has no cut for shard ${shard}`);
  const cut = BigInt(cutText);

  const statement = await client.getAccountStatement(clearing, day, day);
  if (statement === null) throw new LedgerDayError(`clearing account ${clearing} of channel ${channel.name} does not exist on the ledger`);
  const transfers = statement.entries.map((entry) => entry.transfer);
  onProgress(transfers.length);
  if (statement.truncated) await historyBetween(client, clearing, transfers[transfers.length - 1]!.timestamp + 1n, cut, transfers, onProgress);
  const windowEnd = cut + BigInt(channel.tolerance.dateWindowSeconds) * nsPerSecond;
  if (channel.tolerance.dateWindowSeconds > 0) await historyBetween(client, clearing, cut + 1n, windowEnd, transfers, onProgress);

  const next = nextBusinessDay(day);
  const rows = ledgerRowsOf(transfers, ledgerSideOf(channel), (timestamp) => (timestamp <= cut ? day : next));
  await settleOpenHolds(client, rows);
  const net = (balances: { creditsPosted: bigint; debitsPosted: bigint }): bigint => balances.creditsPosted - balances.debitsPosted;
  return {
    ledger: rows.filter((row) => row.businessDay === day),
    later: rows.filter((row) => row.businessDay !== day),
    openingMinor: net(statement.opening),
    closingMinor: net(statement.closing),
    transfersRead: transfers.length,
  };
}

/** Holds whose post or void was not among the entries read: their state now, by id (a few per day). */
async function settleOpenHolds(client: LedgerReads, rows: LedgerRow[]): Promise<void> {
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
