// A bounded reservoir of delays (ms), newest overwriting oldest: the recent percentiles of how long
// something waited (a cross-shard credit after its reply, a hot-inbound credit in its buffer).

export class DelaySamples {
  static readonly samplesMax = 16_384;
  readonly #samples = new Float64Array(DelaySamples.samplesMax);
  #next = 0;
  #filled = 0;
  /** Everything counted since start (one sample may stand for several). */
  delivered = 0;
  /** The longest delay seen since start. */
  maxMs = 0;

  add(delayMs: number, count: number): void {
    this.delivered += count;
    if (delayMs > this.maxMs) this.maxMs = delayMs;
    this.#samples[this.#next] = delayMs;
    this.#next = (this.#next + 1) % DelaySamples.samplesMax;
    this.#filled = Math.min(this.#filled + 1, DelaySamples.samplesMax);
  }

  percentile(percent: number): number {
    if (this.#filled === 0) return 0;
    const sorted = this.#samples.slice(0, this.#filled).sort();
    return sorted[Math.min(sorted.length - 1, Math.floor((percent / 100) * sorted.length))]!;
  }
}
