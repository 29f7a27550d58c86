// A channel's business day as clearing reads it from the ledger (issue #18): the postings of the closed day on the
// channel's 在途 account (its statement, then history pages up to the day's cut on the account's shard), turned into
// cleared items by the configuration's rules (core/settle/settle-config.ts: payment and refund codes, merchant by
// user_data_32, channel cost in user_data_64), each with the reconciliation state the recon store gives it. Holds,
// their posts and voids are not items (payments and refunds post in one phase): they are counted as ignored, like
// postings of other codes and of merchants the configuration does not know. Settlement's own postings on the
// account are neither items nor ignored.

import { formatBusinessDay } from '../core/business-day.js';
import { historyPageMax } from '../core/limits.js';
import { shardOfId } from '../core/routing.js';
import type { ClearedItem, ReconciliationState } from '../core/settle/clearing.js';
import type { SettleChannel, SettleConfig } from '../core/settle/settle-config.js';
import { settlementIdTag } from '../core/settle/settlement-ids.js';
import { TransferFlags, type AccountHistoryEntry, type Transfer } from '../core/types.js';
import type { LedgerReads } from '../recon/ledger-reads.js';

/** What reconciliation says of a channel day: not yet (why), or the state of the items it found exceptions for. */
export type ReconView = { waiting: string } | { states: ReadonlyMap<bigint, Exclude<ReconciliationState, 'matched'>> };

export interface ChannelDayRead {
  readonly channel: string;
  readonly day: number;
  /** null: cleared; else why the day cannot be cleared yet. */
  readonly waiting: string | null;
  readonly items: readonly ClearedItem[];
  readonly ignored: number;
}

const notItemFlags = TransferFlags.pending | TransferFlags.post_pending | TransferFlags.void_pending;

/** Reads the channel's day; `recon` is asked once the day is known to be closed. */
export async function readChannelDay(
  reads: Pick<LedgerReads, 'getDayReport' | 'getAccountStatement' | 'getAccountTransfers'>,
  config: SettleConfig,
  channel: SettleChannel,
  day: number,
  recon: (channel: SettleChannel, day: number) => Promise<ReconView>,
): Promise<ChannelDayRead> {
  const waiting = (why: string): ChannelDayRead => ({ channel: channel.name, day, waiting: why, items: [], ignored: 0 });
  const report = await reads.getDayReport(day);
  if (report === null) return waiting(`day ${formatBusinessDay(day)} is not closed on the ledger yet`);
  const view = await recon(channel, day);
  if ('waiting' in view) return waiting(view.waiting);
  const shard = shardOfId(channel.inTransitAccountId, report.shards.length);
  const cutText = report.shards.find((row) => row.shard === shard)?.cutTimestamp;
  if (cutText === undefined) throw new Error(`the day report of ${formatBusinessDay(day)} has no cut for shard ${shard}`);
  const statement = await reads.getAccountStatement(channel.inTransitAccountId, day, day);
  if (statement === null) throw new SettleConfigMismatch(`the 在途 account ${channel.inTransitAccountId} of channel ${channel.name} does not exist on the ledger`);
  // Each page is turned into items as it comes: a day of a million postings never holds its history entries whole.
  const items: ClearedItem[] = [];
  let ignored = 0;
  const take = (entries: readonly AccountHistoryEntry[]): void => {
    for (const { transfer } of entries) {
      const item = itemOf(config, channel, day, transfer, view.states);
      if (item === 'ours') continue;
      if (item === null) ignored++;
      else items.push(item);
    }
  };
  take(statement.entries);
  if (statement.truncated) {
    const cut = BigInt(cutText);
    for (let from = (statement.entries[statement.entries.length - 1]?.transfer.timestamp ?? 0n) + 1n; ; ) {
      const page = await reads.getAccountTransfers({ accountId: channel.inTransitAccountId, timestampMin: from, timestampMax: cut, limit: historyPageMax });
      take(page);
      if (page.length < historyPageMax) break;
      from = page[page.length - 1]!.transfer.timestamp + 1n;
    }
  }
  return { channel: channel.name, day, waiting: null, items, ignored };
}

/** The ledger and the configuration disagree (an account named that the ledger does not have): a run cannot go on. */
export class SettleConfigMismatch extends Error {}

/** The transfer as a cleared item, null when it is none, 'ours' for settlement's own postings. */
function itemOf(config: SettleConfig, channel: SettleChannel, day: number, transfer: Transfer, states: ReadonlyMap<bigint, Exclude<ReconciliationState, 'matched'>>): ClearedItem | null | 'ours' {
  if (transfer.id >> 96n === BigInt(settlementIdTag)) return 'ours';
  if ((transfer.flags & notItemFlags) !== 0) return null;
  const payment = transfer.creditAccountId === channel.inTransitAccountId ? channel.payments.get(transfer.code) : undefined;
  const refund = transfer.debitAccountId === channel.inTransitAccountId ? channel.refunds.get(transfer.code) : undefined;
  const product = payment ?? refund;
  const merchant = config.merchantsByNumber.get(transfer.userData32);
  if (product === undefined || merchant === undefined || transfer.amount === 0n) return null;
  const kind = payment !== undefined ? 'payment' : 'refund';
  return {
    orderId: transfer.id.toString(16).padStart(32, '0'),
    merchantId: merchant.id,
    product,
    channel: channel.name,
    kind,
    accountingTimeNs: transfer.timestamp,
    tradeDay: day,
    amountMinor: transfer.amount,
    channelCostMinor: kind === 'payment' ? transfer.userData64 : -transfer.userData64,
    reconciliation: states.get(transfer.id) ?? 'matched',
  };
}
