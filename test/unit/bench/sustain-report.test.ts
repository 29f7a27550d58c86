// The sustained bench's summary: a few samples per run (the first, one at or past each mark, the last) and
// Markdown tables of the samples, the trends, the reads of old transfers and the restart.
import { describe, expect, it } from 'vitest';
import type { LatencySummary } from '../../../bench/load/latency.js';
import { summaryMarkdown, summarySamples, type SustainRun } from '../../../bench/load/sustain-report.js';
import { trendOf } from '../../../bench/load/sustain-samples.js';
import { sustainSamples } from '../../support/sustain-samples-run.js';

/** Samples every `everySeconds`, posting `rateAt(t)` transfers/s over each interval, RssAnon `rssAt(t)`. */
const run = sustainSamples;

describe('the summary', () => {
  const latency: LatencySummary = { samples: 1, dropped: 0, p50Ms: 1, p90Ms: 1, p99Ms: 2, p999Ms: 2, maxMs: 2, meanMs: 1 };

  it('shows the first sample, the first at or past each mark, and the last, once each', () => {
    const samples = run(15, 700, () => 1000, () => 1e9);
    expect(summarySamples(samples).map((s) => s.elapsedSeconds)).toEqual([15, 60, 120, 300, 600, 690]);
    expect(summarySamples(samples.slice(0, 2)).map((s) => s.elapsedSeconds)).toEqual([15, 30]);
    expect(summarySamples([])).toEqual([]);
  });

  it('prints the samples, the trends, the old reads and the restart as Markdown', () => {
    const samples = run(15, 30, () => 200_000, () => 1e9);
    const runResult: SustainRun = {
      workload: 'uniform', batchEvents: 8190, connections: 2, inFlightPerConnection: 2, durationSeconds: 30, transfersPosted: 6_000_000,
      transfersSent: 6_000_000, transfersPerSecond: 200_000, failures: {}, latency, benchCores: 1, serverCores: 1, samples, trend: trendOf('uniform', samples),
    };
    const reads = { calls: 50, idsPerCall: 100, idsAsked: 5000, idsFound: 5000, latency };
    const text = summaryMarkdown({
      runs: [runResult],
      oldIdAgeSeconds: { min: 20, max: 29 },
      reads: [{ when: 'before the kill', lookups: reads, history: { calls: 50, limit: 100, pagesEmpty: 0, latency }, warmup: { lookupCalls: 100, lookups: latency, historyCalls: 100, history: latency } }],
      restart: { listeningMs: 34_424.5, healthMs: 34_447.9, firstWriteMs: 900, writeAttempts: 1 },
      memoryAfterRestart: { rssAnonBytes: 1.36e9, vmRssBytes: 3.39e9 },
      verificationPassed: true,
    });
    expect(text).toContain('| uniform | 15 s | 3.0M | 200.0k | 1.00 GB | 2.00 GB | 600.2 MB | 200 |');
    expect(text).toContain('| lookupTransfers, 100 old ids (5000/5000 found) | before the kill | 50 | 1.0 ms | 2.0 ms | 2.0 ms |');
    expect(text).toContain('| first calls (warm-up): lookupTransfers, 100 other old ids | before the kill | 100 | 1.0 ms | 2.0 ms | 2.0 ms |');
    expect(text).toContain('| after 6.0M transfers | 34.4 s | 34.4 s | 900.0 ms (1 attempt) |');
    expect(text).toContain('ledger checks on the restarted server passed');
  });
});
