// The sustained mode's readings and what they add up to: one sample every --sustain-every seconds (transfers
// posted, transfers/s since the previous sample, the server's memory and data dir), and per workload the
// trends the issue sets targets on: RssAnon late in the run against RssAnon after 2 minutes (flat: +10% at
// most), throughput in the last minute against the first (no decay: 0.9 at least). Pure: no I/O here.

import type { ProcessMemory } from './server-footprint.js';
import type { Workload } from './workloads.js';

/** Where the issue reads RssAnon first (after 2 minutes), and the length of the first and last windows (1 minute). */
export const rssFromSeconds = 120;
export const rateWindowSeconds = 60;
/** Targets: RssAnon at the end / RssAnon at rssFromSeconds at most this; last window / first window transfers/s at least this. */
export const rssGrowthTargetMax = 1.1;
export const rateDecayTargetMin = 0.9;

export interface SustainSample {
  workload: Workload;
  /** Seconds since this workload's run began. */
  elapsedSeconds: number;
  /** Transfers posted (acknowledged ok) in this workload's run so far. */
  transfersPosted: number;
  /** Transfers posted per second since the previous sample of this run. */
  transfersPerSecond: number;
  /** Null when /proc cannot tell. */
  rssAnonBytes: number | null;
  vmRssBytes: number | null;
  dataDirBytes: number;
  /** Every transfer the server holds (earlier workloads' runs included): what the data dir is divided by. */
  transfersOnServer: number;
  dataDirBytesPerTransfer: number | null;
}

export interface SustainReading {
  elapsedMs: number;
  transfersPosted: number;
  memory: ProcessMemory | null;
  dataDirBytes: number;
  transfersOnServer: number;
}

/** The sample of `reading`; `previous` is the run's sample before it (null for the first: the rate counts from 0). */
export function sampleOf(workload: Workload, reading: SustainReading, previous: SustainSample | null): SustainSample {
  const fromSeconds = previous?.elapsedSeconds ?? 0;
  const fromTransfers = previous?.transfersPosted ?? 0;
  const elapsedSeconds = reading.elapsedMs / 1000;
  const intervalSeconds = elapsedSeconds - fromSeconds;
  if (!(intervalSeconds > 0)) throw new RangeError(`sustain-samples: a sample at ${elapsedSeconds} s does not follow the one at ${fromSeconds} s`);
  return {
    workload,
    elapsedSeconds,
    transfersPosted: reading.transfersPosted,
    transfersPerSecond: (reading.transfersPosted - fromTransfers) / intervalSeconds,
    rssAnonBytes: reading.memory?.rssAnonBytes ?? null,
    vmRssBytes: reading.memory?.vmRssBytes ?? null,
    dataDirBytes: reading.dataDirBytes,
    transfersOnServer: reading.transfersOnServer,
    dataDirBytesPerTransfer: reading.transfersOnServer > 0 ? reading.dataDirBytes / reading.transfersOnServer : null,
  };
}

export interface RssGrowth {
  fromSeconds: number;
  fromBytes: number;
  toSeconds: number;
  toBytes: number;
  /** toBytes / fromBytes. */
  ratio: number;
  targetMet: boolean;
}

export interface RateDecay {
  /** Length of the first and the last window, seconds. */
  windowSeconds: number;
  firstTransfersPerSecond: number;
  lastTransfersPerSecond: number;
  /** last / first. */
  ratio: number;
  targetMet: boolean;
}

export interface SustainTrend {
  workload: Workload;
  /** Null when no sample read RssAnon, or only one did. */
  rssAnon: RssGrowth | null;
  /** Null with fewer than two samples. */
  rate: RateDecay | null;
}

/**
 * The trends of one run's samples (in order). RssAnon: from the first sample at rssFromSeconds or later
 * when the run lasts at least twice that, else from the first sample, to the last. Throughput: windows of
 * rateWindowSeconds, or half the run when shorter, from sample boundaries (a run starts at 0 transfers).
 */
export function trendOf(workload: Workload, samples: readonly SustainSample[]): SustainTrend {
  return { workload, rssAnon: rssGrowthOf(samples), rate: rateDecayOf(samples) };
}

function rssGrowthOf(samples: readonly SustainSample[]): RssGrowth | null {
  const read = samples.filter((s) => s.rssAnonBytes !== null);
  if (read.length < 2) return null;
  const last = read[read.length - 1];
  const from = last.elapsedSeconds >= 2 * rssFromSeconds ? read.find((s) => s.elapsedSeconds >= rssFromSeconds)! : read[0];
  if (from === last) return null;
  const ratio = last.rssAnonBytes! / from.rssAnonBytes!;
  return { fromSeconds: from.elapsedSeconds, fromBytes: from.rssAnonBytes!, toSeconds: last.elapsedSeconds, toBytes: last.rssAnonBytes!, ratio, targetMet: ratio <= rssGrowthTargetMax };
}

function rateDecayOf(samples: readonly SustainSample[]): RateDecay | null {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  const windowSeconds = Math.min(rateWindowSeconds, last.elapsedSeconds / 2);
  // First window: from 0 to the first sample at or past its end.
  const firstEnd = samples.find((s) => s.elapsedSeconds >= windowSeconds)!;
  const first = firstEnd.transfersPosted / firstEnd.elapsedSeconds;
  // Last window: from the latest sample at or before its start (or the run's start) to the last sample.
  const starts = samples.filter((s) => s.elapsedSeconds <= last.elapsedSeconds - windowSeconds);
  const start = starts.length === 0 ? { elapsedSeconds: 0, transfersPosted: 0 } : starts[starts.length - 1];
  const lastRate = (last.transfersPosted - start.transfersPosted) / (last.elapsedSeconds - start.elapsedSeconds);
  const ratio = first > 0 ? lastRate / first : NaN;
  return { windowSeconds, firstTransfersPerSecond: first, lastTransfersPerSecond: lastRate, ratio, targetMet: ratio >= rateDecayTargetMin };
}
