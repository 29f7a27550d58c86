// npm run bench:replication — issue #15's measures on this machine, in one sitting, against a throwaway 3-node
// JetStream cluster it starts on loopback ports (never the machine's shared NATS):
//   1. side by side: the load bench (dist/bench/load.js, uniform, light load then batch 8,190) embedded, then
//      replicated (`--nats`, 3 replicas), alternated `--rounds` times; transfers/s at 8,190 and light-load p50/p99;
//   2. follower lag: a `tally follow` started with a replicated primary (as a live replica runs beside it), under one
//      8,190-transfer request in flight, then under full load (2 × 2 in flight), its GET /health read every 200 ms
//      over the measured window, after `--lag-warmup` seconds of the same load;
//   3. failover: `--failovers` times, a primary and a live follower, kill -9 of the primary, the time until the
//      follower takes a write.
// Prints a Markdown summary for bench/RESULTS.md. The machine is shared by the primary, its follower and three
// NATS nodes: compare ratios of this one sitting.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '../src/client/client.js';
import { startNatsCluster, type NatsCluster } from '../test/support/nats-cluster.js';
import { repoRoot, startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { newIdOnShardOf } from '../src/client/ids.js';

interface LoadFigures {
  batch8190: number;
  lightP50: number;
  lightP99: number;
}

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, failovers: { type: 'string', default: '3' }, duration: { type: 'string', default: '6' }, 'lag-seconds': { type: 'string', default: '20' }, 'lag-warmup': { type: 'string', default: '10' } },
});
const rounds = Number(values.rounds);
const failovers = Number(values.failovers);
const duration = Number(values.duration);
const lagSeconds = Number(values['lag-seconds']);
/** Unmeasured seconds of the lag runs' load: the follower, started with the primary, is up and level before the window. */
const lagWarmup = Number(values['lag-warmup']);
let clusterRun = 0;

function natsEnv(nats: NatsCluster, cluster: string, node: string): Record<string, string> {
  return { TALLY_NATS: nats.urls.join(','), TALLY_NATS_CLUSTER: cluster, TALLY_NODE: node, TALLY_NATS_REPLICAS: '3' };
}

/** One run of the load bench (a child process); its JSON results read back. */
function loadBench(args: string[], env: Record<string, string>, onLine?: (line: string) => void): Promise<{ phases: { kind: string; batchEvents: number; transfersPerSecond: number; latency: { p50Ms: number; p99Ms: number } }[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'bench', 'load.js'), '--workloads', 'uniform', '--baseline', 'none', '--no-day-cut-phase', ...args], { cwd: repoRoot(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') onLine?.(line);
    });
    child.once('exit', (code) => {
      const file = /results written to (\S+\.json)/.exec(out)?.[1];
      if (code !== 0 || file === undefined) return reject(new Error(`load bench exited ${code}\n${out.slice(-2000)}`));
      resolve(JSON.parse(readFileSync(join(repoRoot(), file), 'utf8')));
    });
  });
}

async function sideBySide(nats: NatsCluster): Promise<{ embedded: LoadFigures[]; replicated: LoadFigures[] }> {
  const embedded: LoadFigures[] = [];
  const replicated: LoadFigures[] = [];
  const figures = (record: Awaited<ReturnType<typeof loadBench>>): LoadFigures => {
    const light = record.phases.find((p) => p.kind === 'light')!;
    return { batch8190: record.phases.find((p) => p.batchEvents === 8190)!.transfersPerSecond, lightP50: light.latency.p50Ms, lightP99: light.latency.p99Ms };
  };
  const args = ['--batches', '8190', '--duration', String(duration), '--light', '4'];
  for (let round = 1; round <= rounds; round++) {
    embedded.push(figures(await loadBench(args, {})));
    replicated.push(figures(await loadBench(args, natsEnv(nats, `bench${process.pid}x${++clusterRun}`, 'bench'))));
    console.log(`round ${round}: embedded ${Math.round(embedded.at(-1)!.batch8190)} t/s, replicated ${Math.round(replicated.at(-1)!.batch8190)} t/s`);
  }
  return { embedded, replicated };
}

/** Follower lag (max over shards, ms and entries) sampled every 200 ms while a replicated load bench runs. */
async function followerLag(nats: NatsCluster, loadArgs: string[]): Promise<{ transfersPerSecond: number; lagMs: number[]; lagEntries: number[]; upBeforeWindow: boolean }> {
  const cluster = `bench${process.pid}x${++clusterRun}`;
  let follower: ServerProcess | null = null;
  let followerStarting: Promise<void> | null = null;
  const lagMs: number[] = [];
  const lagEntries: number[] = [];
  let sampling = false;
  const sample = async (): Promise<void> => {
    while (sampling) {
      try {
        const health = JSON.parse((await follower!.health()).body) as { replication?: { shards: { seqApplied?: number; lagMs?: number; lagEntries?: number }[] } };
        const shards = health.replication?.shards ?? [];
        if (shards.length > 0 && shards.every((s) => (s.seqApplied ?? 0) > 0)) {
          lagMs.push(Math.max(...shards.map((s) => s.lagMs ?? 0)));
          lagEntries.push(Math.max(...shards.map((s) => s.lagEntries ?? 0)));
        }
      } catch {
        // a sample lost
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  let sampler: Promise<void> = Promise.resolve();
  let windowOpen = false;
  let upBeforeWindow = false;
  const startSampling = (): void => {
    if (follower === null || !windowOpen || sampling) return;
    sampling = true;
    sampler = sample();
  };
  const record = await loadBench(['--batches', '8190', '--duration', String(lagSeconds), '--warmup', String(lagWarmup), '--light', '0', ...loadArgs], natsEnv(nats, cluster, 'bench'), (line) => {
    // A live replica runs beside its primary, as in production: it starts with the primary (before the accounts are
    // created) and is read during the measured window only. Catching up after a late start is another figure.
    if (followerStarting === null && line.startsWith('server: pid')) {
      followerStarting = startServerProcess({ command: 'follow', env: natsEnv(nats, cluster, 'follower'), readyTimeoutMs: 60_000 }).then((started) => {
        follower = started;
        startSampling();
      });
    }
    if (!windowOpen && /batch 8190, uniform: \d+\/\d+ s /.test(line)) {
      windowOpen = true;
      upBeforeWindow = follower !== null;
      startSampling();
    }
  });
  await followerStarting;
  sampling = false;
  await sampler;
  await (follower as ServerProcess | null)?.cleanup();
  return { transfersPerSecond: record.phases.find((p) => p.batchEvents === 8190)!.transfersPerSecond, lagMs, lagEntries, upBeforeWindow };
}

async function failover(nats: NatsCluster): Promise<number> {
  const cluster = `bench${process.pid}x${++clusterRun}`;
  const primary = await startServerProcess({ env: natsEnv(nats, cluster, 'a'), readyTimeoutMs: 30_000 });
  const follower = await startServerProcess({ command: 'follow', env: natsEnv(nats, cluster, 'b'), readyTimeoutMs: 30_000 });
  try {
    const account = (): bigint => newIdOnShardOf(1n, 2);
    const [debit, credit] = [account(), account()];
    const client = await connect({ url: primary.url });
    await client.createAccounts([{ id: debit, ledger: 1, code: 1 }, { id: credit, ledger: 1, code: 1 }]);
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the follower has the accounts
    const killedAt = performance.now();
    await primary.kill('SIGKILL');
    const writer = await connect({ url: follower.url, timeoutMs: 5_000 });
    try {
      for (;;) {
        const answer = await writer.createTransfers([{ id: newIdOnShardOf(1n, 2), debitAccountId: debit, creditAccountId: credit, amount: 1n, ledger: 1, code: 1 }]).catch(() => null);
        if (answer !== null && answer[0]!.result === 'ok') return performance.now() - killedAt;
        if (performance.now() - killedAt > 60_000) throw new Error('no takeover within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await writer.close();
    }
  } finally {
    await primary.cleanup();
    await follower.cleanup();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'tally-bench-replication-'));
  const nats = await startNatsCluster(3);
  try {
    console.log(`NATS cluster: ${nats.urls.join(', ')} (3 nodes, JetStream file storage, streams with 3 replicas)`);
    const { embedded, replicated } = await sideBySide(nats);
    const moderate = await followerLag(nats, ['--connections', '1', '--in-flight', '1']);
    const full = await followerLag(nats, []);
    const takeovers: number[] = [];
    for (let n = 1; n <= failovers; n++) {
      takeovers.push(await failover(nats));
      console.log(`failover ${n}: ${Math.round(takeovers.at(-1)!)} ms from kill -9 to the follower's first write`);
    }
    const ratio = median(replicated.map((r) => r.batch8190)) / median(embedded.map((e) => e.batch8190));
    const rows = (name: string, runs: LoadFigures[]): string => `| ${name} | ${runs.map((r) => Math.round(r.batch8190).toLocaleString('en-US')).join(' · ')} | ${runs.map((r) => `${r.lightP50.toFixed(2)} / ${r.lightP99.toFixed(2)}`).join(' · ')} |`;
    console.log('\n## summary (Markdown)\n');
    console.log('| mode | batch 8190 t/s (rounds) | light batch-1 p50 / p99 ms (rounds) |');
    console.log('|---|---|---|');
    console.log(rows('embedded', embedded));
    console.log(rows('replicated (3-node JetStream)', replicated));
    console.log(`\nreplicated / embedded at batch 8190 (medians): **${ratio.toFixed(2)}** (target ≥ 0.5)`);
    for (const [name, lag] of [['one 8190-transfer request in flight', moderate], ['full load (2 × 2 in flight)', full]] as const) {
      console.log(`follower lag, ${name} (primary ${Math.round(lag.transfersPerSecond).toLocaleString('en-US')} t/s, ${lag.lagMs.length} samples): p50 ${median(lag.lagMs)} ms, p99 ${percentile(lag.lagMs, 0.99)} ms, max ${Math.max(...lag.lagMs)} ms; entries behind p99 ${percentile(lag.lagEntries, 0.99)}${lag.upBeforeWindow ? '' : '; the follower came up only after the window opened'}`);
    }
    console.log(`failover, kill -9 → first write on the follower: ${takeovers.map((t) => `${Math.round(t)} ms`).join(', ')} (target < 5 s)`);
  } finally {
    await nats.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench:replication failed:', error);
    process.exit(1);
  },
);
