// Adjustments and the audit log on the real server (`tally serve --keys`, a child process, real sockets):
// the README's example (examples/adjustment.mjs) run as a user would, `tally audit` printing the log, and a
// pending adjustment that survives kill -9 without moving money until another key approves it.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, newId, type Client } from '../../src/client/index.js';
import { hashSecret, newSecret } from '../../src/gateway/auth.js';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';

const run = promisify(execFile);
const secrets = { maker: newSecret(), checker: newSecret(), app: newSecret() };
let keysDir: string;
let server: ServerProcess;

beforeAll(async () => {
  keysDir = mkdtempSync(path.join(tmpdir(), 'tally-e2e-keys-'));
  const keysFile = path.join(keysDir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({
    keys: [
      { id: 'ops-alice', scopes: ['post', 'admin'], sha256: hashSecret(secrets.maker) },
      { id: 'ops-bob', scopes: ['read', 'admin'], sha256: hashSecret(secrets.checker) },
      { id: 'app', scopes: ['read', 'post'], sha256: hashSecret(secrets.app) },
    ],
  }));
  server = await startServerProcess({ shardCount: 2, env: { TALLY_KEYS: keysFile } });
});

afterAll(async () => {
  await server?.cleanup();
  if (keysDir) rmSync(keysDir, { recursive: true, force: true });
});

async function clients(): Promise<{ maker: Client; checker: Client }> {
  return { maker: await connect({ url: server.url, apiKey: secrets.maker }), checker: await connect({ url: server.url, apiKey: secrets.checker }) };
}

test('examples/adjustment.mjs: the maker is refused, the checker approves, the audit log shows every step', async () => {
  const example = path.join(repoRoot(), 'examples', 'adjustment.mjs');
  const env = { ...process.env, TALLY_URL: server.url, TALLY_MAKER_KEY: secrets.maker, TALLY_CHECKER_KEY: secrets.checker };
  // execFile rejects on a non-zero exit, so reaching the assertions means exit code 0.
  const { stdout, stderr } = await run(process.execPath, [example], { cwd: repoRoot(), env, timeout: 30_000 });
  expect(stderr).toBe('');
  expect(stdout.trim().split('\n')).toEqual([
    'submitted: pending, 1 transfer',
    'maker approves: forbidden',
    'checker reviews: 12.34 CNY, "order 42 was charged twice: refund the second charge"',
    'approved by ops-bob: ok',
    'customer credits: 12.34 CNY',
    'audit: ops-alice submit_adjustment ok',
    'audit: ops-alice approve_adjustment forbidden',
    'audit: ops-bob approve_adjustment ok',
    'audit: ops-bob approve_adjustment ok',
  ]);
});

test('every example runs, and the day they posted on then closes with a report that passes (issue #16)', async () => {
  const examples = path.join(repoRoot(), 'examples');
  const env = { ...process.env, TALLY_URL: server.url, TALLY_API_KEY: secrets.app, TALLY_MAKER_KEY: secrets.maker, TALLY_CHECKER_KEY: secrets.checker };
  for (const example of ['quickstart.mjs', 'adjustment.mjs']) {
    const { stderr } = await run(process.execPath, [path.join(examples, example)], { cwd: repoRoot(), env, timeout: 30_000 });
    expect(stderr, example).toBe('');
  }
  // And accounts of a code the chart names nowhere, as TigerBeetle's examples use (code 10): booked under the
  // default chart's other-codes leaf, never a failed report.
  const app = await connect({ url: server.url, apiKey: secrets.app });
  try {
    const [a, b] = [newId(), newId()];
    expect((await app.createAccounts([{ id: a, ledger: 700, code: 10 }, { id: b, ledger: 700, code: 10 }])).map((r) => r.result)).toEqual(['ok', 'ok']);
    expect((await app.createTransfers([{ id: newId(), debitAccountId: a, creditAccountId: b, amount: 500n, ledger: 700, code: 10 }])).map((r) => r.result)).toEqual(['ok']);
  } finally {
    await app.close();
  }
  const { checker } = await clients();
  try {
    const report = await checker.closeDay();
    expect(report.failures ?? [], 'the day report of the examples').toEqual([]);
    expect(report.passed).toBe(true);
    // The trial balance, typed (TrialBalanceReply): the code-10 accounts' turnover sits on the other-codes leaf.
    const trial = await checker.getTrialBalance(700);
    expect(trial.balanced).toBe(true);
    expect(trial.debitsTotal).toBe(trial.creditsTotal);
    expect(trial.rows.find((row) => row.code === '22419901')).toMatchObject({ debits: '500', credits: '500', side: 'credit' });
  } finally {
    await checker.close();
  }
}, 60_000);

test('tally audit prints the log, as lines or JSON, from a record number on', async () => {
  const { maker, checker } = await clients();
  let id: string;
  try {
    ({ id } = await maker.submitAdjustment({ reason: 'e2e audit', transfers: [{ id: newId(), debitAccountId: 1n, creditAccountId: 2n, amount: 1n, ledger: 1, code: 1 }] }));
    await checker.rejectAdjustment(id, 'only a test');
  } finally {
    await maker.close();
    await checker.close();
  }
  const cli = (args: string[]) => run(process.execPath, [cliPath(), 'audit', '--url', server.url, ...args], { cwd: repoRoot(), env: { ...process.env, TALLY_API_KEY: secrets.checker }, timeout: 30_000 });
  const json = (await cli(['--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; keyId: string; operationName: string; code: string; detail: string });
  expect(json.map((r) => r.seq)).toEqual(json.map((_, i) => i + 1));
  expect(json.filter((r) => r.detail.startsWith(id)).map((r) => [r.keyId, r.operationName, r.code])).toEqual([
    ['ops-alice', 'submit_adjustment', 'ok'],
    ['ops-bob', 'reject_adjustment', 'ok'],
  ]);
  const rejected = json.find((r) => r.detail.startsWith(id) && r.operationName === 'reject_adjustment')!;
  const lines = (await cli(['--after', String(rejected.seq - 1), '--limit', '1'])).stdout.trim().split('\n');
  expect(lines).toEqual([expect.stringMatching(new RegExp(`^#${rejected.seq} \\d{4}-\\d\\d-\\d\\dT\\S+ admin +ops-bob reject_adjustment ok: ${id}: rejected by "ops-bob", reason "only a test"$`))]);
  await expect(run(process.execPath, [cliPath(), 'audit', '--url', server.url, '--key', 'tk_wrong'], { timeout: 30_000 })).rejects.toMatchObject({ code: 1 });
});

test('a pending adjustment survives kill -9 and moves nothing until another key approves it', async () => {
  let { maker, checker } = await clients();
  const [payer, payee] = [newId(), newId()];
  const { id } = await (async () => {
    try {
      await maker.createAccounts([{ id: payer, ledger: 156, code: 7 }, { id: payee, ledger: 156, code: 1 }]);
      return await maker.submitAdjustment({ reason: 'opening balance', transfers: [{ id: newId(), debitAccountId: payer, creditAccountId: payee, amount: 500n, ledger: 156, code: 1 }] });
    } finally {
      await maker.close();
      await checker.close();
    }
  })();
  await server.kill('SIGKILL');
  await server.restart();
  ({ maker, checker } = await clients());
  try {
    expect((await checker.getAdjustments({ status: 'pending' })).map((a) => a.id)).toContain(id);
    const credits = async () => (await checker.lookupAccounts([payee]))[0].creditsPosted;
    expect(await credits()).toBe(0n);
    expect((await checker.approveAdjustment(id)).results).toEqual([{ index: 0, result: 'ok' }]);
    await expect.poll(credits, { timeout: 10_000, interval: 20 }).toBe(500n);
  } finally {
    await maker.close();
    await checker.close();
  }
});
