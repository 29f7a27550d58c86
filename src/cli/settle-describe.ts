// What `tally settle` prints for people (issue #18): a preview's channel days, merchant table and balance check, a
// run's outcome, a merchant's statement and strategy changes. Pure: replies in, lines out. Amounts stay the decimal
// strings of minor units the server sent (exact whatever their size), right-aligned; nothing here does arithmetic.

import type {
  SettleBalanceCheck,
  SettleChannelDay,
  SettleMerchantSummary,
  SettlePreviewReply,
  SettleRunReply,
  SettleStatement,
  SettleStatementRun,
  SettleStrategyChange,
} from '../core/wire/settle-bodies.js';

/** Days due listed one by one up to this many; more are shown as first…last and a count. */
const daysDueListedMax = 3;

export function describePreview(reply: SettlePreviewReply, explain: boolean): string {
  const lines = [`settlement preview for ${reply.date} (nothing posted)`, ...describeDays(reply.days), ...daysOmitted(reply.daysOmitted), ...describeMerchants(reply.merchants), ...pageLine(reply)];
  if (explain) lines.push(...reply.merchants.flatMap(describeExplanation));
  lines.push(...describeCheck(reply.check), `${reply.postings} transfer(s) would be posted`);
  return lines.join('\n');
}

export function describeRun(reply: SettleRunReply): string {
  const { ok, exists, failed } = reply.transfers;
  const lines = [`run ${reply.id} for ${reply.date}: ${reply.status} (${reply.ms} ms)`, `transfers: ${ok} ok, ${exists} exists, ${failed} failed; ${reply.merchantCount} merchant settlement(s)`];
  if (reply.failures.length > 0) {
    lines.push('failures:');
    for (const failure of reply.failures) lines.push(`  ${failure.transferId}  ${failure.merchant} on ${failure.channel}, ${failure.role}: ${failure.result}`);
    if (failed > reply.failures.length) lines.push(`  … and ${failed - reply.failures.length} more`);
  }
  lines.push('settled per channel:', ...alignedTable(['channel', 'settled'], reply.check.channels.map((channel) => [channel.channel, channel.settledMinor]), [false, true]));
  lines.push(...describeCheck(reply.check));
  if (reply.status === 'failed') lines.push('nothing moved on: fix the cause and run the date again; the transfers already posted answer exists');
  if (reply.status === 'nothing_due') lines.push('nothing was due: no transfer posted (days settled at zero and carries moved on)');
  return lines.join('\n');
}

function daysOmitted(omitted: number): string[] {
  return omitted === 0 ? [] : [`  … and ${omitted} more channel days`];
}

/** Where the merchants shown sit among all of the run's, and how to see the next ones. */
function pageLine(reply: SettlePreviewReply): string[] {
  if (reply.merchants.length === reply.merchantCount) return [];
  return [`showing ${reply.merchants.length} of ${reply.merchantCount} merchant–channel units${reply.next === null ? '' : `; next page: --after ${reply.next}`}`];
}

export function describeStatement(statement: SettleStatement): string {
  const lines = [`statement of ${statement.merchant} for ${statement.date}: ${statement.runs.length} run(s)`];
  for (const run of statement.runs) lines.push('', ...describeStatementRun(run));
  return lines.join('\n');
}

export function describeChange(change: SettleStrategyChange): string {
  const decided = change.checker === undefined ? '' : `, ${change.status} by ${change.checker} at ${change.decidedAt ?? '?'}${change.rejectReason === undefined ? '' : ` (${change.rejectReason})`}`;
  return `${change.id}  ${change.status}  ${change.merchant} ${change.product ?? '(every product)'}  ${change.strategyId} v${change.version} from ${change.effectiveFrom}  by ${change.maker} at ${change.createdAt}${decided}: ${change.reason}`;
}

function describeDays(days: readonly SettleChannelDay[]): string[] {
  if (days.length === 0) return ['channel days: none read'];
  const rows = days.map((day) => [
    day.channel, day.day, day.state, String(day.items), String(day.ignored),
    day.totals?.clearedMinor ?? '', day.totals?.merchantFeesMinor ?? '', day.totals?.channelCostMinor ?? '', day.totals?.marginMinor ?? '', day.totals?.heldMinor ?? '', day.why ?? '',
  ]);
  const header = ['channel', 'day', 'state', 'items', 'ignored', 'cleared', 'fees', 'channel cost', 'margin', 'held', 'why'];
  return ['channel days (清算; amounts in minor units):', ...alignedTable(header, rows, [false, false, false, true, true, true, true, true, true, true, false])];
}

function describeMerchants(merchants: readonly SettleMerchantSummary[]): string[] {
  if (merchants.length === 0) return ['merchants: none due'];
  const header = ['merchant', 'channel', 'cycle', 'days due', 'paid', 'held', 'released', 'gross', 'fees', 'net', 'shares', 'reserve held', 'reserve released', 'carried in', 'carried out', 'settled'];
  const right = [false, false, false, false, true, true, true, true, true, true, true, true, true, true, true, true];
  const rows = merchants.map((m) => [
    m.merchant, m.channel, m.cycle, daysDue(m.daysDue), String(m.paidItems), String(m.heldBackItems), String(m.releasedItems),
    m.grossMinor, m.feesMinor, m.netMinor, m.sharesMinor, m.reserveHeldMinor, m.reserveReleasedMinor, m.carriedInMinor, m.carriedOutMinor, m.settledMinor,
  ]);
  return ['merchants (amounts in minor units):', ...alignedTable(header, rows, right)];
}

function describeExplanation(merchant: SettleMerchantSummary): string[] {
  return [`${merchant.merchant} on ${merchant.channel} (${merchant.cycle}, batch ${merchant.batch}):`, ...merchant.explanation.map((line) => `  ${line}`)];
}

function describeCheck(check: SettleBalanceCheck): string[] {
  const lines = [`balance check (总账平衡): ${check.balanced ? 'balanced' : 'NOT BALANCED'}`];
  for (const c of check.channels) {
    const verdict = c.differenceMinor === '0' && c.payoutDifferenceMinor === '0' ? 'balanced' : `OFF by ${c.differenceMinor}, payouts − settled ${c.payoutDifferenceMinor}`;
    lines.push(
      `  ${c.channel}: ${verdict} (cleared ${c.clearedMinor} = settled ${c.settledMinor} + fees ${c.feesMinor} + reserves held ${c.reservesHeldMinor}` +
        ` − reserves released ${c.reservesReleasedMinor} + held-back change ${c.heldBackChangeMinor} + carried-forward change ${c.carriedForwardChangeMinor}; payouts ${c.payoutsMinor})`,
    );
  }
  return lines;
}

function describeStatementRun(run: SettleStatementRun): string[] {
  const reserve = run.reserveReleaseOn === null ? run.reserveHeldMinor : `${run.reserveHeldMinor} (released on ${run.reserveReleaseOn})`;
  const lines = [
    `run ${run.runId} on ${run.channel}, ${run.cycle}, batch ${run.batch}; days due ${daysDue(run.daysDue)}`,
    `  items: ${run.paidItems} paid, ${run.heldBackItems} held back, ${run.releasedItems} released`,
    `  gross ${run.grossMinor}  fees ${run.feesMinor}  net ${run.netMinor}  shares ${run.sharesMinor}  reserve held ${reserve}  reserve released ${run.reserveReleasedMinor}`,
    ...run.shares.map((share) => `  分账 to ${share.receiver}: ${share.amountMinor}`),
    `  carried in ${run.carriedInMinor}  carried out ${run.carriedOutMinor}  payable ${run.payableMinor}  settled ${run.settledMinor}`,
  ];
  if (run.lines.length > 0) {
    const rows = run.lines.map((line) => [line.tradeDay, line.orderId, line.kind, line.product, line.amountMinor, line.feeMinor, line.strategy, line.reconciliation, line.state]);
    const header = ['trade day', 'order id', 'kind', 'product', 'amount', 'fee', 'strategy', 'reconciliation', 'state'];
    lines.push(...alignedTable(header, rows, [false, false, false, false, true, true, false, false, false]).map((line) => `  ${line}`));
  }
  if (run.postings.length > 0) {
    lines.push('  postings:');
    for (const posting of run.postings) lines.push(`    ${posting.transferId}  ${posting.role}  ${posting.amountMinor}  ${posting.debitAccountId} → ${posting.creditAccountId}`);
  }
  return lines;
}

function daysDue(days: readonly string[]): string {
  if (days.length === 0) return '-';
  if (days.length <= daysDueListedMax) return days.join(',');
  return `${days[0]}…${days[days.length - 1]} (${days.length})`;
}

/** Rows under a header, each column as wide as its widest cell; `right[i]` right-aligns column i (numbers). */
export function alignedTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[]): string[] {
  const widths = header.map((title, column) => rows.reduce((width, row) => Math.max(width, (row[column] ?? '').length), title.length));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => (right[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `  ${text}`);
}
