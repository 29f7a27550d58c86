// A channel's closed day read as cleared items, from the bytes of the ledger's replies (src/settle/channel-days.ts):
// payments credit the 在途 account and refunds debit it by their codes; holds, their posts and voids, other codes,
// unknown merchants and zero amounts are counted as ignored; settlement's own postings are neither; the pages after a
// truncated statement are read up to the day's cut; a day not closed, or not reconciled, waits.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryEntryLayout, StatementFlags, StatementReplyLayout, TransferLayout } from '../../../src/core/layout.js';
import { historyPageMax } from '../../../src/core/limits.js';
import { readSettleConfig } from '../../../src/core/settle/settle-config.js';
import { TransferFlags } from '../../../src/core/types.js';
import { viewOf } from '../../../src/core/u128.js';
import { encodeTransfers, type HistoryFilterInput, type TransferInput } from '../../../src/core/wire/records.js';
import type { DayReport } from '../../../src/core/books/day-report.js';
import { readChannelDay, type ReconView } from '../../../src/settle/channel-days.js';
import { repoRoot } from '../../support/server-process.js';

const config = readSettleConfig(JSON.parse(readFileSync(join(repoRoot(), 'config', 'settle.example.json'), 'utf8')));
const channel = config.channels[0]!; // wechat: 在途 1001, payments 1101 qr / 1102 app, refunds 1201 qr / 1202 app
const day = 20261208;
const customer = 9000n;
let nextId = 1n;
let clock = 1_000n;
const transfer = (change: Partial<TransferInput>): TransferInput => ({
  id: nextId++, debitAccountId: customer, creditAccountId: 1001n, amount: 10_000n, ledger: 156, code: 1101, userData32: 1, userData64: 25n, timestamp: clock++, ...change,
});

/** History entries (160 B: the transfer record, then balances) of these transfers. */
function entries(transfers: readonly TransferInput[]): Uint8Array {
  const records = encodeTransfers(transfers);
  const out = new Uint8Array(transfers.length * HistoryEntryLayout.bytes);
  transfers.forEach((t, i) => {
    out.set(records.subarray(i * 128, (i + 1) * 128), i * HistoryEntryLayout.bytes);
    viewOf(out).setBigUint64(i * HistoryEntryLayout.bytes + TransferLayout.timestamp, t.timestamp ?? 0n, true);
  });
  return out;
}

function statementReply(transfers: readonly TransferInput[], truncated: boolean): Uint8Array {
  const body = entries(transfers);
  const out = new Uint8Array(StatementReplyLayout.bytes + body.byteLength);
  viewOf(out).setUint32(StatementReplyLayout.count, transfers.length, true);
  viewOf(out).setUint32(StatementReplyLayout.flags, truncated ? StatementFlags.truncated : 0, true);
  out.set(body, StatementReplyLayout.bytes);
  return out;
}

const report = { day, shards: [{ shard: 0, cutTimestamp: '999999' }, { shard: 1, cutTimestamp: '999999' }] } as unknown as DayReport;
const matched = async (): Promise<ReconView> => ({ states: new Map() });

describe('readChannelDay', () => {
  it('takes payments and refunds by code, counts what is no item, leaves settlement postings out', async () => {
    const posted = [
      transfer({ amount: 10_000n, code: 1101 }), // payment qr of m-coffee (number 1)
      transfer({ amount: 5_000n, code: 1102, userData32: 2, userData64: 0n }), // payment app of m-books
      transfer({ debitAccountId: 1001n, creditAccountId: customer, amount: 2_000n, code: 1201, userData64: 5n }), // refund qr
      transfer({ code: 1201 }), // a refund code crediting 在途: no item
      transfer({ code: 4242 }), // another code
      transfer({ userData32: 77 }), // a merchant the configuration does not know
      transfer({ flags: TransferFlags.pending }), // a hold
      transfer({ amount: 0n }), // nothing moved
      transfer({ id: (0x53544c01n << 96n) | 1n, debitAccountId: 1001n, creditAccountId: 1002n, code: 802 }), // settlement's fee
    ];
    const reads = { getDayReport: async () => report, statementBytes: async () => statementReply(posted, false), historyBytes: async () => new Uint8Array(0) };
    const read = await readChannelDay(reads, config, channel, day, matched);
    expect(read.waiting).toBeNull();
    expect(read.ignored).toBe(5);
    expect(read.items.map((i) => [i.kind, i.merchantId, i.product, i.amountMinor, i.channelCostMinor, i.reconciliation])).toEqual([
      ['payment', 'm-coffee', 'qr', 10_000n, 25n, 'matched'],
      ['payment', 'm-books', 'app', 5_000n, 0n, 'matched'],
      ['refund', 'm-coffee', 'qr', 2_000n, -5n, 'matched'],
    ]);
    expect(read.items[0]!.orderId).toBe(posted[0]!.id.toString(16).padStart(32, '0'));
    expect(read.items[0]!.accountingTimeNs).toBe(posted[0]!.timestamp);
  });

  it('reads the pages after a truncated statement up to the cut, and gives items their reconciliation state', async () => {
    const all = Array.from({ length: historyPageMax + 5 }, () => transfer({}));
    const asked: bigint[] = [];
    const reads = {
      getDayReport: async () => report,
      statementBytes: async () => statementReply(all.slice(0, 3), true),
      historyBytes: async (filter: HistoryFilterInput) => {
        asked.push(filter.timestampMin!);
        expect(filter.timestampMax).toBe(999_999n);
        const from = all.findIndex((t) => t.timestamp! >= filter.timestampMin!);
        return entries(all.slice(from, from + historyPageMax));
      },
    };
    const unresolved = all[4]!.id;
    const read = await readChannelDay(reads, config, channel, day, async () => ({ states: new Map([[unresolved, 'unresolved' as const]]) }));
    expect(read.items).toHaveLength(all.length);
    expect(asked).toEqual([all[3]!.timestamp, all[3 + historyPageMax]!.timestamp]);
    expect(read.items.filter((i) => i.reconciliation === 'unresolved').map((i) => i.orderId)).toEqual([unresolved.toString(16).padStart(32, '0')]);
  });

  it('waits for a day not closed, and for reconciliation', async () => {
    const none = { getDayReport: async () => null, statementBytes: async () => new Uint8Array(0), historyBytes: async () => new Uint8Array(0) };
    expect((await readChannelDay(none, config, channel, day, matched)).waiting).toContain('not closed');
    const closed = { ...none, getDayReport: async () => report };
    expect((await readChannelDay(closed, config, channel, day, async () => ({ waiting: 'no batch yet' }))).waiting).toBe('no batch yet');
    await expect(readChannelDay(closed, config, channel, day, matched)).rejects.toThrow(/does not exist on the ledger/);
  });
});
