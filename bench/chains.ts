// What linked chains cost when they span shards: the shard set in-process (no gateway), two-leg chains
// whose legs debit accounts on two different shards vs. two-leg chains on one shard (and, `cross-credit`, chains
// whose first leg pays an account of another shard that the second leg spends from: the credit carried), at a few chain
// counts per request, `--in-flight` requests at a time, for `--seconds` each. Prints a progress line
// per second, a table (chains/s, request latency p50/p99) and the cross/same ratio, writes
// bench/out/chains-….json. Durable replies throughout (each reply waits for its fsyncs).

import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Operation } from '../src/core/operations.js';
import { decodeResults, encodeAccounts, encodeTransfers, type TransferInput } from '../src/core/wire/records.js';
import { shardOfId } from '../src/core/routing.js';
import { TransferFlags } from '../src/core/types.js';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { startShards, type ShardSet } from '../src/shards/set/shard-set.js';
import { repoRoot } from '../test/support/server-process.js';
import { LatencyRecorder } from './load/latency.js';
import { machineInfo } from './load/report.js';

const usage = `usage: node dist/bench/chains.js [--shards N] [--seconds S] [--in-flight N] [--chains-per-request LIST]
  --shards N               shards (default 2)
  --seconds S              measured seconds per phase (default 5)
  --in-flight N            requests in flight at once (default 8)
  --chains-per-request L   comma-separated chain counts per request (default 1,100,4095)`;

const accountsPerShard = 1000;
const ledger = 1;

interface Phase {
  kind: 'same-shard' | 'cross-shard' | 'cross-credit';
  chainsPerRequest: number;
  chainsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  roundsAborted: number;
}

async function main(): Promise<number> {
  const refuse = (message: string) => new Error(`${message}\n\n${usage}`);
  const { values } = parseFlags(
    process.argv.slice(2),
    { shards: { type: 'string' }, seconds: { type: 'string' }, 'in-flight': { type: 'string' }, 'chains-per-request': { type: 'string' }, help: { type: 'boolean' } },
    refuse,
  );
  if (values.help === true) {
    console.log(usage);
    return 0;
  }
  const shardCount = integerOption('--shards', values.shards ?? '2', 2, 64, refuse);
  const seconds = integerOption('--seconds', values.seconds ?? '5', 1, 3600, refuse);
  const inFlight = integerOption('--in-flight', values['in-flight'] ?? '8', 1, 1024, refuse);
  const sizes = (values['chains-per-request'] ?? '1,100,4095').split(',').map((text) => integerOption('--chains-per-request', text, 1, 4095, refuse));
  const machine = machineInfo();
  console.log(`chains bench: ${shardCount} shards, ${inFlight} requests in flight, ${seconds} s per phase, ${machine.cpuCount} cpus (${machine.cpuModel}), ${machine.date}`);

  const dataDir = mkdtempSync(path.join(tmpdir(), 'tally-chains-bench-'));
  const set = await startShards({ dataDir, shardCount, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false } });
  const phases: Phase[] = [];
  try {
    const accounts = await openAccounts(set, shardCount);
    let nextId = 1n << 64n;
    for (const chainsPerRequest of sizes) {
      for (const kind of ['same-shard', 'cross-shard', 'cross-credit'] as const) {
        const body = (): Uint8Array => {
          const transfers: TransferInput[] = [];
          for (let c = 0; c < chainsPerRequest; c++) {
            const first = Math.floor(Math.random() * shardCount);
            const second = kind === 'same-shard' ? first : (first + 1 + Math.floor(Math.random() * (shardCount - 1))) % shardCount;
            if (kind === 'cross-credit') {
              // A → B (another shard), then B → C (A's shard): B spends what the chain just paid it.
              const [a, c2] = sides(accounts[first]!);
              const b = accounts[second]![Math.floor(Math.random() * accountsPerShard)]!;
              transfers.push({ id: nextId++, debitAccountId: a, creditAccountId: b, amount: 1n, ledger, code: 1, flags: TransferFlags.linked });
              transfers.push({ id: nextId++, debitAccountId: b, creditAccountId: c2, amount: 1n, ledger, code: 1 });
              continue;
            }
            transfers.push({ id: nextId++, ...sidesOf(accounts[first]!), amount: 1n, ledger, code: 1, flags: TransferFlags.linked });
            transfers.push({ id: nextId++, ...sidesOf(accounts[second]!), amount: 1n, ledger, code: 1 });
          }
          return encodeTransfers(transfers);
        };
        phases.push(await runPhase(set, kind, chainsPerRequest, body, inFlight, seconds));
      }
    }
  } finally {
    await set.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  printTable(phases);
  const outDir = path.join(repoRoot(), 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  const outPath = path.join(outDir, `chains-${machine.date.replace(/[:.]/g, '-')}.json`);
  await writeFile(outPath, JSON.stringify({ machine, command: `node dist/bench/chains.js ${process.argv.slice(2).join(' ')}`.trim(), shardCount, inFlight, seconds, phases }, null, 2));
  console.log(`wrote ${outPath}`);
  return 0;
}

/** Two different random accounts of one shard. */
function sides(ids: readonly bigint[]): [bigint, bigint] {
  const i = Math.floor(Math.random() * ids.length);
  return [ids[i]!, ids[(i + 1) % ids.length]!];
}

/** A local transfer's debit and credit: two different random accounts of one shard. */
function sidesOf(ids: readonly bigint[]): { debitAccountId: bigint; creditAccountId: bigint } {
  const [debitAccountId, creditAccountId] = sides(ids);
  return { debitAccountId, creditAccountId };
}

/** Per shard, accountsPerShard accounts (overdraft allowed: chains never fail for funds). */
async function openAccounts(set: ShardSet, shardCount: number): Promise<bigint[][]> {
  const byShard: bigint[][] = Array.from({ length: shardCount }, () => []);
  for (let id = 1n; byShard.some((ids) => ids.length < accountsPerShard); id++) {
    const ids = byShard[shardOfId(id, shardCount)]!;
    if (ids.length < accountsPerShard) ids.push(id);
  }
  const all = byShard.flat();
  for (let i = 0; i < all.length; i += 8190) {
    const reply = await set.execute(Operation.create_accounts, encodeAccounts(all.slice(i, i + 8190).map((id) => ({ id, ledger, code: 1 }))));
    if (!decodeResults(reply).every((r) => r.code === 0)) throw new Error('account creation failed');
  }
  return byShard;
}

async function runPhase(set: ShardSet, kind: Phase['kind'], chainsPerRequest: number, body: () => Uint8Array, inFlight: number, seconds: number): Promise<Phase> {
  const latencies = new LatencyRecorder();
  const abortedBefore = set.chainStats().roundsAborted;
  let chains = 0;
  let requests = 0;
  const startMs = performance.now();
  const endMs = startMs + seconds * 1000;
  let lastPrintMs = startMs;
  let chainsAtLastPrint = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < endMs) {
      const request = body();
      const sentMs = performance.now();
      const reply = await set.execute(Operation.create_transfers, request);
      latencies.record(performance.now() - sentMs);
      if (!decodeResults(reply).every((r) => r.code === 0)) throw new Error(`${kind}: a chain failed`);
      chains += chainsPerRequest;
      requests++;
      const nowMs = performance.now();
      if (nowMs - lastPrintMs >= 1000) {
        console.log(`  ${kind}, ${chainsPerRequest} chains/request: ${Math.round(((chains - chainsAtLastPrint) * 1000) / (nowMs - lastPrintMs))} chains/s`);
        lastPrintMs = nowMs;
        chainsAtLastPrint = chains;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedS = (performance.now() - startMs) / 1000;
  const summary = latencies.summary(0);
  return {
    kind,
    chainsPerRequest,
    chainsPerSecond: Math.round(chains / elapsedS),
    requests,
    p50Ms: round(summary.p50Ms),
    p99Ms: round(summary.p99Ms),
    roundsAborted: set.chainStats().roundsAborted - abortedBefore,
  };
}

function printTable(phases: readonly Phase[]): void {
  console.log('\nchains/request  kind          chains/s   p50 ms   p99 ms   cross/same');
  for (const phase of phases) {
    const same = phases.find((p) => p.kind === 'same-shard' && p.chainsPerRequest === phase.chainsPerRequest);
    const ratio = phase.kind !== 'same-shard' && same !== undefined ? (phase.chainsPerSecond / same.chainsPerSecond).toFixed(2) : '';
    console.log(
      `${String(phase.chainsPerRequest).padStart(14)}  ${phase.kind.padEnd(12)}  ${String(phase.chainsPerSecond).padStart(8)}  ${String(phase.p50Ms).padStart(7)}  ${String(phase.p99Ms).padStart(7)}   ${ratio}`,
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
