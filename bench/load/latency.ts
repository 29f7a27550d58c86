// Acknowledgement latencies of one phase, in ms, and their percentiles. Samples are kept whole (a few
// million doubles at most) so percentiles are exact rather than bucketed.

/** Samples kept per phase; past it later samples are dropped and the drop is reported. */
export const latencySamplesMax = 20_000_000;

export interface LatencySummary {
  samples: number;
  dropped: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private count = 0;
  private droppedCount = 0;

  get size(): number {
    return this.count;
  }

  record(ms: number): void {
    if (this.count === latencySamplesMax) {
      this.droppedCount++;
      return;
    }
    if (this.count === this.values.length) {
      const grown = new Float64Array(Math.min(this.values.length * 2, latencySamplesMax));
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = ms;
  }

  /** Percentiles of the samples from index `from` on (the progress line summarises the last second). */
  summary(from = 0): LatencySummary {
    const sorted = this.values.slice(from, this.count).sort();
    const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      samples: sorted.length,
      dropped: from === 0 ? this.droppedCount : 0,
      p50Ms: at(0.5),
      p90Ms: at(0.9),
      p99Ms: at(0.99),
      p999Ms: at(0.999),
      maxMs: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
      meanMs: sorted.length === 0 ? NaN : sum / sorted.length,
    };
  }
}

/** Milliseconds between two process.hrtime.bigint() readings. */
export function msBetween(startNs: bigint, endNs: bigint): number {
  return Number(endNs - startNs) / 1e6;
}
