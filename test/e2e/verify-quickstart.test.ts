// `tally verify` on the directory of a brand-new server that ran the README's quickstart, as a user would:
// the server closes day 0 (the opening) at start, over empty books, and stores its report; the quickstart
// then posts on a ledger the report never saw; the server stops; verify must pass (exit 0). Regression:
// verify rebuilt the stored report from the general ledger through the journals' end, and failed it.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';

const run = promisify(execFile);
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ shardCount: 2 });
});

afterAll(async () => {
  await server?.cleanup();
});

test('verify passes on a new server’s directory after the quickstart posted past the opening cut', async () => {
  // The scheduled cut at start closes day 0 and logs its report: the quickstart must post after it.
  await vi.waitFor(() => expect(server.output()).toMatch(/"msg":"day closed","day":0,"passed":true/), { timeout: 30_000, interval: 20 });
  const example = path.join(repoRoot(), 'examples', 'quickstart.mjs');
  const quickstart = await run(process.execPath, [example], { cwd: repoRoot(), env: { ...process.env, TALLY_URL: server.url }, timeout: 30_000 });
  expect(quickstart.stdout).toContain('create transfer: ok');
  expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  // execFile rejects on a non-zero exit: the message then carries verify's output.
  const verify = await run(process.execPath, [cliPath(), 'verify', '--data', server.dataDir], { cwd: repoRoot(), timeout: 60_000 });
  expect(verify.stdout).toMatch(/1 day report\(s\), 1 passed, 1 rebuilt and compared/);
  expect(verify.stdout).toMatch(/\nverify: PASSED\n?$/);
});
