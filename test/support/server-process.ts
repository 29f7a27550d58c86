// The real Tally server as a child process (`node dist/src/cli/main.js serve …`) on a free
// loopback port and a private temp data dir, for end-to-end tests and the load benchmark.
// Readiness is the CLI's "tally listening on …" line, never a sleep; kill() waits for exit.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bytes of child output kept for diagnostics (the tail; older output is dropped). */
const outputKeptBytesMax = 64 * 1024;
/** How long a start may take before it counts as failed (shard recovery replays the journal). */
const readyTimeoutMsDefault = 60_000;
const host = '127.0.0.1';
const listeningLine = /tally listening on https?:\/\/(\S+?):(\d+)/;

export interface ServerProcessOptions {
  /** Shards the server runs (`--shards`). Default 2. */
  shardCount?: number;
  /** Reuse an existing data dir; by default a fresh one is made with fs.mkdtemp and removed by cleanup(). */
  dataDir?: string;
  /** Extra flags for node itself, e.g. ['--cpu-prof', '--cpu-prof-dir=…']. */
  nodeArgs?: string[];
  /** Extra environment for the child. */
  env?: Record<string, string>;
  /** The tally command: `serve` (default) or `follow` (a replica of a replicated ledger, issue #15). */
  command?: 'serve' | 'follow';
  /** Copy the child's stdout/stderr to ours as it arrives (prefixed). Default false. */
  echo?: boolean;
  readyTimeoutMs?: number;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  /** ws://127.0.0.1:PORT — what clients connect to. Changes only if restart() had to take a new port. */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly httpUrl: string;
  readonly port: number;
  readonly dataDir: string;
  readonly shardCount: number;
  readonly pid: number;
  /** The tail of the child's stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves once the child's output (from now on, or its kept tail) matches `pattern`; rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** GET /health: the status code and body text. */
  health(): Promise<{ status: number; body: string }>;
  /** Sends `signal` (default SIGTERM) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** Starts the server again on the same data dir (kill it first); waits until it listens. */
  restart(): Promise<void>;
  /** Kills the server if it runs (SIGKILL) and removes a data dir this helper created. */
  cleanup(): Promise<void>;
}

/** The repository root: the nearest directory above this file whose package.json is tally-ledger. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'tally-ledger') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('server-process: no tally-ledger package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The compiled CLI; tests need `npm run build` first. */
export function cliPath(): string {
  const cli = path.join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(cli)) throw new Error(`server-process: ${cli} is missing; run \`npm run build\` first`);
  return cli;
}

/** True when `port` can be bound on loopback right now. */
async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (bound) await new Promise<void>((resolve) => server.close(() => resolve()));
  return bound;
}

class OutputTail {
  private text = '';
  private readonly listeners = new Set<() => void>();
  append(chunk: string): void {
    this.text += chunk;
    if (this.text.length > outputKeptBytesMax) this.text = this.text.slice(-outputKeptBytesMax);
    for (const listener of [...this.listeners]) listener();
  }
  toString(): string {
    return this.text;
  }
  /** Calls `listener` after every chunk; returns the function that stops it. */
  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const shardCount = options.shardCount ?? 2;
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`server-process: option shardCount must be a positive integer, got ${shardCount}`);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tally-e2e-')));
  // Port 0: the CLI binds any free port and names it in its listening line, so no other process can take it between.
  const handle = new ServerProcessHandle(dataDir, ownsDataDir, shardCount, options, 0);
  try {
    await handle.launch();
  } catch (error) {
    await handle.cleanup();
    throw error;
  }
  return handle;
}

class ServerProcessHandle implements ServerProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  private readonly tail = new OutputTail();

  constructor(
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
    readonly shardCount: number,
    private readonly options: ServerProcessOptions,
    public port: number,
  ) {}

  get url(): string {
    return `ws://${host}:${this.port}`;
  }

  get httpUrl(): string {
    return `http://${host}:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  output(): string {
    return this.tail.toString();
  }

  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(this.output())) return;
        stop();
        clearTimeout(timer);
        resolve();
      };
      const stop = this.tail.onAppend(check);
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`server-process: no output matching ${pattern} within ${timeoutMs} ms\n--- server output ---\n${this.output()}`));
      }, timeoutMs);
      check();
    });
  }

  async health(): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.httpUrl}/health`);
    return { status: response.status, body: await response.text() };
  }

  /** Spawns the CLI and resolves when it prints its listening line; rejects if it exits first. */
  async launch(): Promise<void> {
    if (this.child !== null) throw new Error('server-process: already running; kill() it before launching again');
    const args = [
      ...(this.options.nodeArgs ?? []),
      cliPath(),
      this.options.command ?? 'serve',
      '--host',
      host,
      '--port',
      String(this.port),
      '--data',
      this.dataDir,
      '--shards',
      String(this.shardCount),
    ];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot(),
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(() => {
      if (this.child === child) this.child = null;
    });
    await this.waitListening(child);
  }

  private waitListening(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? readyTimeoutMsDefault;
    return new Promise<void>((resolve, reject) => {
      let stdoutPending = '';
      let ready = false;
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(new Error(`server-process: ${why}\n--- server output ---\n${this.output()}`));
      };
      const timer = setTimeout(() => fail(`not listening within ${timeoutMs} ms`), timeoutMs);
      child.stdout!.setEncoding('utf8');
      child.stderr!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => {
        this.record('out', chunk);
        if (ready) return;
        stdoutPending += chunk;
        const match = listeningLine.exec(stdoutPending);
        if (match === null) return;
        ready = true;
        clearTimeout(timer);
        this.port = Number(match[2]);
        resolve();
      });
      child.stderr!.on('data', (chunk: string) => this.record('err', chunk));
      child.once('error', (error) => fail(`spawn failed: ${error.message}`));
      child.once('exit', (code, signal) => {
        if (!ready) fail(`exited before listening (code ${code}, signal ${signal})`);
      });
    });
  }

  private record(stream: 'out' | 'err', chunk: string): void {
    this.tail.append(chunk);
    if (this.options.echo) {
      const target = stream === 'out' ? process.stdout : process.stderr;
      target.write(chunk.replace(/^(?=.)/gm, '[server] '));
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    const child = this.child;
    if (child === null) return this.exited;
    child.kill(signal);
    return this.exited;
  }

  async restart(): Promise<void> {
    if (this.child !== null) throw new Error('server-process: restart() needs the server stopped; call kill() first');
    // Keep the address clients know when the port is still free; otherwise let the CLI pick a new one.
    if (!(await portIsFree(this.port))) this.port = 0;
    await this.launch();
  }

  async cleanup(): Promise<void> {
    if (this.child !== null) await this.kill('SIGKILL');
    if (this.ownsDataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
