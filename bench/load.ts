// The end-to-end load benchmark (`npm run bench`): the real server as a child process on a temp data
// dir, accounts created through the public client, then transfers over loopback at each batch size for a
// fixed time; every reply is durable (the server acks after fsync). Each phase runs once per workload
// (workloads.ts: uniform, zipf, hot-credit, hot-debit, cross-shard, same-shard); hot-credit marks its account
// hot-inbound first (mark_hot), the hot-debit account is created hot-outbound (slices on the other shards
// serve its debits to their payees; a keeper in the server refills and returns them) and funded before
// any load; a hot-debit transfer an empty slice refuses (insufficient_funds) is counted apart. After a phase
// that moved money between shards the bench waits for every credit to land (GET /health transit.inFlight
// = 0) and records how long credits took. Prints transfers/s and acknowledgement latency per phase, the
// workload ratios per batch size (hot / uniform, cross-shard / same-shard), checks the ledger at the end.
// The server runs with TALLY_DAY_CUT=manual, so only the bench cuts business days: after the phases,
// the day-cut phase (--day-cut-phase, default on) runs pairs of back-to-back windows at batch 8190,
// same-shard, one without a cut and one with closeDay() sent on its own connection 10% into the window
// while the load goes on, and reports during-cut / baseline transfers/s (target ≥ 0.9). After the
// checks, with traffic stopped, one more closeDay() must come back with a passing day report.
// Then, with the server stopped, the PostgreSQL baseline runs the same workloads (load/baseline.ts), and
// the run ends with Tally and the baseline side by side, the issue's targets, one JSON file and (--svg) a chart.
// With --sustain S, none of that: the sustained mode (load/sustain.ts) runs instead.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type Client, type DayReport } from '../src/client/index.js';
import { batchEventsMax } from '../src/core/limits.js';
import { repoRoot, startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { exitInterrupted, runBaseline, type BaselineOutcome } from './load/baseline.js';
import { summariseProfiles, type ProfileWindow } from './load/cpu-profile.js';
import { coresUsed, readCpu } from './load/cpu-usage.js';
import type { HotMarking } from './load/hot-accounts.js';
import { createAccounts, fundHotDebit, markBeforeFirstPhase, readTransit, verify, waitTransitIdle } from './load/ledger-steps.js';
import { LatencyRecorder, msBetween } from './load/latency.js';
import { baselineConnectionsFor, LoadUsageError, loadUsage, parseLoadArgs, pipeliningFor, servicesShape, type LoadOptions } from './load/options.js';
import { drive } from './load/raw-driver.js';
import {
  machineInfo,
  printMachine,
  printProfiles,
  printRatios,
  printTable,
  printTransitTable,
  printDayCutPhase,
  printFinalDayCut,
  printVerification,
  progressLine,
  summariseDayReport,
  workloadRatios,
  type DayCutCall,
  type DayCutPhase,
  type DayCutWindow,
  type MachineInfo,
  type PhaseResult,
  type TransitReading,
  type VerificationResult,
  type WorkloadRatio,
} from './load/report.js';
import { endProgress } from './load/status-line.js';
import { printSideBySide, printTargets, sideBySideRows, targetChecks } from './load/side-by-side.js';
import { runSustain } from './load/sustain.js';
import { chartInput, renderChart } from './load/svg-chart.js';
import { TransferSource } from './load/transfer-source.js';
import { crossesShards, workloadDescriptions, type Workload } from './load/workloads.js';

const clientTimeoutMs = 60_000;
const hotSpotsPerThread = 10;
/** The batch size whose workload ratios have targets, and the targets: cross-shard / same-shard and hot / uniform. */
const ratioTargetBatch = batchEventsMax;
const ratioTarget = 0.5;
/** The workload ratios printed and recorded, when both workloads ran: [numerator, denominator]. */
const ratioPairs: readonly (readonly [Workload, Workload])[] = [
  ['hot-credit', 'uniform'],
  ['hot-debit', 'uniform'],
  ['cross-shard', 'same-shard'],
];
/** Delay samples the server keeps, newest overwriting oldest (DelaySamples.samplesMax in src/shards/relay/transit-relay.ts, not exported). */
const serverDelaySamplesMax = 16_384;
/** The day-cut phase: its batch size and workload, the pairs of windows, and where in a window the cut is sent. */
const dayCutBatch = batchEventsMax;
const dayCutPairs = 2;
const dayCutAtFraction = 0.1;
/** Target of during-cut / baseline transfers/s. */
const dayCutTarget = 0.9;
/** How long a closeDay() may take before the client gives up on it (the cut waits for the bookkeeping shard to catch up). */
const dayCutTimeoutMs = 300_000;

type PhaseStep = { kind: 'light' } | { kind: 'pipelined'; batchEvents: number } | { kind: 'services' };

/** Everything the Tally part of the run measured and checked, with the server still up. */
interface TallyRun {
  phases: PhaseResult[];
  hotMarking: HotMarking[];
  dayCut: DayCutPhase | null;
  verification: VerificationResult;
  finalCut: DayCutCall;
  /** The measured stretch of each phase, to read the server's profiles over exactly that time. */
  windows: ProfileWindow[];
}

async function main(): Promise<number> {
  const command = parseLoadArgs(process.argv.slice(2), process.env);
  if (command.kind === 'help') {
    console.log(loadUsage);
    return 0;
  }
  const options = command.options;
  const machine = machineInfo();
  printMachine(machine);
  const stamp = machine.date.replace(/[:.]/g, '-');
  const outDir = path.join(repoRoot(), 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  if (options.sustainSeconds !== null) return runSustain(options, machine, outDir, stamp);
  const profileDir = options.serverCpuProfile ? await mkdtemp(path.join(outDir, `prof-${stamp}-`)) : null;
  const nodeArgs = profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];

  // Manual day cuts: no midnight cut lands in a measurement; the bench's closeDay() calls are the only cuts.
  const server = await startServerProcess({ shardCount: options.shardCount, nodeArgs, echo: options.echoServer, env: { TALLY_DAY_CUT: 'manual' } });
  console.log(`server: pid ${server.pid}, ${server.url}, ${options.shardCount} shards, data ${server.dataDir}, day cut manual (TALLY_DAY_CUT=manual)`);
  console.log(`workloads (each phase runs once per workload, in this order):`);
  for (const w of options.workloads) console.log(`  ${w}: ${workloadDescriptions[w]}${w === 'zipf' ? ` (s = ${options.zipfExponent})` : ''}`);
  try {
    // Hot-outbound only when hot-debit runs: the other workloads then meet a server with no hot-debit routing, as before.
    const source = new TransferSource(options.accountCount, options.shardCount, 0x5eed, options.zipfExponent, options.workloads.includes('hot-debit'));
    const tally = await runTally(server, source, options);
    const ratios = ratioPairs.map(([numerator, denominator]) => ({ numerator, denominator, byPhase: workloadRatios(tally.phases, numerator, denominator) }));
    printTallyResults(tally, ratios);
    // The baseline must not share the CPU with the server: stop it (and read its profiles) first.
    await stopServer(server);
    const profiles = profileDir === null ? [] : await summariseProfiles(profileDir, repoRoot(), hotSpotsPerThread, tally.windows);
    if (profiles.length > 0) printProfiles(profiles);
    const baseline = await runBaseline(options, options.workloads);
    const rows = sideBySideRows(options.workloads, tally.phases, baseline.phases);
    printSideBySide(rows, options.batchSizes, sideBySideHeading(options, baseline));
    const targets = targetChecks(rows, baseline.missing);
    printTargets(targets);
    const record = {
      machine,
      command: `node dist/bench/load.js ${process.argv.slice(2).join(' ')}`.trim(),
      options,
      accounts: accountsRecord(source),
      hotMarking: tally.hotMarking,
      phases: tally.phases,
      workloadRatios: Object.fromEntries(ratios.map((r) => [`${r.numerator}/${r.denominator}`, ratioRecord(r.byPhase)])),
      crossShardRatio: ratioRecord(ratios.find((r) => r.numerator === 'cross-shard')!.byPhase),
      dayCut: { phase: tally.dayCut, final: tally.finalCut },
      verification: tally.verification,
      baseline: baseline.record,
      sideBySide: rows,
      targets,
      profiles,
    };
    await writeResults(options, outDir, stamp, machine, record, rows);
    const dayCutsPassed = (tally.dayCut === null || tally.dayCut.reportsPassed) && tally.finalCut.error === null && tally.finalCut.report!.passed;
    if (!dayCutsPassed) console.log('load bench: a day cut failed or its day report did not pass (see above)');
    if (baseline.interrupted) return exitInterrupted;
    return tally.verification.passed && dayCutsPassed && baseline.verificationPassed ? 0 : 1;
  } finally {
    await server.cleanup();
  }
}

/** The Tally part's tables: phases, transit, workload ratios, the day-cut phase, the checks and the final cut. */
function printTallyResults(tally: TallyRun, ratios: readonly { numerator: Workload; denominator: Workload; byPhase: WorkloadRatio[] }[]): void {
  printTable(tally.phases);
  printTransitTable(tally.phases);
  for (const r of ratios) if (r.byPhase.length > 0) printRatios(r.byPhase, r.numerator, r.denominator, ratioTargetBatch, ratioTarget);
  if (tally.dayCut !== null) printDayCutPhase(tally.dayCut);
  printVerification(tally.verification);
  printFinalDayCut(tally.finalCut);
}

/**
 * Accounts, funding, every phase of every workload, the day-cut phase, the checks and the final cut.
 * On a failure, prints what was measured before it and rethrows.
 */
async function runTally(server: ServerProcess, source: TransferSource, options: LoadOptions): Promise<TallyRun> {
  // A server without transit figures fails here, before any load, rather than after the first phase that crosses shards.
  if (options.workloads.some((w) => crossesShards(w, options.shardCount))) await readTransit(server);
  const client = await connect({ url: server.url, timeoutMs: clientTimeoutMs });
  /** closeDay() calls go on a connection of their own, with a timeout long enough for the bookkeeping shard to catch up. */
  const cutClient = await connect({ url: server.url, timeoutMs: dayCutTimeoutMs });
  const phases: PhaseResult[] = [];
  const hotMarking: HotMarking[] = [];
  const dayCutWindows: DayCutWindow[] = [];
  /** The measured stretch of each phase, to read the server's profiles over exactly that time. */
  const windows: ProfileWindow[] = [];
  try {
    await createAccounts(client, source);
    if (options.workloads.includes('hot-debit')) await fundHotDebit(client, source);
    const steps: PhaseStep[] = [
      ...(options.lightSeconds > 0 ? [{ kind: 'light' } as const] : []),
      ...options.batchSizes.map((batchEvents) => ({ kind: 'pipelined', batchEvents }) as const),
      ...(options.services ? [{ kind: 'services' } as const] : []),
    ];
    // Workloads alternate per step, so all meet a ledger of about the same size at each batch size.
    for (const step of steps) {
      for (const workload of options.workloads) {
        const hotMarked = await markBeforeFirstPhase(client, source, workload, hotMarking);
        phases.push(await runPhase(server, client, source, step, workload, options, phases, windows, hotMarked));
      }
    }
    const dayCut = options.dayCutPhase ? await runDayCutPhase(server, cutClient, source, options, windows, dayCutWindows) : null;
    const transfersOk = phases.reduce((sum, p) => sum + p.transfersOk, 0) + dayCutWindows.reduce((sum, w) => sum + w.transfersOk, 0);
    const verification = await verify(server, client, source, transfersOk, windows, options);
    // With every transfer in and checked, one more cut: its report must pass with nothing moving.
    console.log('final day cut: closeDay() with traffic stopped');
    const finalCut = await timedCloseDay(cutClient, process.hrtime.bigint(), null);
    await client.close();
    await cutClient.close();
    return { phases, hotMarking, dayCut, verification, finalCut, windows };
  } catch (error) {
    if (phases.length > 0) {
      console.log('\nphases completed before the failure:');
      printTable(phases);
      printTransitTable(phases);
    }
    if (dayCutWindows.length > 0) console.log(`\nday-cut windows completed before the failure:\n${JSON.stringify(dayCutWindows, null, 2)}`);
    throw error;
  }
}

function accountsRecord(source: TransferSource) {
  return {
    regular: source.accountCount,
    fundingAccountId: String(source.fundingAccountId),
    hotCreditAccountId: String(source.hotCreditAccountId),
    hotDebitAccountId: String(source.hotDebitAccountId),
    amountFundedTotal: String(source.amountFundedTotal),
  };
}

function ratioRecord(byPhase: WorkloadRatio[]) {
  const atTarget = byPhase.find((r) => r.phase === 'pipelined' && r.batchEvents === ratioTargetBatch);
  return {
    targetBatchEvents: ratioTargetBatch,
    target: ratioTarget,
    atTargetBatch: atTarget?.ratio ?? null,
    targetMet: atTarget === undefined ? null : atTarget.ratio >= ratioTarget,
    byPhase,
  };
}

function sideBySideHeading(options: LoadOptions, baseline: BaselineOutcome): string {
  const batch1 = pipeliningFor(1, options);
  const pg =
    baseline.missing === null
      ? `PostgreSQL: ${baselineConnectionsFor(options)} connections, one transfer per transaction (the classic design), ${options.baselineDurationSeconds} s per workload`
      : `PostgreSQL: ${baseline.missing}`;
  return (
    `Tally vs the PostgreSQL baseline (durable replies on both sides; Tally raw frames, batch 1 on ${batch1.connections} sockets × ${batch1.inFlight} in flight; ` +
    `ratios: Tally's best batch size and batch 1 over the baseline)\n${pg}`
  );
}

/** The JSON record, and the chart when --svg asks for one. */
async function writeResults(options: LoadOptions, outDir: string, stamp: string, machine: MachineInfo, record: object, rows: ReturnType<typeof sideBySideRows>): Promise<void> {
  const outPath = options.outPath ?? path.join(outDir, `load-${stamp}.json`);
  await writeFile(outPath, JSON.stringify(record, null, 2) + '\n');
  console.log(`\nresults written to ${path.relative(process.cwd(), outPath) || outPath}`);
  if (options.svgPath === null) return;
  const title = `Tally vs PostgreSQL baseline — ${machine.cpuCount} × ${machine.cpuModel}, ${options.shardCount} shards, ${machine.date.slice(0, 16).replace('T', ' ')} UTC`;
  const hasBaseline = rows.some((r) => r.baseline !== null);
  await writeFile(options.svgPath, renderChart(chartInput(title, rows, options.batchSizes, hasBaseline ? 'PostgreSQL' : null)));
  console.log(`chart written to ${path.relative(process.cwd(), options.svgPath) || options.svgPath}`);
}

/**
 * One phase of one workload. A phase whose workload moves money between shards also reads GET /health
 * transit when its measured window ends, waits for every credit to land, and reads it again (those
 * delays are the ones reported): the next phase starts with nothing in flight.
 */
async function runPhase(
  server: ServerProcess,
  client: Client,
  source: TransferSource,
  step: PhaseStep,
  workload: Workload,
  options: LoadOptions,
  earlier: readonly PhaseResult[],
  windows: ProfileWindow[],
  hotMarked: boolean | null,
): Promise<PhaseResult> {
  source.workload = workload;
  const cross = crossesShards(workload, source.shardCount);
  const before = cross ? await readTransit(server) : null;
  const crossSentBefore = source.crossShardTransfersIssued;
  const end: { atNs: bigint | null; reading: Promise<TransitReading> | null } = { atNs: null, reading: null };
  const onMeasureEnd = () => {
    end.atNs = process.hrtime.bigint();
    if (!cross) return;
    end.reading = readTransit(server);
    end.reading.catch(() => {}); // awaited after the phase; this only keeps an early failure from counting as unhandled
  };
  const phase = await withCores(server, () =>
    step.kind === 'light'
      ? lightPhase(client, source, workload, options, windows, onMeasureEnd)
      : step.kind === 'services'
        ? pipelinedPhase(server, source, workload, servicesShape.batchEventsMin, options, windows, onMeasureEnd, servicesWindow)
        : pipelinedPhase(server, source, workload, step.batchEvents, options, windows, onMeasureEnd),
  );
  if (!cross) return { ...phase, transit: null, hotMarked };
  if (end.atNs === null || end.reading === null) throw new Error(`${phase.name}, ${workload}: the measured window never ended`);
  const atWindowEnd = await end.reading;
  const idle = await waitTransitIdle(server, `${phase.name}, ${workload}`, options.transitTimeoutSeconds * 1000);
  const creditsDelivered = idle.reading.delivered - before!.delivered;
  return {
    ...phase,
    hotMarked,
    transit: {
      atWindowEnd,
      idle: idle.reading,
      delayMsP50: idle.reading.delayMsP50,
      delayMsP99: idle.reading.delayMsP99,
      drainSeconds: Math.max(0, msBetween(end.atNs, idle.atNs) / 1000),
      crossShardTransfersSent: source.crossShardTransfersIssued - crossSentBefore,
      creditsDelivered,
      // The relay acknowledges a delivery instruction by instruction, one delay sample each (a reconcile
      // acknowledges in bulk, one per queued run): about one sample per credit delivered.
      delayMixesEarlierPhases: creditsDelivered < serverDelaySamplesMax && earlier.some((p) => p.transit !== null),
    },
  };
}

/** A phase's own figures; withCores adds the CPU each side used meanwhile, runPhase the transit figures. */
type PhaseFigures = Omit<PhaseResult, 'benchCores' | 'serverCores' | 'transit' | 'hotMarked'>;

/** Runs a phase and adds the cores the bench and the server kept busy meanwhile (warm-up included, credit drain not). */
async function withCores(server: ServerProcess, run: () => Promise<PhaseFigures>): Promise<Omit<PhaseResult, 'transit' | 'hotMarked'>> {
  const before = readCpu(server.pid);
  const phase = await run();
  const cores = coresUsed(before, readCpu(server.pid));
  return { ...phase, benchCores: cores.benchCores, serverCores: cores.serverCores };
}

/** Light load: one single-transfer call in flight at a time, through the public client, as an application sees it. */
async function lightPhase(
  client: Client,
  source: TransferSource,
  workload: Workload,
  options: LoadOptions,
  windows: ProfileWindow[],
  onMeasureEnd: () => void,
): Promise<PhaseFigures> {
  const name = 'light load (client, 1 call in flight)';
  const latencies = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const durationMs = options.lightSeconds * 1000;
  const startNs = process.hrtime.bigint();
  let ok = 0;
  let sent = 0;
  let refused = 0;
  let lastProgressMs = 0;
  let lastProgressSample = 0;
  for (let elapsedMs = 0; elapsedMs < durationMs; elapsedMs = msBetween(startNs, process.hrtime.bigint())) {
    const sentNs = process.hrtime.bigint();
    const transfer = source.nextInput();
    const [result] = await client.createTransfers([transfer]);
    latencies.record(msBetween(sentNs, process.hrtime.bigint()));
    sent++;
    if (result.result === 'ok') ok++;
    else if (result.result === 'insufficient_funds' && source.inputRefusedForSliceMoney(transfer)) refused++;
    else failures[result.result] = (failures[result.result] ?? 0) + 1;
    if (elapsedMs - lastProgressMs >= 1000) {
      progressLine(`light load, batch 1, ${workload}`, elapsedMs, durationMs, (latencies.size - lastProgressSample) / ((elapsedMs - lastProgressMs) / 1000), latencies.summary(lastProgressSample));
      lastProgressMs = elapsedMs;
      lastProgressSample = latencies.size;
    }
  }
  onMeasureEnd();
  endProgress();
  const endNs = process.hrtime.bigint();
  windows.push({ name: `${name}, ${workload}`, fromNs: startNs, toNs: endNs });
  const seconds = msBetween(startNs, endNs) / 1000;
  return {
    name,
    kind: 'light',
    workload,
    batchEvents: 1,
    connections: 1,
    inFlightPerConnection: 1,
    durationSeconds: seconds,
    // Transfers posted: a refusal is not a transfer done.
    transfersPerSecond: ok / seconds,
    requestsPerSecond: sent / seconds,
    latency: latencies.summary(),
    transfersSent: sent,
    transfersOk: ok,
    failures,
    refusedForSliceMoney: workload === 'hot-debit' ? refused : null,
  };
}

/** A pipelined window other than a plain phase: its own name and duration, and a hook as measuring begins. */
interface PipelinedWindow {
  name?: string;
  durationSeconds?: number;
  onMeasureStart?: () => void;
  /** A phase of its own shape (the services phase): sizes batchEvents..batchEventsMax, these sockets and requests in flight. */
  shape?: { kind: 'services'; batchEventsMax: number; connections: number; inFlight: number };
}

const servicesWindow: PipelinedWindow = {
  name: `services (${servicesShape.connections} sockets, batch ${servicesShape.batchEventsMin}–${servicesShape.batchEventsMax}, raw frames)`,
  shape: { kind: 'services', batchEventsMax: servicesShape.batchEventsMax, connections: servicesShape.connections, inFlight: servicesShape.inFlight },
};

async function pipelinedPhase(
  server: ServerProcess,
  source: TransferSource,
  workload: Workload,
  batchEvents: number,
  options: LoadOptions,
  windows: ProfileWindow[],
  onMeasureEnd: () => void,
  window: PipelinedWindow = {},
): Promise<PhaseFigures> {
  const { connections, inFlight } = window.shape ?? pipeliningFor(batchEvents, options);
  const name = window.name ?? `batch ${batchEvents} (raw frames)`;
  const label = window.name === undefined ? `batch ${batchEvents}, ${workload}` : window.shape !== undefined ? `${window.name}, ${workload}` : `${window.name}, batch ${batchEvents}, ${workload}`;
  const durationSeconds = window.durationSeconds ?? options.durationSeconds;
  console.log(`${label} (raw frames): ${connections} sockets × ${inFlight} in flight, ${options.warmupSeconds} s warm-up + ${durationSeconds} s`);
  let last = { elapsedMs: 0, transfersAcked: 0, samples: 0 };
  const result = await drive({
    url: server.url,
    batchEvents,
    batchEventsMax: window.shape?.batchEventsMax,
    connections,
    inFlight,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: durationSeconds * 1000,
    source,
    onProgress: ({ elapsedMs, transfersAcked, latencies }) => {
      const perSecond = (transfersAcked - last.transfersAcked) / Math.max(0.001, (elapsedMs - last.elapsedMs) / 1000);
      progressLine(label, elapsedMs, durationSeconds * 1000, perSecond, latencies.summary(last.samples));
      last = { elapsedMs, transfersAcked, samples: latencies.size };
    },
    onMeasureStart: window.onMeasureStart,
    onMeasureEnd,
  });
  endProgress();
  windows.push({ name: `${name}, ${workload}`, fromNs: result.measureFromNs, toNs: result.measureToNs });
  const seconds = result.elapsedMs / 1000;
  return {
    name,
    kind: window.shape?.kind ?? 'pipelined',
    workload,
    batchEvents: window.shape?.batchEventsMax ?? batchEvents,
    ...(window.shape === undefined ? {} : { batchEventsMin: batchEvents }),
    connections,
    inFlightPerConnection: inFlight,
    durationSeconds: seconds,
    transfersPerSecond: result.transfersMeasured / seconds,
    requestsPerSecond: result.requestsMeasured / seconds,
    latency: result.latencies.summary(),
    transfersSent: result.transfersSent,
    transfersOk: result.transfersOk,
    failures: Object.fromEntries(result.failures),
    refusedForSliceMoney: workload === 'hot-debit' ? result.refusedForSliceMoney : null,
  };
}

/**
 * The day-cut phase: `dayCutPairs` pairs of back-to-back windows at batch `dayCutBatch`, `--day-cut-workload`,
 * alternating baseline, cut, cut, baseline… In a during-cut window, closeDay() goes out on a
 * connection of its own `dayCutAtFraction` into the measured window and the load goes on; a cut that
 * outlasts its window is awaited after it (with no load) and reported as such, never stretched into it.
 */
async function runDayCutPhase(
  server: ServerProcess,
  cutClient: Client,
  source: TransferSource,
  options: LoadOptions,
  profileWindows: ProfileWindow[],
  results: DayCutWindow[],
): Promise<DayCutPhase> {
  const dayCutWorkload = options.dayCutWorkload;
  source.workload = dayCutWorkload;
  const { connections, inFlight } = pipeliningFor(dayCutBatch, options);
  const windowMs = options.dayCutWindowSeconds * 1000;
  console.log(
    `day cut under load: ${dayCutPairs} pairs of ${options.dayCutWindowSeconds} s windows at batch ${dayCutBatch}, ${dayCutWorkload}; ` +
      `closeDay() sent ${dayCutAtFraction * 100}% into each during-cut window`,
  );
  for (let pair = 1; pair <= dayCutPairs; pair++) {
    const order: DayCutWindow['kind'][] = pair % 2 === 1 ? ['baseline', 'during-cut'] : ['during-cut', 'baseline'];
    for (const kind of order) results.push(await dayCutWindow(server, cutClient, source, options, profileWindows, pair, kind, windowMs));
  }
  const sum = (kind: DayCutWindow['kind']) => results.filter((w) => w.kind === kind).reduce((total, w) => total + w.transfersPerSecond, 0);
  const baseline = sum('baseline');
  const duringCut = sum('during-cut');
  const ratio = baseline > 0 ? duringCut / baseline : NaN;
  const cuts = results.map((w) => w.cut).filter((c): c is DayCutCall => c !== null);
  return {
    batchEvents: dayCutBatch,
    workload: dayCutWorkload,
    connections,
    inFlightPerConnection: inFlight,
    windowSeconds: options.dayCutWindowSeconds,
    cutAtFraction: dayCutAtFraction,
    windows: results,
    baselineTransfersPerSecondSum: baseline,
    duringCutTransfersPerSecondSum: duringCut,
    ratio,
    target: dayCutTarget,
    targetMet: ratio >= dayCutTarget,
    cutsOutlastingWindow: cuts.filter((c) => c.outlastedWindow).length,
    reportsPassed: cuts.every((c) => c.error === null && c.report!.passed),
  };
}

async function dayCutWindow(
  server: ServerProcess,
  cutClient: Client,
  source: TransferSource,
  options: LoadOptions,
  profileWindows: ProfileWindow[],
  pair: number,
  kind: DayCutWindow['kind'],
  windowMs: number,
): Promise<DayCutWindow> {
  const bookkeepingLagAtStart = await bookkeepingLag(cutClient);
  const name = `day cut ${pair}. ${kind}`;
  let measureFromNs: bigint | null = null;
  let measureEnded = false;
  let cutTimer: NodeJS.Timeout | null = null;
  const cut: { pending: Promise<DayCutCall> | null; settled: boolean } = { pending: null, settled: false };
  const onMeasureStart = () => {
    measureFromNs = process.hrtime.bigint();
    if (kind !== 'during-cut') return;
    cutTimer = setTimeout(() => {
      cut.pending = timedCloseDay(cutClient, measureFromNs!, () => !measureEnded);
      void cut.pending.then(() => (cut.settled = true));
    }, windowMs * dayCutAtFraction);
  };
  let lagAtEnd: Promise<number | null> = Promise.resolve(null);
  const onMeasureEnd = () => {
    measureEnded = true;
    lagAtEnd = bookkeepingLag(cutClient);
  };
  const figures = await withCores(server, () =>
    pipelinedPhase(server, source, options.dayCutWorkload, dayCutBatch, options, profileWindows, onMeasureEnd, { name, durationSeconds: windowMs / 1000, onMeasureStart }),
  ).finally(() => {
    if (cutTimer !== null) clearTimeout(cutTimer);
  });
  const bookkeepingLagAtEnd = await lagAtEnd;
  let call: DayCutCall | null = null;
  if (kind === 'during-cut') {
    if (cut.pending === null) throw new Error(`${name}: closeDay() was never sent (the measured window ended before ${dayCutAtFraction * 100}% of it)`);
    if (!cut.settled) console.log(`  ${name}: window over, closeDay() still running; waiting for it (no load)`);
    call = await cut.pending;
    const outcome = call.error !== null ? `rejected: ${call.error}` : `day ${call.report!.day} report ${call.report!.passed ? 'passed' : 'FAILED'}`;
    console.log(
      `  ${name}: closeDay() sent ${(call.sentAtMs / 1000).toFixed(2)} s into the window, settled after ${call.durationMs.toFixed(0)} ms` +
        `${call.outlastedWindow ? ' (after the window ended)' : ''}; ${outcome}`,
    );
  }
  return {
    pair,
    kind,
    durationSeconds: figures.durationSeconds,
    transfersPerSecond: figures.transfersPerSecond,
    requestsPerSecond: figures.requestsPerSecond,
    latency: figures.latency,
    transfersSent: figures.transfersSent,
    transfersOk: figures.transfersOk,
    failures: figures.failures,
    benchCores: figures.benchCores,
    serverCores: figures.serverCores,
    bookkeepingLagAtStart,
    bookkeepingLagAtEnd,
    cut: call,
  };
}

/**
 * closeDay() timed from the send; never rejects (a rejection is recorded). `windowOpen` says whether
 * the measured window is still open (null: no window). `sentAtMs` counts from `fromNs`.
 */
async function timedCloseDay(client: Client, fromNs: bigint, windowOpen: (() => boolean) | null): Promise<DayCutCall> {
  const sentNs = process.hrtime.bigint();
  let report: DayReport | null = null;
  let error: string | null = null;
  try {
    report = await client.closeDay();
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }
  const doneNs = process.hrtime.bigint();
  const summary = report === null ? null : summariseDayReport(report);
  return {
    sentAtMs: windowOpen === null ? 0 : msBetween(fromNs, sentNs),
    durationMs: msBetween(sentNs, doneNs),
    outlastedWindow: windowOpen !== null && !windowOpen(),
    report: summary,
    error,
    fullReport: summary !== null && !summary.passed ? report : null,
  };
}

/** Σ journal entries the bookkeeping shard has yet to book, or null when it cannot be read. */
async function bookkeepingLag(client: Client): Promise<number | null> {
  try {
    return (await client.getBookkeepingStatus()).reduce((sum, s) => sum + s.lag, 0);
  } catch {
    return null;
  }
}

/** SIGTERM, so a profiled server exits through process.exit and writes its profiles. */
async function stopServer(server: ServerProcess): Promise<void> {
  const status = await server.kill('SIGTERM');
  if (status.code !== 0) console.warn(`server exited with code ${status.code}, signal ${status.signal}`);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof LoadUsageError) {
      console.error(`load bench: ${error.message}\n\n${loadUsage}`);
      process.exitCode = 2;
      return;
    }
    console.error('load bench failed:', error);
    process.exitCode = 1;
  },
);
