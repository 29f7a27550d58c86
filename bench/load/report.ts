// What the load benchmark prints and saves: machine facts, the progress line, the final table, and
// the JSON record (bench/out/…) that RESULTS.md rows are copied from.

import os from 'node:os';
import type { LatencySummary } from './latency.js';
import type { WindowProfile } from './cpu-profile.js';
import type { Workload } from './transfer-source.js';

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
  /**
   * Credits delivered from the start of the phase until idle; equals transfersOk when every credit
   * landed once. The relay takes about one delay sample per credit and keeps the most recent 16,384:
   * at the window's end they are the phase's last credits before it ended; once idle, the drain's last.
   */
  creditsDelivered: number;
  /** The phase delivered fewer credits than the server keeps samples, after an earlier cross-shard phase: its samples are in the percentiles too. */
  delayMixesEarlierPhases: boolean;
}

export interface PhaseResult {
  name: string;
  kind: 'light' | 'pipelined';
  workload: Workload;
  batchEvents: number;
  connections: number;
  inFlightPerConnection: number;
  durationSeconds: number;
  transfersPerSecond: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  transfersSent: number;
  transfersOk: number;
  failures: Record<string, number>;
  /** Cores kept busy on average over the phase (warm-up included) by the load generator and by the server. */
  benchCores: number;
  serverCores: number | null;
  /** Cross-shard phases only. */
  transit: PhaseTransit | null;
}

/** Cross-shard transfers/s over same-shard transfers/s for one phase kind. */
export interface WorkloadRatio {
  phase: string;
  batchEvents: number;
  sameShardTransfersPerSecond: number;
  crossShardTransfersPerSecond: number;
  ratio: number;
}

export interface VerificationResult {
  transfersIssued: number;
  transfersOk: number;
  /** Transfers and Σ amounts issued per workload. */
  issuedByWorkload: Record<string, { transfers: number; amount: string }>;
  /** GET /health transit when the checks ran (they run only once it reads 0 in flight). */
  transitAtVerify: TransitReading;
  accountsChecked: number;
  /** Σ credits posted over every account, against Σ of every amount issued. */
  creditsPostedTotal: string;
  debitsPostedTotal: string;
  amountIssuedTotal: string;
  debitsEqualCredits: boolean;
  /** Accounts whose debits or credits posted differ from what the bench sent them (null: not tracked, too many accounts). */
  accountsMismatched: number | null;
  /** First few mismatching accounts, for the report. */
  accountMismatchExamples: string[];
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
  /** Wall time of the checks: one lookup of every account plus the sampled transfers. */
  seconds: number;
  passed: boolean;
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

const rate = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '—';
}

/** One line, rewritten in place on a terminal and appended otherwise. */
export function progressLine(phase: string, elapsedMs: number, totalMs: number, transfersPerSecond: number, recent: LatencySummary): void {
  statusLine(`  ${phase}: ${(elapsedMs / 1000).toFixed(0)}/${(totalMs / 1000).toFixed(0)} s  ${rate.format(transfersPerSecond)} transfers/s  p50 ${ms(recent.p50Ms)} ms  p99 ${ms(recent.p99Ms)} ms (last second)`);
}

/** Any status line, rewritten in place on a terminal and appended otherwise; endProgress() ends it. */
export function statusLine(line: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(110)}`);
  else console.log(line);
}

export function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}

export function printTable(phases: PhaseResult[]): void {
  const rows = phases.map((p) => [
    p.name,
    p.workload,
    String(p.batchEvents),
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
}

/** Columns before `leftColumns` are left-aligned, the rest right-aligned. */
function printRows(header: string[], rows: string[][], leftColumns: number): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((wd) => '-'.repeat(wd)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Cross-shard phases: how long credits took to land (GET /health), read at the window's end and once idle. */
export function printTransitTable(phases: PhaseResult[]): void {
  const cross = phases.filter((p) => p.transit !== null);
  if (cross.length === 0) return;
  const rows = cross.map((p) => {
    const t = p.transit!;
    return [
      p.name,
      ms(t.atWindowEnd.delayMsP50),
      ms(t.atWindowEnd.delayMsP99),
      rate.format(t.atWindowEnd.inFlight),
      `${ms(t.delayMsP50)}${t.delayMixesEarlierPhases ? '*' : ''}`,
      `${ms(t.delayMsP99)}${t.delayMixesEarlierPhases ? '*' : ''}`,
      t.drainSeconds.toFixed(2),
      `${rate.format(t.creditsDelivered)}/${rate.format(p.transfersOk)}`,
    ];
  });
  console.log('');
  console.log('cross-shard credits (reply → credit durable on the payee\'s shard, GET /health transit; reported: idle)');
  printRows(
    ['phase', 'end p50 ms', 'end p99 ms', 'in flight at end', 'credit p50 ms', 'credit p99 ms', 'drain s', 'credits delivered/ok'],
    rows,
    1,
  );
  console.log("GET /health delays cover the server's most recent 16,384 credits: at 'end', the last ones before the window ended; once idle, the last ones of the drain");
  if (cross.some((p) => p.transit!.delayMixesEarlierPhases)) {
    console.log('* this phase delivered fewer credits than the server keeps samples: its percentiles also include earlier cross-shard phases');
  }
}

export function printRatios(ratios: WorkloadRatio[], targetBatch: number, target: number): void {
  console.log('');
  if (ratios.length > 0) console.log('cross-shard / same-shard transfers/s');
  if (ratios.length > 0) printRows(
    ['phase', 'batch', 'same-shard /s', 'cross-shard /s', 'ratio'],
    ratios.map((r) => [r.phase, String(r.batchEvents), rate.format(r.sameShardTransfersPerSecond), rate.format(r.crossShardTransfersPerSecond), r.ratio.toFixed(2)]),
    1,
  );
  const atTarget = ratios.find((r) => r.phase === 'pipelined' && r.batchEvents === targetBatch);
  console.log(
    atTarget === undefined
      ? `batch ${targetBatch}: not run with both workloads (no ratio; target ≥ ${target})`
      : `batch ${targetBatch}: cross-shard / same-shard = ${atTarget.ratio.toFixed(2)} (${rate.format(atTarget.crossShardTransfersPerSecond)} / ${rate.format(atTarget.sameShardTransfersPerSecond)}); target ≥ ${target}: ${atTarget.ratio >= target ? 'met' : 'NOT met'}`,
  );
}

export function printVerification(v: VerificationResult): void {
  console.log('');
  const byWorkload = Object.entries(v.issuedByWorkload)
    .map(([name, w]) => `${name} ${rate.format(w.transfers)}`)
    .join(', ');
  console.log(
    `verify: ${v.passed ? 'PASSED' : 'FAILED'} — ${rate.format(v.transfersOk)}/${rate.format(v.transfersIssued)} transfers ok (${byWorkload}); ` +
      `transit idle (${rate.format(v.transitAtVerify.inFlight)} in flight, ${rate.format(v.transitAtVerify.delivered)} credits delivered); ` +
      `Σ credits posted ${v.creditsPostedTotal} vs Σ amounts issued ${v.amountIssuedTotal} over ${rate.format(v.accountsChecked)} accounts; ` +
      `debits = credits: ${v.debitsEqualCredits}; ` +
      `accounts off their expected balances: ${v.accountsMismatched === null ? 'not tracked' : rate.format(v.accountsMismatched)}; ` +
      `transit accounts ${v.transitPairsMatching}/${v.transitPairsChecked} shard pairs match; ` +
      `${v.samplesMatching}/${v.samplesChecked} sampled transfers match; ` +
      `${v.crossShardPayeesCredited}/${v.crossShardSamplesChecked} cross-shard samples credited on the payee's shard (${v.seconds.toFixed(1)} s)`,
  );
  for (const example of [...v.accountMismatchExamples, ...v.transitMismatchExamples]) console.log(`  mismatch: ${example}`);
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
