// `tally verify`: help, usage errors (exit 2), directories that are no Tally data directory (exit 2, the
// message says why, and nothing in them is created or changed), and an empty store that passes (exit 0).

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyCommand, verifyUsage } from '../../../src/cli/verify.js';
import { UsageError } from '../../../src/cli/serve-options.js';
import { JournalStore } from '../../../src/shards/shard/journal-store.js';

const cli = join(import.meta.dirname, '../../../dist/src/cli/main.js');
const run = promisify(execFile);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tally-verify-cli-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command in-process; returns its status and what it printed. */
async function verify(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void out.push(String(line)));
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void err.push(String(line)));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const status = await verifyCommand(argv, env);
  vi.restoreAllMocks();
  return { status, out: out.join('\n'), err: err.join('\n') };
}

/** Every path under `root` with its size: what must be the same after verify. */
function listing(root: string): string[] {
  const paths: string[] = [];
  const walk = (at: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      const stat = statSync(path);
      paths.push(`${relative(root, path)} ${stat.isDirectory() ? 'dir' : stat.size}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return paths;
}

async function store(shardIndex: number, shardCount: number): Promise<void> {
  await JournalStore.open({ dataDir: join(dir, 'data'), shardIndex, shardCount }).close();
}

describe('tally verify: usage', () => {
  it('prints its help with the exit statuses', async () => {
    const { status, out } = await verify(['--help']);
    expect(status).toBe(0);
    expect(out).toBe(verifyUsage);
    expect(verifyUsage).toMatch(/^usage: tally verify \[--data DIR\] \[--chart FILE\] \[--json\] \[--incremental\]/);
    expect(verifyUsage).toMatch(/exit status: 0 every check passed, 1 a check failed .*\n\s+2 usage error/);
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['--data'], /--data/],
    [['--data', ''], /--data must not be empty/],
    [['--data', 'x', 'extra'], /Unexpected argument 'extra'/],
    [['--chart', '/no/such/chart.json'], /--chart \/no\/such\/chart\.json: ENOENT/],
  ])('refuses %j with a usage error (exit 2)', async (argv, message) => {
    await expect(verifyCommand(argv, {})).rejects.toThrow(UsageError);
    await expect(verifyCommand(argv, {})).rejects.toThrow(message);
  });

  it('exits 2 from the command line on a usage error, printing the usage', async () => {
    const failed = await run(process.execPath, [cli, 'verify', '--nope']).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr).toContain("tally: Unknown option '--nope'");
    expect(failed.stderr).toContain('usage: tally verify');
  });
});

describe('tally verify: not a Tally data directory (exit 2, nothing created)', () => {
  const cases: [string, () => Promise<string> | string, RegExp][] = [
    ['missing', () => join(dir, 'nope'), /nope does not exist$/],
    ['a file', () => (writeFileSync(join(dir, 'file'), 'x'), join(dir, 'file')), /file is not a directory$/],
    ['empty', () => (mkdirSync(join(dir, 'data')), join(dir, 'data')), /data is empty: not a Tally data directory$/],
    ['unrelated files', () => (mkdirSync(join(dir, 'data')), writeFileSync(join(dir, 'data', 'notes.txt'), 'x'), join(dir, 'data')), /is not a Tally data directory: it has no shard-0 store \(it holds notes\.txt\)$/],
    ['shard-0 without a store', () => (mkdirSync(join(dir, 'data', 'shard-0'), { recursive: true }), join(dir, 'data')), /shard-0 is not a Tally shard store: .*shard-0 holds no data\.mdb$/],
    [
      'shard-0 holding no LMDB file',
      () => (mkdirSync(join(dir, 'data', 'shard-0'), { recursive: true }), writeFileSync(join(dir, 'data', 'shard-0', 'data.mdb'), 'not lmdb'), join(dir, 'data')),
      /shard-0 is not a Tally shard store: .*data\.mdb is not an LMDB data file: 8 bytes, shorter than a meta page$/,
    ],
    [
      'a truncated store (lmdb-js would crash the process on it)',
      async () => (await store(0, 1), truncateSync(join(dir, 'data', 'shard-0', 'data.mdb'), 8192), join(dir, 'data')),
      /shard-0 is not a Tally shard store: .*data\.mdb is not an LMDB data file: truncated: 8192 bytes, but its pages in use end at \d+$/,
    ],
    ['a missing shard', async () => (await store(0, 2), join(dir, 'data')), /shard count mismatch: shard-0 records 2 shards but .*data has no shard-1$/],
    ['an extra shard', async () => (await store(0, 1), mkdirSync(join(dir, 'data', 'shard-3')), join(dir, 'data')), /shard count mismatch: shard-0 records 1 shards but .*data also has shard-3$/],
    ['shards that disagree', async () => (await store(0, 2), await store(1, 3), join(dir, 'data')), /shard count mismatch: shard-0 records 2 shards but shard-1 records 3$/],
  ];

  it.each(cases)('%s', async (_name, make, message) => {
    const dataDir = await make();
    const before = listing(dir);
    const { status, err } = await verify(['--data', dataDir]);
    expect(status).toBe(2);
    expect(err).toMatch(/^tally verify: /);
    expect(err).toMatch(message);
    expect(listing(dir)).toEqual(before);
  });

  it('reads the directory from TALLY_DATA when --data is not given', async () => {
    const { status, err } = await verify([], { TALLY_DATA: join(dir, 'from-env') });
    expect(status).toBe(2);
    expect(err).toMatch(/from-env does not exist$/);
  });

  it('exits 2 from the command line, naming the directory', async () => {
    const failed = await run(process.execPath, [cli, 'verify', '--data', join(dir, 'nope')]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(2);
    expect(failed.stderr.trim()).toBe(`tally verify: ${join(dir, 'nope')} does not exist`);
  });
});

describe('tally verify: a store with no entries yet', () => {
  it('passes (exit 0) and prints the summary, or one JSON object with --json', async () => {
    await store(0, 1);
    const text = await verify(['--data', join(dir, 'data')]);
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/^verify: .*data: 1 shard\(s\), [\d.]+ s\n  shard 0: 0 entries, 0 replayed from seq 1, 0 accounts/);
    expect(text.out).toMatch(/\nverify: PASSED$/);
    const json = await verify(['--data', join(dir, 'data'), '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ mode: 'full', passed: true, shardCount: 1, entries: 0, problemCount: 0, problems: [], bookkeeping: null });
  });

  it('passes with --incremental too, saying it found no checkpoint and what it skipped', async () => {
    await store(0, 1);
    const text = await verify(['--data', join(dir, 'data'), '--incremental']);
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/\n  shard 0: 0 entries, 0 replayed from seq 1, /);
    expect(text.out).toContain('  note: shard 0: --incremental: no usable checkpoint: replayed from seq 1');
    expect(text.out).toContain('  checked: skipped (they need every entry from seq 1; run verify without --incremental)');
    expect(text.out).toMatch(/\nverify: PASSED$/);
  });
});
