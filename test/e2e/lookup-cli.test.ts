// `tally account`, `tally transfer`, `tally history` against a real server (issue #16): what support staff read
// without writing code, amounts with the ledger's scale (156 = CNY, 2 places), --json for scripts, exit 1 when
// nothing is found, 2 on a usage error.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { connect, newId } from '../../src/client/index.js';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';

const run = promisify(execFile);
let server: ServerProcess;
const alice = newId();
const bob = newId();
const payment = newId();

beforeAll(async () => {
  server = await startServerProcess({ shardCount: 2 });
  const client = await connect({ url: server.url });
  try {
    expect((await client.createAccounts([{ id: alice, ledger: 156, code: 1 }, { id: bob, ledger: 156, code: 1 }])).map((r) => r.result)).toEqual(['ok', 'ok']);
    expect((await client.createTransfers([{ id: payment, debitAccountId: alice, creditAccountId: bob, amount: 1234n, ledger: 156, code: 1 }])).map((r) => r.result)).toEqual(['ok']);
  } finally {
    await client.close();
  }
}, 60_000);

afterAll(async () => {
  await server?.cleanup();
});

function tally(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args, '--url', server.url], { cwd: repoRoot(), timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

test('tally account prints status and balances in the ledger\'s currency; --json the record', async () => {
  const shown = await tally(['account', String(bob)]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain(`account ${bob}: active, ledger 156, code 1`);
  expect(shown.stdout).toContain('posted   debits 0.00  credits 12.34  balance (credits − debits) 12.34 CNY');
  const json = JSON.parse((await tally(['account', String(alice), '--json'])).stdout) as { id: string; debitsPosted: string };
  expect(json).toMatchObject({ id: String(alice), debitsPosted: '1234' });
});

test('tally transfer and tally history', async () => {
  const transfer = await tally(['transfer', String(payment)]);
  expect(transfer.code).toBe(0);
  expect(transfer.stdout).toContain(`transfer ${payment}: posted, 12.34 CNY from ${alice} to ${bob}`);
  const history = await tally(['history', String(alice)]);
  expect(history.code).toBe(0);
  expect(history.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(` ${payment} -12\\.34 CNY to ${bob} code 1  balance after -12\\.34 `))]);
  expect((await tally(['transfer', String(payment), '--scale', '0'])).stdout).toContain('1234 CNY');
});

test('nothing found is exit 1; a bad id or flag is exit 2', async () => {
  const missing = await tally(['account', '12345678901234567890']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('no account 12345678901234567890');
  expect((await tally(['transfer', 'abc'])).code).toBe(2);
  expect((await tally(['history', String(alice), '--limit', '0'])).code).toBe(2);
});

test('tally transfers and tally accounts: filters, pages by cursor, --json', async () => {
  const client = await connect({ url: server.url });
  const orders = [newId(), newId(), newId()];
  try {
    const transfers = orders.map((order, i) => ({ id: newId(), debitAccountId: alice, creditAccountId: bob, amount: 100n + BigInt(i), ledger: 156, code: 7, userData128: order, userData32: 77 }));
    expect((await client.createTransfers(transfers)).map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
  } finally {
    await client.close();
  }
  const byOrder = await tally(['transfers', '--user-data-128', String(orders[1]), '--json']);
  expect(byOrder.code).toBe(0);
  expect(byOrder.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { amount: string }).amount)).toEqual(['101']);
  const page = await tally(['transfers', '--user-data-32', '77', '--code', '7', '--page', '--limit', '2']);
  expect(page.code).toBe(0);
  expect(page.stdout.trim().split('\n').filter((line) => line.startsWith('transfer '))).toHaveLength(2);
  const cursor = /--after (\S+)/.exec(page.stderr)?.[1];
  expect(cursor).toBeDefined();
  const rest = await tally(['transfers', '--user-data-32', '77', '--code', '7', '--after', cursor!, '--json']);
  expect(rest.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { amount: string }).amount)).toEqual(['102']);
  const credits = await tally(['transfers', '--account', String(bob), '--credits', '--code', '7', '--newest-first', '--json']);
  expect(credits.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { amount: string }).amount)).toEqual(['102', '101', '100']);
  const accounts = await tally(['accounts', '--ledger', '156', '--json']);
  expect(accounts.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { id: string }).id).sort()).toEqual([String(alice), String(bob)].sort());
  expect((await tally(['transfers', '--status', 'posted'])).code).toBe(2); // nothing indexed named
  expect((await tally(['transfers', '--code', '7', '--debits'])).code).toBe(2);
});
