// Tally next to the PostgreSQL baseline, per workload: Tally's transfers/s and latency at each batch
// size, the baseline's, the Tally / baseline ratios, and the targets with met / NOT met.
// Pure figures plus their printing; which baseline workload stands for a Tally workload is decided here.

import { batchEventsMax } from '../../src/core/limits.js';
import type { PgPhaseResult } from '../pg/driver.js';
import type { PgWorkload } from '../pg/workload.js';
import { ms, printRows, rate, type PhaseResult } from './report.js';
import type { Workload } from './workloads.js';

/** Targets of issue #4: Tally / baseline on the uniform workload and on one hot account; hot / uniform within Tally. */
export const uniformRatioTarget = 50;
export const hotRatioTarget = 500;
export const hotOverUniformTarget = 0.5;
export const hotOverUniformBatch = batchEventsMax;

/** The baseline workload run for a Tally workload, and why it differs when it does. */
export function baselineWorkloadFor(workload: Workload): { workload: PgWorkload; note: string | null } {
  switch (workload) {
    case 'uniform':
    case 'zipf':
    case 'hot-credit':
    case 'hot-debit':
      return { workload, note: null };
    case 'cross-shard':
    case 'same-shard':
      return { workload: 'uniform', note: `${workload} has no meaning in PostgreSQL (one database, no shards): compared with its uniform run` };
  }
}

/** The baseline workloads to run for these Tally workloads: each once, in first-needed order. */
export function baselineWorkloads(workloads: readonly Workload[]): PgWorkload[] {
  return [...new Set(workloads.map((w) => baselineWorkloadFor(w).workload))];
}

export interface LatencyTriple {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

export interface TallyCell {
  batchEvents: number;
  transfersPerSecond: number;
  latency: LatencyTriple;
}

export interface BaselineCell {
  workload: PgWorkload;
  connections: number;
  transfersPerSecond: number;
  latency: LatencyTriple;
}

export interface SideBySideRow {
  workload: Workload;
  /** Hot workloads: whether the hot account was hot on its side (marked hot-inbound, or created hot-outbound; null: not a hot workload). */
  hotMarked: boolean | null;
  /** The pipelined (raw frame) phases of the workload, one per batch size, in run order. */
  tally: TallyCell[];
  /** The batch size with the most transfers/s. */
  best: TallyCell | null;
  baseline: BaselineCell | null;
  baselineNote: string | null;
  /** Tally's best batch size over the baseline, and Tally at batch 1 over the baseline (null: a side is missing). */
  ratioBest: number | null;
  ratioBatch1: number | null;
}

const triple = (l: LatencyTriple): LatencyTriple => ({ p50Ms: l.p50Ms, p99Ms: l.p99Ms, p999Ms: l.p999Ms });
const ratioOf = (top: number | undefined, bottom: number | undefined) => (top === undefined || bottom === undefined || !(bottom > 0) ? null : top / bottom);

/** One row per Tally workload run; `baselinePhases` empty when the baseline did not run. */
export function sideBySideRows(workloads: readonly Workload[], phases: readonly PhaseResult[], baselinePhases: readonly PgPhaseResult[]): SideBySideRow[] {
  return workloads.map((workload) => {
    const own = phases.filter((p) => p.workload === workload && p.kind === 'pipelined');
    const tally = own.map((p) => ({ batchEvents: p.batchEvents, transfersPerSecond: p.transfersPerSecond, latency: triple(p.latency) }));
    const best = tally.reduce<TallyCell | null>((top, cell) => (top === null || cell.transfersPerSecond > top.transfersPerSecond ? cell : top), null);
    const mapped = baselineWorkloadFor(workload);
    const pg = baselinePhases.find((p) => p.workload === mapped.workload);
    const baseline = pg === undefined ? null : { workload: pg.workload, connections: pg.connections, transfersPerSecond: pg.transfersPerSecond, latency: triple(pg.latency) };
    const marks = own.map((p) => p.hotMarked).filter((m): m is boolean => m !== null);
    return {
      workload,
      hotMarked: marks.length === 0 ? null : marks.every(Boolean),
      tally,
      best,
      baseline,
      baselineNote: mapped.note,
      ratioBest: ratioOf(best?.transfersPerSecond, baseline?.transfersPerSecond),
      ratioBatch1: ratioOf(tally.find((c) => c.batchEvents === 1)?.transfersPerSecond, baseline?.transfersPerSecond),
    };
  });
}

export interface TargetCheck {
  name: string;
  /** null: not measured in this run (a workload, a batch size or the baseline missing). */
  value: number | null;
  target: number;
  met: boolean | null;
  detail: string;
}

/** The targets, each from the rows; `baselineMissing` says why the baseline ratios are missing ("skipped: …"), if they are. */
export function targetChecks(rows: readonly SideBySideRow[], baselineMissing: string | null): TargetCheck[] {
  const row = (w: Workload) => rows.find((r) => r.workload === w);
  const checks: TargetCheck[] = [];
  for (const [workload, target] of [
    ['uniform', uniformRatioTarget],
    ['hot-credit', hotRatioTarget],
    ['hot-debit', hotRatioTarget],
  ] as const) {
    const r = row(workload);
    const value = r?.ratioBest ?? null;
    const detail =
      r === undefined ? `${workload} not run` : value === null ? (baselineMissing === null ? 'no baseline figure' : `baseline ${baselineMissing}`) : `Tally ${rate.format(r.best!.transfersPerSecond)} t/s (batch ${r.best!.batchEvents}) / PostgreSQL ${rate.format(r.baseline!.transfersPerSecond)} t/s`;
    checks.push({ name: `${workload}: Tally / PostgreSQL`, value, target, met: value === null ? null : value >= target, detail });
  }
  const uniform = row('uniform')?.tally.find((c) => c.batchEvents === hotOverUniformBatch);
  for (const workload of ['hot-credit', 'hot-debit'] as const) {
    const hot = row(workload)?.tally.find((c) => c.batchEvents === hotOverUniformBatch);
    const value = ratioOf(hot?.transfersPerSecond, uniform?.transfersPerSecond);
    const detail = value === null ? `${workload} and uniform not both run at batch ${hotOverUniformBatch}` : `${rate.format(hot!.transfersPerSecond)} / ${rate.format(uniform!.transfersPerSecond)} t/s`;
    checks.push({ name: `${workload} / uniform Tally transfers/s at batch ${hotOverUniformBatch}`, value, target: hotOverUniformTarget, met: value === null ? null : value >= hotOverUniformTarget, detail });
  }
  return checks;
}

function times(ratio: number | null): string {
  if (ratio === null) return '—';
  return `${ratio >= 100 ? rate.format(ratio) : ratio.toFixed(ratio >= 10 ? 0 : 1)}×`;
}

function latencyCell(l: LatencyTriple | undefined): string {
  return l === undefined ? '—' : `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.p999Ms)}`;
}

function workloadCell(r: SideBySideRow): string {
  return `${r.workload}${r.hotMarked === false ? ' (unmarked)' : ''}${r.baselineNote === null ? '' : ' *'}`;
}

/** Two tables, transfers/s with the ratios, then p50 / p99 / p99.9 ms; `batchSizes` are the Tally columns. */
export function printSideBySide(rows: readonly SideBySideRow[], batchSizes: readonly number[], heading: string): void {
  console.log('');
  console.log(heading);
  const cell = (r: SideBySideRow, batch: number) => r.tally.find((c) => c.batchEvents === batch);
  printRows(
    ['workload', ...batchSizes.map((b) => `Tally batch ${b} t/s`), 'PostgreSQL t/s', 'Tally/PG best', 'best batch', 'Tally/PG batch 1'],
    rows.map((r) => [
      workloadCell(r),
      ...batchSizes.map((b) => {
        const c = cell(r, b);
        return c === undefined ? '—' : rate.format(c.transfersPerSecond);
      }),
      r.baseline === null ? '—' : rate.format(r.baseline.transfersPerSecond),
      times(r.ratioBest),
      r.best === null ? '—' : String(r.best.batchEvents),
      times(r.ratioBatch1),
    ]),
    1,
  );
  printRows(
    ['workload', ...batchSizes.map((b) => `Tally batch ${b} p50/p99/p99.9 ms`), 'PostgreSQL p50/p99/p99.9 ms'],
    rows.map((r) => [workloadCell(r), ...batchSizes.map((b) => latencyCell(cell(r, b)?.latency)), latencyCell(r.baseline?.latency)]),
    1,
  );
  for (const r of rows) if (r.baselineNote !== null) console.log(`* ${r.baselineNote}`);
}

export function printTargets(checks: readonly TargetCheck[]): void {
  console.log('');
  console.log('targets (issue #4; same durability on both sides: fsync before every reply / on every commit)');
  for (const c of checks) {
    const value = c.value === null ? 'not measured' : c.target >= 1 ? times(c.value) : c.value.toFixed(2);
    const target = c.target >= 1 ? `${c.target}×` : String(c.target);
    const verdict = c.met === null ? 'not measured' : c.met ? 'met' : 'NOT met';
    console.log(`  ${c.name} = ${value} (target ≥ ${target}): ${verdict} — ${c.detail}`);
  }
}
