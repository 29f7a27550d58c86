// Tally next to the baseline: rows take Tally's pipelined phases per batch size and the baseline workload
// that stands for each Tally workload; ratios and targets come out of them, and a missing side is
// "not measured", never a pass or a fail.
import { describe, expect, it } from 'vitest';
import type { PgPhaseResult } from '../../../bench/pg/driver.js';
import type { PhaseResult } from '../../../bench/load/report.js';
import { baselineWorkloadFor, baselineWorkloads, sideBySideRows, targetChecks } from '../../../bench/load/side-by-side.js';
import type { Workload } from '../../../bench/load/workloads.js';
import type { PgWorkload } from '../../../bench/pg/workload.js';

const latency = (p99Ms: number) => ({ samples: 1, dropped: 0, p50Ms: p99Ms / 2, p90Ms: p99Ms, p99Ms, p999Ms: p99Ms * 2, maxMs: p99Ms * 3, meanMs: p99Ms / 2 });

function tally(workload: Workload, batchEvents: number, transfersPerSecond: number, kind: 'light' | 'pipelined' = 'pipelined'): PhaseResult {
  return {
    name: `batch ${batchEvents}`,
    kind,
    workload,
    batchEvents,
    connections: 4,
    inFlightPerConnection: 64,
    durationSeconds: 1,
    transfersPerSecond,
    requestsPerSecond: transfersPerSecond / batchEvents,
    latency: latency(batchEvents),
    transfersSent: 0,
    transfersOk: 0,
    failures: {},
    benchCores: 0,
    serverCores: null,
    transit: null,
    hotMarked: workload.startsWith('hot') ? true : null,
    refusedForSliceMoney: workload === 'hot-debit' ? 0 : null,
  };
}

function pg(workload: PgWorkload, transfersPerSecond: number): PgPhaseResult {
  return {
    workload,
    connections: 4,
    windowSeconds: 1,
    transfersCommitted: 0,
    transfersPerSecond,
    insufficientFunds: 0,
    failures: {},
    latency: latency(10),
    benchCores: 0,
    serverCores: null,
    committedTotal: 0,
    amountCommittedMinorTotal: 0n,
  };
}

describe('baseline workloads', () => {
  it('stand for each Tally workload; shards have no meaning in PostgreSQL', () => {
    expect(baselineWorkloadFor('hot-debit')).toEqual({ workload: 'hot-debit', note: null });
    expect(baselineWorkloadFor('cross-shard').workload).toBe('uniform');
    expect(baselineWorkloadFor('cross-shard').note).toMatch(/no shards/);
    expect(baselineWorkloads(['uniform', 'zipf', 'hot-credit', 'hot-debit', 'cross-shard'])).toEqual(['uniform', 'zipf', 'hot-credit', 'hot-debit']);
    expect(baselineWorkloads(['cross-shard', 'same-shard'])).toEqual(['uniform']);
  });
});

describe('sideBySideRows and targetChecks', () => {
  const phases = [
    tally('uniform', 1, 100, 'light'),
    tally('uniform', 1, 10_000),
    tally('hot-credit', 1, 8_000),
    tally('cross-shard', 1, 9_000),
    tally('uniform', 8190, 400_000),
    tally('hot-credit', 8190, 300_000),
    tally('cross-shard', 8190, 200_000),
  ];
  const workloads: Workload[] = ['uniform', 'hot-credit', 'cross-shard'];

  it('takes the pipelined phases per batch size, the best batch, and both ratios', () => {
    const rows = sideBySideRows(workloads, phases, [pg('uniform', 2000), pg('hot-credit', 500)]);
    const uniform = rows[0];
    expect(uniform.tally.map((c) => c.batchEvents)).toEqual([1, 8190]);
    expect(uniform.best?.batchEvents).toBe(8190);
    expect(uniform.ratioBest).toBe(200);
    expect(uniform.ratioBatch1).toBe(5);
    expect(rows[1].hotMarked).toBe(true);
    expect(rows[1].ratioBest).toBe(600);
    expect(rows[2].baseline?.workload).toBe('uniform');
    expect(rows[2].baselineNote).not.toBeNull();
  });

  it('checks each target, and leaves what was not measured unjudged', () => {
    const rows = sideBySideRows(workloads, phases, [pg('uniform', 2000), pg('hot-credit', 500)]);
    const checks = Object.fromEntries(targetChecks(rows, null).map((c) => [c.name, c]));
    expect(checks['uniform: Tally / PostgreSQL']).toMatchObject({ value: 200, target: 50, met: true });
    expect(checks['hot-credit: Tally / PostgreSQL']).toMatchObject({ value: 600, target: 500, met: true });
    expect(checks['hot-debit: Tally / PostgreSQL']).toMatchObject({ value: null, met: null });
    expect(checks['hot-credit / uniform Tally transfers/s at batch 8190']).toMatchObject({ value: 0.75, target: 0.5, met: true });
    expect(checks['hot-debit / uniform Tally transfers/s at batch 8190']).toMatchObject({ value: null, met: null });
  });

  it('says why the baseline ratios are missing when the baseline was skipped', () => {
    const rows = sideBySideRows(workloads, phases, []);
    const check = targetChecks(rows, 'skipped: PostgreSQL server binaries not found').find((c) => c.name === 'uniform: Tally / PostgreSQL')!;
    expect(check).toMatchObject({ value: null, met: null });
    expect(check.detail).toMatch(/baseline skipped: PostgreSQL server binaries not found/);
  });
});
