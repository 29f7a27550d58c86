// The sustained mode's output: the line printed at each sample, and the summary in Markdown tables ready to
// paste into bench/RESULTS.md (a few samples per run, the trends against the issue's targets, the reads of
// old transfers, the restart). Pure formatting of the results sustain.ts gathered.

import type { LatencySummary } from './latency.js';
import type { RestartTimes } from './restart-probe.js';
import type { ProcessMemory } from './server-footprint.js';
import { rateDecayTargetMin, rssGrowthTargetMax, type SustainSample, type SustainTrend } from './sustain-samples.js';
import type { Workload } from './workloads.js';

/** Seconds into a run whose samples the summary shows (the first sample at or after each), besides the first and the last. */
const summarySeconds = [60, 120, 300, 600, 1200, 1800, 3600];

export interface SustainRun {
  workload: Workload;
  batchEvents: number;
  connections: number;
  inFlightPerConnection: number;
  durationSeconds: number;
  /** Over the whole run, ok only: a refusal is not a transfer done. */
  transfersPosted: number;
  transfersSent: number;
  transfersPerSecond: number;
  failures: Record<string, number>;
  /** Acknowledgement latency per request. */
  latency: LatencySummary;
  /** Cores each side kept busy on average over the run (null: the server's CPU time could not be read). */
  benchCores: number;
  serverCores: number | null;
  samples: SustainSample[];
  trend: SustainTrend;
}

/** Timed reads of old transfers: lookupTransfers of random old ids, and the oldest page of old accounts' histories. */
export interface OldReads {
  when: 'before the kill' | 'after the restart';
  lookups: { calls: number; idsPerCall: number; idsAsked: number; idsFound: number; latency: LatencySummary };
  history: { calls: number; limit: number; pagesEmpty: number; latency: LatencySummary };
  /** The calls made first, on other old ids: the reading process's first calls (V8 still compiling the read path). */
  warmup: { lookupCalls: number; lookups: LatencySummary; historyCalls: number; history: LatencySummary };
}

export interface SustainSummary {
  runs: SustainRun[];
  /** The old ids' age (seconds since they were made) when first read, newest and oldest. */
  oldIdAgeSeconds: { min: number; max: number } | null;
  reads: OldReads[];
  restart: RestartTimes;
  memoryAfterRestart: ProcessMemory | null;
  verificationPassed: boolean;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'n/a';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** A duration: ms to a tenth below 10 s, seconds to a tenth above. */
const ms = (value: number) => (!Number.isFinite(value) ? 'n/a' : value < 10_000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(1)} s`);

/** The line printed as each sample is taken. */
export function sampleLine(sample: SustainSample): string {
  const perTransfer = sample.dataDirBytesPerTransfer === null ? '' : ` (${sample.dataDirBytesPerTransfer.toFixed(0)} B/transfer)`;
  return (
    `  ${sample.workload} ${sample.elapsedSeconds.toFixed(0).padStart(5)} s: ${formatCount(sample.transfersPosted).padStart(7)} transfers, ` +
    `${formatCount(sample.transfersPerSecond).padStart(7)}/s; server RssAnon ${formatBytes(sample.rssAnonBytes)}, VmRSS ${formatBytes(sample.vmRssBytes)}; ` +
    `data dir ${formatBytes(sample.dataDirBytes)}${perTransfer}`
  );
}

/** The samples a summary shows: the first, the first at or after each of summarySeconds, and the last; no repeats. */
export function summarySamples(samples: readonly SustainSample[]): SustainSample[] {
  if (samples.length === 0) return [];
  const chosen = new Set<SustainSample>([samples[0]]);
  for (const at of summarySeconds) {
    const sample = samples.find((s) => s.elapsedSeconds >= at);
    if (sample !== undefined) chosen.add(sample);
  }
  chosen.add(samples[samples.length - 1]);
  return samples.filter((s) => chosen.has(s));
}

export function summaryMarkdown(summary: SustainSummary): string {
  const lines = [
    '| workload | after | transfers | transfers/s (interval) | RssAnon | VmRSS | data dir | B / transfer |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const run of summary.runs) {
    for (const s of summarySamples(run.samples)) {
      const perTransfer = s.dataDirBytesPerTransfer === null ? 'n/a' : s.dataDirBytesPerTransfer.toFixed(0);
      lines.push(
        `| ${s.workload} | ${s.elapsedSeconds.toFixed(0)} s | ${formatCount(s.transfersPosted)} | ${formatCount(s.transfersPerSecond)} | ` +
          `${formatBytes(s.rssAnonBytes)} | ${formatBytes(s.vmRssBytes)} | ${formatBytes(s.dataDirBytes)} | ${perTransfer} |`,
      );
    }
  }
  lines.push('', ...summary.runs.map(trendLine), '');
  lines.push('| reads of old transfers | when | calls | p50 | p99 | max |', '|---|---|---|---|---|---|');
  for (const r of summary.reads) {
    const l = r.lookups;
    lines.push(`| lookupTransfers, ${l.idsPerCall} old ids (${l.idsFound}/${l.idsAsked} found) | ${r.when} | ${l.calls} | ${ms(l.latency.p50Ms)} | ${ms(l.latency.p99Ms)} | ${ms(l.latency.maxMs)} |`);
    const h = r.history;
    lines.push(`| getAccountTransfers, oldest ${h.limit}, old accounts (${h.pagesEmpty} empty) | ${r.when} | ${h.calls} | ${ms(h.latency.p50Ms)} | ${ms(h.latency.p99Ms)} | ${ms(h.latency.maxMs)} |`);
    const w = r.warmup;
    lines.push(`| first calls (warm-up): lookupTransfers, ${l.idsPerCall} other old ids | ${r.when} | ${w.lookupCalls} | ${ms(w.lookups.p50Ms)} | ${ms(w.lookups.p99Ms)} | ${ms(w.lookups.maxMs)} |`);
    lines.push(`| first calls (warm-up): getAccountTransfers, their accounts | ${r.when} | ${w.historyCalls} | ${ms(w.history.p50Ms)} | ${ms(w.history.p99Ms)} | ${ms(w.history.maxMs)} |`);
  }
  if (summary.oldIdAgeSeconds !== null) lines.push('', `Old ids: made ${summary.oldIdAgeSeconds.min.toFixed(0)}–${summary.oldIdAgeSeconds.max.toFixed(0)} s before they were first read.`);
  const r = summary.restart;
  lines.push(
    '',
    '| kill -9, restart on the same data dir | listening | GET /health 200 | first write accepted (every shard) |',
    '|---|---|---|---|',
    `| after ${formatCount(summary.runs.reduce((sum, run) => sum + run.transfersPosted, 0))} transfers | ${ms(r.listeningMs)} | ${ms(r.healthMs)} | ${ms(r.firstWriteMs)} (${r.writeAttempts} ${r.writeAttempts === 1 ? 'attempt' : 'attempts'}) |`,
    '',
    `After the restart: RssAnon ${formatBytes(summary.memoryAfterRestart?.rssAnonBytes ?? null)}, VmRSS ${formatBytes(summary.memoryAfterRestart?.vmRssBytes ?? null)}; ` +
      `ledger checks on the restarted server ${summary.verificationPassed ? 'passed' : 'FAILED'}.`,
  );
  return lines.join('\n');
}

function trendLine(run: SustainRun): string {
  const t = run.trend;
  const rss =
    t.rssAnon === null
      ? 'RssAnon: n/a'
      : `RssAnon ${formatBytes(t.rssAnon.fromBytes)} at ${t.rssAnon.fromSeconds.toFixed(0)} s → ${formatBytes(t.rssAnon.toBytes)} at ${t.rssAnon.toSeconds.toFixed(0)} s: ` +
        `×${t.rssAnon.ratio.toFixed(2)} (target ≤ ×${rssGrowthTargetMax}: ${t.rssAnon.targetMet ? 'met' : 'NOT met'})`;
  const rate =
    t.rate === null
      ? 'throughput trend: n/a'
      : `last ${t.rate.windowSeconds.toFixed(0)} s / first ${t.rate.windowSeconds.toFixed(0)} s: ${formatCount(t.rate.lastTransfersPerSecond)}/s / ${formatCount(t.rate.firstTransfersPerSecond)}/s = ` +
        `${t.rate.ratio.toFixed(2)} (target ≥ ${rateDecayTargetMin}: ${t.rate.targetMet ? 'met' : 'NOT met'})`;
  const failures = Object.entries(run.failures);
  const refused = failures.length === 0 ? '' : `; not posted: ${failures.map(([name, count]) => `${formatCount(count)} ${name}`).join(', ')} (overloaded: whole requests refused before any part ran, backpressure)`;
  return `- ${run.workload}, ${run.durationSeconds.toFixed(0)} s at batch ${run.batchEvents}: ${formatCount(run.transfersPerSecond)} transfers/s on average, p99 ${ms(run.latency.p99Ms)}; ${rss}; ${rate}${refused}.`;
}
