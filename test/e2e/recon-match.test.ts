// `tally recon match` end to end (issue #17): a day of WeChat Pay payments and a refund posted on a running server
// (2 shards) with the order reference the client derives (referenceOf), the day cut, then the channel's trade bill
// for that day with differences injected — an order the channel never stated, an amount that differs, an order we
// never posted (漏单), a row stated twice. Each is found with its outcome and nothing else; the exceptions file is
// formula-safe CSV; a bill that does not add up is refused with nothing matched.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, referenceOf, type Client, type TransferInput } from 'tally-ledger/client';
import { formatBusinessDay } from '../../src/core/business-day.js';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard } from './shard-ids.js';
import { tradeBill, yuan, type BillRow } from '../support/wechat-bill.js';

const run = promisify(execFile);
const ledger = 156; // CNY: amounts shown with 2 decimals
const paymentCode = 1001;
const refundCode = 1002;
let server: ServerProcess;
let client: Client;
let dir: string;

beforeAll(async () => {
  server = await startServerProcess({ shardCount: 2, env: { TALLY_DAY_CUT: 'manual' } });
  client = await connect({ url: server.url, timeoutMs: 30_000 });
  dir = await mkdtemp(join(tmpdir(), 'tally-recon-match-'));
});

afterAll(async () => {
  await client?.close();
  await server?.cleanup();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function tally(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args], { cwd: repoRoot(), timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('tally recon match', () => {
  it('finds every difference between a trade bill and the day posted, with its outcome, and nothing else', async () => {
    const clearing = newIdOnShard(0, 2);
    const merchant = newIdOnShard(1, 2);
    const opened = await client.createAccounts([
      { id: clearing, ledger, code: 5 }, // the channel's clearing account (渠道存款): an asset, money the channel holds for us
      { id: merchant, ledger, code: 1 },
    ]);
    expect(opened.map((r) => r.result)).toEqual(['ok', 'ok']);
    const day = (await client.closeDay()).dayBegun;
    const dayText = formatBusinessDay(day);

    const order = (i: number): string => `P${day}${String(i).padStart(4, '0')}`;
    const amount = (i: number): number => 1000 + i * 37;
    const payments: TransferInput[] = [];
    for (let i = 1; i <= 10; i++) {
      payments.push({ id: 0x7100_0000n + BigInt(i), debitAccountId: clearing, creditAccountId: merchant, amount: BigInt(amount(i)), ledger, code: paymentCode, userData128: referenceOf(order(i)) });
    }
    const refund: TransferInput = { id: 0x7200_0001n, debitAccountId: merchant, creditAccountId: clearing, amount: 500n, ledger, code: refundCode, userData128: referenceOf(order(2)) };
    expect((await client.createTransfers([...payments, refund])).map((r) => r.result)).toEqual([...payments, refund].map(() => 'ok'));
    expect((await client.closeDay()).day).toBe(day);

    const rows: BillRow[] = [];
    for (let i = 1; i <= 10; i++) {
      if (i === 3) continue; // paid at the channel's end of day: not in its bill (missing at the channel)
      rows.push({ serial: `42000009${day}${i}`, order: order(i), status: 'SUCCESS', settled: amount(i) + (i === 5 ? 1 : 0) });
      if (i === 7) rows.push({ serial: `42000009${day}${i}`, order: order(i), status: 'SUCCESS', settled: amount(i) }); // stated twice
    }
    rows.push({ serial: `42000009${day}2`, order: order(2), status: 'REFUND', settled: amount(2), refund: 500 });
    rows.push({ serial: `42000009${day}99`, order: order(99), status: 'SUCCESS', settled: 4200 }); // never posted by us (漏单)
    const bill = join(dir, 'bill.csv');
    await writeFile(bill, tradeBill(dayText, rows));
    const channels = join(dir, 'channels.json');
    await writeFile(channels, JSON.stringify({
      version: 1,
      channels: [{
        name: 'wechat-test', format: 'wechatpay-tradebill', statementAccount: '1601959334', currency: 'CNY', ledger, timeZone: 'Asia/Shanghai',
        accounts: { clearing: String(clearing) }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
        ledgerCodes: { payment: [paymentCode], refund: [refundCode], fee: [] },
      }],
    }));
    const exceptions = join(dir, 'exceptions.csv');

    const result = await tally(['recon', 'match', '--channels', channels, '--channel', 'wechat-test', bill, '--json', '--exceptions', exceptions, '--url', server.url]);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as {
      day: string; statementRows: number; transfersRead: number;
      totals: Record<string, { count: number; amount: string }>;
      exceptions: { outcome: string; theirs: string; ours: string; rows: { merchantOrderNo: string }[]; transferIds: string[]; differences: { field: string; difference?: string }[] }[];
    };
    expect(report).toMatchObject({ day: dayText, statementRows: 12, transfersRead: 11 });
    const counts = Object.fromEntries(Object.entries(report.totals).filter(([, total]) => total.count > 0).map(([name, total]) => [name, total.count]));
    expect(counts).toEqual({ matched: 9, amount_mismatch: 1, duplicate_at_channel: 1, missing_at_channel: 1, missing_on_platform: 1 });
    const byOutcome = new Map(report.exceptions.map((exception) => [exception.outcome, exception]));
    expect(byOutcome.get('amount_mismatch')).toMatchObject({ theirs: '11.86', ours: '11.85', rows: [{ merchantOrderNo: order(5) }], differences: [{ field: 'amount', difference: '0.01' }] });
    expect(byOutcome.get('missing_at_channel')).toMatchObject({ ours: '11.11', transferIds: [String(0x7100_0003n)] });
    expect(byOutcome.get('missing_on_platform')).toMatchObject({ theirs: '42.00', rows: [{ merchantOrderNo: order(99) }] });
    expect(byOutcome.get('duplicate_at_channel')).toMatchObject({ rows: [{ merchantOrderNo: order(7) }] });

    const csv = await readFile(exceptions, 'utf8');
    expect(csv.startsWith('\uFEFF"n","outcome","outcome_code"')).toBe(true);
    expect(csv.trim().split('\r\n')).toHaveLength(1 + 4);
    expect(csv).toContain(`"amount_mismatch","9","credit","11.86","11.85","theirs more by 0.01"`);

    // The same day with the bill's summary off by a fen: refused whole, nothing matched.
    const broken = join(dir, 'broken.csv');
    const summaryOff = tradeBill(dayText, rows).replace(/\n`12,`([0-9]+)\.([0-9]{2}),/, (_, whole: string, fen: string) => `\n\`12,\`${yuan(Number(whole) * 100 + Number(fen) + 1)},`);
    expect(summaryOff).not.toBe(tradeBill(dayText, rows));
    await writeFile(broken, summaryOff);
    const refused = await tally(['recon', 'match', '--channels', channels, '--channel', 'wechat-test', '--day', dayText, broken, '--url', server.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('nothing was matched');
    expect(refused.stderr).toContain('应结订单总金额');
    expect(refused.stdout).toBe('');
  }, 90_000);

  it('refuses a day the ledger has not closed, and usage errors', async () => {
    const channels = join(dir, 'open-day.json');
    await writeFile(channels, JSON.stringify({
      version: 1,
      channels: [{ name: 'c', format: 'mt940', currency: 'EUR', ledger: 978, timeZone: 'Europe/Amsterdam', accounts: { clearing: '77' }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }] }],
    }));
    const statement = join(repoRoot(), 'test/fixtures/statements/mt940/mt940_tests_jejik_generic.sta');
    const open = await tally(['recon', 'match', '--channels', channels, '--channel', 'c', '--day', '2099-01-01', statement, '--url', server.url]);
    expect(open.code).toBe(1);
    expect(open.stderr).toContain('is not closed on the ledger yet');
    expect((await tally(['recon', 'match', '--channels', channels, statement])).code).toBe(2);
    expect((await tally(['recon', 'match', '--channels', channels, '--channel', 'nope', statement])).stderr).toContain('has no channel "nope"');
    // A server without --recon-channels takes no statement files (they would be kept for ever, never reconciled).
    await expect(client.reconUploadFile(new TextEncoder().encode('x'))).rejects.toThrow(/reconciliation is not configured/);
  });
});
