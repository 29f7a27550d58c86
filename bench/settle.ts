// npm run bench:settle — clearing and settlement of one business day (issue #18): by default 1,000,000 cleared items
// of 10,000 merchants on two channels (bench/settle/plan.ts: mixed fee strategies as real strategy documents, D0/D1/
// T+1 cycles, minimum payouts, rolling reserves, 分账, unresolved items), run through the pure core of
// src/core/settle and timed phase by phase: loading and checking the strategy documents; clearing each channel's
// day (clearChannelDay: every item's fee evaluated); the splits; then for every run date from the trade day to the
// last day a cycle falls due, the preview and the run (previewSettlementRun, settleRun). Target of the issue: rule
// evaluation and clearing ≤ 10 s. Peak memory is the process's VmHWM. Checks (bench/settle/check.ts): every fee
// against a bigint oracle, Σ fees = Σ per-line fees, every run balanced, the day settled or held back exactly once,
// a re-run from `next` posts nothing. `--post` then posts the runs through a real `tally serve` and reports
// transfers/s; `--server` runs the day through `tally serve --settle-config` (bench/settle/server.ts), `--server-cpu-prof DIR`
// profiling that server; `--cpu-prof DIR` profiles the bench and prints where each phase's time went. Prints PASS or FAIL
// (exit 1) and one row for bench/RESULTS.md.

import { integerOption, parseFlags } from '../src/cli/option-values.js';
import { formatBusinessDay } from '../src/core/business-day.js';
import type { ChannelDayClearing } from '../src/core/settle/clearing.js';
import { repoRoot } from '../test/support/server-process.js';
import { machineInfo } from './load/report.js';
import { endProgress, statusLine } from './load/status-line.js';
import { checkClearing, checkRuns, checkSplits, runTotals, type Check } from './settle/check.js';
import { MemoryWatch } from './settle/memory.js';
import { clearChannel, loadRules, rerunLast, settleRunDates, splitPayments, type RunDay } from './settle/pipeline.js';
import { channelNames, planSettlement, runDates, tradeDay, type PlanMix, type SettlePlan } from './settle/plan.js';
import { postThroughLedger, type KindPosted, type PostResult } from './settle/post.js';
import { settleThroughServer, type ServerResult } from './settle/server.js';
import { printWindows, SelfProfiler, summariseWindows, type Window } from './settle/profile.js';

const usage = 'usage: node dist/bench/settle.js [--orders N] [--merchants N] [--seed N] [--post] [--server [--server-cpu-prof DIR]] [--in-flight N] [--cpu-prof DIR]';
const targetSeconds = 10;
const hotSpotsPerPhase = 14;

interface Options {
  orders: number;
  merchants: number;
  seed: number;
  post: boolean;
  server: boolean;
  serverProfileDir: string | undefined;
  inFlight: number;
  profileDir: string | undefined;
}

function readOptions(): Options {
  const refuse = (message: string) => new Error(`${message}\n${usage}`);
  const flags = { orders: { type: 'string' }, merchants: { type: 'string' }, seed: { type: 'string' }, post: { type: 'boolean' }, server: { type: 'boolean' }, 'server-cpu-prof': { type: 'string' }, 'in-flight': { type: 'string' }, 'cpu-prof': { type: 'string' } } as const;
  const { values } = parseFlags(process.argv.slice(2), flags, refuse);
  return {
    orders: integerOption('--orders', values.orders ?? '1000000', 100, 10_000_000, refuse),
    merchants: integerOption('--merchants', values.merchants ?? '10000', 1, 999_999, refuse),
    seed: integerOption('--seed', values.seed ?? '18', 1, 2 ** 31 - 1, refuse),
    post: values.post === true,
    server: values.server === true,
    serverProfileDir: values['server-cpu-prof'],
    inFlight: integerOption('--in-flight', values['in-flight'] ?? '4', 1, 64, refuse),
    profileDir: values['cpu-prof'],
  };
}

/** Times phases, samples memory at their edges and keeps each one's window for the profile. */
class Phases {
  readonly ms = new Map<string, number>();
  /** Heap used right after each phase: what the phase's results hold (and its garbage not yet collected). */
  readonly heapAfter = new Map<string, number>();
  readonly windows: Window[] = [];

  constructor(private readonly memory: MemoryWatch) {}

  time<T>(name: string, work: () => T): T {
    this.memory.sample();
    const fromNs = process.hrtime.bigint();
    const result = work();
    const toNs = process.hrtime.bigint();
    this.memory.sample();
    this.heapAfter.set(name, process.memoryUsage().heapUsed);
    this.ms.set(name, (this.ms.get(name) ?? 0) + Number(toNs - fromNs) / 1e6);
    this.windows.push({ name, fromNs, toNs });
    return result;
  }

  /** The ms of every phase whose name starts with `prefix`. */
  total(prefix: string): number {
    let total = 0;
    for (const [name, ms] of this.ms) if (name.startsWith(prefix)) total += ms;
    return total;
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  const machine = machineInfo();
  console.log(`settle bench: ${count(options.orders)} items of ${count(options.merchants)} merchants, seed ${options.seed}; ${machine.cpuCount} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}, load average ${machine.loadAverageAtStart}, ${machine.date}`);
  if (machine.loadAverageAtStart > machine.cpuCount / 2) console.log('warning: the machine is busy with other work; figures will be low and noisy');
  const memory = new MemoryWatch();
  const profiler = options.profileDir === undefined ? undefined : new SelfProfiler();
  await profiler?.start();
  const phases = new Phases(memory);

  const plan = phases.time('generate', () => planSettlement({ ...options, onProgress: (drawn) => statusLine(`  drawing items: ${count(drawn)} of ${count(options.orders)}`) }));
  endProgress();
  printMix(plan, phases.ms.get('generate')!);

  const rules = phases.time('load', () => loadRules(plan));
  const loadMs = phases.ms.get('load')!;
  console.log(`load: ${count(rules.documents)} strategy documents parsed and checked (${count(plan.strategies.length)} histories, ${count(plan.merchants.length)} merchants' terms) in ${seconds(loadMs)} s (${((loadMs * 1000) / rules.documents).toFixed(1)} µs a document)`);

  const clearings = channelNames.map((channel): ChannelDayClearing => {
    const items = plan.items.get(channel)!.length;
    statusLine(`  clearing ${channel}: ${count(items)} items…`);
    const clearing = phases.time(`clear ${channel}`, () => clearChannel(plan, channel, rules.schedule));
    endProgress();
    const ms = phases.ms.get(`clear ${channel}`)!;
    const t = clearing.totals;
    console.log(`clear ${channel}: ${count(items)} items, ${count(clearing.merchants.length)} merchants in ${seconds(ms)} s (${((ms * 1000) / Math.max(1, items)).toFixed(2)} µs an item); cleared ${yuan(t.clearedMinor)}, fees ${yuan(t.merchantFeesMinor)}, channel cost ${yuan(t.channelCostMinor)}, margin ${yuan(t.marginMinor)}, held ${yuan(t.heldMinor)}`);
    return clearing;
  });

  const split = phases.time('split', () => splitPayments(plan, clearings));
  console.log(`分账: ${count(split.payments)} payments split among ${split.byReceiver.size} receivers in ${seconds(phases.ms.get('split')!)} s`);

  const days = settleRunDates(clearings, rules.terms, plan.earlier, runDates, (what, work) => {
    statusLine(`  ${what}…`);
    const result = phases.time(what, work);
    endProgress();
    return result;
  });
  printRuns(days, phases);
  const rerun = phases.time('re-run', () => rerunLast(clearings, rules.terms, days));

  const checks = phases.time('check', () => [...checkClearing(plan, clearings), checkSplits(split), ...checkRuns(clearings, days, rerun)]);
  const totals = runTotals(days.map((d) => d.run));
  let posted: PostResult | undefined;
  if (options.post) {
    console.log(`posting ${count(totals.postings)} transfers through a real ledger (2 shards, fresh data dir)…`);
    posted = await postThroughLedger(plan.merchants.map((m) => m.merchantId), days.map((d) => d.run.postings), options.inFlight);
    printPosted(posted, plan.merchants.length * 2 + channelNames.length * 3);
    checks.push(...posted.checks);
  }
  let throughServer: ServerResult | undefined;
  if (options.server) {
    console.log(`the same day through a real server (tally serve --settle-config, 2 shards): strategies under maker–checker, items posted, day closed, previews and runs…`);
    throughServer = await settleThroughServer(plan, options.inFlight, options.serverProfileDir);
    checks.push(...throughServer.checks);
    printThroughServer(throughServer);
  }
  memory.stop();

  if (profiler !== undefined) {
    const { file, profile } = await profiler.stop(options.profileDir!);
    console.log(`\nprofile written to ${file}`);
    const interesting = phases.windows.filter((w) => w.name === 'load' || w.name.startsWith('clear') || w.name.startsWith('run') || w.name.startsWith('preview'));
    printWindows(summariseWindows(profile, repoRoot(), interesting, hotSpotsPerPhase));
  }

  const passed = printChecks(checks);
  printSummary(options, plan, phases, memory, totals.postings, posted, passed);
  if (!passed) process.exitCode = 1;
}

function printMix(plan: SettlePlan, generateMs: number): void {
  const m: PlanMix = plan.mix;
  const share = (n: number, of: number) => `${count(n)} (${((100 * n) / Math.max(1, of)).toFixed(1)}%)`;
  const merchants = plan.merchants.length;
  console.log(`plan (${seconds(generateMs)} s): trade day ${formatBusinessDay(tradeDay)} (Friday), runs ${runDates.map(formatBusinessDay).join(', ')}`);
  console.log(`  merchants: fees percent ${share(m.feeKinds.percent, merchants)}, fixed + percent ${share(m.feeKinds.fixed_percent, merchants)}, floor + cap ${share(m.feeKinds.capped, merchants)}; own qr rate ${share(m.qrStrategies, merchants)}; rate lowered at noon (v2) ${share(m.rateChanges, merchants)}`);
  console.log(`  terms: D0 ${share(m.cycles.D0, merchants)}, D1 ${share(m.cycles.D1, merchants)}, T+1 ${share(m.cycles['T+1'], merchants)}; minimum payout ${share(m.minimumPayouts, merchants)}; reserve ${share(m.reserves, merchants)}; 分账 ${share(m.splits, merchants)}`);
  console.log(`  items: payments ${share(m.payments, plan.orders)}, refunds ${share(m.refunds, plan.orders)}; unresolved ${share(m.unresolved, plan.orders)}, resolved ${share(m.resolved, plan.orders)}; ${channelNames.map((c) => `${c} ${share(m.byChannel[c]!, plan.orders)}`).join(', ')}`);
  console.log(`  earlier runs: ${count(m.reserveHoldsDue)} reserve holds released in these runs, ${count(m.carried)} amounts carried in`);
}

function printRuns(days: readonly RunDay[], phases: Phases): void {
  for (const { runDate, run } of days) {
    const t = runTotals([run]);
    const previewMs = phases.ms.get(`preview ${runDate}`)!;
    const runMs = phases.ms.get(`run ${runDate}`)!;
    console.log(`run ${formatBusinessDay(runDate)}: preview ${seconds(previewMs)} s, run ${seconds(runMs)} s; ${count(run.merchants.length)} merchant–channel units (${count(t.paidUnits)} paid), ${count(t.postings)} postings in ${count(t.chains)} chains; settled ${yuan(t.settledMinor)}, fees ${yuan(t.feesMinor)}, reserve held ${yuan(t.reserveHeldMinor)} / released ${yuan(t.reserveReleasedMinor)}`);
  }
  const all = runTotals(days.map((d) => d.run));
  const roles = Object.entries(all.byRole).map(([role, n]) => `${role} ${count(n)}`).join(', ');
  console.log(`runs: ${count(all.postings)} postings (${roles}); ${count(all.carriedUnits)} units carry ${yuan(all.carriedOutMinor)} forward`);
}

function printPosted(posted: PostResult, accounts: number): void {
  const kind = (what: string, k: KindPosted) => `${what} ${count(k.transfers)} transfers in ${count(k.requests)} requests, ${seconds(k.ms)} s (${count(perSecond(k.transfers, k.ms))}/s)`;
  console.log(`posted: ${count(posted.transfers)} transfers, run after run, in ${seconds(posted.postMs)} s (${count(perSecond(posted.transfers, posted.postMs))}/s); ${count(accounts)} accounts opened first in ${seconds(posted.accountsMs)} s`);
  console.log(`  ${kind('chains within one shard:', posted.within)}; ${kind('chains across the shards:', posted.across)}`);
}

function printThroughServer(result: ServerResult): void {
  const peak = result.peakRssBytes === null ? 'unknown' : `${mib(result.peakRssBytes)} MiB`;
  console.log(`through the server: ${count(result.strategies)} strategy versions in ${seconds(result.strategiesMs)} s; ${count(result.items)} items posted in ${seconds(result.postItemsMs)} s (${count(perSecond(result.items, result.postItemsMs))}/s); server peak RSS ${peak}`);
  console.log('| run date | items read | preview s | run s (posting included) | transfers | status |');
  console.log('|---|---|---|---|---|---|');
  for (const run of result.runs) console.log(`| ${run.date} | ${count(run.items)} | ${seconds(run.previewMs)} | ${seconds(run.runMs)} | ${count(run.transfers)} | ${run.status} |`);
}

function printChecks(checks: readonly Check[]): boolean {
  console.log('\nchecks:');
  for (const check of checks) console.log(`  ${check.passed ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
  return checks.every((check) => check.passed);
}

function printSummary(options: Options, plan: SettlePlan, phases: Phases, memory: MemoryWatch, postings: number, posted: PostResult | undefined, passed: boolean): void {
  const loadMs = phases.total('load');
  const clearMs = phases.total('clear ');
  const rulesAndClearingMs = loadMs + clearMs;
  const settleMs = phases.total('preview ') + phases.total('run ');
  const peakRss = memory.peakRssBytes();
  console.log(`\ntarget: rule evaluation and clearing ≤ ${targetSeconds} s: load ${seconds(loadMs)} + clear ${seconds(clearMs)} = ${seconds(rulesAndClearingMs)} s — ${rulesAndClearingMs <= targetSeconds * 1000 ? 'met' : 'not met'}`);
  console.log(`whole day (load, clear, 分账, previews and runs): ${seconds(rulesAndClearingMs + phases.total('split') + settleMs)} s; peak RSS ${mib(peakRss)} MiB (VmHWM), heap used ≥ ${mib(memory.heapUsedMaxBytes)} MiB (heap total ${mib(memory.heapTotalMaxBytes)} MiB)`);
  const heapAfter = ['generate', 'load', ...channelNames.map((c) => `clear ${c}`), `run ${runDates[runDates.length - 1]}`].map((name) => `${name} ${mib(phases.heapAfter.get(name) ?? 0)}`);
  console.log(`heap used after (MiB): ${heapAfter.join(', ')}`);
  console.log('\n| items | merchants | strategy documents | load s | clear s (µs/item) | 分账 s | previews / runs s | postings | peak RSS MiB | heap used MiB | posted t/s | check |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const postedRate = posted === undefined ? '—' : count(perSecond(posted.transfers, posted.postMs));
  const perItem = ((clearMs * 1000) / plan.orders).toFixed(2);
  console.log(
    `| ${count(options.orders)} | ${count(options.merchants)} | ${count(plan.strategies.reduce((n, s) => n + s.versions.length, 0))} | ${seconds(loadMs)} | ${seconds(clearMs)} (${perItem}) | ${seconds(phases.total('split'))} | ${seconds(phases.total('preview '))} / ${seconds(phases.total('run '))} | ${count(postings)} | ${mib(peakRss)} | ${mib(memory.heapUsedMaxBytes)} | ${postedRate} | ${passed ? 'PASS' : 'FAIL'} |`,
  );
}

const count = (n: number): string => n.toLocaleString('en-US');
const perSecond = (n: number, ms: number): number => Math.round(n / (ms / 1000));
const seconds = (ms: number): string => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const mib = (bytes: number): string => count(Math.round(bytes / 2 ** 20));
/** Minor units as yuan with two decimals, exact (bigint), grouped. */
function yuan(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  return `${negative ? '−' : ''}¥${count(Number(abs / 100n))}.${String(abs % 100n).padStart(2, '0')}`;
}

main().catch((error: unknown) => {
  endProgress();
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
