// Runs one workload: every connection runs transfers back to back, a warm-up, then the measured
// window. A transfer counts in the window when it completes inside it; every committed transfer,
// warm-up and tail included, counts towards the totals the final checks compare with the journal.
// Deadlocks and serialization failures are counted by SQLSTATE and the next transfer goes on; any
// other error stops every connection and is thrown.

import type { Client } from 'pg';
import { assert } from '../../src/core/assert.js';
import { coresUsed, readCpu } from '../load/cpu-usage.js';
import { LatencyRecorder, msBetween, type LatencySummary } from '../load/latency.js';
import { progressLine } from '../load/report.js';
import { endProgress, statusLine } from '../load/status-line.js';
import type { PgCluster } from './cluster.js';
import type { PgBaselineOptions } from './options.js';
import { classicTransfer } from './transfer.js';
import { pgWorkloadNames, TransferPicker, type PgWorkload } from './workload.js';

/** SQLSTATEs a real application would retry: counted, then the connection goes on with its next transfer. */
const retryableSqlStates = new Set(['40P01', '40001']);
/** Seeds differ per workload and connection, and are the same on every run. */
const seedBase = 0x5eed;
/** A time no transfer completes by: the window bounds until the window opens. */
const notYetNs = 2n ** 63n;

export interface PgPhaseResult {
  workload: PgWorkload;
  connections: number;
  /** Length of the measured window, as timed. */
  windowSeconds: number;
  /** Committed inside the window. */
  transfersCommitted: number;
  transfersPerSecond: number;
  /** Rolled back for insufficient funds inside the window (none expected: every account is well funded). */
  insufficientFunds: number;
  /** Retryable errors over the whole phase, by SQLSTATE. */
  failures: Record<string, number>;
  /** Per committed transfer, BEGIN sent to COMMIT acknowledged, inside the window. */
  latency: LatencySummary;
  benchCores: number;
  /** Every postgres process (backends, WAL writer, checkpointer, …) together. */
  serverCores: number | null;
  /** Committed over the whole phase, warm-up and tail included, and the sum of their amounts. */
  committedTotal: number;
  amountCommittedMinorTotal: bigint;
}

/** Hands out transfer ids, unique over the whole run (the journal's transfer_id is UNIQUE). */
export class TransferIds {
  private last = 0;
  next(): number {
    return ++this.last;
  }
}

interface PhaseState {
  stopped: boolean;
  error: unknown;
  measureStartNs: bigint;
  measureEndNs: bigint;
  readonly latency: LatencyRecorder;
  /** Counted apart from the latency samples, which stop at latencySamplesMax. */
  committedInWindow: number;
  insufficientFunds: number;
  readonly failures: Record<string, number>;
  committedTotal: number;
  amountCommittedMinorTotal: bigint;
}

export async function runWorkload(
  clients: readonly Client[],
  workload: PgWorkload,
  options: PgBaselineOptions,
  ids: TransferIds,
  cluster: PgCluster,
  signal: AbortSignal,
): Promise<PgPhaseResult> {
  if (signal.aborted) throw new Error('interrupted');
  const state: PhaseState = {
    stopped: false,
    error: null,
    // Nothing counts until the warm-up timer opens the window and sets both.
    measureStartNs: notYetNs,
    measureEndNs: notYetNs,
    latency: new LatencyRecorder(),
    committedInWindow: 0,
    insufficientFunds: 0,
    failures: {},
    committedTotal: 0,
    amountCommittedMinorTotal: 0n,
  };
  const stop = () => (state.stopped = true);
  signal.addEventListener('abort', stop, { once: true });
  if (options.warmupSeconds > 0) statusLine(`  postgres, ${workload}: warm-up ${options.warmupSeconds} s, ${clients.length} connections`);
  const timers = scheduleWindow(workload, options, state, cluster);
  try {
    const picker = (i: number) => new TransferPicker(workload, options.accountCount, seedBase + 1000 * pgWorkloadNames.indexOf(workload) + i, options.zipfExponent);
    await Promise.all(clients.map((db, i) => runConnection(db, picker(i), ids, state)));
  } finally {
    signal.removeEventListener('abort', stop);
    timers.clear();
    endProgress();
  }
  if (signal.aborted) throw new Error('interrupted');
  if (state.error !== null) throw state.error;
  const window = await timers.window;
  const committed = state.committedInWindow;
  const latency = state.latency.summary();
  assert(latency.samples + latency.dropped === committed, 'one latency sample per transfer committed in the window');
  assert(committed <= state.committedTotal, 'the window is part of the phase');
  return {
    workload,
    connections: clients.length,
    windowSeconds: window.seconds,
    transfersCommitted: committed,
    transfersPerSecond: committed / window.seconds,
    insufficientFunds: state.insufficientFunds,
    failures: state.failures,
    latency,
    benchCores: window.cores.benchCores,
    serverCores: window.cores.serverCores,
    committedTotal: state.committedTotal,
    amountCommittedMinorTotal: state.amountCommittedMinorTotal,
  };
}

/** One connection: transfers back to back until the phase stops. */
async function runConnection(db: Client, picker: TransferPicker, ids: TransferIds, state: PhaseState): Promise<void> {
  while (!state.stopped) {
    const pick = picker.next();
    const beganNs = process.hrtime.bigint();
    try {
      const outcome = await classicTransfer(db, ids.next(), pick);
      const endNs = process.hrtime.bigint();
      const inWindow = endNs >= state.measureStartNs && endNs < state.measureEndNs;
      if (outcome === 'insufficient_funds') {
        if (inWindow) state.insufficientFunds++;
        continue;
      }
      state.committedTotal++;
      state.amountCommittedMinorTotal += BigInt(pick.amountMinor);
      if (!inWindow) continue;
      state.committedInWindow++;
      state.latency.record(msBetween(beganNs, endNs));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && retryableSqlStates.has(code)) {
        state.failures[code] = (state.failures[code] ?? 0) + 1;
        continue;
      }
      state.error ??= error;
      state.stopped = true;
    }
  }
}

interface WindowTimers {
  /** The measured window's length and the CPU used in it, once it has ended (never, when the phase stops early). */
  window: Promise<{ seconds: number; cores: ReturnType<typeof coresUsed> }>;
  clear(): void;
}

/** Timers that open the window after the warm-up, print a progress line each second, and stop the phase at the end. */
function scheduleWindow(workload: PgWorkload, options: PgBaselineOptions, state: PhaseState, cluster: PgCluster): WindowTimers {
  const handles: NodeJS.Timeout[] = [];
  const cpuNow = () => ({ ...readCpu(process.pid), serverSeconds: cluster.cpuSeconds() });
  const window = new Promise<{ seconds: number; cores: ReturnType<typeof coresUsed> }>((resolve) => {
    handles.push(
      setTimeout(() => {
        const from = cpuNow();
        state.measureStartNs = from.atNs;
        state.measureEndNs = from.atNs + BigInt(Math.round(options.durationSeconds * 1e9));
        let lastNs = from.atNs;
        let lastCount = state.committedInWindow;
        let lastSample = state.latency.size;
        handles.push(
          setInterval(() => {
            const nowNs = process.hrtime.bigint();
            const perSecond = ((state.committedInWindow - lastCount) * 1000) / msBetween(lastNs, nowNs);
            progressLine(`postgres, ${workload}`, msBetween(state.measureStartNs, nowNs), options.durationSeconds * 1000, perSecond, state.latency.summary(lastSample));
            lastNs = nowNs;
            lastCount = state.committedInWindow;
            lastSample = state.latency.size;
          }, 1000),
        );
        handles.push(
          setTimeout(() => {
            state.stopped = true;
            const to = cpuNow();
            // Transfers count by the computed bounds, so the window is exactly durationSeconds; CPU is read as timed.
            resolve({ seconds: msBetween(state.measureStartNs, state.measureEndNs) / 1000, cores: coresUsed(from, to) });
          }, options.durationSeconds * 1000),
        );
      }, options.warmupSeconds * 1000),
    );
  });
  return {
    window,
    clear: () => {
      for (const handle of handles) clearTimeout(handle);
    },
  };
}
