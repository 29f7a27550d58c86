// The day report (日切报告) of business day T: the checks that the shards' closing balances (the detail
// side) and the bookkeeping shard's general ledger agree — 总分核对 per subject, 试算平衡 per ledger, transit
// netted against the money in flight at the cut, every account code mapped. Pure: it never changes its
// inputs, and the report holds numbers and decimal strings only, so it is stored and sent as JSON.

import { assert } from '../assert.js';
import { formatBusinessDay, isBusinessDay } from '../business-day.js';
import { trialBalance, type ChartOfAccounts, type SubjectTotals } from './chart-of-accounts.js';
import type { ShardDayClose, SystemAccountClosing } from './day-close.js';
import { openingDay, unmappedSubject } from './general-ledger.js';
import { shardCountMax } from '../limits.js';
import { SystemAccountCode, SystemAccountKind } from '../accounts/system-accounts.js';
import { accountCodeOfSystemId } from './vouchers.js';

export const dayReportVersion = 1;

/**
 * Money of one ledger in flight from the payer's shard to the payee's at a cut (credits, or returns
 * on their way back). Declared here, in core, where the report checks transit against it; the shard set's
 * relay (shards/relay/transit-relay.ts), which measures it, imports it from here.
 */
export interface InFlightAmount {
  ledger: number;
  from: number;
  to: number;
  amount: bigint;
}

/**
 * What the report reads of the general ledger; GeneralLedger (general-ledger.ts) satisfies it. The
 * optional methods only sharpen failure sentences and unmapped rows: without seqLast a lagging general
 * ledger is not named as the likely cause, and without detailSnapshot an unmapped account's code is 0.
 */
export interface GeneralLedgerView {
  /** Per leaf subject (and `unmapped`), the totals of every business day up to and including `day`. */
  subjectTotalsThrough(ledger: number, day: number): ReadonlyMap<string, SubjectTotals>;
  ledgers(): number[];
  /** Accounts with postings whose code the chart maps to no leaf. */
  unmappedAccounts(): bigint[];
  seqLast?(shardIndex: number): number;
  detailSnapshot?(shardIndex: number): ReadonlyMap<bigint, { code: number; ledger: number }>;
}

/** 总分核对 of one (ledger, leaf subject): the shards' closings mapped to it against the general ledger through T. */
export interface DetailRow {
  ledger: number;
  /** A leaf subject code, or `unmapped` for account codes the chart maps nowhere. */
  subject: string;
  detailDebits: string;
  detailCredits: string;
  generalDebits: string;
  generalCredits: string;
  passed: boolean;
}

/** 试算平衡 of one ledger over the general ledger's leaves through T (unmapped postings left out). */
export interface TrialRow {
  ledger: number;
  debitsTotal: string;
  creditsTotal: string;
  debitBalancesTotal: string;
  creditBalancesTotal: string;
  passed: boolean;
}

/** One ledger's transit from payer shard `from` to payee shard `to`: what its two halves hold against what was in flight. */
export interface TransitRow {
  ledger: number;
  from: number;
  to: number;
  /** '' when the shard never opened that half. */
  outAccountId: string;
  inAccountId: string;
  /** Transit-out credits − debits: credits issued less returns applied. */
  outNet: string;
  /** Transit-in debits − credits: credits applied. */
  inNet: string;
  inFlightAtCut: string;
  passed: boolean;
}

/** An account, or a code, that the chart maps to no leaf subject; any row fails the check. */
export interface UnmappedRow {
  /** '' when only the shards' closings name the code: they sum ordinary accounts per code, without ids. */
  accountId: string;
  /** 0 (and ledger 0) when the general ledger named the account but could not say its code. */
  code: number;
  ledger: number;
  /** Shards whose closings hold accounts of this code on this ledger. */
  shards: number[];
}

export interface DayReport {
  version: 1;
  /** T (yyyymmdd; 0 for the opening, everything before the first cut): the day closed. */
  day: number;
  /** T+1: the day the cut began. */
  dayBegun: number;
  shards: { shard: number; cutSeq: number; cutTimestamp: string }[];
  /** Every check below passed. */
  passed: boolean;
  checks: {
    detailVsGeneral: { passed: boolean; rows: DetailRow[] };
    trialBalance: { passed: boolean; ledgers: TrialRow[] };
    transit: { passed: boolean; pairs: TransitRow[] };
    unmapped: { passed: boolean; accounts: UnmappedRow[] };
  };
  /** One sentence per failed row, in check order, naming the ledger and the subject, accounts or shards. */
  failures: string[];
}

export interface DayReportInput {
  day: number;
  dayBegun: number;
  /** One per shard of the set, each closing `day`. */
  closes: ShardDayClose[];
  inFlight: InFlightAmount[];
  chart: ChartOfAccounts;
  generalLedger: GeneralLedgerView;
}

/** Totals gathered on one side, with what they were gathered from (for the failure sentence). */
interface DetailSum extends SubjectTotals {
  sources: string[];
}

/** An account code the chart does not map, as the shards' closings show it. */
interface UnmappedCode {
  ledger: number;
  code: number;
  accounts: number;
  shards: Set<number>;
}

interface DetailSide {
  /** ledger → subject → totals. */
  subjects: Map<number, Map<string, DetailSum>>;
  /** `ledger:code` → where it appears. */
  unmappedCodes: Map<string, UnmappedCode>;
  /** Unmapped system accounts (a chart without 9100/9200): id → code and ledger. */
  unmappedSystem: Map<string, { code: number; ledger: number }>;
}

interface CheckResult<Row> {
  rows: Row[];
  failures: string[];
}

const decimalPattern = /^[0-9]+$/;

function amountOf(text: string, what: string): bigint {
  assert(decimalPattern.test(text), `${what} is a decimal string, not ${JSON.stringify(text)}`);
  return BigInt(text);
}

function mapAt<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

function byNumber(a: number, b: number): number {
  return a - b;
}

function dayLabel(day: number): string {
  return day === openingDay ? 'the opening' : formatBusinessDay(day);
}

/** Builds the report of day `day` from every shard's closing, the money in flight at the cut, and the general ledger. */
export function buildDayReport(input: DayReportInput): DayReport {
  assertInput(input);
  const { chart, generalLedger, day } = input;
  const closes = [...input.closes].sort((a, b) => a.shard - b.shard);
  const detail = collectDetail(closes, chart);
  // The general ledger may have booked past the cut (postings go on throughout, and a restarted bookkeeper
  // rebuilds through its progress): its totals are kept per business day, so through T they are exactly
  // those at the cut, but a ledger first posted after the cut must not add a row either. The report reads
  // the general ledger through T only, and so comes out the same whenever it is built (tally verify rebuilds it).
  const generalThroughDay = new Map<number, ReadonlyMap<string, SubjectTotals>>();
  for (const ledger of generalLedger.ledgers()) {
    const totals = generalLedger.subjectTotalsThrough(ledger, day);
    if (totals.size > 0) generalThroughDay.set(ledger, totals);
  }
  const ledgers = [...new Set([...generalThroughDay.keys(), ...detail.subjects.keys()])].sort(byNumber);
  const general = new Map(ledgers.map((ledger) => [ledger, generalThroughDay.get(ledger) ?? generalLedger.subjectTotalsThrough(ledger, day)] as const));
  const detailVsGeneral = checkDetailVsGeneral(input, detail, general);
  const trial = checkTrialBalance(chart, day, general);
  const transit = checkTransit(closes, input.inFlight);
  const unmapped = checkUnmapped(closes, generalLedger, detail);
  const checks: DayReport['checks'] = {
    detailVsGeneral: { passed: detailVsGeneral.failures.length === 0, rows: detailVsGeneral.rows },
    trialBalance: { passed: trial.failures.length === 0, ledgers: trial.rows },
    transit: { passed: transit.failures.length === 0, pairs: transit.rows },
    unmapped: { passed: unmapped.failures.length === 0, accounts: unmapped.rows },
  };
  const failures = [...detailVsGeneral.failures, ...trial.failures, ...transit.failures, ...unmapped.failures];
  // Each failed row has exactly one sentence (an unmapped row always fails).
  const failedRows =
    detailVsGeneral.rows.filter((r) => !r.passed).length + trial.rows.filter((r) => !r.passed).length + transit.rows.filter((r) => !r.passed).length + unmapped.rows.length;
  assert(failures.length === failedRows, 'one failure sentence per failed row');
  const passed = failures.length === 0;
  assert(passed === Object.values(checks).every((c) => c.passed), 'the report passes exactly when every check passes');
  return {
    version: dayReportVersion,
    day,
    dayBegun: input.dayBegun,
    shards: closes.map((c) => ({ shard: c.shard, cutSeq: c.cutSeq, cutTimestamp: c.cutTimestamp })),
    passed,
    checks,
    failures,
  };
}

/** The inputs describe one cut of one whole shard set; anything else is a caller's bug, not a failed check. */
function assertInput(input: DayReportInput): void {
  const { day, dayBegun, closes } = input;
  assert(day === openingDay || isBusinessDay(day), `day ${day} is 0 or yyyymmdd`);
  assert(isBusinessDay(dayBegun) && dayBegun > day, `dayBegun ${dayBegun} is a business day after ${day}`);
  assert(closes.length >= 1 && closes.length <= shardCountMax, 'one close per shard, within shardCountMax');
  const shards = new Set(closes.map((c) => c.shard));
  assert(shards.size === closes.length && closes.every((c) => c.shard >= 0 && c.shard < closes.length), 'closes name shards 0..n-1, once each');
  for (const c of closes) {
    assert(c.day === day && c.dayBegun === dayBegun, `shard ${c.shard} closed day ${c.day} (began ${c.dayBegun}), not ${day} (began ${dayBegun})`);
  }
  const pairs = new Set<string>();
  for (const f of input.inFlight) {
    assert(f.from !== f.to && shards.has(f.from) && shards.has(f.to), `in-flight pair ${f.from}→${f.to} joins two shards of the set`);
    assert(f.amount >= 0n, `in-flight amount on ledger ${f.ledger} ${f.from}→${f.to} is not negative`);
    const key = `${f.ledger}:${f.from}:${f.to}`;
    assert(!pairs.has(key), `in-flight amount on ledger ${f.ledger} ${f.from}→${f.to} is given once`);
    pairs.add(key);
  }
}

// ---- the detail side ------------------------------------------------------------------------------

/** Sums every shard's code rows and system accounts per (ledger, leaf), noting the codes no leaf takes. */
function collectDetail(closes: readonly ShardDayClose[], chart: ChartOfAccounts): DetailSide {
  const side: DetailSide = { subjects: new Map(), unmappedCodes: new Map(), unmappedSystem: new Map() };
  for (const close of closes) {
    for (const row of close.codes) {
      const what = `shard ${close.shard} ledger ${row.ledger} code ${row.code}`;
      const totals = { debits: amountOf(row.debitsPosted, `${what} debits`), credits: amountOf(row.creditsPosted, `${what} credits`) };
      addDetail(side, chart, close.shard, row.ledger, row.code, row.accounts, totals, `shard ${close.shard} code ${row.code}`);
    }
    for (const account of close.systemAccounts) {
      const code = systemAccountCode(close.shard, account);
      const what = `system account ${account.id}`;
      const totals = { debits: amountOf(account.debitsPosted, `${what} debits`), credits: amountOf(account.creditsPosted, `${what} credits`) };
      const leaf = addDetail(side, chart, close.shard, account.ledger, code, 1, totals, `shard ${close.shard} ${kindName(account.kind)} ${account.id}`);
      if (leaf === unmappedSubject) side.unmappedSystem.set(account.id, { code, ledger: account.ledger });
    }
  }
  return side;
}

/** Adds one code row or system account to its leaf (or to `unmapped`); returns the subject it went to. */
function addDetail(side: DetailSide, chart: ChartOfAccounts, shard: number, ledger: number, code: number, accounts: number, totals: SubjectTotals, source: string): string {
  const subject = chart.leafOfAccountCode(code)?.code ?? unmappedSubject;
  const sum = mapAt(mapAt(side.subjects, ledger, () => new Map<string, DetailSum>()), subject, () => ({ debits: 0n, credits: 0n, sources: [] }));
  sum.debits += totals.debits;
  sum.credits += totals.credits;
  sum.sources.push(source);
  if (subject === unmappedSubject) {
    const unmapped = mapAt(side.unmappedCodes, `${ledger}:${code}`, () => ({ ledger, code, accounts: 0, shards: new Set<number>() }));
    unmapped.accounts += accounts;
    unmapped.shards.add(shard);
  }
  return subject;
}

/** The chart code of a system account (transit 9100, suspense 9200), checking it lives on the shard that reported it. */
function systemAccountCode(shard: number, account: SystemAccountClosing): number {
  const code = accountCodeOfSystemId(amountOf(account.id, 'system account id'));
  assert(code !== undefined, `shard ${shard}: system account ${account.id} has a system id`);
  const home = account.kind === SystemAccountKind.transitIn ? account.to : account.from;
  assert(home === shard, `system account ${account.id} (kind ${account.kind}) lives on shard ${home}, reported by ${shard}`);
  const expected = account.kind === SystemAccountKind.suspense ? SystemAccountCode.suspense : SystemAccountCode.transit;
  assert(code === expected, `system account ${account.id}: its id's kind agrees with kind ${account.kind}`);
  return code;
}

function kindName(kind: number): string {
  if (kind === SystemAccountKind.transitOut) return 'transit-out';
  if (kind === SystemAccountKind.transitIn) return 'transit-in';
  assert(kind === SystemAccountKind.suspense, `system account kind ${kind} is known`);
  return 'suspense';
}

// ---- 总分核对 -------------------------------------------------------------------------------------

function checkDetailVsGeneral(input: DayReportInput, detail: DetailSide, general: ReadonlyMap<number, ReadonlyMap<string, SubjectTotals>>): CheckResult<DetailRow> {
  const result: CheckResult<DetailRow> = { rows: [], failures: [] };
  for (const [ledger, generalTotals] of general) {
    const detailTotals = detail.subjects.get(ledger) ?? new Map<string, DetailSum>();
    const subjects = [...new Set([...detailTotals.keys(), ...generalTotals.keys()])].sort();
    for (const subject of subjects) {
      // A subject the chart lacks means the general ledger was built on another chart: a wiring bug.
      assert(subject === unmappedSubject || input.chart.subjects.get(subject)?.children.length === 0, `general ledger subject ${subject} is a leaf of the chart`);
      const detailSum = detailTotals.get(subject) ?? { debits: 0n, credits: 0n, sources: [] };
      const generalSum = generalTotals.get(subject) ?? { debits: 0n, credits: 0n };
      const passed = detailSum.debits === generalSum.debits && detailSum.credits === generalSum.credits;
      result.rows.push({
        ledger,
        subject,
        detailDebits: detailSum.debits.toString(),
        detailCredits: detailSum.credits.toString(),
        generalDebits: generalSum.debits.toString(),
        generalCredits: generalSum.credits.toString(),
        passed,
      });
      if (!passed) result.failures.push(detailFailure(input, ledger, subject, detailSum, generalSum));
    }
  }
  return result;
}

function detailFailure(input: DayReportInput, ledger: number, subject: string, detail: DetailSum, general: SubjectTotals): string {
  const name = input.chart.subjects.get(subject)?.name;
  const label = name === undefined ? `subject ${subject}` : `subject ${subject} ${name}`;
  const from = detail.sources.length === 0 ? 'no shard reports an account of this subject' : `detail from ${detail.sources.join(', ')}`;
  let sentence =
    `Ledger ${ledger}, ${label}: the shards' closings hold debits ${detail.debits}, credits ${detail.credits} but the general ledger through ` +
    `${dayLabel(input.day)} holds debits ${general.debits}, credits ${general.credits} (general − detail: debits ${general.debits - detail.debits}, credits ${general.credits - detail.credits}); ${from}.`;
  const behind = input.closes.filter((c) => input.generalLedger.seqLast !== undefined && input.generalLedger.seqLast(c.shard) < c.cutSeq);
  if (behind.length > 0) sentence += ` The general ledger has not booked every shard through its cut: ${behind.map((c) => `shard ${c.shard} through seq ${input.generalLedger.seqLast!(c.shard)} of ${c.cutSeq}`).join(', ')}.`;
  return sentence;
}

// ---- 试算平衡 -------------------------------------------------------------------------------------

function checkTrialBalance(chart: ChartOfAccounts, day: number, general: ReadonlyMap<number, ReadonlyMap<string, SubjectTotals>>): CheckResult<TrialRow> {
  const result: CheckResult<TrialRow> = { rows: [], failures: [] };
  for (const [ledger, totals] of general) {
    // The chart's trial balance takes leaves only; unmapped postings are named beside it instead.
    const leaves = new Map(totals);
    leaves.delete(unmappedSubject);
    const tb = trialBalance(chart, leaves);
    result.rows.push({
      ledger,
      debitsTotal: tb.debitsTotal.toString(),
      creditsTotal: tb.creditsTotal.toString(),
      debitBalancesTotal: tb.debitBalancesTotal.toString(),
      creditBalancesTotal: tb.creditBalancesTotal.toString(),
      passed: tb.balanced,
    });
    if (tb.balanced) continue;
    const unmapped = totals.get(unmappedSubject);
    const aside = unmapped === undefined ? '' : ` Postings on unmapped account codes, left out of it: debits ${unmapped.debits}, credits ${unmapped.credits}.`;
    result.failures.push(
      `Ledger ${ledger}: the trial balance through ${dayLabel(day)} does not balance: debits ${tb.debitsTotal} against credits ${tb.creditsTotal}, ` +
        `debit balances ${tb.debitBalancesTotal} against credit balances ${tb.creditBalancesTotal}.${aside}`,
    );
  }
  return result;
}

// ---- transit --------------------------------------------------------------------------------------

interface TransitPair {
  ledger: number;
  from: number;
  to: number;
  /** The pair's transit-out and transit-in accounts: one per generation (system-accounts.ts), oldest first. */
  out: SystemAccountClosing[];
  in: SystemAccountClosing[];
  inFlight: bigint;
}

/**
 * Per (ledger, payer shard, payee shard): what transit-out still holds beyond what transit-in took
 * must be exactly the money in flight at the cut (在途). Pairs with money in flight but no transit
 * account are checked too: money cannot be in flight without having been credited to transit-out.
 */
function checkTransit(closes: readonly ShardDayClose[], inFlight: readonly InFlightAmount[]): CheckResult<TransitRow> {
  const pairs = new Map<string, TransitPair>();
  const pairAt = (ledger: number, from: number, to: number): TransitPair => mapAt(pairs, `${ledger}:${from}:${to}`, () => ({ ledger, from, to, out: [], in: [], inFlight: 0n }));
  for (const close of closes) {
    for (const account of close.systemAccounts) {
      if (account.kind === SystemAccountKind.suspense) continue;
      const pair = pairAt(account.ledger, account.from, account.to);
      pair[account.kind === SystemAccountKind.transitOut ? 'out' : 'in'].push(account);
    }
  }
  for (const f of inFlight) pairAt(f.ledger, f.from, f.to).inFlight = f.amount;
  const sorted = [...pairs.values()].sort((a, b) => a.ledger - b.ledger || a.from - b.from || a.to - b.to);
  const result: CheckResult<TransitRow> = { rows: [], failures: [] };
  for (const pair of sorted) transitRow(pair, result);
  return result;
}

function transitRow(pair: TransitPair, result: CheckResult<TransitRow>): void {
  // Named by their first generation; every generation's net counts.
  const out = pair.out[0];
  const inHalf = pair.in[0];
  let outNet = 0n;
  for (const half of pair.out) outNet += amountOf(half.creditsPosted, 'transit-out credits') - amountOf(half.debitsPosted, 'transit-out debits');
  let inNet = 0n;
  for (const half of pair.in) inNet += amountOf(half.debitsPosted, 'transit-in debits') - amountOf(half.creditsPosted, 'transit-in credits');
  const passed = outNet - inNet === pair.inFlight;
  result.rows.push({
    ledger: pair.ledger,
    from: pair.from,
    to: pair.to,
    outAccountId: out?.id ?? '',
    inAccountId: inHalf?.id ?? '',
    outNet: outNet.toString(),
    inNet: inNet.toString(),
    inFlightAtCut: pair.inFlight.toString(),
    passed,
  });
  if (passed) return;
  const outName = out === undefined ? `no transit-out account on shard ${pair.from}` : `transit-out ${out.id} (shard ${pair.from}) nets ${outNet}`;
  const inName = inHalf === undefined ? `no transit-in account on shard ${pair.to}` : `transit-in ${inHalf.id} (shard ${pair.to}) nets ${inNet}`;
  result.failures.push(
    `Ledger ${pair.ledger}, transit ${pair.from}→${pair.to}: ${outName} and ${inName}, leaving ${outNet - inNet} between them, ` +
      `but ${pair.inFlight} was in flight at the cut (transit − in flight: ${outNet - inNet - pair.inFlight}).`,
  );
}

// ---- unmapped account codes -----------------------------------------------------------------------

/**
 * Every account the general ledger books under no leaf, and every code the shards' closings show no
 * leaf takes — even one without postings yet: a chart must cover the codes in use before money moves.
 */
function checkUnmapped(closes: readonly ShardDayClose[], gl: GeneralLedgerView, detail: DetailSide): CheckResult<UnmappedRow> {
  const named = new Map(detail.unmappedSystem);
  for (const [id, account] of generalLedgerAccounts(closes, gl)) named.set(id, account);
  const shardsOf = (ledger: number, code: number) => [...(detail.unmappedCodes.get(`${ledger}:${code}`)?.shards ?? [])].sort(byNumber);
  const rows: UnmappedRow[] = [...named].map(([accountId, a]) => ({ accountId, code: a.code, ledger: a.ledger, shards: shardsOf(a.ledger, a.code) }));
  const failures = rows.map(
    (r) => `Ledger ${r.ledger}: account ${r.accountId} has code ${r.code === 0 ? '(unknown)' : r.code}, which the chart maps to no leaf subject` + (r.shards.length === 0 ? '.' : ` (on shard(s) ${r.shards.join(', ')}).`),
  );
  const namedCodes = new Set(rows.map((r) => `${r.ledger}:${r.code}`));
  for (const [key, c] of detail.unmappedCodes) {
    if (namedCodes.has(key)) continue;
    const shards = [...c.shards].sort(byNumber);
    rows.push({ accountId: '', code: c.code, ledger: c.ledger, shards });
    failures.push(`Ledger ${c.ledger}: account code ${c.code} maps to no leaf subject of the chart (${c.accounts} account(s) on shard(s) ${shards.join(', ')}).`);
  }
  const order = rows.map((row, k) => ({ row, failure: failures[k]! }));
  order.sort((a, b) => a.row.ledger - b.row.ledger || a.row.code - b.row.code || (a.row.accountId < b.row.accountId ? -1 : a.row.accountId > b.row.accountId ? 1 : 0));
  return { rows: order.map((o) => o.row), failures: order.map((o) => o.failure) };
}

/** The general ledger's unmapped accounts with their code and ledger when it can say them (code 0 otherwise). */
function generalLedgerAccounts(closes: readonly ShardDayClose[], gl: GeneralLedgerView): Map<string, { code: number; ledger: number }> {
  const wanted = new Set(gl.unmappedAccounts());
  const found = new Map<string, { code: number; ledger: number }>();
  // detailSnapshot copies a shard's whole detail ledger, so it is read only while some id is still unexplained.
  for (const close of closes) {
    if (wanted.size === 0 || gl.detailSnapshot === undefined) break;
    for (const [id, account] of gl.detailSnapshot(close.shard)) {
      if (!wanted.delete(id)) continue;
      found.set(id.toString(), { code: account.code, ledger: account.ledger });
    }
  }
  for (const id of wanted) found.set(id.toString(), { code: 0, ledger: 0 });
  return found;
}

// ---- the human summary ----------------------------------------------------------------------------

/** A compact summary: a headline, one line per check (✓ or ✗), then every failure sentence. */
export function formatDayReport(report: DayReport): string {
  const { checks } = report;
  const mark = (passed: boolean) => (passed ? '✓' : '✗');
  const failedOf = (rows: readonly { passed: boolean }[]) => rows.filter((r) => !r.passed).length;
  const inFlight = checks.transit.pairs.reduce((sum, p) => sum + BigInt(p.inFlightAtCut), 0n);
  const lines = [
    `Day report ${dayLabel(report.day)} (${dayLabel(report.dayBegun)} begun) over ${report.shards.length} shard(s): ${report.passed ? 'PASSED' : 'FAILED'}`,
    `${mark(checks.detailVsGeneral.passed)} detail vs general (总分核对): ${checks.detailVsGeneral.rows.length} subject row(s), ${failedOf(checks.detailVsGeneral.rows)} failed`,
    `${mark(checks.trialBalance.passed)} trial balance (试算平衡): ${checks.trialBalance.ledgers.length} ledger(s), ${failedOf(checks.trialBalance.ledgers)} failed`,
    `${mark(checks.transit.passed)} transit (在途): ${checks.transit.pairs.length} pair(s), ${inFlight} in flight at the cut, ${failedOf(checks.transit.pairs)} failed`,
    `${mark(checks.unmapped.passed)} unmapped account codes: ${checks.unmapped.accounts.length}`,
  ];
  if (report.failures.length > 0) lines.push('Failures:', ...report.failures.map((f) => `- ${f}`));
  return lines.join('\n');
}
