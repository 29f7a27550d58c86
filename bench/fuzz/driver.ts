// The fuzz run: the server started, the generator's actions executed with at most --concurrency in flight,
// GET /health polled throughout, restarts when the generator draws one (kill -9 or SIGTERM while traffic
// runs; then `tally verify` on the stopped data dir, the restart, /health within 1 s, the ledger checks),
// and at the end the same checks, the final stop, verify of the data dir and of the snapshots taken.
// The first failure ends the traffic unless --keep-going.

import { setTimeout as sleep } from 'node:timers/promises';
import { checkLedger, settleTransit } from './checker.js';
import { Clients } from './clients.js';
import type { World } from './events.js';
import { Executor, type RunContext } from './executor.js';
import { familyNames } from './families.js';
import { Generator, describeAction, type Action } from './generator.js';
import { Model } from './model.js';
import type { FuzzOptions } from './options.js';
import { Random } from './random.js';
import { Stats } from './report.js';
import { ServerControl, sigtermExitMsMax } from './server-control.js';

/**
 * Ledgers without the many-ledgers family: one, with the chart's codes only, so that a day cut's summary
 * (a row per ledger and code, one per transit and suspense account) stays small. Issue #20's defect 2 is
 * a summary too large for LMDB: two ledgers with cross-shard traffic already pass the limit.
 */
const fewLedgers = 1;
const progressEveryMs = 10_000;
const recentActionsKept = 40;
/** Actions that mostly wait (idle and slow clients): they run beside the steps, at most backgroundMax at once. */
const backgroundKinds: ReadonlySet<Action['kind']> = new Set(['idle_clients', 'slow_client']);
const backgroundMax = 2;
/** GET /health: poll period, the answer's deadline, and misses in a row that count as a hang. */
const healthEveryMs = 1_000;
const healthTimeoutMs = 1_000;
const healthMissesMax = 3;
/** Tries of GET /health right after a restart, each with healthTimeoutMs. */
const healthTriesAfterRestart = 3;
/** How long the end waits for a running snapshot, and how many finished snapshots it verifies. */
const snapshotWaitMsMax = 60_000;
const snapshotsVerifiedMax = 2;

/** The command that replays a run up to `steps`. */
export function replayCommand(options: FuzzOptions, steps?: number): string {
  const skipped = familyNames.filter((f) => !options.families.has(f));
  const parts = [`npm run fuzz -- --seed ${options.seed} --minutes ${options.minutes} --shards ${options.shardCount}`, `--ledgers ${options.ledgerCount} --concurrency ${options.concurrency} --kill-every ${options.killEverySteps}`];
  if (skipped.length > 0) parts.push(`--skip ${skipped.join(',')}`);
  if (steps !== undefined) parts.push(`--steps ${steps}`);
  return parts.join(' ');
}

export async function runFuzz(options: FuzzOptions): Promise<number> {
  console.log(`fuzz: seed ${options.seed}, ${options.minutes} min, ${options.shardCount} shards, concurrency ${options.concurrency}, families: ${[...options.families].join(', ')}`);
  const control = await ServerControl.start(options.shardCount, options.echoServer);
  console.log(`fuzz: server on ${control.url}, temp dir ${control.paths.root}`);
  const fuzzer = new Fuzzer(options, control);
  let failed = true;
  try {
    await fuzzer.run();
    failed = fuzzer.stats.failures.length > 0;
  } finally {
    if (failed) console.log(`fuzz: kept ${control.paths.root} for inspection; server output tail:\n${control.output().slice(-3000)}`);
    await control.cleanup(options.keep || failed);
  }
  const lastStep = fuzzer.stats.failures[0]?.step;
  console.log(fuzzer.stats.summary(options.seed, options.families, replayCommand(options, lastStep === undefined ? undefined : lastStep + 1)));
  return failed ? 1 : 0;
}

class Fuzzer implements RunContext {
  readonly model: Model;
  readonly stats = new Stats();
  readonly clients: Clients;
  private readonly executor: Executor;
  private readonly generator: Generator;
  private stops = 0;
  private serving = true;
  private stopping = false;
  private step = 0;
  /** The last actions begun, printed with the first failure. */
  private readonly recent: string[] = [];
  /** Actions running now (step: kind), named when a restart cuts them short. */
  private readonly running = new Map<Promise<void>, string>();
  /** Day cuts running now: without the kill-in-cut family a restart lets them finish first. */
  private readonly cutsRunning = new Set<Promise<void>>();

  constructor(
    private readonly options: FuzzOptions,
    private readonly control: ServerControl,
  ) {
    this.model = new Model(options.shardCount);
    this.clients = new Clients(control);
    this.executor = new Executor(this);
    const ledgerCount = options.families.has('many-ledgers') ? options.ledgerCount : Math.min(fewLedgers, options.ledgerCount);
    const world: World = { shardCount: options.shardCount, ledgers: Array.from({ length: ledgerCount }, (_, i) => i + 1), families: options.families };
    this.generator = new Generator(new Random(options.seed), this.model, world, control.paths, options.killEverySteps);
  }

  get shardCount(): number {
    return this.options.shardCount;
  }

  epoch(): number {
    return this.stops;
  }

  up(): boolean {
    return this.serving;
  }

  fail(step: number, what: string): void {
    if (this.stats.failures.length === 0) console.log(`fuzz: the steps before the first failure:\n  ${this.recent.join('\n  ')}`);
    this.stats.fail(step, what, this.options.seed);
    if (!this.options.keepGoing) this.stopping = true;
  }

  async run(): Promise<void> {
    await this.clients.connectAll();
    let done = false;
    const health = this.watchHealth(() => done);
    const totalMs = this.options.minutes * 60_000;
    const progress = setInterval(() => this.stats.progress(totalMs), progressEveryMs);
    try {
      await this.traffic(performance.now() + totalMs);
      if (!this.stopping) await this.finish();
      else await this.control.stop('SIGKILL');
    } finally {
      done = true;
      clearInterval(progress);
      await health;
      await this.clients.closeAll();
    }
  }

  private async traffic(endMs: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const background = new Set<Promise<void>>();
    for (; this.step < this.options.stepsMax && !this.stopping && performance.now() < endMs; this.step++) {
      this.stats.steps = this.step + 1;
      const action = this.generator.next();
      this.recent.push(`step ${this.step}: ${describeAction(action)}`);
      if (this.recent.length > recentActionsKept) this.recent.shift();
      if (action.kind === 'restart') {
        await this.restart(action.signal, [...inFlight, ...background]);
        continue;
      }
      // Idle and slow clients mostly wait: they run beside the steps, a few at a time.
      const slots = backgroundKinds.has(action.kind) ? { set: background, max: backgroundMax } : { set: inFlight, max: this.options.concurrency };
      while (slots.set.size >= slots.max) await Promise.race(slots.set);
      this.launch(this.step, action, slots.set);
    }
    await Promise.all([...inFlight, ...background]);
  }

  private launch(step: number, action: Action, inFlight: Set<Promise<void>>): void {
    const startMs = performance.now();
    const running: Promise<void> = this.executor
      .run(step, action)
      .then(() => this.stats.timing(action.kind, performance.now() - startMs))
      .catch((error: unknown) => this.fail(step, `the fuzzer failed on ${action.kind}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`))
      .finally(() => {
        inFlight.delete(running);
        this.running.delete(running);
      });
    inFlight.add(running);
    this.running.set(running, `${step}: ${action.kind}`);
    if (action.kind === 'close_day') {
      this.cutsRunning.add(running);
      void running.finally(() => this.cutsRunning.delete(running));
    }
  }

  /** Stops the server while traffic runs, verifies its data dir, starts it again and checks the ledger. */
  private async restart(signal: 'SIGKILL' | 'SIGTERM', inFlight: readonly Promise<void>[]): Promise<void> {
    const step = this.step;
    const startMs = performance.now();
    // A kill in the middle of a day cut meets a defect found here (the kill-in-cut family): wait for the cuts otherwise.
    if (!this.options.families.has('kill-in-cut')) await Promise.all(this.cutsRunning);
    this.serving = false;
    this.stops++;
    const cut = [...this.running.values()].filter((r) => !/create_|lookup_|history|books/.test(r));
    const cutsCutShort = this.cutsRunning.size > 0;
    const stop = await this.control.stop(signal);
    if (cutsCutShort) this.model.daysCloseCutShort.add(this.model.begunDay);
    this.stats.restarts++;
    console.log(`fuzz: step ${step}: ${signal}${cut.length > 0 ? ` with ${cut.join(', ')} running` : ''}`);
    if (signal === 'SIGTERM') this.stats.restartsBySigterm++;
    if (stop.hung) this.fail(step, `SIGTERM did not end the server within ${sigtermExitMsMax / 1000} s (it was then killed)`);
    await Promise.all(inFlight);
    await this.clients.closeAll();
    this.model.snapshotRunning = null;
    await this.verify(step, this.control.paths.dataDir, `after ${signal}`);
    try {
      await this.control.restart();
    } catch (error) {
      this.stopping = true; // nothing more can run
      return this.fail(step, `the server did not start again after ${signal}: ${(error as Error).message.slice(0, 2000)}`);
    }
    if (!(await this.healthAfterRestart(step))) {
      this.stopping = true;
      return;
    }
    await this.clients.connectAll();
    this.serving = true;
    await this.checks(step, `after restart ${this.stats.restarts} (${signal})`);
    this.stats.timing('restart', performance.now() - startMs);
  }

  private async healthAfterRestart(step: number): Promise<boolean> {
    let last = '';
    for (let i = 0; i < healthTriesAfterRestart; i++) {
      const health = await this.control.health(healthTimeoutMs);
      if (health.ok) return true;
      last = health.error ?? `status ${health.status}`;
    }
    this.fail(step, `GET /health did not answer within ${healthTimeoutMs} ms after the restart (${healthTriesAfterRestart} tries; ${last})`);
    return false;
  }

  /** Transit settled, then every ledger check; each failure reported with `when`. */
  private async checks(step: number, when: string): Promise<void> {
    const unsettled = await settleTransit(this.control);
    if (unsettled !== null) return this.fail(step, `${when}: ${unsettled}`);
    try {
      const outcome = await checkLedger(this.clients.get('opsA'), this.model);
      for (const failure of outcome.failures) this.fail(step, `${when}: ${failure}`);
      if (outcome.failures.length === 0) {
        this.stats.checksPassed++;
        console.log(`fuzz: ${when}: ledger checks passed (${outcome.accounts} accounts, ${outcome.transfers} transfers, ${outcome.ledgers} ledgers; balances agreed on read ${outcome.reads})`);
      }
    } catch (error) {
      this.fail(step, `${when}: the checks could not read the ledger: ${(error as Error).message}`);
    }
  }

  private async verify(step: number, dir: string, when: string): Promise<boolean> {
    const result = await this.control.verify(dir);
    if (!result.passed) {
      this.fail(step, `tally verify --data ${dir} ${when} failed:\n${result.output}`);
      return false;
    }
    this.stats.verifiesPassed++;
    console.log(`fuzz: tally verify ${when} passed (${(result.ms / 1000).toFixed(1)} s)`);
    return true;
  }

  /** The end: the checks with the server up, then the final stop and tally verify of the data dir and snapshots. */
  private async finish(): Promise<void> {
    const step = this.step;
    await this.checks(step, 'at the end');
    await this.waitSnapshot();
    this.serving = false;
    this.stops++;
    const signal = this.options.families.has('sigterm') ? 'SIGTERM' : 'SIGKILL';
    const stop = await this.control.stop(signal);
    if (stop.hung) this.fail(step, `SIGTERM did not end the server within ${sigtermExitMsMax / 1000} s at the end (it was then killed)`);
    await this.verify(step, this.control.paths.dataDir, `at the end (after ${signal})`);
    for (const dir of this.model.snapshotsDone.slice(-snapshotsVerifiedMax)) await this.verify(step, dir, 'of a snapshot');
  }

  /** Lets a snapshot still running finish (or fail), so that it can be verified. */
  private async waitSnapshot(): Promise<void> {
    if (this.model.snapshotRunning === null) return;
    const startMs = performance.now();
    while (performance.now() - startMs < snapshotWaitMsMax) {
      const status = await this.clients.get('auditor').getSnapshotStatus().catch(() => null);
      if (status?.state === 'done' && !this.model.snapshotsDone.includes(status.out)) this.model.snapshotsDone.push(status.out);
      if (status?.state === 'failed') this.fail(this.step, `snapshot into ${status.out} failed: ${status.error}`);
      if (status === null || status.state !== 'running') return;
      await sleep(200);
    }
    this.fail(this.step, `a snapshot still ran ${snapshotWaitMsMax / 1000} s after the traffic stopped`);
  }

  /** Polls GET /health while the server should serve; healthMissesMax misses in a row are a failure. */
  private async watchHealth(done: () => boolean): Promise<void> {
    let misses = 0;
    while (!done()) {
      await sleep(healthEveryMs);
      const epoch = this.stops;
      if (!this.serving) {
        misses = 0;
        continue;
      }
      const health = await this.control.health(healthTimeoutMs);
      if (!this.serving || epoch !== this.stops || done()) continue;
      this.stats.healthPolls++;
      this.stats.healthSlowestMs = Math.max(this.stats.healthSlowestMs, health.ms);
      if (health.ok) misses = 0;
      else if (++misses >= healthMissesMax) {
        this.fail(this.step, `GET /health did not answer within ${healthTimeoutMs} ms ${healthMissesMax} times in a row (${health.error ?? `status ${health.status}`})`);
        misses = 0;
      }
    }
  }
}
