// A matcher's record (core/recon/matcher.ts) as the exception people read and the store keeps (issue #17): amounts
// as decimal text at the channel's scale, each differing field with ours, theirs and the difference, the statement
// rows by place, order number and serial number, our transfers by id.

import type { ReconException, ReconOutcomeTotal } from '../core/recon/batches.js';
import type { OutcomeTotals, ReconRecord } from '../core/recon/matcher.js';
import { ReconOutcome, type ReconOutcomeName } from '../core/recon/outcomes.js';
import { formatStatementAmount } from '../core/recon/statement-amount.js';
import type { StatementRow } from '../core/recon/statement-row.js';

/** Signed decimal text of minor units at `scale`. */
export function signedAmount(minor: bigint, scale: number): string {
  return (minor < 0n ? '-' : '') + formatStatementAmount(minor < 0n ? -minor : minor, scale);
}

/** Rows by number: a Map, or anything answering get (the import worker's array lookup). */
export interface RowsByNo {
  get(no: number): StatementRow | undefined;
}

export function reconExceptionOf(record: ReconRecord, n: number, rowsByNo: RowsByNo, scale: number): ReconException {
  return {
    n,
    outcome: record.outcome,
    code: ReconOutcome[record.outcome],
    direction: record.direction,
    theirs: signedAmount(record.theirsMinor, scale),
    ours: signedAmount(record.oursMinor, scale),
    theirStatus: record.theirs,
    ourStatus: record.ours,
    differences: record.differences.map((d) => ({ field: d.field, ours: d.ours, theirs: d.theirs, ...(d.differenceMinor === undefined ? {} : { difference: signedAmount(d.differenceMinor, scale) }) })),
    rows: record.rowNos.map((no) => {
      const row = rowsByNo.get(no);
      return { row: no, locator: row?.locator ?? '', merchantOrderNo: row?.merchantOrderNo ?? '', channelSerialNo: row?.channelSerialNo ?? '' };
    }),
    transferIds: record.transferIds.map(String),
  };
}

/** Outcomes that occurred, with count and amount. */
export function reconTotalsOf(totals: Readonly<Record<ReconOutcomeName, OutcomeTotals>>, scale: number): Partial<Record<ReconOutcomeName, ReconOutcomeTotal>> {
  const out: Partial<Record<ReconOutcomeName, ReconOutcomeTotal>> = {};
  for (const [name, total] of Object.entries(totals) as [ReconOutcomeName, OutcomeTotals][]) {
    if (total.count > 0) out[name] = { count: total.count, amount: signedAmount(total.amountMinor, scale) };
  }
  return out;
}
