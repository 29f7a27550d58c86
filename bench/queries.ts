// npm run bench:queries — queryTransfers and queryAccounts on a large store (issue #16: p99 < 10 ms for a page of 100
// on 10M transfers). One real server (`tally serve`, 2 shards, a temp data dir) is filled with --transfers random
// payments among --accounts accounts, each carrying an order id in user_data_128 (from --orders), a merchant in
// user_data_32 (from 1,000) and one of 20 codes; then pages are asked, one at a time, by every indexed filter, by
// account, and deeper into a result by cursor — warm, and cold after a restart (the caches empty, the index read
// from disk). Prints p50 / p99 / max per query kind and the rows a page held.

import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../src/client/index.js';
import { newId } from '../src/client/ids.js';
import type { QueryFilterInput, TransferInput } from '../src/core/wire/records.js';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { startServerProcess } from '../test/support/server-process.js';
import { LatencyRecorder } from './load/latency.js';
import { machineInfo } from './load/report.js';

const usage = 'usage: node dist/bench/queries.js [--transfers N] [--accounts N] [--orders N] [--samples N] [--warmup N] [--in-flight N] [--fill-only plain|indexed] [--data-dir DIR] [--server-cpu-prof DIR]';
const ledger = 1;
const merchants = 1000;
const codes = 20;
const batch = 8190;

/** A deterministic stream of numbers (xorshift32), so runs draw the same filters. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

interface QueryKind {
  name: string;
  filter: () => QueryFilterInput;
  /** Pages to walk by cursor per sample (the latency of the last one is recorded: deep paging). */
  depth?: number;
  accounts?: boolean;
  /** The floor: lookupAccounts of one id, the same round trip with the least work behind it. */
  lookup?: boolean;
}

async function main(): Promise<void> {
  const refuse = (message: string) => new Error(`${message}\n${usage}`);
  const flags = { transfers: { type: 'string' }, accounts: { type: 'string' }, orders: { type: 'string' }, samples: { type: 'string' }, warmup: { type: 'string' }, 'in-flight': { type: 'string' }, 'fill-only': { type: 'string' }, 'data-dir': { type: 'string' }, 'server-cpu-prof': { type: 'string' } } as const;
  const { values } = parseFlags(process.argv.slice(2), flags, refuse);
  const transferCount = integerOption('--transfers', values.transfers ?? '10000000', batch, 100_000_000, refuse);
  const accountCount = integerOption('--accounts', values.accounts ?? '100000', 2, 10_000_000, refuse);
  const orderCount = integerOption('--orders', values.orders ?? '1000000', 1, 100_000_000, refuse);
  const samples = integerOption('--samples', values.samples ?? '400', 10, 100_000, refuse);
  // A process's first calls of a code path run while V8 compiles it (client, gateway and shards: ~1–2 s of calls
  // measured on lookupAccounts alone, 2026-12-07): each kind's first --warmup queries, on other draws, are timed
  // apart from the samples, so the p99 is the steady state's and the first calls still show.
  const warmupSamples = integerOption('--warmup', values.warmup ?? '100', 0, 100_000, refuse);
  const inFlight = integerOption('--in-flight', values['in-flight'] ?? '4', 1, 64, refuse);
  // --fill-only: the fill alone, its transfers with user data (indexed) or without (plain): what indexing costs.
  const fillOnly = values['fill-only'];
  if (fillOnly !== undefined && fillOnly !== 'plain' && fillOnly !== 'indexed') throw refuse(`--fill-only is plain or indexed, got ${fillOnly}`);
  const withUserData = fillOnly !== 'plain';
  const machine = machineInfo();
  console.log(`queries bench: ${transferCount.toLocaleString('en-US')} transfers, ${accountCount.toLocaleString('en-US')} accounts, ${orderCount.toLocaleString('en-US')} order ids, ${samples} samples per query, ${machine.cpuCount} cpus, ${machine.date}`);
  // --data-dir: kept after the run; one already filled (by a run of the same --accounts) is queried again, unfilled.
  const dataDir = values['data-dir'];
  const filled = dataDir !== undefined && existsSync(join(dataDir, 'shard-0'));
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const profile = values['server-cpu-prof'];
  const nodeArgs = profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const server = await startServerProcess({ shardCount: 2, env: { TALLY_DAY_CUT: 'manual' }, readyTimeoutMs: 600_000, dataDir, nodeArgs });
  let client = await connect({ url: server.url, timeoutMs: 120_000 });
  try {
    // Ids a later run on the same --data-dir makes again.
    const accounts = Array.from({ length: accountCount }, (_, i) => (0x5a11n << 112n) | BigInt(i + 1));
    for (let i = 0; i < accounts.length && !filled; i += batch) {
      await client.createAccounts(accounts.slice(i, i + batch).map((id, k) => ({ id, ledger, code: 100 + ((i + k) % 5), userData32: 1 + ((i + k) % merchants) })));
    }
    const draw = random(7);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(draw() * list.length)]!;
    // 1..merchants: a zero field is no filter (and no index key).
    const merchant = (): number => 1 + Math.floor(draw() * merchants);
    const fill = async (): Promise<void> => {
      let sent = 0;
      let posted = 0;
      const started = performance.now();
      let reported = 0;
      const lane = async (): Promise<void> => {
        while (sent < transferCount) {
          const size = Math.min(batch, transferCount - sent);
          sent += size;
          const transfers: TransferInput[] = Array.from({ length: size }, () => {
            const debit = pick(accounts);
            let credit = debit;
            while (credit === debit) credit = pick(accounts);
            return {
              id: newId(),
              debitAccountId: debit,
              creditAccountId: credit,
              amount: 1n + BigInt(Math.floor(draw() * 1000)),
              ledger,
              code: 1 + Math.floor(draw() * codes),
              userData128: withUserData ? 1n + BigInt(Math.floor(draw() * orderCount)) : 0n,
              userData32: withUserData ? merchant() : 0,
            };
          });
          const results = await client.createTransfers(transfers);
          const ok = results.filter((r) => r.result === 'ok').length;
          posted += ok;
          if (posted - reported >= 1_000_000) {
            reported = posted;
            const seconds = (performance.now() - started) / 1000;
            console.log(`  filled ${posted.toLocaleString('en-US')} transfers in ${seconds.toFixed(0)} s (${Math.round(posted / seconds).toLocaleString('en-US')}/s)`);
          }
        }
      };
      await Promise.all(Array.from({ length: inFlight }, lane));
      const seconds = (performance.now() - started) / 1000;
      console.log(`filled: ${posted.toLocaleString('en-US')} transfers posted in ${seconds.toFixed(1)} s (${Math.round(posted / seconds).toLocaleString('en-US')} transfers/s, ${withUserData ? 'every one indexed by ledger, code, user_data_128 and user_data_32' : 'no user data: indexed by ledger and code only'})`);
    };
    if (filled) console.log(`${dataDir} is filled already: queried as it is`);
    else await fill();
    const bytes = shardStoreBytes(server.dataDir);
    console.log(`shard stores: ${(bytes / 1024 ** 3).toFixed(2)} GiB, ${Math.round(bytes / transferCount)} B per transfer of --transfers (journal, history, id and transfer indexes; LMDB files, free pages included)`);
    if (fillOnly !== undefined) return;

    const kinds: QueryKind[] = [
      { name: 'floor: lookupAccounts of 1 id', filter: () => ({ accountId: pick(accounts) }), lookup: true },
      { name: 'user_data_128 (an order id, ~10 transfers)', filter: () => ({ userData128: 1n + BigInt(Math.floor(draw() * orderCount)) }) },
      { name: 'user_data_32 (a merchant, page of 100)', filter: () => ({ userData32: merchant() }) },
      { name: 'user_data_32 newest first', filter: () => ({ userData32: merchant(), reversed: true }) },
      { name: 'ledger + code (page of 100)', filter: () => ({ ledger, code: 1 + Math.floor(draw() * codes) }) },
      { name: 'code + user_data_32', filter: () => ({ code: 1 + Math.floor(draw() * codes), userData32: merchant() }) },
      { name: 'account (page of 100)', filter: () => ({ accountId: pick(accounts) }) },
      { name: 'account, credits, newest first', filter: () => ({ accountId: pick(accounts), direction: 'credits', reversed: true }) },
      { name: 'user_data_32, 10th page by cursor', filter: () => ({ userData32: merchant() }), depth: 10 },
      { name: 'accounts by code + user_data_32', filter: () => ({ code: 100 + Math.floor(draw() * 5), userData32: merchant() }), accounts: true },
    ];
    const measure = async (phase: string): Promise<void> => {
      console.log(`\n${phase}: pages of 100, one query at a time${warmupSamples > 0 ? `; each kind's first ${warmupSamples} queries (other draws) reported apart` : ''}`);
      console.log(`| query | p50 ms | p99 ms | max ms | rows per page (mean) |${warmupSamples > 0 ? ' first calls p50 / p99 / max ms |' : ''}`);
      console.log(`|---|---|---|---|---|${warmupSamples > 0 ? '---|' : ''}`);
      for (const kind of kinds) {
        const first = new LatencyRecorder();
        const latency = new LatencyRecorder();
        let rows = 0;
        for (let s = 0; s < warmupSamples + samples; s++) {
          const recorder = s < warmupSamples ? first : latency;
          const filter: QueryFilterInput = { ...kind.filter(), limit: 100 };
          let after: QueryFilterInput['after'];
          for (let page = 1; ; page++) {
            const started = performance.now();
            const result =
              kind.lookup === true
                ? { rows: await client.lookupAccounts([filter.accountId!]), next: null }
                : kind.accounts === true
                  ? await client.queryAccounts({ ...filter, after })
                  : await client.queryTransfers({ ...filter, after });
            const ms = performance.now() - started;
            if (page === (kind.depth ?? 1) || result.next === null) {
              recorder.record(ms);
              if (recorder === latency) rows += result.rows.length;
              break;
            }
            after = result.next;
          }
        }
        const summary = latency.summary();
        const warm = warmupSamples > 0 ? first.summary() : null;
        const firstCalls = warm === null ? '' : ` ${warm.p50Ms.toFixed(2)} / ${warm.p99Ms.toFixed(2)} / ${warm.maxMs.toFixed(2)} |`;
        console.log(`| ${kind.name} | ${summary.p50Ms.toFixed(2)} | ${summary.p99Ms.toFixed(2)} | ${summary.maxMs.toFixed(2)} | ${(rows / samples).toFixed(1)} |${firstCalls}`);
      }
    };
    await measure('warm (right after the fill)');
    await client.close();
    await server.kill('SIGTERM');
    const restartStarted = performance.now();
    await server.restart();
    console.log(`\nrestarted in ${((performance.now() - restartStarted) / 1000).toFixed(1)} s`);
    client = await connect({ url: server.url, timeoutMs: 120_000 });
    await measure('cold (after a restart)');
  } finally {
    await client.close();
    await server.kill('SIGTERM'); // a clean exit writes --cpu-prof's profiles
    await server.cleanup();
  }
}

/** Bytes of the shards' LMDB data files under `dataDir`. */
function shardStoreBytes(dataDir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dataDir)) if (name.startsWith('shard-')) bytes += statSync(join(dataDir, name, 'data.mdb')).size;
  return bytes;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
