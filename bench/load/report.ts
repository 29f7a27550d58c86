// What the load benchmark prints and saves: machine facts, the progress line, the final table, and
// the JSON record (bench/out/…) that RESULTS.md rows are copied from.

import os from 'node:os';
import type { LatencySummary } from './latency.js';
import type { WindowProfile } from './cpu-profile.js';

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

export interface PhaseResult {
  name: string;
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
}

export interface VerificationResult {
  transfersIssued: number;
  transfersOk: number;
  accountsChecked: number;
  /** Σ credits posted over every account, against Σ of every amount issued. */
  creditsPostedTotal: string;
  amountIssuedTotal: string;
  debitsEqualCredits: boolean;
  samplesChecked: number;
  samplesMatching: number;
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
  const line = `  ${phase}: ${(elapsedMs / 1000).toFixed(0)}/${(totalMs / 1000).toFixed(0)} s  ${rate.format(transfersPerSecond)} transfers/s  p50 ${ms(recent.p50Ms)} ms  p99 ${ms(recent.p99Ms)} ms (last second)`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(110)}`);
  else console.log(line);
}

export function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}

export function printTable(phases: PhaseResult[]): void {
  const rows = phases.map((p) => [
    p.name,
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
  const header = ['phase', 'batch', 'sockets×in flight', 'transfers/s', 'requests/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'cores bench/server', 'failures'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((wd) => '-'.repeat(wd)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function printVerification(v: VerificationResult): void {
  console.log('');
  console.log(
    `verify: ${v.passed ? 'PASSED' : 'FAILED'} — ${rate.format(v.transfersOk)}/${rate.format(v.transfersIssued)} transfers ok; ` +
      `Σ credits posted ${v.creditsPostedTotal} vs Σ amounts issued ${v.amountIssuedTotal} over ${rate.format(v.accountsChecked)} accounts; ` +
      `debits = credits: ${v.debitsEqualCredits}; ${v.samplesMatching}/${v.samplesChecked} sampled transfers match (${v.seconds.toFixed(1)} s)`,
  );
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
