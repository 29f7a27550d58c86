// The sustained bench's samples and trends: the rate over each interval, bytes per transfer on the server,
// RssAnon growth from the 2-minute mark (or the first sample of a short run) to the end, and the last
// minute's throughput against the first's (or halves of a short run), each against the target.
import { describe, expect, it } from 'vitest';
import { sampleOf, trendOf } from '../../../bench/load/sustain-samples.js';
import { sustainSamples } from '../../support/sustain-samples-run.js';

/** Samples every `everySeconds`, posting `rateAt(t)` transfers/s over each interval, RssAnon `rssAt(t)`. */
const run = sustainSamples;

describe('sampleOf', () => {
  it('rates the interval since the previous sample, and divides the data dir by every transfer on the server', () => {
    const first = sampleOf('uniform', { elapsedMs: 15_000, transfersPosted: 3_000_000, memory: null, dataDirBytes: 1e9, transfersOnServer: 4_000_000 }, null);
    expect(first).toMatchObject({ elapsedSeconds: 15, transfersPerSecond: 200_000, rssAnonBytes: null, vmRssBytes: null, dataDirBytesPerTransfer: 250 });
    const memory = { rssAnonBytes: 5e8, vmRssBytes: 9e8 };
    const second = sampleOf('uniform', { elapsedMs: 30_000, transfersPosted: 4_500_000, memory, dataDirBytes: 1.1e9, transfersOnServer: 5_500_000 }, first);
    expect(second).toMatchObject({ transfersPerSecond: 100_000, rssAnonBytes: 5e8, vmRssBytes: 9e8, dataDirBytes: 1.1e9 });
    expect(second.dataDirBytesPerTransfer).toBeCloseTo(200, 6);
  });

  it('refuses a sample that does not follow the previous one, and has no bytes per transfer on an empty server', () => {
    const first = sampleOf('uniform', { elapsedMs: 15_000, transfersPosted: 0, memory: null, dataDirBytes: 1e6, transfersOnServer: 0 }, null);
    expect(first.dataDirBytesPerTransfer).toBeNull();
    expect(() => sampleOf('uniform', { elapsedMs: 15_000, transfersPosted: 1, memory: null, dataDirBytes: 1, transfersOnServer: 1 }, first)).toThrow(RangeError);
  });
});

describe('trendOf', () => {
  it('a flat 10-minute run meets both targets, RssAnon read from the 2-minute mark', () => {
    const trend = trendOf('uniform', run(15, 600, () => 300_000, (t) => (t < 120 ? 1e9 * (t / 120) : 1e9 + t * 1e5)));
    expect(trend.rssAnon).toMatchObject({ fromSeconds: 120, toSeconds: 600, targetMet: true });
    expect(trend.rssAnon!.ratio).toBeCloseTo((1e9 + 600 * 1e5) / (1e9 + 120 * 1e5), 9);
    expect(trend.rate).toMatchObject({ windowSeconds: 60, firstTransfersPerSecond: 300_000, lastTransfersPerSecond: 300_000, ratio: 1, targetMet: true });
  });

  it('a run whose heap grows with history and whose rate decays misses both', () => {
    const trend = trendOf('uniform', run(15, 600, (t) => (t <= 60 ? 400_000 : t > 540 ? 200_000 : 300_000), (t) => t * 1e7));
    expect(trend.rssAnon).toMatchObject({ fromSeconds: 120, fromBytes: 1.2e9, toBytes: 6e9, ratio: 5, targetMet: false });
    expect(trend.rate).toMatchObject({ firstTransfersPerSecond: 400_000, lastTransfersPerSecond: 200_000, ratio: 0.5, targetMet: false });
  });

  it('a short run compares its first sample with its last, and its halves', () => {
    const trend = trendOf('uniform', run(10, 40, (t) => (t <= 20 ? 100_000 : 95_000), () => 1e9));
    expect(trend.rssAnon).toMatchObject({ fromSeconds: 10, toSeconds: 40, ratio: 1 });
    expect(trend.rate).toMatchObject({ windowSeconds: 20, firstTransfersPerSecond: 100_000, lastTransfersPerSecond: 95_000, ratio: 0.95, targetMet: true });
  });

  it('has no trend without enough samples or without memory readings', () => {
    expect(trendOf('uniform', run(15, 15, () => 1, () => 1))).toEqual({ workload: 'uniform', rssAnon: null, rate: null });
    expect(trendOf('uniform', run(15, 60, () => 1, () => null)).rssAnon).toBeNull();
  });
});
