// Reconciliation stored on the server (issue #17), end to end through `tally recon import|batches|show|exceptions`
// against `tally serve --recon-channels`: a day whose bill lacks an order paid just before midnight (it waits in the
// pending pool) and states one we never posted (the strategy table posts the missing credit, 补单, and the next day
// does not take that transfer for one of ours), the same file again (refused, naming the batch), the next day's bill
// stating the late order (matched late, the pool empties), a bill that does not add up (a refused batch, nothing
// matched), and every batch and exception still there after a kill -9 and restart.

import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, referenceOf, type Client, type TransferInput } from 'tally-ledger/client';
import { formatBusinessDay, nextBusinessDay } from '../../src/core/business-day.js';
import type { ReconBatch } from '../../src/core/recon/batches.js';
import { cliPath, repoRoot, type ServerProcess } from '../support/server-process.js';
import { tradeBill, type BillRow } from '../support/wechat-bill.js';
import { startReconServer, type ReconServer } from './recon-server.js';
import { newIdOnShard } from './shard-ids.js';

const run = promisify(execFile);
const ledger = 156;
const clearing = newIdOnShard(1, 2);
const merchant = newIdOnShard(0, 2);
const unidentified = newIdOnShard(0, 2);
let recon: ReconServer;
let server: ServerProcess;
let client: Client;
let dir: string;

beforeAll(async () => {
  recon = await startReconServer('import', [{
    name: 'wechat-main', format: 'wechatpay-tradebill', statementAccount: '1601959334', currency: 'CNY', ledger, timeZone: 'Asia/Shanghai',
    accounts: { clearing: String(clearing), unidentified: String(unidentified) }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
    ledgerCodes: { payment: [1001], refund: [1002], fee: [] }, tolerance: { dateWindowSeconds: 0 }, pendingDaysMax: 3,
    strategies: [
      { type: 'payment', ours: 'none', theirs: 'success', action: 'post_missing_credit', amountMaxMinor: '5000' },
      { type: 'refund', ours: 'none', theirs: 'refund', action: 'post_refund' },
      { type: '*', ours: '*', theirs: '*', action: 'hold' },
    ],
  }, {
    // Interim reports (MT942) add up within a day: no daily identity, only each statement's own.
    name: 'nz-942', format: 'mt942', currency: 'NZD', ledger: 554, timeZone: 'Pacific/Auckland', accounts: { clearing: String(clearing) },
    keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
  }]);
  ({ server, dir } = recon);
  client = await connect({ url: server.url, timeoutMs: 30_000 });
});
afterAll(async () => {
  await client?.close();
  await recon?.stop();
});

function tally(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args, '--url', server.url], { cwd: repoRoot(), timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

const order = (i: number): string => `W${String(i).padStart(6, '0')}`;
const amount = (i: number): number => 2000 + i * 11;
const payment = (i: number): TransferInput => ({
  id: 0x7300_0000n + BigInt(i), debitAccountId: clearing, creditAccountId: merchant, amount: BigInt(amount(i)), ledger, code: 1001, userData128: referenceOf(order(i)),
});
const row = (i: number, time?: string): BillRow => ({ serial: `4200${String(i).padStart(8, '0')}`, order: order(i), status: 'SUCCESS', settled: amount(i), ...(time === undefined ? {} : { time }) });

describe('tally recon import', () => {
  it('stores batches, keeps what the channel has not stated in the pool, refuses the same statement twice', async () => {
    const opened = await client.createAccounts([{ id: clearing, ledger, code: 5 }, { id: merchant, ledger, code: 1 }, { id: unidentified, ledger, code: 1 }]);
    expect(opened.map((r) => r.result)).toEqual(['ok', 'ok', 'ok']);
    const dayT = (await client.closeDay()).dayBegun;
    const dayU = nextBusinessDay(dayT);
    expect((await client.createTransfers([1, 2, 3, 4].map(payment))).map((r) => r.result)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect((await client.closeDay()).day).toBe(dayT);

    // Day T: order 4 was paid at 23:59, the channel books it on the next day; order 9 we never posted (漏单); the
    // channel refunded 5.00 of order 1, which we never booked.
    const billT = join(dir, 'bill-T.csv');
    const refund: BillRow = { ...row(1), status: 'REFUND', refund: 500 };
    await writeFile(billT, tradeBill(formatBusinessDay(dayT), [row(1), row(2), row(3), row(9), refund]));
    const first = await tally(['recon', 'import', '--channel', 'wechat-main', billT, '--json']);
    expect(first.code, first.stderr).toBe(1); // exceptions: order 4 missing at the channel; order 9 and the refund on the platform
    const batchT = JSON.parse(first.stdout) as ReconBatch;
    expect(batchT).toMatchObject({ status: 'matched', day: formatBusinessDay(dayT), statementRows: 5, transfersRead: 4, exceptions: 3, poolIn: 0, poolOut: 1 });
    expect(batchT.totals).toEqual({ matched: { count: 3, amount: '60.66' }, missing_at_channel: { count: 1, amount: '20.44' }, missing_on_platform: { count: 2, amount: '25.99' } });
    expect(batchT.actions).toEqual({ done: 2, held: 1, failed: 0 });
    expect(first.stderr).toContain('uploaded');
    // The 补单 was posted on day U: the clearing account took the channel's 20.99 against the unidentified account;
    // the refund reversed 5.00 of order 1's payment (the merchant gives it back, the channel paid it out).
    const [unknownPayer, merchantAccount] = await client.lookupAccounts([unidentified, merchant]);
    expect(unknownPayer!.creditsPosted).toBe(BigInt(amount(9)));
    expect(merchantAccount!.debitsPosted).toBe(500n);

    expect((await client.createTransfers([payment(5)])).map((r) => r.result)).toEqual(['ok']);
    expect((await client.closeDay()).day).toBe(dayU);

    const again = await tally(['recon', 'import', '--channel', 'wechat-main', billT]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`imported already, in batch ${batchT.id}`);
    // The same day's statement in another file (a different hash) is refused too: a day is reconciled once.
    await writeFile(join(dir, 'bill-T2.csv'), tradeBill(formatBusinessDay(dayT), [row(1), row(2)]));
    const otherFile = await tally(['recon', 'import', '--channel', 'wechat-main', join(dir, 'bill-T2.csv')]);
    expect(otherFile.stderr).toContain(`reconciled already, in batch ${batchT.id}`);

    // A bill that does not add up: stored as refused, nothing matched, the pool untouched.
    const broken = join(dir, 'bill-U-broken.csv');
    await writeFile(broken, tradeBill(formatBusinessDay(dayU), [row(4, '00:00:05'), row(5)]).replace(/\n`2,`/, '\n`3,`'));
    const refused = await tally(['recon', 'import', '--channel', 'wechat-main', broken, '--json']);
    expect(refused.code).toBe(1);
    const refusedBatch = JSON.parse(refused.stdout) as ReconBatch;
    expect(refusedBatch).toMatchObject({ status: 'refused', exceptions: 0, totals: {} });
    expect(refusedBatch.problems.join('\n')).toContain('总交易单数');

    // Day U: order 4 stated at last (matched late, from the pool), order 5 in time.
    const billU = join(dir, 'bill-U.csv');
    await writeFile(billU, tradeBill(formatBusinessDay(dayU), [row(4, '00:00:05'), row(5)]));
    const second = await tally(['recon', 'import', '--channel', 'wechat-main', billU]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('matched_late');
    // The 补单 of day U is recon's own: not a platform row the channel should have stated.
    expect(second.stdout).toContain('pending pool: 1 taken in, 0 waiting after; 0 exception(s)');

    await server.kill(); // kill -9: every batch was acknowledged durable
    await server.restart();
    await client.close();
    client = await connect({ url: server.url, timeoutMs: 30_000 });
    const listed = await tally(['recon', 'batches', '--json']);
    const batches = JSON.parse(listed.stdout) as ReconBatch[];
    expect(batches.map((batch) => [batch.status, batch.day])).toEqual([
      ['matched', formatBusinessDay(dayU)],
      ['refused', ''],
      ['matched', formatBusinessDay(dayT)],
    ]);
    const shown = await tally(['recon', 'show', batchT.id]);
    expect(shown.stdout).toContain('missing_at_channel');
    expect(shown.stdout).toContain('actions: 2 posted, 1 held, 0 refused by the ledger');
    const csv = join(dir, 'exceptions.csv');
    const exceptions = await tally(['recon', 'exceptions', batchT.id, '--csv', csv]);
    expect(exceptions.code).toBe(0);
    expect(exceptions.stdout).toContain(`missing_at_channel: transfers ${0x7300_0004n}`);
    expect(exceptions.stdout).toContain('post_missing_credit: done');
    const lines = (await readFile(csv, 'utf8')).trim().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines.find((line) => line.includes('"post_refund"'))).toContain('"post_refund","done"');
    expect(lines.find((line) => line.includes('"missing_at_channel"'))).toContain('"missing_at_channel","12","credit","0.00","20.44"');
    expect(lines.find((line) => line.includes('"missing_on_platform"'))).toContain('"post_missing_credit","done"');

    // A person resolves the missing-at-channel exception by hand: its difference goes up for approval as an
    // adjustment (a second key approves; this server has one), with an id derived from batch and exception.
    const stated = JSON.parse((await tally(['recon', 'exceptions', batchT.id, '--outcome', 'missing_at_channel', '--json'])).stdout) as { n: number }[];
    const resolved = await tally(['recon', 'resolve', batchT.id, '--exception', String(stated[0]!.n), '--channels', join(dir, 'channels.json'), '--reason', 'written off after review', '--json']);
    expect(resolved.code, resolved.stderr).toBe(0);
    const submitted = JSON.parse(resolved.stdout) as { transfers: number; adjustments: string[] };
    expect(submitted.transfers).toBe(1);
    const [adjustment] = await client.getAdjustments({ status: 'pending' });
    expect(adjustment).toMatchObject({ id: submitted.adjustments[0], transferCount: 1 });
    expect(adjustment!.reason).toContain(`recon ${batchT.id}: written off after review`);

    // The same statement in other bytes (exported again) is refused as the statement it is, not only as a file.
    const report = await readFile(join(repoRoot(), 'test/fixtures/statements/mt940/centrapay_test2.mt942'), 'utf8');
    const interim = join(dir, 'interim.mt942');
    await writeFile(interim, report);
    const day = formatBusinessDay(dayT);
    expect((await tally(['recon', 'import', '--channel', 'nz-942', interim, '--day', day, '--json'])).stdout).toContain('"status": "matched"');
    const again942 = join(dir, 'interim-again.mt942');
    await writeFile(again942, `${report}\n`);
    const twice = await tally(['recon', 'import', '--channel', 'nz-942', again942, '--day', day]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/statement .* of nz-942 was reconciled already, in batch rcb_/);
  }, 120_000);
});
