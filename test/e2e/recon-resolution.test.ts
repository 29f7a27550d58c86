// Reconciliation (issue #17): a manual resolution shows on its exception once the ledger holds it. On a server with
// keys (`--keys`: a maker and a checker, each with admin) and `--recon-channels`, a bill that lacks an order we
// posted leaves it missing at the channel; `tally recon resolve` (the maker) submits its difference as an
// adjustment — the exception shows no resolution while the adjustment waits — and once the checker approves, the
// exception reads with its resolution transfer, posted.

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, referenceOf, type Client } from 'tally-ledger/client';
import { formatBusinessDay } from '../../src/core/business-day.js';
import { hashSecret, newSecret } from '../../src/gateway/auth.js';
import { resolutionTransferId } from '../../src/recon/recon-actions.js';
import { cliPath, repoRoot, type ServerProcess } from '../support/server-process.js';
import { tradeBill } from '../support/wechat-bill.js';
import { startReconServer, type ReconServer } from './recon-server.js';
import { newIdOnShard } from './shard-ids.js';

const run = promisify(execFile);
const ledger = 156;
const clearing = newIdOnShard(1, 2);
const merchant = newIdOnShard(0, 2);
const unidentified = newIdOnShard(0, 2);
const secrets = { maker: newSecret(), checker: newSecret() };
let recon: ReconServer;
let server: ServerProcess;
let maker: Client;
let checker: Client;
let dir: string;

beforeAll(async () => {
  recon = await startReconServer('resolution', [{
    name: 'wechat-main', format: 'wechatpay-tradebill', statementAccount: '1601959334', currency: 'CNY', ledger, timeZone: 'Asia/Shanghai',
    accounts: { clearing: String(clearing), unidentified: String(unidentified) }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
    ledgerCodes: { payment: [1001], refund: [1002], fee: [] }, tolerance: { dateWindowSeconds: 0 }, pendingDaysMax: 0,
    strategies: [{ type: '*', ours: '*', theirs: '*', action: 'hold' }],
  }], [
    { id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.maker) },
    { id: 'ops-bob', scopes: ['read', 'admin'], sha256: hashSecret(secrets.checker) },
  ]);
  ({ server, dir } = recon);
  maker = await connect({ url: server.url, apiKey: secrets.maker, timeoutMs: 30_000 });
  checker = await connect({ url: server.url, apiKey: secrets.checker, timeoutMs: 30_000 });
});
afterAll(async () => {
  await maker?.close();
  await checker?.close();
  await recon?.stop();
});

it('an exception reads with its resolution once the checker approved it, not before', async () => {
  expect((await maker.createAccounts([{ id: clearing, ledger, code: 5 }, { id: merchant, ledger, code: 1 }, { id: unidentified, ledger, code: 1 }])).map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
  const day = (await maker.closeDay()).dayBegun;
  const orders = ['R000001', 'R000002'];
  const posted = await maker.createTransfers(orders.map((order, i) => ({ id: 0x7400_0000n + BigInt(i), debitAccountId: clearing, creditAccountId: merchant, amount: 1500n, ledger, code: 1001, userData128: referenceOf(order) })));
  expect(posted.map((r) => r.result)).toEqual(['ok', 'ok']);
  expect((await maker.closeDay()).day).toBe(day);

  // The channel states the first order only: the second is missing at the channel, an error at once (pendingDaysMax 0).
  const bill = new TextEncoder().encode(tradeBill(formatBusinessDay(day), [{ serial: '420000000001', order: orders[0]!, status: 'SUCCESS', settled: 1500 }]));
  const sha256 = await maker.reconUploadFile(bill);
  const batch = await maker.reconImport({ channel: 'wechat-main', files: [{ name: 'bill.csv', sha256 }] });
  expect(batch).toMatchObject({ status: 'matched', exceptions: 1 });
  const [exception] = (await maker.getReconExceptions({ batch: batch.id })).exceptions;
  expect(exception).toMatchObject({ n: 1, outcome: 'pending_expired' });
  expect(exception!.resolution).toBeUndefined();

  const cli = await run(process.execPath, [cliPath(), 'recon', 'resolve', batch.id, '--exception', '1', '--channels', join(dir, 'channels.json'), '--reason', 'the channel lost it', '--json', '--url', server.url, '--key', secrets.maker], { cwd: repoRoot(), timeout: 60_000 });
  const submitted = JSON.parse(cli.stdout) as { transfers: number; adjustments: string[] };
  expect(submitted.transfers).toBe(1);
  // Waiting for a checker: nothing posted, nothing shown.
  expect((await maker.getReconExceptions({ batch: batch.id })).exceptions[0]!.resolution).toBeUndefined();

  await checker.approveAdjustment(submitted.adjustments[0]!);
  const resolved = (await maker.getReconExceptions({ batch: batch.id })).exceptions[0]!;
  expect(resolved.resolution).toMatchObject({ transferId: String(resolutionTransferId(batch.id, 1)), status: 'posted' });
  expect(BigInt(resolved.resolution!.timestamp)).toBeGreaterThan(0n);
  // The CSV export people work from says so too.
  const csv = join(dir, 'exceptions.csv');
  await run(process.execPath, [cliPath(), 'recon', 'exceptions', batch.id, '--csv', csv, '--url', server.url, '--key', secrets.maker], { cwd: repoRoot(), timeout: 60_000 });
  expect(await readFile(csv, 'utf8')).toContain(`"${resolutionTransferId(batch.id, 1)}","posted"`);
}, 120_000);
