// What the load benchmark prints and saves: machine facts, the progress line, the final table, and
// the JSON record (bench/out/…) that RESULTS.md rows are copied from.

import os from 'node:os';
import type { DayReport } from '../../src/client/index.js';
import { formatDayReport } from '../../src/core/books/day-report.js';
import type { LatencySummary } from './latency.js';
import type { WindowProfile } from './cpu-profile.js';
import { statusLine } from './status-line.js';
import type { BufferedWait } from './hot-accounts.js';
import type { Workload } from './workloads.js';

export interface MachineInfo {
  date: string;
  node: string;
  platform: string;
  cpuCount: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1-minute load average when the bench started: other work on the box skews every figure. */
  loadAverageAtStart: number;
}

/** GET /health `transit`: cross-shard credits in flight, delivered since start, and the recent reply-to-credit delay. */
export interface TransitReading {
  inFlight: number;
  delivered: number;
  /** Over the server's reservoir of recent deliveries (one sample per delivered run of credits, not per credit). */
  delayMsP50: number;
  delayMsP99: number;
}

/** Cross-shard credits of one phase, from GET /health. */
export interface PhaseTransit {
  /** Read as the measured window ended (credits of the phase may still be in flight). */
  atWindowEnd: TransitReading;
  /** Read once transit.inFlight reached 0 after the phase: its delays are the ones reported. */
  idle: TransitReading;
  delayMsP50: number;
  delayMsP99: number;
  /** Seconds from the end of the measured window until transit.inFlight read 0. */
  drainSeconds: number;
  /** Transfers of the phase (warm-up included) whose two accounts are on different shards: each one credit to deliver. */
  crossShardTransfersSent: number;
  /**
   * Credits delivered from the start of the phase until idle; equals crossShardTransfersSent when every
   * credit landed once. The relay takes about one delay sample per credit and keeps the most recent 16,384:
   * at the window's end they are the phase's last credits before it ended; once idle, the drain's last.
   */
  creditsDelivered: number;
  /** The phase delivered fewer credits than the server keeps samples, after an earlier cross-shard phase: its samples are in the percentiles too. */
  delayMixesEarlierPhases: boolean;
}

/** What every measured window reports: throughput, latency, outcomes and the cores it kept busy. */
export interface WindowFigures {
  durationSeconds: number;
  transfersPerSecond: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  transfersSent: number;
  transfersOk: number;
  failures: Record<string, number>;
  /** Cores kept busy on average over the window (warm-up included) by the load generator and by the server. */
  benchCores: number;
  serverCores: number | null;
}

export interface PhaseResult extends WindowFigures {
  name: string;
  kind: 'light' | 'pipelined' | 'services';
  workload: Workload;
  /** Transfers per request; for the services phase the most, batchEventsMin the fewest. */
  batchEvents: number;
  batchEventsMin?: number;
  connections: number;
  inFlightPerConnection: number;
  /** Phases whose workload moves money between shards (every one but same-shard, with 2 shards or more). */
  transit: PhaseTransit | null;
  /**
   * Hot workloads: the hot account was hot on its side during the phase (hot-credit: marked hot-inbound
   * before it; hot-debit: created hot-outbound); null: not a hot workload.
   */
  hotMarked: boolean | null;
  /**
   * Hot-debit: transfers refused insufficient_funds by a slice not yet refilled, over the phase (warm-up
   * included). Neither ok nor failures, and not in transfers/s; null: another workload.
   */
  refusedForSliceMoney: number | null;
}

/** Above this share of a phase's transfers, slice refusals get a warning line: the keeper is not keeping up. */
export const sliceRefusalsWarnShare = 0.01;

/** One workload's transfers/s over another's, for one phase kind and batch size. */
export interface WorkloadRatio {
  phase: string;
  batchEvents: number;
  numerator: Workload;
  denominator: Workload;
  numeratorTransfersPerSecond: number;
  denominatorTransfersPerSecond: number;
  ratio: number;
}

/** Per phase step run with both workloads: `numerator` transfers/s over `denominator` transfers/s. */
export function workloadRatios(phases: readonly PhaseResult[], numerator: Workload, denominator: Workload): WorkloadRatio[] {
  const ratios: WorkloadRatio[] = [];
  for (const top of phases) {
    if (top.workload !== numerator) continue;
    const bottom = phases.find((p) => p.workload === denominator && p.kind === top.kind && p.batchEvents === top.batchEvents);
    if (bottom === undefined) continue;
    ratios.push({
      phase: top.kind,
      batchEvents: top.batchEvents,
      numerator,
      denominator,
      numeratorTransfersPerSecond: top.transfersPerSecond,
      denominatorTransfersPerSecond: bottom.transfersPerSecond,
      ratio: top.transfersPerSecond / bottom.transfersPerSecond,
    });
  }
  return ratios;
}

/** The hot-outbound hot-debit account and its slices, checked as one group. */
export interface HotDebitGroupResult {
  accountId: string;
  homeShard: number;
  slices: number;
  slicesFound: number;
  /** Σ over the account and its slices of credits posted − debits posted, against funding − Σ hot-debit amounts posted. */
  netMinor: string;
  expectedMinor: string;
  /** The slices' own Σ credits − debits, and lookupAccounts' sliceBalances of the account (money available in them), at the read. */
  slicesNetMinor: string;
  sliceBalancesMinor: string | null;
  /** The keeper's refills and returns (each one debit and one credit inside the group), taken out of the totals. */
  keeperInternalMinor: string;
  /** lookupAccounts reads until the group and the transit accounts agreed (a keeper move may be half done during one). */
  reads: number;
  readPauseMs: number;
  matches: boolean;
}

export interface VerificationResult {
  transfersIssued: number;
  transfersOk: number;
  /** Hot-debit transfers refused insufficient_funds by a slice: with transfersOk they make transfersIssued. */
  hotDebitRefused: number;
  /** Transfers of requests refused whole (overloaded before any part ran), taken back out of every sum. */
  transfersRefusedWhole: number;
  /** Refused transfers looked up (the first refusedIdsKeptMax) and found: must be 0. */
  refusedIdsChecked: number;
  refusedIdsFound: number;
  /** Transfers issued (refused ones included), refused, and Σ amounts posted, per workload. */
  issuedByWorkload: Record<string, { transfers: number; refused: number; amount: string }>;
  /** GET /health transit when the checks ran (they run only once it reads 0 in flight). */
  transitAtVerify: TransitReading;
  /** The wait, before the checks, until the hot accounts had applied every credit they buffered. */
  hotCredits: BufferedWait;
  accountsChecked: number;
  /**
   * Σ credits (posted + buffered) over every account of the bench (and the hot-debit account's slices),
   * less the keeper's internal moves, against Σ of every amount posted plus the funding.
   */
  creditsPostedTotal: string;
  /** The part of it accepted but not yet applied to balances (hot accounts). */
  creditsBufferedTotal: string;
  debitsPostedTotal: string;
  amountIssuedTotal: string;
  /** The transfer that funded the hot-debit account before the load (0 when hot-debit did not run). */
  amountFundedTotal: string;
  debitsEqualCredits: boolean;
  /** Accounts whose debits or credits posted differ from what the bench sent them (null: not tracked, too many accounts). */
  accountsMismatched: number | null;
  /** First few mismatching accounts, for the report. */
  accountMismatchExamples: string[];
  /** null: the hot-debit account is not hot-outbound (the hot-debit workload did not run). */
  hotDebitGroup: HotDebitGroupResult | null;
  /**
   * Per ordered shard pair (debit shard → credit shard): the transit-out half's credits and the
   * transit-in half's debits both equal Σ cross-shard amounts sent that way, and nothing came back.
   */
  transitPairsChecked: number;
  transitPairsMatching: number;
  transitMismatchExamples: string[];
  samplesChecked: number;
  samplesMatching: number;
  /** Cross-shard samples whose payee's history holds the transfer as a credit on the payee's own shard. */
  crossShardSamplesChecked: number;
  crossShardPayeesCredited: number;
  /** Wall time of the checks: one lookup of every account, the group and transit reads, the sampled and refused transfers. */
  seconds: number;
  passed: boolean;
}

/** Failure sentences of a day report kept in the JSON (the count is always whole). */
export const dayReportFailuresKeptMax = 100;

/** What the bench keeps of a day report: its verdict, each check's, and its failure sentences. */
export interface DayReportSummary {
  /** The day closed (yyyymmdd; 0 for the opening, everything before the first cut) and the day begun. */
  day: number;
  dayBegun: number;
  passed: boolean;
  checks: { detailVsGeneral: boolean; trialBalance: boolean; transit: boolean; unmapped: boolean };
  failureCount: number;
  /** The first dayReportFailuresKeptMax sentences. */
  failures: string[];
  /** Shards that cut, with the journal seq of each cut. */
  shards: { shard: number; cutSeq: number }[];
}

export function summariseDayReport(report: DayReport): DayReportSummary {
  return {
    day: report.day,
    dayBegun: report.dayBegun,
    passed: report.passed,
    checks: {
      detailVsGeneral: report.checks.detailVsGeneral.passed,
      trialBalance: report.checks.trialBalance.passed,
      transit: report.checks.transit.passed,
      unmapped: report.checks.unmapped.passed,
    },
    failureCount: report.failures.length,
    failures: report.failures.slice(0, dayReportFailuresKeptMax),
    shards: report.shards.map((s) => ({ shard: s.shard, cutSeq: s.cutSeq })),
  };
}

/** One closeDay() call: when it was sent and resolved, and its report or error. */
export interface DayCutCall {
  /** ms from the start of the measured window (during-cut windows) or from the call (final cut). */
  sentAtMs: number;
  /** ms from sending until closeDay() resolved or rejected. */
  durationMs: number;
  /** closeDay() was still running when the measured window ended (the window was not extended). */
  outlastedWindow: boolean;
  report: DayReportSummary | null;
  /** The rejection, when closeDay() failed. */
  error: string | null;
  /** Set only when something failed: the whole report, for the JSON. */
  fullReport: DayReport | null;
}

/** One measured window of the day-cut phase. */
export interface DayCutWindow extends WindowFigures {
  pair: number;
  kind: 'baseline' | 'during-cut';
  /** Σ lag of the bookkeeping shard (journal entries not yet booked) as the window was about to start; null if it could not be read. */
  bookkeepingLagAtStart: number | null;
  /** The same, read as the measured window ended (a cut still running waits for these too). */
  bookkeepingLagAtEnd: number | null;
  /** During-cut windows only. */
  cut: DayCutCall | null;
}

export interface DayCutPhase {
  batchEvents: number;
  workload: Workload;
  connections: number;
  inFlightPerConnection: number;
  windowSeconds: number;
  /** closeDay() is sent this far into the measured window of a during-cut window. */
  cutAtFraction: number;
  windows: DayCutWindow[];
  baselineTransfersPerSecondSum: number;
  duringCutTransfersPerSecondSum: number;
  /** During-cut Σ transfers/s over baseline Σ transfers/s. */
  ratio: number;
  target: number;
  targetMet: boolean;
  /** During-cut windows whose closeDay() resolved only after the window ended (or never, with an error). */
  cutsOutlastingWindow: number;
  /** Every closeDay() of the phase resolved with a passing report. */
  reportsPassed: boolean;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuCount: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: Number(os.loadavg()[0].toFixed(2)),
  };
}

export function printMachine(m: MachineInfo): void {
  console.log(`tally load bench — ${m.date}`);
  console.log(`machine: ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}; node ${m.node}; load average ${m.loadAverageAtStart}`);
  if (m.loadAverageAtStart > m.cpuCount / 2) console.log('warning: the machine is busy with other work; figures will be low and noisy');
}

export const rate = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '—';
}

/** One line, rewritten in place on a terminal and appended otherwise. */
export function progressLine(phase: string, elapsedMs: number, totalMs: number, transfersPerSecond: number, recent: LatencySummary): void {
  statusLine(`  ${phase}: ${(elapsedMs / 1000).toFixed(0)}/${(totalMs / 1000).toFixed(0)} s  ${rate.format(transfersPerSecond)} transfers/s  p50 ${ms(recent.p50Ms)} ms  p99 ${ms(recent.p99Ms)} ms (last second)`);
}

export function printTable(phases: PhaseResult[]): void {
  const rows = phases.map((p) => [
    p.name,
    p.hotMarked === false ? `${p.workload} (unmarked)` : p.workload,
    p.batchEventsMin === undefined ? String(p.batchEvents) : `${p.batchEventsMin}–${p.batchEvents}`,
    `${p.connections}×${p.inFlightPerConnection}`,
    rate.format(p.transfersPerSecond),
    rate.format(p.requestsPerSecond),
    ms(p.latency.p50Ms),
    ms(p.latency.p99Ms),
    ms(p.latency.p999Ms),
    ms(p.latency.maxMs),
    `${p.benchCores.toFixed(2)} / ${p.serverCores === null ? '?' : p.serverCores.toFixed(2)}`,
    Object.keys(p.failures).length === 0 ? '0' : JSON.stringify(p.failures),
  ]);
  const header = ['phase', 'workload', 'batch', 'sockets×in flight', 'transfers/s', 'requests/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'cores bench/server', 'failures'];
  printRows(header, rows, 2);
  printSliceRefusals(phases);
}

/** After the table: hot-debit transfers refused by a slice not yet refilled, per phase, with a warning above sliceRefusalsWarnShare. */
function printSliceRefusals(phases: readonly PhaseResult[]): void {
  const hot = phases.filter((p) => p.refusedForSliceMoney !== null);
  if (hot.length === 0) return;
  const share = (p: PhaseResult) => (p.transfersSent === 0 ? 0 : p.refusedForSliceMoney! / p.transfersSent);
  const cells = hot.map((p) => `${p.name.replace(/ \(.*\)$/, '')}: ${rate.format(p.refusedForSliceMoney!)}${p.refusedForSliceMoney! > 0 ? ` (${(share(p) * 100).toFixed(2)}%)` : ''}`);
  console.log(`hot-debit refused for want of slice money (insufficient_funds, not failures, not in transfers/s): ${cells.join(', ')}`);
  for (const p of hot) {
    if (share(p) <= sliceRefusalsWarnShare) continue;
    console.log(
      `warning: ${p.name}, hot-debit: ${rate.format(p.refusedForSliceMoney!)} of ${rate.format(p.transfersSent)} transfers (${(share(p) * 100).toFixed(1)}%) refused by an empty slice, ` +
        `above ${sliceRefusalsWarnShare * 100}%: the keeper's refills did not keep up`,
    );
  }
}

/** Columns before `leftColumns` are left-aligned, the rest right-aligned. */
export function printRows(header: string[], rows: string[][], leftColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((wd) => '-'.repeat(wd)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Phases that moved money between shards: how long credits took to land (GET /health), read at the window's end and once idle. */
export function printTransitTable(phases: PhaseResult[]): void {
  const cross = phases.filter((p) => p.transit !== null);
  if (cross.length === 0) return;
  const rows = cross.map((p) => {
    const t = p.transit!;
    return [
      p.name,
      p.workload,
      ms(t.atWindowEnd.delayMsP50),
      ms(t.atWindowEnd.delayMsP99),
      rate.format(t.atWindowEnd.inFlight),
      `${ms(t.delayMsP50)}${t.delayMixesEarlierPhases ? '*' : ''}`,
      `${ms(t.delayMsP99)}${t.delayMixesEarlierPhases ? '*' : ''}`,
      t.drainSeconds.toFixed(2),
      `${rate.format(t.creditsDelivered)}/${rate.format(t.crossShardTransfersSent)}`,
    ];
  });
  console.log('');
  console.log('cross-shard credits (reply → credit durable on the payee\'s shard, GET /health transit; reported: idle)');
  printRows(
    ['phase', 'workload', 'end p50 ms', 'end p99 ms', 'in flight at end', 'credit p50 ms', 'credit p99 ms', 'drain s', 'credits delivered/cross-shard sent'],
    rows,
    2,
  );
  console.log("GET /health delays cover the server's most recent 16,384 credits: at 'end', the last ones before the window ended; once idle, the last ones of the drain");
  if (cross.some((p) => p.transit!.delayMixesEarlierPhases)) {
    console.log('* this phase delivered fewer credits than the server keeps samples: its percentiles also include earlier phases');
  }
  if (cross.some((p) => p.refusedForSliceMoney !== null)) {
    console.log(
      "hot-debit (hot-outbound): its transfers are served on the payee's shard and cross none; the slice keeper's refills and returns do, " +
        'and count among the credits delivered of whichever phase they fall in',
    );
  }
}

/** One ratio table (numerator / denominator per batch size) and its target line at `targetBatch`. */
export function printRatios(ratios: WorkloadRatio[], numerator: Workload, denominator: Workload, targetBatch: number, target: number): void {
  console.log('');
  if (ratios.length > 0) {
    console.log(`${numerator} / ${denominator} transfers/s`);
    printRows(
      ['phase', 'batch', `${denominator} /s`, `${numerator} /s`, 'ratio'],
      ratios.map((r) => [r.phase, String(r.batchEvents), rate.format(r.denominatorTransfersPerSecond), rate.format(r.numeratorTransfersPerSecond), r.ratio.toFixed(2)]),
      1,
    );
  }
  const atTarget = ratios.find((r) => r.phase === 'pipelined' && r.batchEvents === targetBatch);
  console.log(
    atTarget === undefined
      ? `batch ${targetBatch}: not run with both ${numerator} and ${denominator} (no ratio; target ≥ ${target})`
      : `batch ${targetBatch}: ${numerator} / ${denominator} = ${atTarget.ratio.toFixed(2)} (${rate.format(atTarget.numeratorTransfersPerSecond)} / ${rate.format(atTarget.denominatorTransfersPerSecond)}); target ≥ ${target}: ${atTarget.ratio >= target ? 'met' : 'NOT met'}`,
  );
}

export function printVerification(v: VerificationResult): void {
  console.log('');
  const byWorkload = Object.entries(v.issuedByWorkload)
    .map(([name, w]) => `${name} ${rate.format(w.transfers)}${w.refused > 0 ? ` (${rate.format(w.refused)} refused by a slice)` : ''}`)
    .join(', ');
  const refused =
    v.hotDebitRefused === 0 ? '' : `, ${rate.format(v.hotDebitRefused)} refused by a slice (${v.refusedIdsFound}/${rate.format(v.refusedIdsChecked)} looked up exist)`;
  const g = v.hotDebitGroup;
  const group =
    g === null
      ? ''
      : `hot-debit group (account ${g.accountId} + ${g.slicesFound}/${g.slices} slices) Σ credits − debits ${g.netMinor} vs funding − paid ${g.expectedMinor}: ` +
        `${g.matches ? 'match' : 'MISMATCH'} (read ${g.reads}×; slices hold ${g.slicesNetMinor}, keeper's internal moves ${g.keeperInternalMinor} left out of the totals); `;
  console.log(
    `verify: ${v.passed ? 'PASSED' : 'FAILED'} — ${rate.format(v.transfersOk)}/${rate.format(v.transfersIssued)} transfers ok${refused} (${byWorkload}); ` +
      `transit idle (${rate.format(v.transitAtVerify.inFlight)} in flight, ${rate.format(v.transitAtVerify.delivered)} credits delivered); ` +
      `Σ credits posted ${v.creditsPostedTotal} (${v.creditsBufferedTotal} of them buffered) vs Σ amounts issued ${v.amountIssuedTotal} + funding ${v.amountFundedTotal} over ${rate.format(v.accountsChecked)} accounts; ` +
      `debits = credits: ${v.debitsEqualCredits}; ` +
      `accounts off their expected balances: ${v.accountsMismatched === null ? 'not tracked' : rate.format(v.accountsMismatched)}; ` +
      group +
      `transit accounts ${v.transitPairsMatching}/${v.transitPairsChecked} shard pairs match; ` +
      `${v.samplesMatching}/${v.samplesChecked} sampled transfers match; ` +
      `${v.crossShardPayeesCredited}/${v.crossShardSamplesChecked} cross-shard samples credited on the payee's shard (${v.seconds.toFixed(1)} s)`,
  );
  for (const example of [...v.accountMismatchExamples, ...v.transitMismatchExamples]) console.log(`  mismatch: ${example}`);
  if (g !== null && !g.matches) {
    console.log(
      `  mismatch: hot-debit group (account ${g.accountId}, home shard ${g.homeShard}, and its slices): Σ credits − debits ${g.netMinor}, ` +
        `expected funding − Σ hot-debit amounts posted = ${g.expectedMinor} (off by ${BigInt(g.netMinor) - BigInt(g.expectedMinor)}) ` +
        `in each of ${g.reads} reads ${g.readPauseMs} ms apart`,
    );
  }
  if (v.refusedIdsFound > 0) console.log(`  mismatch: ${v.refusedIdsFound} hot-debit transfer(s) answered insufficient_funds exist in the ledger`);
  if (!v.hotCredits.drained) {
    console.log(`warning: hot accounts still had credits buffered after ${v.hotCredits.seconds.toFixed(1)} s: ${JSON.stringify(v.hotCredits.bufferedAtEnd)} (counted as credits above)`);
  }
}

export function printProfiles(windows: WindowProfile[]): void {
  console.log('');
  console.log('server CPU profile: self time per thread, in each measured window');
  for (const w of windows) {
    console.log(`  ${w.window}`);
    for (const t of w.threads) {
      console.log(`    ${t.thread}: ${(t.busyShare * 100).toFixed(0)}% busy`);
      for (const h of t.top) console.log(`      ${(h.selfShare * 100).toFixed(1).padStart(5)}%  ${h.function}  ${h.location}`);
    }
  }
}

function dayReportCell(call: DayCutCall | null): string {
  if (call === null) return '';
  if (call.error !== null) return 'ERROR';
  return call.report!.passed ? 'passed' : 'FAILED';
}

export function printDayCutPhase(phase: DayCutPhase): void {
  console.log('');
  console.log(
    `day cut under load: batch ${phase.batchEvents}, ${phase.workload}, ${phase.connections}×${phase.inFlightPerConnection} in flight, ` +
      `${phase.windowSeconds} s windows; closeDay() sent ${(phase.cutAtFraction * 100).toFixed(0)}% into each during-cut window on its own connection`,
  );
  printRows(
    ['window', 'transfers/s', 'p50 ms', 'p99 ms', 'max ms', 'cores bench/server', 'book lag start/end', 'cut sent s', 'cut ms', 'report', 'failures'],
    phase.windows.map((w) => [
      `${w.pair}. ${w.kind}`,
      rate.format(w.transfersPerSecond),
      ms(w.latency.p50Ms),
      ms(w.latency.p99Ms),
      ms(w.latency.maxMs),
      `${w.benchCores.toFixed(2)} / ${w.serverCores === null ? '?' : w.serverCores.toFixed(2)}`,
      `${w.bookkeepingLagAtStart === null ? '?' : rate.format(w.bookkeepingLagAtStart)} / ${w.bookkeepingLagAtEnd === null ? '?' : rate.format(w.bookkeepingLagAtEnd)}`,
      w.cut === null ? '' : (w.cut.sentAtMs / 1000).toFixed(2),
      w.cut === null ? '' : `${rate.format(w.cut.durationMs)}${w.cut.outlastedWindow ? ' > window' : ''}`,
      dayReportCell(w.cut),
      Object.keys(w.failures).length === 0 ? '0' : JSON.stringify(w.failures),
    ]),
    1,
  );
  console.log('book lag: journal entries the bookkeeping shard had not booked as the window began / ended (a cut waits until it has booked every shard through its cut)');
  if (phase.cutsOutlastingWindow > 0) {
    console.log(`warning: ${phase.cutsOutlastingWindow} cut(s) took longer than the rest of their window: the window's figures do not cover the whole cut (raise --day-cut-window)`);
  }
  for (const w of phase.windows) {
    if (w.cut === null) continue;
    if (w.cut.error !== null) console.log(`DAY CUT ERROR in window ${w.pair}. ${w.kind}: closeDay() rejected after ${rate.format(w.cut.durationMs)} ms: ${w.cut.error}`);
    else if (!w.cut.report!.passed) console.log(`DAY REPORT FAILED in window ${w.pair}. ${w.kind}:\n${formatDayReport(w.cut.fullReport!)}`);
  }
  console.log(
    `during-cut / baseline = ${phase.ratio.toFixed(2)} (target ≥ ${phase.target.toFixed(2)}): ${phase.targetMet ? 'met' : 'NOT met'} ` +
      `(Σ ${rate.format(phase.duringCutTransfersPerSecondSum)} / Σ ${rate.format(phase.baselineTransfersPerSecondSum)} transfers/s)`,
  );
}

/** The closeDay() after verification, with traffic stopped: loud when it fails. */
export function printFinalDayCut(call: DayCutCall): void {
  console.log('');
  if (call.error !== null) {
    console.log(`final day cut: ERROR — closeDay() rejected after ${rate.format(call.durationMs)} ms: ${call.error}`);
    return;
  }
  const r = call.report!;
  const mark = (passed: boolean) => (passed ? '✓' : '✗');
  console.log(
    `final day cut (traffic stopped): closeDay() ${rate.format(call.durationMs)} ms, day ${r.day} closed, ${r.dayBegun} begun: ${r.passed ? 'PASSED' : 'FAILED'} — ` +
      `${mark(r.checks.detailVsGeneral)} detail vs general, ${mark(r.checks.trialBalance)} trial balance, ${mark(r.checks.transit)} transit, ` +
      `${mark(r.checks.unmapped)} unmapped codes; ${r.failureCount} failure(s)`,
  );
  if (!r.passed) console.log(`DAY REPORT FAILED:\n${formatDayReport(call.fullReport!)}`);
}
