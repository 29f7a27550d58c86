// The sustained mode's restart measure: kill -9 the server, start it again on the same data dir, and time
// (from the moment the killed process is gone) its listening line, the first GET /health that answers 200,
// and the first write accepted on every shard: one tiny transfer per shard between two probe accounts of
// that shard, created before the load and outside the bench's accounts (so the end checks never see them).

import { setTimeout as sleep } from 'node:timers/promises';
import { connect, newId, type Client, type TransferInput } from '../../src/client/index.js';
import { shardOfId } from '../../src/core/routing.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import { msBetween } from './latency.js';
import { benchAccountCode, benchLedger, benchTransferCode } from './transfer-source.js';

/** Pause between two attempts while the restarted server is not ready yet. */
const probePollMs = 10;
/** Client timeout of one attempt: an attempt that hangs is retried, not waited for. */
const probeTimeoutMs = 2_000;
/** Longest wait for the restarted server to listen, answer /health and accept a write (today's main replays every journal). */
export const restartTimeoutMs = 30 * 60_000;

/** Two accounts on each shard, by shard: a probe transfer moves a minor unit from the first to the second. */
export type ProbePairs = readonly (readonly [bigint, bigint])[];

export interface RestartTimes {
  /** From the killed process's exit to the restarted server's listening line. */
  listeningMs: number;
  /** From the exit to the first GET /health with status 200. */
  healthMs: number;
  /** From the exit to the first probe batch (one transfer per shard) accepted whole. */
  firstWriteMs: number;
  /** Probe batches sent until one was accepted whole (refused or failed ones included). */
  writeAttempts: number;
}

/** Draws ids (`draw`, newId() by default) until each of `shardCount` shards has two; the pair of each shard, by shard. */
export function probePairs(shardCount: number, draw: () => bigint = newId): ProbePairs {
  const byShard: bigint[][] = Array.from({ length: shardCount }, () => []);
  let missing = shardCount * 2;
  for (let draws = 0; missing > 0; draws++) {
    if (draws >= 1000 * shardCount) throw new Error(`restart-probe: no two ids on each of ${shardCount} shards after ${draws} draws`);
    const id = draw();
    const ids = byShard[shardOfId(id, shardCount)];
    if (ids.length < 2 && !ids.includes(id)) {
      ids.push(id);
      missing--;
    }
  }
  return byShard.map(([a, b]) => [a, b] as const);
}

/** Creates the probe accounts (on the bench's ledger, no balance rules). */
export async function createProbeAccounts(client: Client, pairs: ProbePairs): Promise<void> {
  const accounts = pairs.flat().map((id) => ({ id, ledger: benchLedger, code: benchAccountCode }));
  const refused = (await client.createAccounts(accounts)).filter((r) => r.result !== 'ok');
  if (refused.length > 0) throw new Error(`creating the restart probe accounts: ${refused.length} refused, first ${refused[0].result}`);
}

/** One fresh transfer per shard, each inside its shard. */
function probeTransfers(pairs: ProbePairs): TransferInput[] {
  return pairs.map(([debitAccountId, creditAccountId]) => ({ id: newId(), debitAccountId, creditAccountId, amount: 1n, ledger: benchLedger, code: benchTransferCode }));
}

/** SIGKILL, restart on the same data dir, and the times until it listens, answers /health and accepts a write. */
export async function killAndRestart(server: ServerProcess, pairs: ProbePairs): Promise<RestartTimes> {
  const status = await server.kill('SIGKILL');
  if (status.signal !== 'SIGKILL') throw new Error(`the server was to die of SIGKILL, but exited with code ${status.code}, signal ${status.signal}`);
  const exitNs = process.hrtime.bigint();
  await server.restart();
  const listeningMs = msBetween(exitNs, process.hrtime.bigint());
  const [healthMs, write] = await Promise.all([untilHealthy(server, exitNs), untilWriteAccepted(server, pairs, exitNs)]);
  return { listeningMs, healthMs, firstWriteMs: write.ms, writeAttempts: write.attempts };
}

async function untilHealthy(server: ServerProcess, fromNs: bigint): Promise<number> {
  for (;;) {
    const status = await server.health().then(
      (h) => h.status,
      () => 0,
    );
    if (status === 200) return msBetween(fromNs, process.hrtime.bigint());
    failIfTooLong(fromNs, 'GET /health to answer 200');
    await sleep(probePollMs);
  }
}

async function untilWriteAccepted(server: ServerProcess, pairs: ProbePairs, fromNs: bigint): Promise<{ ms: number; attempts: number }> {
  let client: Client | null = null;
  for (let attempts = 1; ; attempts++) {
    try {
      client ??= await connect({ url: server.url, timeoutMs: probeTimeoutMs });
      const results = await client.createTransfers(probeTransfers(pairs));
      if (results.every((r) => r.result === 'ok')) {
        const ms = msBetween(fromNs, process.hrtime.bigint());
        await client.close();
        return { ms, attempts };
      }
    } catch {
      // Not ready yet (connection refused, closed, timed out): a fresh connection next time.
      await client?.close().catch(() => {});
      client = null;
    }
    failIfTooLong(fromNs, 'a write to be accepted');
    await sleep(probePollMs);
  }
}

function failIfTooLong(fromNs: bigint, what: string): void {
  const waitedMs = msBetween(fromNs, process.hrtime.bigint());
  if (waitedMs > restartTimeoutMs) throw new Error(`the restarted server: no ${what} within ${restartTimeoutMs / 1000} s of the kill`);
}
