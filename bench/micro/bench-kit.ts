// What every micro-benchmark shares: a task shape with untimed setup, a fixed number of timed calls
// (so the work, and therefore the digest of its results, is the same on every run), a seeded PRNG,
// and an FNV-1a digest. A task prints its digest so that nobody "optimises" by changing semantics.

import { Bench } from 'tinybench';

export interface MicroTask {
  name: string;
  /** Events (transfers, records, ids) one call handles, for the per-event rate. */
  eventsPerCall: number;
  /** Timed calls; fixed, so that the digest covers the same work on every run. */
  calls: number;
  /** Untimed: builds the state the calls run against. */
  setup(): void;
  /** Untimed, before each call (e.g. picking the next prepared batch). */
  beforeEach?(): void;
  /** The timed work. */
  call(): void;
  /** Untimed, after the last call: a digest of everything the calls produced. */
  digest(): string;
  /** Untimed: lets go of the state, so that the next task starts with a clean heap. */
  teardown?(): void;
}

export interface MicroResult {
  name: string;
  calls: number;
  callMsMean: number;
  callMsP99: number;
  eventsPerSecond: number;
  digest: string;
}

/** Runs tasks one after the other (never concurrently: they would share the CPU). */
export async function runMicroTasks(tasks: readonly MicroTask[]): Promise<MicroResult[]> {
  const results: MicroResult[] = [];
  for (const task of tasks) results.push(await runOne(task));
  return results;
}

async function runOne(task: MicroTask): Promise<MicroResult> {
  // time 0 and no warmup: exactly `calls` timed calls, each preceded by its untimed beforeEach.
  const bench = new Bench({ time: 0, iterations: task.calls, warmup: false, throws: true });
  let ready = false;
  // tinybench calls a task function once when it is added, to learn whether it is async; the gate
  // keeps that probe from touching state before setup.
  bench.add(
    task.name,
    () => {
      if (ready) task.call();
    },
    {
      beforeAll: () => {
        task.setup();
        ready = true;
      },
      beforeEach: () => task.beforeEach?.(),
    },
  );
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result === undefined || result.error !== undefined) throw result?.error ?? new Error(`${task.name}: no result`);
  const digest = task.digest();
  task.teardown?.();
  const callMsMean = result.latency.mean;
  return {
    name: task.name,
    calls: result.latency.samples.length,
    callMsMean,
    callMsP99: result.latency.p99 ?? callMsMean,
    eventsPerSecond: (task.eventsPerCall * 1000) / callMsMean,
    digest,
  };
}

/** Runs a task's calls without timing (for tests that pin digests); returns the digest. */
export function runUntimed(task: MicroTask): string {
  task.setup();
  for (let i = 0; i < task.calls; i++) {
    task.beforeEach?.();
    task.call();
  }
  const digest = task.digest();
  task.teardown?.();
  return digest;
}

/** 32-bit FNV-1a over bytes, fed incrementally. */
export class Digest {
  private hash = 0x811c9dc5;

  update(bytes: Uint8Array): this {
    let hash = this.hash;
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
    this.hash = hash;
    return this;
  }

  updateNumber(value: number | bigint): this {
    return this.update(new TextEncoder().encode(String(value)));
  }

  hex(): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0');
  }
}

/** What a core task over full batches is sized by. */
export interface CoreBenchOptions {
  /** Account counts to run the tasks against. */
  accountCounts: readonly number[];
  /** Timed batches per task. */
  calls: number;
  /** Events per batch (batchEventsMax in the real benchmark). */
  batchEvents?: number;
}

/** The ledger and account code of every account a core task creates. */
export const benchLedgerId = 1;
export const benchAccountCode = 1;
/** Core tasks' clock: where it starts and how far it moves per batch. */
export const clockStartNs = 1_700_000_000_000_000_000n;
export const nsPerBatch = 1_000_000n;
/** Transfer ids start here, far from account ids (they are separate maps, but it reads better). */
export const transferIdBase = 1n << 40n;

/** xorshift32: a small seeded PRNG, so every run builds the same workload. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % bound;
  }
}

export function formatResults(results: readonly MicroResult[]): string {
  const rows = results.map((r) => ({
    task: r.name,
    calls: r.calls,
    'ms/call mean': r.callMsMean.toFixed(3),
    'ms/call p99': r.callMsP99.toFixed(3),
    'events/s': Math.round(r.eventsPerSecond).toLocaleString('en-US'),
    digest: r.digest,
  }));
  const columns = Object.keys(rows[0] ?? {}) as (keyof (typeof rows)[number])[];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => String(row[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(columns), ...rows.map((row) => line(columns.map((c) => String(row[c]))))].join('\n');
}
