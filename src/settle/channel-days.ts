// A channel's business day as clearing reads it from the ledger (issue #18): the postings of the closed day on the
// channel's 在途 account (its statement, then history pages up to the day's cut on the account's shard), turned into
// cleared items by the configuration's rules (core/settle/settle-config.ts: payment and refund codes, merchant by
// user_data_32, channel cost in user_data_64), each with the reconciliation state the recon store gives it. Holds,
// their posts and voids are not items (payments and refunds post in one phase): they are counted as ignored, like
// postings of other codes and of merchants the configuration does not know. Settlement's own postings on the
// account are neither items nor ignored.

import { formatBusinessDay } from '../core/business-day.js';
import { HistoryEntryLayout, StatementFlags, StatementReplyLayout, TransferLayout as T } from '../core/layout.js';
import { historyPageMax } from '../core/limits.js';
import { shardOfId } from '../core/routing.js';
import type { ClearedItem, ReconciliationState } from '../core/settle/clearing.js';
import type { SettleChannel, SettleConfig } from '../core/settle/settle-config.js';
import { settlementIdTag } from '../core/settle/settlement-ids.js';
import { TransferFlags } from '../core/types.js';
import { readU128, viewOf, writeU128 } from '../core/u128.js';
import type { LedgerBytesReads } from '../recon/ledger-reads.js';

/** What reconciliation says of a channel day: not yet (why), or the state of the items it found exceptions for. */
export type ReconView = { waiting: string } | { states: ReadonlyMap<bigint, Exclude<ReconciliationState, 'matched'>> };

export interface ChannelDayRead {
  readonly channel: string;
  readonly day: number;
  /** Whether the ledger closed the day (has its day report). */
  readonly closed: boolean;
  /** null: cleared; else why the day cannot be cleared yet. */
  readonly waiting: string | null;
  readonly items: readonly ClearedItem[];
  readonly ignored: number;
}

const notItemFlags = TransferFlags.pending | TransferFlags.post_pending | TransferFlags.void_pending;

/** Reads the channel's day; `recon` is asked once the day is known to be closed. */
export async function readChannelDay(
  reads: Pick<LedgerBytesReads, 'getDayReport' | 'statementBytes' | 'historyBytes'>,
  config: SettleConfig,
  channel: SettleChannel,
  day: number,
  recon: (channel: SettleChannel, day: number) => Promise<ReconView>,
): Promise<ChannelDayRead> {
  const waiting = (closed: boolean, why: string): ChannelDayRead => ({ channel: channel.name, day, closed, waiting: why, items: [], ignored: 0 });
  const report = await reads.getDayReport(day);
  if (report === null) return waiting(false, `day ${formatBusinessDay(day)} is not closed on the ledger yet`);
  const view = await recon(channel, day);
  if ('waiting' in view) return waiting(true, view.waiting);
  const shard = shardOfId(channel.inTransitAccountId, report.shards.length);
  const cutText = report.shards.find((row) => row.shard === shard)?.cutTimestamp;
  if (cutText === undefined) throw new Error(`the day report of ${formatBusinessDay(day)} has no cut for shard ${shard}`);
  const statement = await reads.statementBytes(channel.inTransitAccountId, day, day);
  if (statement.byteLength === 0) throw new SettleConfigMismatch(`the 在途 account ${channel.inTransitAccountId} of channel ${channel.name} does not exist on the ledger`);
  // Each page's bytes become items as they come: no transfer objects for a day of a million postings, and no page
  // kept once read.
  const reader = new ItemReader(config, channel, day, view.states);
  const header = viewOf(statement);
  const count = header.getUint32(StatementReplyLayout.count, true);
  let last = reader.take(statement.subarray(StatementReplyLayout.bytes, StatementReplyLayout.bytes + count * HistoryEntryLayout.bytes));
  if ((header.getUint32(StatementReplyLayout.flags, true) & StatementFlags.truncated) !== 0) {
    const cut = BigInt(cutText);
    for (;;) {
      const page = await reads.historyBytes({ accountId: channel.inTransitAccountId, timestampMin: last.timestamp + 1n, timestampMax: cut, limit: historyPageMax });
      last = reader.take(page);
      if (last.entries < historyPageMax) break;
    }
  }
  return { channel: channel.name, day, closed: true, waiting: null, items: reader.items, ignored: reader.ignored };
}

/** The ledger and the configuration disagree (an account named that the ledger does not have): a run cannot go on. */
export class SettleConfigMismatch extends Error {}


/** Turns history entries (160 B each, the transfer record first) into cleared items by the configuration's rules. */
class ItemReader {
  readonly items: ClearedItem[] = [];
  ignored = 0;
  readonly #inTransit: Uint8Array;
  readonly #settlementTag = settlementIdTag;
  readonly #idBytes = Buffer.alloc(16);

  constructor(
    private readonly config: SettleConfig,
    private readonly channel: SettleChannel,
    private readonly day: number,
    private readonly states: ReadonlyMap<bigint, Exclude<ReconciliationState, 'matched'>>,
  ) {
    this.#inTransit = new Uint8Array(16);
    writeU128(viewOf(this.#inTransit), 0, channel.inTransitAccountId);
  }

  /** Reads a page; answers how many entries it held and the last one's timestamp (where the next page starts). */
  take(entries: Uint8Array): { entries: number; timestamp: bigint } {
    const view = viewOf(entries);
    const count = entries.byteLength / HistoryEntryLayout.bytes;
    for (let i = 0; i < count; i++) this.#entry(entries, view, i * HistoryEntryLayout.bytes);
    return { entries: count, timestamp: count === 0 ? 0n : view.getBigUint64((count - 1) * HistoryEntryLayout.bytes + T.timestamp, true) };
  }

  #entry(bytes: Uint8Array, view: DataView, at: number): void {
    // Settlement's own postings (the id's top 32 bits are its tag) are neither items nor ignored.
    if (view.getUint32(at + T.id + 12, true) === this.#settlementTag) return;
    const flags = view.getUint16(at + T.flags, true);
    const code = view.getUint16(at + T.code, true);
    const credited = this.#isInTransit(bytes, at + T.creditAccountId);
    const product = credited ? this.channel.payments.get(code) : this.#isInTransit(bytes, at + T.debitAccountId) ? this.channel.refunds.get(code) : undefined;
    const merchant = this.config.merchantsByNumber.get(view.getUint32(at + T.userData32, true));
    const amountMinor = view.getBigUint64(at + T.amount, true);
    if ((flags & notItemFlags) !== 0 || product === undefined || merchant === undefined || amountMinor === 0n) {
      this.ignored++;
      return;
    }
    const kind = credited ? 'payment' : 'refund';
    const costMinor = view.getBigUint64(at + T.userData64, true);
    // The id's 16 bytes, most significant first, as one flat string: a string built by 16 concatenations is a rope
    // that every comparison of clearing's sort walks again (a third of a preview's time at a million items).
    for (let b = 0; b < 16; b++) this.#idBytes[b] = bytes[at + T.id + 15 - b]!;
    const orderId = this.#idBytes.toString('hex');
    this.items.push({
      orderId,
      merchantId: merchant.id,
      product,
      channel: this.channel.name,
      kind,
      accountingTimeNs: view.getBigUint64(at + T.timestamp, true),
      tradeDay: this.day,
      amountMinor,
      channelCostMinor: kind === 'payment' ? costMinor : -costMinor,
      reconciliation: this.states.size === 0 ? 'matched' : (this.states.get(readU128(view, at + T.id)) ?? 'matched'),
    });
  }

  #isInTransit(bytes: Uint8Array, at: number): boolean {
    const id = this.#inTransit;
    for (let b = 0; b < 16; b++) if (bytes[at + b] !== id[b]) return false;
    return true;
  }
}
