// `tally recon check` (issue #17): statement files checked offline — each accepted or refused with where it breaks
// and by how much in the statement's currency, exit 1 when one is refused, 2 on a usage error, --json for scripts.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { cliPath, repoRoot } from '../support/server-process.js';

const run = promisify(execFile);
const samples = join(repoRoot(), 'test/fixtures/statements/mt940');

function tally(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args], { cwd: repoRoot(), timeout: 30_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

test('accepts statements that add up, refuses one that does not, saying where and by how much', async () => {
  const good = await tally(['recon', 'check', join(samples, 'mt940_tests_jejik_generic.sta'), join(samples, 'centrapay_test2.mt942')]);
  expect(good.code).toBe(0);
  expect(good.stdout).toContain('mt940_tests_jejik_generic.sta: accepted (mt940, 2 entries)');
  expect(good.stdout).toContain('centrapay_test2.mt942: accepted (mt942, 3 entries)');
  const bad = await tally(['recon', 'check', join(samples, 'mt940js_abn-amro-1.STA')]);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain('REFUSED');
  expect(bad.stdout).toContain('expected 3153.90, found 2940.39, off by -213.51 EUR');
  const json = await tally(['recon', 'check', join(samples, 'centrapay_test1.mt940'), '--json']);
  expect(JSON.parse(json.stdout)).toMatchObject({ problems: [{ code: 'chain', expected: '50000', found: '305898', currency: 'EUR' }] });
});

test('BAI2 and OFX files: told from their first bytes, control totals and FITIDs checked', async () => {
  const fixtures = join(repoRoot(), 'test/fixtures/statements');
  const bai2 = await tally(['recon', 'check', join(fixtures, 'bai2/spec-two-groups.bai'), join(fixtures, 'bai2/wrong-account-total.bai')]);
  expect(bai2.code).toBe(1);
  expect(bai2.stdout).toContain('spec-two-groups.bai: accepted (bai2, 9 entries)');
  expect(bai2.stdout).toContain('expected 149.00, found 150.00, off by 1.00 USD');
  const ofx = await tally(['recon', 'check', join(fixtures, 'ofx/bank-sgml-102.ofx'), join(fixtures, 'ofx/duplicate-fitid.ofx')]);
  expect(ofx.code).toBe(1);
  expect(ofx.stdout).toContain('bank-sgml-102.ofx: accepted (ofx, 5 entries)');
  expect(ofx.stdout).toContain('FITID "A101" again');
});

test('refuses what is no statement and usage errors', async () => {
  expect((await tally(['recon', 'check', join(repoRoot(), 'package.json')])).code).toBe(1);
  expect((await tally(['recon', 'check'])).code).toBe(2);
  expect((await tally(['recon', 'import'])).code).toBe(2);
  expect((await tally(['recon', 'check', 'x', '--format', 'bai3'])).code).toBe(2);
});

test('camt files: XML told from its first byte, refused with where and by how much', async () => {
  const camt = join(repoRoot(), 'test/fixtures/statements/camt');
  const good = await tally(['recon', 'check', join(camt, 'camt053.v2.multi.statement.xml'), join(camt, 'fi_fkl_camt053_v02.xml')]);
  expect(good.code).toBe(0);
  expect(good.stdout).toContain('camt053.v2.multi.statement.xml: accepted (camt, 2 entries)');
  const bad = await tally(['recon', 'check', join(camt, 'postfinance_camt053_v04.xml')]);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toContain('off by -1537.00 CHF');
  // PostFinance leaves the entry value-dated the next day out of CLBD: on that basis the statement adds up.
  expect((await tally(['recon', 'check', join(camt, 'postfinance_camt053_v04.xml'), '--balance-basis', 'value'])).code).toBe(0);
  expect((await tally(['recon', 'check', join(camt, 'postfinance_camt053_v04.xml'), '--balance-basis', 'x'])).code).toBe(2);
  expect((await tally(['recon', 'check', join(repoRoot(), 'package.json'), '--format', 'camt'])).stdout).toContain('is no readable camt XML');
});

test('a WeChat Pay trade bill, told from its header', async () => {
  const bill = join(repoRoot(), 'test/fixtures/statements/wechatpay/gunsluo_tradebill_ALL_20210128.csv');
  const checked = await tally(['recon', 'check', bill]);
  expect(checked.code).toBe(0);
  expect(checked.stdout).toContain('gunsluo_tradebill_ALL_20210128.csv: accepted (wechat-bill, 3 entries)');
});
