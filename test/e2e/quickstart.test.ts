// The README's client example (examples/quickstart.mjs) run as a user would: a separate node process
// against a real server, addressed by TALLY_URL. It must print its results and balances and exit 0.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';

const run = promisify(execFile);
let server: ServerProcess;

beforeAll(async () => {
  // Several shards: the example must colocate its two accounts itself (cross-shard transfers are refused in this version).
  server = await startServerProcess({ shardCount: 4 });
});

afterAll(async () => {
  await server?.cleanup();
});

test.each([1, 2, 3])('examples/quickstart.mjs moves 12.34 CNY and prints both balances (run %i)', async () => {
  const example = path.join(repoRoot(), 'examples', 'quickstart.mjs');
  // execFile rejects on a non-zero exit, so reaching the assertions means exit code 0.
  const { stdout, stderr } = await run(process.execPath, [example], {
    cwd: repoRoot(),
    env: { ...process.env, TALLY_URL: server.url },
    timeout: 30_000,
  });
  expect(stderr).toBe('');
  expect(stdout.trim().split('\n')).toEqual([
    'create accounts: ok, ok',
    'create transfer: ok',
    'alice: debits 12.34, credits 0.00, balance -12.34 CNY',
    'bob: debits 0.00, credits 12.34, balance 12.34 CNY',
  ]);
});
