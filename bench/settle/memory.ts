// The bench's own memory while it runs. The core's calls are synchronous and long (one clearChannelDay holds the
// thread for seconds), so a timer cannot see inside them: the resident peak comes from the kernel (VmHWM of
// /proc/self/status, the true high-water mark), and the heap is read at every phase boundary and by a timer while
// the thread is free (posting). Both maxima are reported; the heap one is a lower bound of the heap's own peak.

import { readPeakBytes } from '../load/server-footprint.js';

/** How often the heap is sampled while the thread is free. */
const sampleEveryMs = 50;

export class MemoryWatch {
  rssMaxBytes = 0;
  heapUsedMaxBytes = 0;
  heapTotalMaxBytes = 0;
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.sample();
    this.#timer = setInterval(() => this.sample(), sampleEveryMs);
    this.#timer.unref();
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.rssMaxBytes = Math.max(this.rssMaxBytes, usage.rss);
    this.heapUsedMaxBytes = Math.max(this.heapUsedMaxBytes, usage.heapUsed);
    this.heapTotalMaxBytes = Math.max(this.heapTotalMaxBytes, usage.heapTotal);
  }

  /** The resident peak: VmHWM where /proc tells it, else the highest RSS sampled. */
  peakRssBytes(): number {
    this.sample();
    return Math.max(readPeakBytes(process.pid) ?? 0, this.rssMaxBytes);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }
}
