// What running a request in stages costs (issue #14: core/wire/request-stages.ts). Batches of random payments among
// funded accounts through the real server (`tally serve --shards N`, one request in flight): once with accounts that
// may overdraw (no request is cut), once with every account no-overdraft (a payer credited from another shard
// earlier in the batch starts a stage). Prints ok transfers/s, request latency p50/p99 and stages per request
// (counted here with the router's own function and the accounts' known flags), writes bench/out/stages-….json.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from '../src/client/index.js';
import { AccountFlags } from '../src/core/types.js';
import { stageStartsOf } from '../src/core/wire/request-stages.js';
import { encodeTransfers, type TransferInput } from '../src/core/wire/records.js';
import { readU128 } from '../src/core/u128.js';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { repoRoot, startServerProcess } from '../test/support/server-process.js';
import { LatencyRecorder } from './load/latency.js';
import { machineInfo } from './load/report.js';

const usage = `usage: node dist/bench/stages.js [--shards N] [--seconds S] [--batch N] [--accounts N]
  --shards N     shards (default 2)
  --seconds S    measured seconds per phase (default 8)
  --batch N      payments per request (default 8190)
  --accounts N   accounts paying each other (default 10000)`;

const ledger = 1;
const code = 1;
const funding = 1_000_000n;

interface Phase {
  accounts: 'overdraft allowed' | 'no-overdraft';
  requests: number;
  transfersOk: number;
  transfersRefused: number;
  okPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  stagesPerRequest: number;
}

async function main(): Promise<void> {
  const refuse = (message: string) => new Error(`${message}\n\n${usage}`);
  const { values } = parseFlags(
    process.argv.slice(2),
    { shards: { type: 'string' }, seconds: { type: 'string' }, batch: { type: 'string' }, accounts: { type: 'string' }, help: { type: 'boolean' } },
    refuse,
  );
  if (values.help === true) {
    console.log(usage);
    return;
  }
  const shardCount = integerOption('--shards', values.shards ?? '2', 1, 64, refuse);
  const seconds = integerOption('--seconds', values.seconds ?? '8', 1, 600, refuse);
  const batch = integerOption('--batch', values.batch ?? '8190', 2, 8190, refuse);
  const accountCount = integerOption('--accounts', values.accounts ?? '10000', 2, 1_000_000, refuse);
  const phases: Phase[] = [];
  for (const noOverdraft of [false, true]) phases.push(await phase(shardCount, seconds, batch, accountCount, noOverdraft));
  console.log('\n| accounts | requests | ok transfers/s | p50 | p99 | stages per request |\n|---|---|---|---|---|---|');
  for (const p of phases) console.log(`| ${p.accounts} | ${p.requests} | ${p.okPerSecond.toFixed(0)} | ${p.p50Ms.toFixed(1)} ms | ${p.p99Ms.toFixed(1)} ms | ${p.stagesPerRequest.toFixed(1)} |`);
  console.log(`\nno-overdraft / overdraft allowed: ${(phases[1]!.okPerSecond / phases[0]!.okPerSecond).toFixed(2)}×`);
  const outDir = path.join(repoRoot(), 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  const outPath = path.join(outDir, `stages-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(outPath, JSON.stringify({ machine: machineInfo(), command: `node dist/bench/stages.js ${process.argv.slice(2).join(' ')}`.trim(), phases }, null, 2) + '\n');
  console.log(`results written to ${path.relative(process.cwd(), outPath)}`);
}

async function phase(shardCount: number, seconds: number, batch: number, accountCount: number, noOverdraft: boolean): Promise<Phase> {
  const label = noOverdraft ? 'no-overdraft' : 'overdraft allowed';
  const server = await startServerProcess({ shardCount });
  const client = await connect({ url: server.url, timeoutMs: 120_000 });
  try {
    const ids = Array.from({ length: accountCount }, (_, i) => BigInt(1000 + i));
    const bank = 7n;
    const accountFlags = noOverdraft ? AccountFlags.debits_must_not_exceed_credits : AccountFlags.none;
    await client.createAccounts([{ id: bank, ledger, code }]);
    for (let i = 0; i < ids.length; i += 8000) await client.createAccounts(ids.slice(i, i + 8000).map((id) => ({ id, ledger, code, flags: accountFlags })));
    let nextId = 1n << 40n;
    for (let i = 0; i < ids.length; i += 8000) {
      await client.createTransfers(ids.slice(i, i + 8000).map((id) => ({ id: nextId++, debitAccountId: bank, creditAccountId: id, amount: funding, ledger, code })));
    }
    // The stage cuts the server makes, counted here with the same function and the accounts' known flags.
    const flagsOf = { flagsAt: () => accountFlags, holdsAnyWith: (f: number) => (accountFlags & f) !== 0, mayHoldWith: (_v: DataView, _a: number, f: number) => (accountFlags & f) !== 0 };
    let state = 0x5eed;
    const below = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    const latency = new LatencyRecorder();
    let ok = 0;
    let refused = 0;
    let stages = 0;
    const startedMs = performance.now();
    let lastPrintMs = startedMs;
    while (performance.now() - startedMs < seconds * 1000) {
      const transfers: TransferInput[] = Array.from({ length: batch }, () => ({
        id: nextId++,
        debitAccountId: ids[below(ids.length)]!,
        creditAccountId: ids[below(ids.length)]!,
        amount: BigInt(1 + below(100)),
        ledger,
        code,
      }));
      stages += 1 + stageStartsOf(encodeTransfers(transfers), shardCount, { ...flagsOf, flagsAt: (view, at) => (readU128(view, at) === bank ? 0 : accountFlags) }).length;
      const sentMs = performance.now();
      const results = await client.createTransfers(transfers);
      latency.record(performance.now() - sentMs);
      for (const r of results) if (r.result === 'ok') ok++;
      else refused++;
      if (performance.now() - lastPrintMs >= 1000) {
        lastPrintMs = performance.now();
        console.log(`  ${label}: ${((lastPrintMs - startedMs) / 1000).toFixed(0)}/${seconds} s, ${latency.size} requests, ${ok} ok`);
      }
    }
    const elapsedSeconds = (performance.now() - startedMs) / 1000;
    const summary = latency.summary();
    return { accounts: label, requests: latency.size, transfersOk: ok, transfersRefused: refused, okPerSecond: ok / elapsedSeconds, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, stagesPerRequest: stages / latency.size };
  } finally {
    await client.close();
    await server.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
