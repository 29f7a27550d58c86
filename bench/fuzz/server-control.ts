// The server under fuzz: a temp directory (data, keys file, snapshot targets), API keys made by
// `tally keys new`, `tally serve` as a child process (test/support/server-process.ts), kill -9 or SIGTERM
// with a deadline, restart, `tally verify` on a stopped data dir or a snapshot, and GET /health with a
// timeout. Loopback only; every wait here is bounded.

import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../../test/support/server-process.js';

/** The API keys the fuzzer holds, by role. `limited` may take 5 events per second. */
export const keyScopes = {
  opsA: 'read,post,admin',
  opsB: 'read,post,admin',
  poster: 'post',
  reader: 'read',
  auditor: 'admin',
  limited: 'read,post',
} as const;
export type KeyRole = keyof typeof keyScopes;
export const limitedEventsPerSecond = 5;

/** How long SIGTERM may take to end the server before it counts as hung (then SIGKILL). */
export const sigtermExitMsMax = 20_000;
/** How long `tally verify` may run. */
const verifyMsMax = 10 * 60_000;
/** Output of a failed verify kept in the failure message. */
const verifyOutputCharsMax = 4000;

export interface FuzzPaths {
  root: string;
  dataDir: string;
  keysFile: string;
  /** Fresh snapshot targets go below it. */
  snapshots: string;
  /** A symbolic link to the data directory (snapshot-symlink family). */
  dataLink: string;
  /** A directory holding a file, and a plain file: snapshot targets that must be refused. */
  nonEmptyDir: string;
  plainFile: string;
}

export interface Health {
  ok: boolean;
  status: number;
  ms: number;
  body: unknown;
  error?: string;
}

export class ServerControl {
  private constructor(
    readonly paths: FuzzPaths,
    readonly secrets: Readonly<Record<KeyRole, string>>,
    private server: ServerProcess,
  ) {}

  /** Makes the temp directory and the keys, and starts the server with them. */
  static async start(shardCount: number, echo: boolean): Promise<ServerControl> {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tally-fuzz-'));
    const paths: FuzzPaths = {
      root,
      dataDir: path.join(root, 'data'),
      keysFile: path.join(root, 'keys.json'),
      snapshots: path.join(root, 'snapshots'),
      dataLink: path.join(root, 'data-link'),
      nonEmptyDir: path.join(root, 'non-empty'),
      plainFile: path.join(root, 'plain-file'),
    };
    for (const dir of [paths.dataDir, paths.snapshots, paths.nonEmptyDir]) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(paths.nonEmptyDir, 'keep'), 'not empty\n');
    writeFileSync(paths.plainFile, 'a file, not a directory\n');
    symlinkSync(paths.dataDir, paths.dataLink);
    const secrets = Object.fromEntries((Object.keys(keyScopes) as KeyRole[]).map((role) => [role, newKey(paths.keysFile, role)])) as Record<KeyRole, string>;
    const server = await startServerProcess({
      shardCount,
      dataDir: paths.dataDir,
      echo,
      // Manual day cuts: only the fuzzer closes days. Short keeper periods, so refills and timed returns happen.
      env: { TALLY_KEYS: paths.keysFile, TALLY_DAY_CUT: 'manual', TALLY_HOT_REFILL_MS: '50', TALLY_HOT_COMPENSATE_MS: '1000', TALLY_LOG_LEVEL: 'warn' },
    });
    return new ServerControl(paths, secrets, server);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  output(): string {
    return this.server.output();
  }

  /**
   * Stops the server with `signal` and waits for it to exit. A SIGTERM that has not ended it within
   * sigtermExitMsMax is reported (hung: true) and followed by SIGKILL.
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ exitMs: number; hung: boolean; code: number | null }> {
    const startMs = performance.now();
    const exited = this.server.kill(signal);
    if (signal === 'SIGKILL') return { exitMs: performance.now() - startMs, hung: false, code: (await exited).code };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), sigtermExitMsMax)));
    const first = await Promise.race([exited, deadline]);
    clearTimeout(timer);
    if (first !== 'hung') return { exitMs: performance.now() - startMs, hung: false, code: first.code };
    await this.server.kill('SIGKILL');
    return { exitMs: performance.now() - startMs, hung: true, code: null };
  }

  restart(): Promise<void> {
    return this.server.restart();
  }

  /** `tally verify --data DIR` (the server must be stopped when DIR is its data dir): passed, and the output's tail. */
  verify(dir: string): Promise<{ passed: boolean; output: string; ms: number }> {
    const startMs = performance.now();
    return new Promise((resolve) => {
      execFile(process.execPath, [cliPath(), 'verify', '--data', dir], { cwd: repoRoot(), timeout: verifyMsMax, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`.slice(-verifyOutputCharsMax);
        resolve({ passed: error === null, output, ms: performance.now() - startMs });
      });
    });
  }

  /** GET /health, given up after `timeoutMs`. */
  async health(timeoutMs: number): Promise<Health> {
    const startMs = performance.now();
    try {
      const response = await fetch(`http://127.0.0.1:${this.server.port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      return { ok: response.status === 200, status: response.status, ms: performance.now() - startMs, body: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, status: 0, ms: performance.now() - startMs, body: null, error: (error as Error).message };
    }
  }

  /** Kills the server if it runs and removes the temp directory unless `keep`. */
  async cleanup(keep: boolean): Promise<void> {
    await this.server.cleanup();
    if (!keep) rmSync(this.paths.root, { recursive: true, force: true });
  }
}

/** `tally keys new` as an operator runs it; returns the secret it prints once. */
function newKey(file: string, role: KeyRole): string {
  const extra = role === 'limited' ? ['--events-per-second', String(limitedEventsPerSecond)] : [];
  const args = [cliPath(), 'keys', 'new', '--id', role, '--scopes', keyScopes[role], '--file', file, ...extra];
  return execFileSync(process.execPath, args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
