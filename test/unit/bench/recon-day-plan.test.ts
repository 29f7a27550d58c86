// The reconciliation bench's day (bench/recon/day-plan.ts, bill-file.ts): a seed gives one day; refunds follow their
// payment; differences come in roughly equal shares; the bill written from the plan passes the WeChat bill checks
// (its summary adds up); and reconciling that bill against the plan's postings — the same reader and matcher the
// server runs, no server — finds exactly the exceptions the plan expects, so a FAIL of the bench is the server's.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceOf } from '../../../src/client/references.js';
import { parseChannels } from '../../../src/core/recon/channel-config-parse.js';
import { matchStatement, type LedgerRow } from '../../../src/core/recon/matcher.js';
import { isMatchedOutcome } from '../../../src/core/recon/outcomes.js';
import { statementRows } from '../../../src/recon/statement-rows.js';
import { writeBillFile } from '../../../bench/recon/bill-file.js';
import { channelsFile } from '../../../bench/recon/channel.js';
import {
  billRowsOf,
  compareKeys,
  countsByOutcome,
  differenceKinds,
  differenceOf,
  exceptionKey,
  expectedExceptions,
  orderNo,
  planDay,
  strayOrderNo,
  type DayPlan,
} from '../../../bench/recon/day-plan.js';
import { useTempDirs } from '../../support/temp-dirs.js';

const tempDir = useTempDirs();
const day = 20261208;
const dayText = '2026-12-08';
const options = { transfers: 20_000, seed: 17, refundShare: 0.02, differenceShare: 0.01 };

/** The first payment with `kind` injected. */
function firstOf(plan: DayPlan, kind: (typeof differenceKinds)[number] | null): number {
  for (let p = 0; p < plan.payments; p++) if (differenceOf(plan, p) === kind && plan.refundFen[p] === 0) return p;
  throw new Error(`no payment with ${kind}`);
}

describe('planDay', () => {
  const plan = planDay(options);

  it('is the same day for the same seed, another for another', () => {
    expect(planDay(options)).toEqual(plan);
    expect(planDay({ ...options, seed: 18 }).amountFen).not.toEqual(plan.amountFen);
  });

  it('posts exactly the transfers asked: each payment once, each refund right after its payment and smaller', () => {
    expect(plan.slotPayment).toHaveLength(options.transfers);
    let refunds = 0;
    for (let slot = 0; slot < plan.transfers; slot++) {
      const p = plan.slotPayment[slot]!;
      if (plan.slotIsRefund[slot] === 1) {
        refunds++;
        expect(plan.slotPayment[slot - 1]).toBe(p);
        expect(plan.refundFen[p]).toBeGreaterThan(0);
        expect(plan.refundFen[p]).toBeLessThan(plan.amountFen[p]!);
      } else {
        expect(p).toBe(slot - refunds);
      }
    }
    expect(plan.payments + refunds).toBe(options.transfers);
    expect(refunds / plan.payments).toBeGreaterThan(0.015);
    expect(refunds / plan.payments).toBeLessThan(0.025);
  });

  it('injects ~1% differences, each kind a fifth of them, only on payments without a refund', () => {
    const counts = countsByOutcome(expectedExceptions(plan, day, BigInt));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(total / plan.payments).toBeGreaterThan(0.008);
    expect(total / plan.payments).toBeLessThan(0.012);
    for (const kind of differenceKinds) expect(counts.get(kind)! / total).toBeGreaterThan(0.12);
    for (let p = 0; p < plan.payments; p++) if (plan.refundFen[p] !== 0) expect(differenceOf(plan, p)).toBeNull();
  });

  it.each([
    [null, ['SUCCESS'], (p: number) => [orderNo(day, p)]],
    ['amount_mismatch', ['SUCCESS'], (p: number) => [orderNo(day, p)]],
    ['status_mismatch', ['REVOKED'], (p: number) => [orderNo(day, p)]],
    ['missing_at_channel', [], () => []],
    ['missing_on_platform', ['SUCCESS', 'SUCCESS'], (p: number) => [orderNo(day, p), strayOrderNo(day, p)]],
    ['duplicate_at_channel', ['SUCCESS', 'SUCCESS'], (p: number) => [orderNo(day, p), orderNo(day, p)]],
  ] as const)('a payment with difference %s is stated as %j', (kind, statuses, orders) => {
    const p = firstOf(plan, kind);
    const rows = billRowsOf(plan, day, p);
    expect(rows.map((row) => row.status)).toEqual(statuses);
    expect(rows.map((row) => row.order)).toEqual(orders(p));
    const stated = rows[0]?.settled;
    if (kind === 'amount_mismatch') expect(stated).not.toBe(plan.amountFen[p]);
    else if (rows.length > 0) expect(stated).toBe(plan.amountFen[p]);
  });
});

describe('compareKeys', () => {
  it.each([
    [['a 1', 'b 2'], ['b 2', 'a 1'], [], []],
    [['a 1', 'a 1'], ['a 1'], ['a 1'], []],
    [['a 1'], ['a 1', 'c 3'], [], ['c 3']],
  ])('expected %j, found %j: missed %j, unexpected %j', (expected, found, missed, unexpected) => {
    expect(compareKeys(expected, found)).toEqual({ missed, unexpected });
  });
});

describe('the bench bill, reconciled without a server', () => {
  it('adds up, and matching it against the plan finds exactly the injected differences', async () => {
    const plan = planDay(options);
    const path = join(tempDir('tally-recon-plan-'), 'bill.csv');
    const stats = await writeBillFile(path, plan, day, dayText);
    const clearing = 77n;
    const channel = parseChannels(channelsFile(clearing)).channels[0]!;
    const read = statementRows([{ name: 'bill.csv', text: readFileSync(path, 'utf8') }], channel);
    expect(read.reports.flatMap((report) => report.problems)).toEqual([]);
    expect(read.rows).toHaveLength(stats.rows);

    // Our side as the ledger day reader makes it: payments debit the (asset) clearing account — money in at the channel.
    const ledger: LedgerRow[] = Array.from(plan.slotPayment, (p, slot) => {
      const refund = plan.slotIsRefund[slot] === 1;
      return {
        transferId: BigInt(slot + 1), key128: referenceOf(orderNo(day, p)), amountMinor: BigInt(refund ? plan.refundFen[p]! : plan.amountFen[p]!),
        direction: refund ? 'debit' : 'credit', codeClass: refund ? 'refund' : 'payment', timestampMs: 0, businessDay: day, status: 'posted',
      };
    });
    const paymentSlot = new Map<number, number>();
    plan.slotPayment.forEach((p, slot) => plan.slotIsRefund[slot] === 0 && paymentSlot.set(p, slot));
    const output = matchStatement({
      rows: read.rows, ledger, pool: [], later: [], businessDay: day, currency: channel.currency, tolerance: channel.tolerance,
      compareFees: false, pendingDaysMax: channel.pendingDaysMax, fallback: channel.fallback,
    });
    const orderOfRow = new Map(read.rows.map((row) => [row.rowNo, row.merchantOrderNo]));
    const found = output.records
      .filter((record) => !isMatchedOutcome(record.outcome))
      .map((record) => exceptionKey(record.outcome, record.rowNos.map((n) => orderOfRow.get(n)!), record.transferIds.map(String)));
    const expected = expectedExceptions(plan, day, (p) => BigInt(paymentSlot.get(p)! + 1));
    expect(compareKeys(expected, found)).toEqual({ missed: [], unexpected: [] });
    expect(found.length).toBeGreaterThan(100);
  });
});
