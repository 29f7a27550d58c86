// The fuzz/soak target in CI (issue #20; run `npm run build` first): a short seeded run of
// dist/bench/fuzz.js — every family, the hostile ones of issue #20 included, kill -9 restarts
// forced by a short --kill-every — must exit 0 having restarted the server at least once and passed the
// ledger checks after it; and a usage mistake is refused with status 2 before any server starts.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/server-process.js';

/** The seed CI replays; a failure prints the command that replays it locally. */
const seed = 20_260_420;
const fuzzScript = path.join(repoRoot(), 'dist', 'bench', 'fuzz.js');

function fuzz(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fuzzScript, ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run fuzz', () => {
  it('runs 40 s with a fixed seed through kill -9 restarts and finds nothing', { timeout: 240_000 }, async () => {
    const { code, output } = await fuzz(['--minutes', '0.67', '--seed', String(seed), '--kill-every', '120']);
    if (code !== 0) console.log(output);
    expect(code).toBe(0);
    expect(output).toMatch(/fuzz: PASSED/);
    const restarts = Number(/restarts: (\d+)/.exec(output)?.[1]);
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(output).toMatch(/after restart 1 \(SIGKILL\): ledger checks passed/);
    expect(output).toMatch(/tally verify at the end \(after SIG(KILL|TERM)\) passed/);
  });

  it.each([
    [['--minutes', '0'], /--minutes must be a number/],
    [['--skip', 'no-such-family'], /unknown family "no-such-family"/],
    [['--seed=-1'], /--seed must be an integer/],
  ])('refuses %j with status 2', async (args, message) => {
    const { code, output } = await fuzz(args);
    expect(code).toBe(2);
    expect(output).toMatch(message);
  });
});
