// A throwaway PostgreSQL cluster for the baseline bench: initdb in a fresh temp dir, one postgres on a
// free loopback port with its socket in that dir, durable settings (fsync on commit, like Tally).
// Readiness is the server's "ready to accept connections" log line, never a sleep. stop() is
// idempotent, always removes the dir, and is safe to call from a signal handler while start() runs.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { assert } from '../../src/core/assert.js';
import { readCpu } from '../load/cpu-usage.js';

export const clusterHost = '127.0.0.1';
export const clusterUser = 'postgres';
/** Bytes of server output kept for failure messages (the tail). */
const outputKeptBytesMax = 64 * 1024;
/** A fresh cluster is ready in well under a second here; a slow or busy disk may take far longer. */
const readyTimeoutMs = 60_000;
/** Ports tried: a free port found by binding may be taken by someone else before postgres binds it. */
const portAttemptsMax = 5;
/** Fast shutdown (SIGINT) rolls back open transactions and checkpoints; past this, SIGQUIT (immediate shutdown). */
const stopTimeoutMs = 30_000;
/** Past this after SIGQUIT, SIGKILL: the children notice the postmaster is gone and exit on their own. */
const quitTimeoutMs = 5_000;
const readyLine = /database system is ready to accept connections/;
const bindFailed = /could not bind|Address already in use|could not create any TCP\/IP sockets/;

/**
 * Server settings the bench sets rather than inherits: durability on (every COMMIT waits for its
 * WAL fsync), loopback only. Everything else stays stock, as in the PERFORMANCE-NOTES baseline.
 */
export const durableSettings = ['fsync=on', 'synchronous_commit=on', 'full_page_writes=on'] as const;

export interface PgCluster {
  readonly host: string;
  /** 0 until start() has succeeded. */
  readonly port: number;
  /** The temp dir holding the data dir and the socket; null until start() made it. */
  readonly rootDir: string | null;
  readonly pid: number;
  /** initdb in a fresh temp dir, then postgres until it accepts connections; on failure nothing is left running and the dir is gone. */
  start(): Promise<void>;
  /** CPU seconds used so far by the postmaster and its live children (backends, WAL writer, …); null off Linux. */
  cpuSeconds(): number | null;
  /** Fast shutdown (open transactions roll back), then the temp dir goes. Idempotent. */
  stop(): Promise<void>;
}

/** Why the cluster cannot be started here, or null when it can: the bench then skips instead of failing. */
export function clusterUnavailable(binDir: string): string | null {
  for (const tool of ['initdb', 'postgres']) {
    if (!existsSync(path.join(binDir, tool))) return `PostgreSQL server binaries not found: ${path.join(binDir, tool)} is missing (install postgresql-15 or pass --pg-bin DIR)`;
  }
  if (isRoot() && postgresIds() === null) return `running as root, and initdb/postgres refuse root: no "${clusterUser}" user to run them as`;
  return null;
}

/**
 * A cluster not yet started: the caller holds it before start() so that a signal handler can stop()
 * it at any moment, during start() included.
 */
export function newCluster(binDir: string, echo: boolean): PgCluster {
  return new ClusterHandle(binDir, echo);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The postgres user's uid and gid, or null when there is none. */
function postgresIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', clusterUser], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', clusterUser], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, clusterHost, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

class ClusterHandle implements PgCluster {
  readonly host = clusterHost;
  port = 0;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';
  private stopping: Promise<void> | null = null;
  private stopRequested = false;
  /** As root, initdb and postgres run as the postgres user (spawn's uid/gid), so the pid we hold is the postmaster's own. */
  private readonly ids = isRoot() ? postgresIds() : null;

  rootDir: string | null = null;

  constructor(
    private readonly binDir: string,
    private readonly echo: boolean,
  ) {}

  private get dataDir(): string {
    assert(this.rootDir !== null, 'the temp dir is made first');
    return path.join(this.rootDir, 'data');
  }

  async start(): Promise<void> {
    assert(this.rootDir === null && !this.stopRequested, 'a cluster starts once, before any stop()');
    try {
      this.rootDir = await mkdtemp(path.join(os.tmpdir(), 'tally-pg-baseline-'));
      this.throwIfStopped();
      await this.init();
      this.throwIfStopped();
      await this.launch();
    } catch (error) {
      await this.stop();
      throw error;
    }
    this.throwIfStopped();
  }

  /** stop() may come from a signal handler between two steps of start(): the next step must not run. */
  private throwIfStopped(): void {
    if (this.stopRequested) throw new Error('the PostgreSQL cluster was stopped while it started');
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  /** initdb into rootDir/data. --no-sync only skips initdb's own flush of the fresh, throwaway files. */
  private async init(): Promise<void> {
    assert(this.rootDir !== null, 'the temp dir is made first');
    if (isRoot()) {
      assert(this.ids !== null, 'clusterUnavailable() is checked before start()');
      await chown(this.rootDir, this.ids.uid, this.ids.gid);
    }
    await chmod(this.rootDir, 0o700);
    const args = ['-D', this.dataDir, '--auth=trust', `--username=${clusterUser}`, '--encoding=UTF8', '--locale=C', '--no-sync'];
    const initdb = this.spawnServerTool('initdb', args);
    // Held as the child, so a stop() meanwhile interrupts initdb (which then removes what it wrote) before the dir goes.
    this.child = initdb;
    const code = await new Promise<number | null>((resolve, reject) => {
      this.exited = new Promise((resolveExited) => initdb.once('exit', () => resolveExited()));
      initdb.once('error', reject);
      initdb.once('exit', (exitCode) => resolve(exitCode));
    });
    this.child = null;
    if (code !== 0) throw new Error(`initdb exited with code ${code}:\n${this.tail}`);
  }

  /** Starts postgres on a free port, trying another when the port was taken in between. */
  private async launch(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      this.throwIfStopped();
      const outcome = await this.startOnce(port);
      if (outcome === 'ready') {
        this.port = port;
        return;
      }
      if (attempt === portAttemptsMax) throw new Error(`postgres could not bind a loopback port in ${portAttemptsMax} attempts:\n${this.tail}`);
    }
  }

  private async startOnce(port: number): Promise<'ready' | 'port-taken'> {
    const settings = [`listen_addresses=${clusterHost}`, ...durableSettings].flatMap((s) => ['-c', s]);
    const child = this.spawnServerTool('postgres', ['-D', this.dataDir, '-k', this.rootDir!, '-p', String(port), ...settings]);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(() => reject(new Error(`postgres was not ready within ${readyTimeoutMs / 1000} s:\n${this.tail}`))), readyTimeoutMs);
      const onData = (chunk: Buffer) => {
        if (readyLine.test(chunk.toString('utf8')) || readyLine.test(this.tail)) settle(() => resolve('ready'));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        this.child = null;
        if (bindFailed.test(this.tail)) settle(() => resolve('port-taken'));
        else settle(() => reject(new Error(`postgres exited before it was ready (code ${code}, signal ${signal}):\n${this.tail}`)));
      };
      const settle = (finish: () => void) => {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        child.off('exit', onExit);
        finish();
      };
      child.stderr!.on('data', onData);
      child.once('exit', onExit);
      child.once('error', (error) => settle(() => reject(error)));
    });
  }

  /** One of the server binaries, as the postgres user when we are root, with a plain C environment. */
  private spawnServerTool(tool: string, args: string[]): ChildProcess {
    this.tail = '';
    const child = spawn(path.join(this.binDir, tool), args, {
      cwd: this.rootDir!,
      // No PG* variables from our environment: they would point the tools at another cluster.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.ids === null ? {} : { uid: this.ids.uid, gid: this.ids.gid }),
    });
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.tail = (this.tail + text).slice(-outputKeptBytesMax);
        if (this.echo) process.stderr.write(text.replace(/^/gm, `[${tool}] `));
      });
    }
    return child;
  }

  cpuSeconds(): number | null {
    const pid = this.pid;
    if (pid === 0) return null;
    let children: number[];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return null;
    }
    let total = 0;
    for (const p of [pid, ...children]) total += readCpu(p).serverSeconds ?? 0;
    return total;
  }

  /**
   * Each call runs one more pass after the previous one: a start() step that was in flight when an
   * earlier stop() ran (a spawn after an await) may have left a child or the dir, and its own
   * failure path calls stop() again to take them away.
   */
  stop(): Promise<void> {
    this.stopRequested = true;
    const previous = this.stopping ?? Promise.resolve();
    this.stopping = previous.catch(() => {}).then(() => this.stopAndRemove());
    return this.stopping;
  }

  private async stopAndRemove(): Promise<void> {
    try {
      if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) {
        const child = this.child;
        const gone = (ms: number) => Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
        child.kill('SIGINT');
        if (!(await gone(stopTimeoutMs))) {
          child.kill('SIGQUIT');
          if (!(await gone(quitTimeoutMs))) child.kill('SIGKILL');
          await this.exited;
        }
      }
    } finally {
      if (this.rootDir !== null) await rm(this.rootDir, { recursive: true, force: true });
    }
  }
}
