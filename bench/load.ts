// The end-to-end load benchmark (`npm run bench`): the real server as a child process on a temp data
// dir, accounts created through the public client, then uniform random transfers over loopback at
// each batch size for a fixed time; every reply is durable (the server acks after fsync). Prints
// transfers/s and acknowledgement latency per phase, checks the ledger at the end, writes JSON.

import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type Client } from '../src/client/index.js';
import { batchEventsMax } from '../src/core/limits.js';
import { repoRoot, startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { summariseProfiles, type ProfileWindow, type WindowProfile } from './load/cpu-profile.js';
import { coresUsed, readCpu } from './load/cpu-usage.js';
import { LatencyRecorder, msBetween } from './load/latency.js';
import { LoadUsageError, loadUsage, parseLoadArgs, pipeliningFor, type LoadOptions } from './load/options.js';
import { drive } from './load/raw-driver.js';
import { endProgress, machineInfo, printMachine, printProfiles, printTable, printVerification, progressLine, type PhaseResult, type VerificationResult } from './load/report.js';
import { TransferSource } from './load/transfer-source.js';

const clientTimeoutMs = 60_000;
const hotSpotsPerThread = 10;

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
  const profileDir = options.serverCpuProfile ? await mkdtemp(path.join(outDir, `prof-${stamp}-`)) : null;
  const nodeArgs = profileDir === null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];

  const server = await startServerProcess({ shardCount: options.shardCount, nodeArgs, echo: options.echoServer });
  console.log(`server: pid ${server.pid}, ${server.url}, ${options.shardCount} shards, data ${server.dataDir}`);
  let profiles: WindowProfile[] = [];
  try {
    const source = new TransferSource(options.accountCount, options.shardCount, 0x5eed);
    const client = await connect({ url: server.url, timeoutMs: clientTimeoutMs });
    const phases: PhaseResult[] = [];
    /** The measured stretch of each phase, to read the server's profiles over exactly that time. */
    const windows: ProfileWindow[] = [];
    await createAccounts(client, source);
    if (options.lightSeconds > 0) phases.push(await withCores(server, () => lightPhase(client, source, options, windows)));
    for (const batchEvents of options.batchSizes) phases.push(await withCores(server, () => pipelinedPhase(server, source, batchEvents, options, windows)));
    const verification = await verify(client, source, phases, windows);
    await client.close();
    printTable(phases);
    printVerification(verification);
    await stopServer(server);
    if (profileDir !== null) {
      profiles = await summariseProfiles(profileDir, repoRoot(), hotSpotsPerThread, windows);
      printProfiles(profiles);
    }
    const outPath = options.outPath ?? path.join(outDir, `load-${stamp}.json`);
    const record = { machine, command: `node dist/bench/load.js ${process.argv.slice(2).join(' ')}`.trim(), options, phases, verification, profiles };
    await writeFile(outPath, JSON.stringify(record, null, 2) + '\n');
    console.log(`\nresults written to ${path.relative(process.cwd(), outPath) || outPath}`);
    return verification.passed ? 0 : 1;
  } finally {
    await server.cleanup();
  }
}

/** A phase's own figures; withCores adds the CPU each side used meanwhile. */
type PhaseFigures = Omit<PhaseResult, 'benchCores' | 'serverCores'>;

/** Runs a phase and adds the cores the bench and the server kept busy meanwhile (warm-up included). */
async function withCores(server: ServerProcess, run: () => Promise<PhaseFigures>): Promise<PhaseResult> {
  const before = readCpu(server.pid);
  const phase = await run();
  const cores = coresUsed(before, readCpu(server.pid));
  return { ...phase, benchCores: cores.benchCores, serverCores: cores.serverCores };
}

async function createAccounts(client: Client, source: TransferSource): Promise<void> {
  const startNs = process.hrtime.bigint();
  for (let first = 0; first < source.accountCount; first += batchEventsMax) {
    const count = Math.min(batchEventsMax, source.accountCount - first);
    const results = await client.createAccounts(source.accounts(first, count));
    const refused = results.filter((r) => r.result !== 'ok');
    if (refused.length > 0) throw new Error(`creating accounts: ${refused.length} refused, first ${refused[0].result}`);
  }
  const seconds = msBetween(startNs, process.hrtime.bigint()) / 1000;
  console.log(`accounts: ${source.accountCount} created in ${seconds.toFixed(2)} s`);
}

/** Light load: one single-transfer call in flight at a time, through the public client, as an application sees it. */
async function lightPhase(client: Client, source: TransferSource, options: LoadOptions, windows: ProfileWindow[]): Promise<PhaseFigures> {
  const name = 'light load (client, 1 call in flight)';
  const latencies = new LatencyRecorder();
  const failures: Record<string, number> = {};
  const durationMs = options.lightSeconds * 1000;
  const startNs = process.hrtime.bigint();
  let ok = 0;
  let sent = 0;
  let lastProgressMs = 0;
  let lastProgressSample = 0;
  for (let elapsedMs = 0; elapsedMs < durationMs; elapsedMs = msBetween(startNs, process.hrtime.bigint())) {
    const sentNs = process.hrtime.bigint();
    const [result] = await client.createTransfers([source.nextInput()]);
    latencies.record(msBetween(sentNs, process.hrtime.bigint()));
    sent++;
    if (result.result === 'ok') ok++;
    else failures[result.result] = (failures[result.result] ?? 0) + 1;
    if (elapsedMs - lastProgressMs >= 1000) {
      progressLine('light load, batch 1', elapsedMs, durationMs, (latencies.size - lastProgressSample) / ((elapsedMs - lastProgressMs) / 1000), latencies.summary(lastProgressSample));
      lastProgressMs = elapsedMs;
      lastProgressSample = latencies.size;
    }
  }
  endProgress();
  const endNs = process.hrtime.bigint();
  windows.push({ name, fromNs: startNs, toNs: endNs });
  const seconds = msBetween(startNs, endNs) / 1000;
  return {
    name,
    batchEvents: 1,
    connections: 1,
    inFlightPerConnection: 1,
    durationSeconds: seconds,
    transfersPerSecond: sent / seconds,
    requestsPerSecond: sent / seconds,
    latency: latencies.summary(),
    transfersSent: sent,
    transfersOk: ok,
    failures,
  };
}

async function pipelinedPhase(server: ServerProcess, source: TransferSource, batchEvents: number, options: LoadOptions, windows: ProfileWindow[]): Promise<PhaseFigures> {
  const { connections, inFlight } = pipeliningFor(batchEvents, options);
  const name = `batch ${batchEvents} (raw frames)`;
  console.log(`${name}: ${connections} sockets × ${inFlight} in flight, ${options.warmupSeconds} s warm-up + ${options.durationSeconds} s`);
  let last = { elapsedMs: 0, transfersAcked: 0, samples: 0 };
  const result = await drive({
    url: server.url,
    batchEvents,
    connections,
    inFlight,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: options.durationSeconds * 1000,
    source,
    onProgress: ({ elapsedMs, transfersAcked, latencies }) => {
      const perSecond = (transfersAcked - last.transfersAcked) / Math.max(0.001, (elapsedMs - last.elapsedMs) / 1000);
      progressLine(name, elapsedMs, options.durationSeconds * 1000, perSecond, latencies.summary(last.samples));
      last = { elapsedMs, transfersAcked, samples: latencies.size };
    },
  });
  endProgress();
  windows.push({ name, fromNs: result.measureFromNs, toNs: result.measureToNs });
  const seconds = result.elapsedMs / 1000;
  return {
    name,
    batchEvents,
    connections,
    inFlightPerConnection: inFlight,
    durationSeconds: seconds,
    transfersPerSecond: result.transfersMeasured / seconds,
    requestsPerSecond: result.requestsMeasured / seconds,
    latency: result.latencies.summary(),
    transfersSent: result.transfersSent,
    transfersOk: result.transfersOk,
    failures: Object.fromEntries(result.failures),
  };
}

/** Every transfer issued was acknowledged ok; balances add up to what was sent; sampled transfers read back as sent. */
async function verify(client: Client, source: TransferSource, phases: PhaseResult[], windows: ProfileWindow[]): Promise<VerificationResult> {
  const startNs = process.hrtime.bigint();
  const transfersOk = phases.reduce((sum, p) => sum + p.transfersOk, 0);
  const ids = Array.from({ length: source.accountCount }, (_, i) => source.accountId(i));
  const accounts = await client.lookupAccounts(ids);
  let debits = 0n;
  let credits = 0n;
  for (const a of accounts) {
    debits += a.debitsPosted;
    credits += a.creditsPosted;
  }
  const stored = new Map((await client.lookupTransfers(source.samples.map((s) => s.id))).map((t) => [t.id, t]));
  const samplesMatching = source.samples.filter((s) => {
    const t = stored.get(s.id);
    return t !== undefined && t.debitAccountId === s.debitAccountId && t.creditAccountId === s.creditAccountId && t.amount === s.amount && t.status === 'posted';
  }).length;
  const amountIssuedTotal = BigInt(source.amountIssuedTotal);
  const endNs = process.hrtime.bigint();
  windows.push({ name: 'verification (lookup of every account, sampled transfers)', fromNs: startNs, toNs: endNs });
  return {
    transfersIssued: source.transfersIssued,
    transfersOk,
    accountsChecked: accounts.length,
    creditsPostedTotal: String(credits),
    amountIssuedTotal: String(amountIssuedTotal),
    debitsEqualCredits: debits === credits,
    samplesChecked: source.samples.length,
    samplesMatching,
    seconds: msBetween(startNs, endNs) / 1000,
    passed:
      transfersOk === source.transfersIssued &&
      accounts.length === source.accountCount &&
      credits === amountIssuedTotal &&
      debits === credits &&
      samplesMatching === source.samples.length,
  };
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
