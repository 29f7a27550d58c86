// Reconciliation (issue #17), OFX's balance chain across imports on the real server: the first day's statement is
// accepted unchained (OFX states no opening balance), the next day's closes at the first's LEDGERBAL plus its own
// transactions and is accepted, and a statement of the day after whose LEDGERBAL does not follow is refused — a
// refused batch naming the difference, nothing matched — until the corrected statement comes.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, referenceOf, type Client } from 'tally-ledger/client';
import { formatBusinessDay, nextBusinessDay } from '../../src/core/business-day.js';
import { writeOfx, type OfxOptions } from '../support/statement-writers/ofx.js';
import type { Movement } from '../support/statement-writers/movement.js';
import { startReconServer, type ReconServer } from './recon-server.js';
import { newIdOnShard } from './shard-ids.js';

const ledger = 978;
const clearing = newIdOnShard(1, 2);
const merchant = newIdOnShard(0, 2);
const account = '4471001';
const options: OfxOptions = { version: 'sgml-102', decimalComma: false, plusSign: false, dateOnly: false, encoding: 'windows-1252', closeLeaves: false, kind: 'bank', otherStatement: false };
let recon: ReconServer;
let client: Client;

beforeAll(async () => {
  recon = await startReconServer('ofx', [{
    name: 'bank-eur', format: 'ofx', statementAccount: account, currency: 'EUR', ledger, timeZone: 'Europe/Berlin',
    accounts: { clearing: String(clearing) }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }],
    ledgerCodes: { payment: [1001], refund: [1002], fee: [] },
  }]);
  client = await connect({ url: recon.server.url, timeoutMs: 30_000 });
});
afterAll(async () => {
  await client?.close();
  await recon?.stop();
});

const movement = (order: string, amountMinor: bigint, date: string): Movement => ({
  reference: order, serial: `FIT-${order}`, refundNo: '', amountMinor, direction: 'credit', feeMinor: 0n, status: 'success', type: 'payment', time: '10:00:00', valueDate: date,
});

async function importOfx(date: string, movements: Movement[], openingMinor: bigint) {
  const [file] = writeOfx(movements, { date, account, currency: 'EUR', openingMinor }, options);
  const sha256 = await client.reconUploadFile(file!.bytes);
  return client.reconImport({ channel: 'bank-eur', files: [{ name: file!.name, sha256 }] });
}

it('accepts a statement that follows its account\'s previous LEDGERBAL and refuses one that does not', async () => {
  expect((await client.createAccounts([{ id: clearing, ledger, code: 5 }, { id: merchant, ledger, code: 1 }])).map((r) => r.result)).toEqual(['ok', 'ok']);
  const dayT = (await client.closeDay()).dayBegun;
  const pay = (n: number, order: string, amount: bigint) => ({ id: 0x7500_0000n + BigInt(n), debitAccountId: clearing, creditAccountId: merchant, amount, ledger, code: 1001, userData128: referenceOf(order) });
  expect((await client.createTransfers([pay(1, 'A-1', 2_500n)])).map((r) => r.result)).toEqual(['ok']);
  expect((await client.closeDay()).day).toBe(dayT);
  const dayU = nextBusinessDay(dayT);
  expect((await client.createTransfers([pay(2, 'A-2', 1_000n)])).map((r) => r.result)).toEqual(['ok']);
  expect((await client.closeDay()).day).toBe(dayU);
  const [t, u, v] = [dayT, dayU, nextBusinessDay(dayU)].map(formatBusinessDay) as [string, string, string];

  // Day T: the first statement of the account, nothing to chain to. Day U: 10,000 + 25.00 → 10,025.00, then + 10.00.
  expect(await importOfx(t, [movement('A-1', 2_500n, t)], 1_000_000n)).toMatchObject({ status: 'matched', exceptions: 0 });
  expect(await importOfx(u, [movement('A-2', 1_000n, u)], 1_002_500n)).toMatchObject({ status: 'matched', exceptions: 0 });

  // Day V's statement opens 1.00 short of where U closed: its LEDGERBAL does not follow, the import is refused.
  const refused = await importOfx(v, [movement('A-3', 700n, v)], 1_003_400n);
  expect(refused.status).toBe('refused');
  expect(refused.problems).toEqual([expect.stringMatching(/^4471001-.*\.ofx: balance: .* LEDGERBAL 10041\.00 ≠ 10042\.00: the previous statement's 10035\.00 \(to \d{8}, batch rcb_\w+\) \+ this one's transactions 7\.00 EUR$/)]);
  // The statement as the bank corrects it follows, and is taken (once V is closed; A-3 we never posted: 漏单).
  expect(formatBusinessDay((await client.closeDay()).day)).toBe(v);
  const corrected = await importOfx(v, [movement('A-3', 700n, v)], 1_003_500n);
  expect(corrected).toMatchObject({ status: 'matched', problems: [], exceptions: 1 });
}, 120_000);
