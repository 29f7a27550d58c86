// npm run bench:recon — reconciliation of one business day (issue #17; docs/design/issue-17-reconciliation.md §7):
// 1,000,000 statement rows against 1,000,000 transfers matched in ≤ 10 s end to end, peak memory ≤ 1 GiB. One real
// server (`tally serve`, 2 shards, TALLY_DAY_CUT=manual, --recon-channels of one WeChat Pay channel) on a fresh data
// dir; --rows transfers posted on day T on the channel's clearing account (payments, ~2% refunded in part), T closed;
// the channel's trade bill for T written from the bench's own plan with 1% injected differences (seeded), uploaded
// (reconUploadFile) and imported (reconImport), each timed as a caller sees it, the server's peak memory read from
// /proc (the 1 GiB target is judged on what the upload and import add to the server's anonymous memory). Then
// every exception paged back and compared with the injected set exactly, and a second import of the same file must
// be refused naming the batch. Prints one row for bench/RESULTS.md.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, referenceOf, type Client, type ReconBatch, type TransferInput } from '../src/client/index.js';
import { newId } from '../src/client/ids.js';
import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { formatBusinessDay } from '../src/core/business-day.js';
import { reconExceptionsPageMax } from '../src/core/limits.js';
import { shardOfId } from '../src/core/routing.js';
import { repoRoot, startServerProcess, type ServerProcess } from '../test/support/server-process.js';
import { summariseProfiles, type ProfileWindow } from './load/cpu-profile.js';
import { machineInfo, printProfiles } from './load/report.js';
import { readPeakBytes, readProcessMemory, resetPeakMemory } from './load/server-footprint.js';
import { endProgress, statusLine } from './load/status-line.js';
import { writeBillFile } from './recon/bill-file.js';
import { channelName, channelsFile, ledger, paymentCode, refundCode } from './recon/channel.js';
import { compareKeys, countsByOutcome, differenceKinds, differenceOf, exceptionKey, expectedExceptions, orderNo, planDay, type DayPlan } from './recon/day-plan.js';

const usage = 'usage: node dist/bench/recon.js [--rows N] [--seed N] [--merchants N] [--in-flight N] [--keep] [--server-cpu-prof DIR]';
const batch = 8190;
const targetSeconds = 10;
const targetPeakBytes = 1024 ** 3;
/** The server's memory is read this often during the upload and the import. */
const memorySampleMs = 50;
const progressEveryMs = 2000;
const hotSpotsPerThread = 12;
/** Pause between two reads of the stall probe. */
const stallProbeGapMs = 20;

interface Setup {
  client: Client;
  server: ServerProcess;
  clearing: bigint;
  merchants: bigint[];
}

async function main(): Promise<void> {
  const refuse = (message: string) => new Error(`${message}\n${usage}`);
  const flags = { rows: { type: 'string' }, seed: { type: 'string' }, merchants: { type: 'string' }, 'in-flight': { type: 'string' }, keep: { type: 'boolean' }, 'server-cpu-prof': { type: 'string' } } as const;
  const { values } = parseFlags(process.argv.slice(2), flags, refuse);
  const rows = integerOption('--rows', values.rows ?? '1000000', 100, 10_000_000, refuse);
  const seed = integerOption('--seed', values.seed ?? '17', 1, 2 ** 31 - 1, refuse);
  const merchantCount = integerOption('--merchants', values.merchants ?? '8', 1, 1000, refuse);
  const inFlight = integerOption('--in-flight', values['in-flight'] ?? '4', 1, 64, refuse);
  const profileDir = values['server-cpu-prof'];
  const machine = machineInfo();
  console.log(`recon bench: ${rows.toLocaleString('en-US')} transfers, seed ${seed}, ${merchantCount} merchants, ${inFlight} requests in flight; ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, load average ${machine.loadAverageAtStart}, ${machine.date}`);

  const dir = await mkdtemp(join(tmpdir(), 'tally-bench-recon-'));
  const clearing = newId();
  const merchants = Array.from({ length: merchantCount }, () => newId());
  const channels = join(dir, 'channels.json');
  await writeFile(channels, JSON.stringify(channelsFile(clearing)));
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const server = await startServerProcess({ shardCount: 2, env: { TALLY_DAY_CUT: 'manual', TALLY_RECON_CHANNELS: channels }, readyTimeoutMs: 600_000, nodeArgs });
  const client = await connect({ url: server.url, timeoutMs: 900_000 });
  const windows: ProfileWindow[] = [];
  let passed = false;
  try {
    passed = await run({ client, server, clearing, merchants }, { rows, seed, inFlight, dir, windows });
  } finally {
    await client.close();
    await server.kill('SIGTERM'); // a clean exit writes --cpu-prof's profiles
    await server.cleanup();
    if (values.keep !== true) await rm(dir, { recursive: true, force: true });
    else console.log(`kept ${dir} (channels file and bill)`);
  }
  if (profileDir !== undefined) printProfiles(await summariseProfiles(profileDir, repoRoot(), hotSpotsPerThread, windows));
  if (!passed) process.exitCode = 1;
}

interface RunOptions {
  rows: number;
  seed: number;
  inFlight: number;
  dir: string;
  windows: ProfileWindow[];
}

async function run(setup: Setup, options: RunOptions): Promise<boolean> {
  const { client, clearing, merchants } = setup;
  const opened = await client.createAccounts([{ id: clearing, ledger, code: 5 }, ...merchants.map((id) => ({ id, ledger, code: 1 }))]);
  if (opened.some((r) => r.result !== 'ok')) throw new Error(`createAccounts: ${JSON.stringify(opened.map((r) => r.result))}`);
  const onShard = (shard: number): number => merchants.filter((id) => shardOfId(id, 2) === shard).length;
  const day = (await client.closeDay()).dayBegun;
  const dayText = formatBusinessDay(day);
  console.log(`day T = ${dayText}; clearing account on shard ${shardOfId(clearing, 2)}, merchants ${onShard(0)} on shard 0 and ${onShard(1)} on shard 1`);

  const plan = planDay({ transfers: options.rows, seed: options.seed, refundShare: 0.02, differenceShare: 0.01 });
  const injected = [...countsByOutcome(expectedExceptions(plan, day, () => 0n))].map(([kind, n]) => `${kind} ${n}`).join(', ');
  console.log(`plan: ${plan.payments.toLocaleString('en-US')} payments, ${(plan.transfers - plan.payments).toLocaleString('en-US')} refunds; injected: ${injected}`);

  const paymentIds = await postDay(setup, plan, day, options.inFlight);
  const closed = await client.closeDay();
  if (closed.day !== day || !closed.passed) throw new Error(`closeDay closed ${closed.day} (passed ${closed.passed}), expected ${day} passed`);

  const billPath = join(options.dir, `bill-${dayText}.csv`);
  const writeStarted = performance.now();
  const bill = await writeBillFile(billPath, plan, day, dayText, (done) => statusLine(`  writing the bill: ${Math.round((100 * done) / plan.payments)}%`));
  endProgress();
  console.log(`bill: ${bill.rows.toLocaleString('en-US')} rows, ${mib(bill.bytes)} MiB written in ${seconds(performance.now() - writeStarted)} s (${billPath})`);

  const measured = await uploadAndImport(setup, billPath, options.rows, options.windows);
  const expected = expectedExceptions(plan, day, (p) => paymentIds.get(p)!);
  // Transfer ids are new every run: the hash names a missing posting by its payment number instead.
  const paymentOfId = new Map([...paymentIds].map(([p, id]) => [String(id), p]));
  const stableKey = (key: string): string => key.replace(/#([0-9]+)/g, (_, id: string) => `payment ${paymentOfId.get(id) ?? `?${id}`}`);
  const check = await checkBatch(client, measured.batch, expected, bill.rows, plan.transfers, stableKey);
  const refusedAgain = await secondImportRefused(client, measured.batch.id, measured.sha256, billPath);
  const passed = check && refusedAgain;
  printSummary(options.rows, measured, passed);
  return passed;
}

/** Posts the plan's transfers in requests of `batch`, `inFlight` at a time; answers the ids of payments injected missing at the channel. */
async function postDay(setup: Setup, plan: DayPlan, day: number, inFlight: number): Promise<Map<number, bigint>> {
  const { client, clearing, merchants } = setup;
  const paymentIds = new Map<number, bigint>();
  const transferOf = (slot: number): TransferInput => {
    const p = plan.slotPayment[slot]!;
    const merchant = merchants[p % merchants.length]!;
    const userData128 = referenceOf(orderNo(day, p));
    if (plan.slotIsRefund[slot] === 1) {
      return { id: newId(), debitAccountId: merchant, creditAccountId: clearing, amount: BigInt(plan.refundFen[p]!), ledger, code: refundCode, userData128 };
    }
    const id = newId();
    if (differenceOf(plan, p) === 'missing_at_channel') paymentIds.set(p, id);
    return { id, debitAccountId: clearing, creditAccountId: merchant, amount: BigInt(plan.amountFen[p]!), ledger, code: paymentCode, userData128 };
  };
  let sent = 0;
  let posted = 0;
  let shownMs = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (sent < plan.transfers) {
      const from = sent;
      const to = Math.min(plan.transfers, from + batch);
      sent = to;
      const transfers = Array.from({ length: to - from }, (_, k) => transferOf(from + k));
      const results = await client.createTransfers(transfers);
      const failed = results.find((r) => r.result !== 'ok');
      if (failed !== undefined) throw new Error(`createTransfers: transfer ${failed.index} of a request answered ${failed.result}`);
      posted += results.length;
      if (performance.now() - shownMs >= progressEveryMs) {
        shownMs = performance.now();
        statusLine(`  posting: ${posted.toLocaleString('en-US')} of ${plan.transfers.toLocaleString('en-US')} (${Math.round(posted / ((shownMs - started) / 1000)).toLocaleString('en-US')}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  endProgress();
  const elapsedMs = performance.now() - started;
  console.log(`posted: ${posted.toLocaleString('en-US')} transfers on day T in ${seconds(elapsedMs)} s (${Math.round(posted / (elapsedMs / 1000)).toLocaleString('en-US')}/s)`);
  return paymentIds;
}

/** The server's memory while something runs: the highest VmRSS and RssAnon seen, and VmHWM at the end. */
class MemoryWatch {
  vmRssMaxBytes = 0;
  rssAnonMaxBytes = 0;
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  readonly resetWorked: boolean;

  constructor(pid: number) {
    this.#pid = pid;
    this.resetWorked = resetPeakMemory(pid);
    this.sample();
    this.#timer = setInterval(() => this.sample(), memorySampleMs);
  }

  sample(): void {
    const memory = readProcessMemory(this.#pid);
    if (memory === null) return;
    this.vmRssMaxBytes = Math.max(this.vmRssMaxBytes, memory.vmRssBytes);
    this.rssAnonMaxBytes = Math.max(this.rssAnonMaxBytes, memory.rssAnonBytes);
  }

  /** Stops sampling; the peak: VmHWM when it was reset at the start, else the highest VmRSS sampled. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    const hwm = readPeakBytes(this.#pid);
    return this.resetWorked && hwm !== null ? Math.max(hwm, this.vmRssMaxBytes) : this.vmRssMaxBytes;
  }
}

interface Measured {
  batch: ReconBatch;
  sha256: string;
  fileBytes: number;
  readFileMs: number;
  uploadMs: number;
  importMs: number;
  uploadPeakBytes: number;
  importPeakBytes: number;
  importRssAnonMaxBytes: number;
  uploadRssAnonMaxBytes: number;
  rssBeforeBytes: number;
  rssAnonBeforeBytes: number;
  /** The slowest ledger read made while the import ran. */
  stallMaxMs: number;
}

/**
 * What other callers of the ledger see while an import runs: one lookupAccounts of one id after another, the
 * slowest kept. The import is one request answered on the gateway's thread; a read waits for what holds that thread.
 */
class StallProbe {
  #running = true;
  #slowestMs = 0;
  readonly #loop: Promise<void>;

  constructor(client: Client, accountId: bigint) {
    this.#loop = (async () => {
      while (this.#running) {
        const started = performance.now();
        // A read that fails (the server died under the import) ends the probe; the import's error says why.
        const answered = await client.lookupAccounts([accountId]).then(() => true, () => false);
        if (!answered) return;
        this.#slowestMs = Math.max(this.#slowestMs, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, stallProbeGapMs));
      }
    })();
  }

  /** Stops after the read in flight; the slowest read's ms. */
  async stop(): Promise<number> {
    this.#running = false;
    await this.#loop;
    return this.#slowestMs;
  }
}

async function uploadAndImport(setup: Setup, billPath: string, rows: number, windows: ProfileWindow[]): Promise<Measured> {
  const { client, server } = setup;
  const before = readProcessMemory(server.pid);
  const rssBeforeBytes = before?.vmRssBytes ?? 0;
  const rssAnonBeforeBytes = before?.rssAnonBytes ?? 0;
  const readStarted = performance.now();
  const bytes = await readFile(billPath);
  const readFileMs = performance.now() - readStarted;

  const uploadWatch = new MemoryWatch(server.pid);
  if (!uploadWatch.resetWorked) console.log('note: /proc/<pid>/clear_refs is not writable here: peaks are the highest VmRSS sampled every 50 ms');
  const uploadFromNs = process.hrtime.bigint();
  const uploadStarted = performance.now();
  let shownMs = 0;
  const sha256 = await client.reconUploadFile(bytes, (sent, total) => {
    if (performance.now() - shownMs < progressEveryMs) return;
    shownMs = performance.now();
    statusLine(`  uploading: ${mib(sent)} of ${mib(total)} MiB (${seconds(shownMs - uploadStarted)} s, server RSS ${mib(readProcessMemory(server.pid)?.vmRssBytes ?? 0)} MiB)`);
  });
  const uploadMs = performance.now() - uploadStarted;
  windows.push({ name: 'upload', fromNs: uploadFromNs, toNs: process.hrtime.bigint() });
  const uploadPeakBytes = uploadWatch.stop();
  endProgress();
  console.log(`upload: ${mib(bytes.byteLength)} MiB in ${seconds(uploadMs)} s (${(bytes.byteLength / 2 ** 20 / (uploadMs / 1000)).toFixed(0)} MiB/s; reading the file first took ${seconds(readFileMs)} s), server peak ${mib(uploadPeakBytes)} MiB`);

  const importWatch = new MemoryWatch(server.pid);
  const importFromNs = process.hrtime.bigint();
  const importStarted = performance.now();
  const ticker = setInterval(() => {
    statusLine(`  importing: ${seconds(performance.now() - importStarted)} s, server RSS ${mib(readProcessMemory(server.pid)?.vmRssBytes ?? 0)} MiB (max so far ${mib(importWatch.vmRssMaxBytes)})`);
  }, progressEveryMs);
  const probe = new StallProbe(client, setup.clearing);
  let batch: ReconBatch;
  try {
    batch = await client.reconImport({ channel: channelName, files: [{ name: billPath.slice(billPath.lastIndexOf('/') + 1), sha256 }] });
  } catch (error) {
    // A server that runs out of memory dies here: what it printed last says how.
    const failedMs = performance.now() - importStarted;
    const peakBytes = importWatch.stop();
    await probe.stop();
    endProgress();
    const tail = server.output().trim().split('\n').slice(-15).join('\n    ');
    console.log(`import: FAILED after ${seconds(failedMs)} s (${(error as Error).message}); server peak ${mib(peakBytes)} MiB (RssAnon max ${mib(importWatch.rssAnonMaxBytes)} MiB); the server's last output:\n    ${tail}`);
    console.log(`\n| rows | bill MiB | upload s | import s | read / ledger / match / store s | server peak MiB (upload / import) | slowest ledger read during import s | check |`);
    console.log(`| ${rows.toLocaleString('en-US')} | ${mib(bytes.byteLength)} | ${seconds(uploadMs)} | failed after ${seconds(failedMs)} | — | ${mib(uploadPeakBytes)} / ${mib(peakBytes)} | — | FAIL |`);
    throw error;
  } finally {
    clearInterval(ticker);
  }
  const stallMaxMs = await probe.stop();
  const importMs = performance.now() - importStarted;
  windows.push({ name: 'import', fromNs: importFromNs, toNs: process.hrtime.bigint() });
  const importPeakBytes = importWatch.stop();
  endProgress();
  const t = batch.timingsMs;
  console.log(`ledger reads during the import: the slowest lookupAccounts of 1 id took ${seconds(stallMaxMs)} s (what a caller waited while the import ran)`);
  console.log(`import: ${batch.id} ${batch.status} in ${seconds(importMs)} s; server phases read ${t.read} ms, ledger ${t.ledger} ms, match ${t.match} ms, store ${t.store} ms; server peak ${mib(importPeakBytes)} MiB (RssAnon max ${mib(importWatch.rssAnonMaxBytes)} MiB; before the upload VmRSS ${mib(rssBeforeBytes)} MiB, RssAnon ${mib(rssAnonBeforeBytes)} MiB)`);
  return { batch, sha256, fileBytes: bytes.byteLength, readFileMs, uploadMs, importMs, uploadPeakBytes, importPeakBytes, importRssAnonMaxBytes: importWatch.rssAnonMaxBytes, uploadRssAnonMaxBytes: uploadWatch.rssAnonMaxBytes, rssBeforeBytes, rssAnonBeforeBytes, stallMaxMs };
}

/** Every exception of the batch against the injected set, exactly; the batch's counts against the bill and the day. */
async function checkBatch(client: Client, batch: ReconBatch, expected: readonly string[], billRows: number, transfers: number, stableKey: (key: string) => string): Promise<boolean> {
  const found: string[] = [];
  for (let after = 0; ;) {
    const page = await client.getReconExceptions({ batch: batch.id, after, limit: reconExceptionsPageMax });
    for (const e of page.exceptions) found.push(exceptionKey(e.outcome, e.rows.map((row) => row.merchantOrderNo), e.transferIds));
    if (page.next === null) break;
    after = page.next;
  }
  const stored = await client.getReconBatch(batch.id);
  const problems: string[] = [];
  if (stored === null || stored.status !== 'matched') problems.push(`getReconBatch(${batch.id}): ${stored === null ? 'no such batch' : `status ${stored.status}: ${stored.problems.slice(0, 3).join('; ')}`}`);
  if (batch.statementRows !== billRows) problems.push(`the batch read ${batch.statementRows} statement rows; the bill holds ${billRows}`);
  if (batch.transfersRead !== transfers) problems.push(`the batch read ${batch.transfersRead} transfers; ${transfers} were posted`);
  if (batch.exceptions !== found.length) problems.push(`the batch counts ${batch.exceptions} exceptions; its pages hold ${found.length}`);
  const { missed, unexpected } = compareKeys(expected, found);
  if (missed.length > 0) problems.push(`${missed.length} injected difference(s) not found, e.g. ${missed.slice(0, 3).join('; ')}`);
  if (unexpected.length > 0) problems.push(`${unexpected.length} exception(s) not injected, e.g. ${unexpected.slice(0, 3).join('; ')}`);

  const want = countsByOutcome(expected);
  const got = countsByOutcome(found);
  console.log(`\nexceptions per outcome (injected / found): ${[...new Set([...want.keys(), ...got.keys()])].map((o) => `${o} ${want.get(o) ?? 0}/${got.get(o) ?? 0}`).join(', ')}`);
  const matched = batch.totals.matched?.count ?? 0;
  console.log(`matched: ${matched.toLocaleString('en-US')} record(s) of ${batch.statementRows.toLocaleString('en-US')} rows and ${batch.transfersRead.toLocaleString('en-US')} transfers; totals ${JSON.stringify(batch.totals)}`);
  const hash = createHash('sha256').update(found.map(stableKey).sort().join('\n')).digest('hex').slice(0, 16);
  console.log(`sha256 of the sorted (outcome, key) list: ${hash} (the same for the same --rows and --seed)`);
  for (const problem of problems) console.log(`  ${problem}`);
  const passed = problems.length === 0;
  console.log(`check: ${passed ? 'PASS' : 'FAIL'} — ${found.length} exception(s), ${expected.length} injected (${differenceKinds.length} kinds)`);
  return passed;
}

/** The same file imported again must be refused with an error naming the batch that took it. */
async function secondImportRefused(client: Client, batchId: string, sha256: string, billPath: string): Promise<boolean> {
  try {
    const again = await client.reconImport({ channel: channelName, files: [{ name: billPath.slice(billPath.lastIndexOf('/') + 1), sha256 }] });
    console.log(`second import: FAIL — accepted as batch ${again.id}`);
    return false;
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const named = message.includes(batchId);
    console.log(`second import: ${named ? 'refused' : 'FAIL — refused without naming the batch'} (code ${code ?? 'none'}: ${message})`);
    return named;
  }
}

function printSummary(rows: number, m: Measured, passed: boolean): void {
  const t = m.batch.timingsMs;
  const endToEndMs = m.uploadMs + m.importMs;
  const peakBytes = Math.max(m.uploadPeakBytes, m.importPeakBytes);
  // The peak an upload and import add: the server's anonymous memory at its highest during them, less what it held
  // before (its shards' state and caches for the day's million transfers, ~0.8 GiB here: no import could bring the
  // whole process under 1 GiB, and the LMDB map's pages in VmRSS are the page cache's, shared and reclaimable).
  const addedBytes = Math.max(m.uploadRssAnonMaxBytes, m.importRssAnonMaxBytes) - m.rssAnonBeforeBytes;
  console.log(`\ntargets: matched ≤ ${targetSeconds} s end to end: upload + import ${seconds(endToEndMs)} s (import alone ${seconds(m.importMs)} s) — ${endToEndMs <= targetSeconds * 1000 ? 'met' : 'not met'}; peak ≤ 1 GiB, what the upload and import add to the server's anonymous memory: ${mib(addedBytes)} MiB — ${addedBytes <= targetPeakBytes ? 'met' : 'not met'} (the whole server's VmRSS peak ${mib(peakBytes)} MiB, of which ${mib(m.rssBeforeBytes)} MiB before the upload)`);
  console.log('\n| rows | bill MiB | upload s | import s | read / ledger / match / store s | server peak MiB (upload / import) | RssAnon added MiB | slowest ledger read during import s | check |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  const phases = [t.read, t.ledger, t.match, t.store].map((value) => seconds(value)).join(' / ');
  console.log(`| ${rows.toLocaleString('en-US')} | ${mib(m.fileBytes)} | ${seconds(m.uploadMs)} | ${seconds(m.importMs)} | ${phases} | ${mib(m.uploadPeakBytes)} / ${mib(m.importPeakBytes)} | ${mib(addedBytes)} | ${seconds(m.stallMaxMs)} | ${passed ? 'PASS' : 'FAIL'} |`);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);

main().catch((error: unknown) => {
  endProgress();
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
