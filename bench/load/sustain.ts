// The sustained mode of the load bench (`--sustain S`, issue #22): the real server as a child process on a
// temp data dir, then for each workload one run of S seconds at batch batchEventsMax, sampling every
// --sustain-every seconds the transfers posted, transfers/s, the server's RssAnon and VmRSS (/proc) and its
// data dir on disk. At the end, with traffic stopped: timed reads of old transfers (lookupTransfers of random
// ids from the first minutes, the oldest history page of old accounts), then kill -9, a restart on the same
// data dir timed to its first accepted write and its /health, the same reads again (caches cold), and the
// ledger checks on the restarted server: nothing acknowledged may be missing after the kill.

import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type Client } from '../../src/client/index.js';
import { batchEventsMax, historyPageMax } from '../../src/core/limits.js';
import { startServerProcess, type ServerProcess } from '../../test/support/server-process.js';
import { coresUsed, readCpu } from './cpu-usage.js';
import type { HotMarking } from './hot-accounts.js';
import { LatencyRecorder, msBetween } from './latency.js';
import { createAccounts, fundHotDebit, markBeforeFirstPhase, verify, waitTransitIdle } from './ledger-steps.js';
import { OldIdReservoir, pickDistinct } from './old-ids.js';
import { pipeliningFor, type LoadOptions } from './options.js';
import { drive } from './raw-driver.js';
import type { MachineInfo } from './report.js';
import { createProbeAccounts, killAndRestart, probePairs, restartTimeoutMs } from './restart-probe.js';
import { diskBytes, readProcessMemory } from './server-footprint.js';
import { sampleLine, summaryMarkdown, type OldReads, type SustainRun, type SustainSummary } from './sustain-report.js';
import { sampleOf, trendOf, type SustainSample } from './sustain-samples.js';
import { msOfTransferId } from './transfer-ids.js';
import { TransferSource } from './transfer-source.js';
import type { Workload } from './workloads.js';

const clientTimeoutMs = 60_000;
const batchEvents = batchEventsMax;
/** Old transfers kept (one per body at most) and the part of the first run they are drawn from: its first 2 minutes, or quarter when shorter. */
const oldIdsKept = 10_000;
const oldWindowSecondsMax = 120;
const oldWindowFraction = 0.25;
/** The reads of old transfers: calls of each kind, ids per lookup, entries per history page. */
const oldReadCalls = 200;
/**
 * Calls of each kind made before the timed ones, on the warm-up ids (transfers of the next window, on disk only
 * by then too): a process's first ~50 lookups run 3–20 ms while V8 compiles the read path (measured: the slow
 * calls stay even once every old id was read, and a lower --interrupt-budget shortens them). The old ids' own
 * pages stay unread until the timed calls; the warm-up calls' latency is reported beside them.
 */
const warmupReadCalls = 100;
const oldLookupIds = 100;
const oldHistoryLimit = 100;

export async function runSustain(options: LoadOptions, machine: MachineInfo, outDir: string, stamp: string): Promise<number> {
  const sustainSeconds = options.sustainSeconds!;
  // Manual day cuts: no midnight cut lands in the run. The restart may replay a long history: wait as long as it takes.
  if (options.dataDir !== null) await emptyDir(options.dataDir);
  const server = await startServerProcess({
    shardCount: options.shardCount,
    echo: options.echoServer,
    env: { TALLY_DAY_CUT: 'manual' },
    readyTimeoutMs: restartTimeoutMs,
    ...(options.dataDir !== null ? { dataDir: options.dataDir } : {}),
  });
  console.log(`server: pid ${server.pid}, ${server.url}, ${options.shardCount} shards, data ${server.dataDir}, day cut manual`);
  console.log(`sustained mode: ${sustainSeconds} s at batch ${batchEvents} per workload (${options.workloads.join(', ')}), a reading every ${options.sustainEverySeconds} s`);
  try {
    const source = new TransferSource(options.accountCount, options.shardCount, 0x5eed, options.zipfExponent, options.workloads.includes('hot-debit'));
    const client = await connect({ url: server.url, timeoutMs: clientTimeoutMs });
    await createAccounts(client, source);
    if (options.workloads.includes('hot-debit')) await fundHotDebit(client, source);
    const probe = probePairs(options.shardCount);
    await createProbeAccounts(client, probe);
    const oldIds = new OldIdReservoir(oldIdsKept, (bound) => source.below(bound));
    const warmupIds = new OldIdReservoir(oldIdsKept, (bound) => source.below(bound), false);
    source.idReservoirs = [oldIds, warmupIds];
    const oldWindowMs = Math.min(oldWindowSecondsMax, sustainSeconds * oldWindowFraction) * 1000;
    const hotMarking: HotMarking[] = [];
    const runs: SustainRun[] = [];
    for (const workload of options.workloads) {
      await markBeforeFirstPhase(client, source, workload, hotMarking);
      const onServer = runs.reduce((sum, r) => sum + r.transfersPosted, 0);
      runs.push(await sustainRun(server, source, workload, options, onServer, oldIds, warmupIds, oldWindowMs));
    }
    oldIds.close();
    warmupIds.close();
    const oldIdAgeSeconds = idAges(oldIds.ids);
    // Traffic stopped is not the server idle: credits in transit still land (a hot shard may hold a backlog of
    // them). The reads are timed once they have, so they measure reads, not the queue of writes before them.
    await waitTransitIdle(server, 'old reads', options.transitTimeoutSeconds * 1000);
    console.log(`reads of old transfers (${oldIds.ids.length} kept from the first ${(oldWindowMs / 1000).toFixed(0)} s), traffic stopped, transit idle:`);
    const reads = [await timeOldReads(client, oldIds, warmupIds, source, 'before the kill')];
    await client.close();
    console.log('kill -9, then a restart on the same data dir');
    const restart = await killAndRestart(server, probe);
    const memoryAfterRestart = readProcessMemory(server.pid);
    console.log(`  listening after ${restart.listeningMs.toFixed(0)} ms, /health 200 after ${restart.healthMs.toFixed(0)} ms, first write accepted after ${restart.firstWriteMs.toFixed(0)} ms`);
    const restarted = await connect({ url: server.url, timeoutMs: clientTimeoutMs });
    reads.push(await timeOldReads(restarted, oldIds, warmupIds, source, 'after the restart'));
    const transfersOk = runs.reduce((sum, r) => sum + r.transfersPosted, 0);
    const verification = await verify(server, restarted, source, transfersOk, [], options);
    await restarted.close();
    const summary: SustainSummary = { runs, oldIdAgeSeconds, reads, restart, memoryAfterRestart, verificationPassed: verification.passed };
    console.log(`\nsummary (Markdown, for bench/RESULTS.md):\n\n${summaryMarkdown(summary)}\n`);
    if (!verification.passed) console.log(`ledger checks FAILED on the restarted server:\n${JSON.stringify(verification, null, 2)}`);
    const record = {
      mode: 'sustain',
      machine,
      command: `node dist/bench/load.js ${process.argv.slice(2).join(' ')}`.trim(),
      options,
      hotMarking,
      ...summary,
      verification,
    };
    const outPath = options.outPath ?? path.join(outDir, `sustain-${stamp}.json`);
    await writeFile(outPath, JSON.stringify(record, null, 2) + '\n');
    console.log(`results written to ${path.relative(process.cwd(), outPath) || outPath}`);
    return verification.passed ? 0 : 1;
  } finally {
    await server.cleanup();
  }
}

/**
 * One workload's run: drive() for the whole time (no warm-up: the run is the measure), a sample at each
 * --sustain-every mark as the driver's progress passes it (its own elapsed time and count, read together),
 * and one at the end. `onServer`: transfers posted before this run; the old-id reservoir closes when the
 * run passes `oldWindowMs`, and the warm-up one then opens for as long again.
 */
async function sustainRun(
  server: ServerProcess,
  source: TransferSource,
  workload: Workload,
  options: LoadOptions,
  onServer: number,
  oldIds: OldIdReservoir,
  warmupIds: OldIdReservoir,
  oldWindowMs: number,
): Promise<SustainRun> {
  source.workload = workload;
  const { connections, inFlight } = pipeliningFor(batchEvents, options);
  const durationSeconds = options.sustainSeconds!;
  console.log(`${workload}: ${durationSeconds} s at batch ${batchEvents} (raw frames), ${connections} sockets × ${inFlight} in flight`);
  const samples: SustainSample[] = [];
  const everyMs = options.sustainEverySeconds * 1000;
  let nextMarkMs = everyMs;
  // Samples are taken one after the other (the disk walk is async), each from the progress that triggered it.
  let sampling = Promise.resolve();
  const takeSample = (elapsedMs: number, transfersPosted: number) => {
    const memory = readProcessMemory(server.pid);
    sampling = sampling.then(async () => {
      const reading = { elapsedMs, transfersPosted, memory, dataDirBytes: await diskBytes(server.dataDir), transfersOnServer: onServer + transfersPosted };
      const sample = sampleOf(workload, reading, samples.at(-1) ?? null);
      samples.push(sample);
      console.log(sampleLine(sample));
    });
  };
  const cpuBefore = readCpu(server.pid);
  const startNs = process.hrtime.bigint();
  const result = await drive({
    url: server.url,
    batchEvents,
    connections,
    inFlight,
    warmupMs: 0,
    durationMs: durationSeconds * 1000,
    source,
    onProgress: ({ elapsedMs, transfersAcked }) => {
      if (oldIds.open && elapsedMs >= oldWindowMs) {
        oldIds.close();
        warmupIds.start();
      }
      if (warmupIds.open && elapsedMs >= 2 * oldWindowMs) warmupIds.close();
      if (elapsedMs < nextMarkMs) return;
      while (nextMarkMs <= elapsedMs) nextMarkMs += everyMs;
      takeSample(elapsedMs, transfersAcked);
    },
  });
  const endMs = msBetween(startNs, process.hrtime.bigint());
  const cores = coresUsed(cpuBefore, readCpu(server.pid));
  await sampling;
  if (samples.length === 0 || endMs - samples[samples.length - 1].elapsedSeconds * 1000 >= 1000) takeSample(endMs, result.transfersOk);
  await sampling;
  const seconds = result.elapsedMs / 1000;
  return {
    workload,
    batchEvents,
    connections,
    inFlightPerConnection: inFlight,
    durationSeconds: seconds,
    transfersPosted: result.transfersOk,
    transfersSent: result.transfersSent,
    transfersPerSecond: result.transfersMeasured / seconds,
    failures: Object.fromEntries(result.failures),
    latency: result.latencies.summary(),
    benchCores: cores.benchCores,
    serverCores: cores.serverCores,
    samples,
    trend: trendOf(workload, samples),
  };
}

/** Seconds since the newest and the oldest of `ids` were made (their millisecond prefix). */
function idAges(ids: readonly bigint[]): { min: number; max: number } | null {
  if (ids.length === 0) return null;
  const nowMs = Date.now();
  const ages = ids.map((id) => (nowMs - msOfTransferId(id)) / 1000);
  return { min: Math.min(...ages), max: Math.max(...ages) };
}

/**
 * One call at a time, nothing else in flight: first `warmupReadCalls` of each kind on the warm-up ids (their
 * latency kept apart: a fresh process's first calls), then the timed ones: lookups of random old ids, and the
 * oldest history page of random old accounts.
 */
async function timeOldReads(client: Client, oldIds: OldIdReservoir, warmupIds: OldIdReservoir, source: TransferSource, when: OldReads['when']): Promise<OldReads> {
  const warmup = await readOldTransfers(client, warmupIds, source, warmupReadCalls);
  const timed = await readOldTransfers(client, oldIds, source, oldReadCalls);
  const reads: OldReads = {
    when,
    lookups: { calls: timed.lookups.size, idsPerCall: oldLookupIds, idsAsked: timed.idsAsked, idsFound: timed.idsFound, latency: timed.lookups.summary() },
    history: { calls: timed.history.size, limit: oldHistoryLimit, pagesEmpty: timed.pagesEmpty, latency: timed.history.summary() },
    warmup: { lookupCalls: warmup.lookups.size, lookups: warmup.lookups.summary(), historyCalls: warmup.history.size, history: warmup.history.summary() },
  };
  const l = reads.lookups.latency;
  const h = reads.history.latency;
  const wl = reads.warmup.lookups;
  const wh = reads.warmup.history;
  console.log(
    `  ${when}: warm-up on other old ids: lookups ×${reads.warmup.lookupCalls} p50 ${wl.p50Ms.toFixed(1)} ms, p99 ${wl.p99Ms.toFixed(1)} ms, ` +
      `history pages ×${reads.warmup.historyCalls} p50 ${wh.p50Ms.toFixed(1)} ms, p99 ${wh.p99Ms.toFixed(1)} ms\n` +
      `  ${when}: lookupTransfers of ${oldLookupIds} old ids ×${reads.lookups.calls}: p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms (${timed.idsFound}/${timed.idsAsked} found); ` +
      `oldest history page (${oldHistoryLimit}) of old accounts ×${reads.history.calls}: p50 ${h.p50Ms.toFixed(1)} ms, p99 ${h.p99Ms.toFixed(1)} ms`,
  );
  return reads;
}

/** `calls` lookups of `oldLookupIds` random ids of `pool`, then `calls` oldest history pages of its accounts, timed. */
async function readOldTransfers(client: Client, pool: OldIdReservoir, source: TransferSource, calls: number) {
  const below = (bound: number) => source.below(bound);
  const lookups = new LatencyRecorder();
  let idsAsked = 0;
  let idsFound = 0;
  for (let call = 0; call < calls && pool.ids.length > 0; call++) {
    const ids = pickDistinct(pool.ids, oldLookupIds, below);
    const sentNs = process.hrtime.bigint();
    const found = await client.lookupTransfers(ids);
    lookups.record(msBetween(sentNs, process.hrtime.bigint()));
    idsAsked += ids.length;
    idsFound += found.length;
  }
  const history = new LatencyRecorder();
  let pagesEmpty = 0;
  for (let call = 0; call < calls && pool.debitAccountIds.length > 0; call++) {
    const accountId = pool.debitAccountIds[below(pool.debitAccountIds.length)];
    const sentNs = process.hrtime.bigint();
    const page = await client.getAccountTransfers({ accountId, limit: oldHistoryLimit });
    history.record(msBetween(sentNs, process.hrtime.bigint()));
    if (page.length === 0) pagesEmpty++;
  }
  return { lookups, idsAsked, idsFound, history, pagesEmpty };
}

// The history page limit must be one the server takes.
if (oldHistoryLimit > historyPageMax) throw new Error('sustain: oldHistoryLimit is above historyPageMax');

/** A data dir given with --data-dir: created when absent; one holding files is refused (a run starts from nothing). */
async function emptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new Error(`--data-dir ${dir} is not empty: a sustained run starts from an empty data dir`);
}
