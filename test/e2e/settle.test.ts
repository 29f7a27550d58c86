// Clearing and settlement on the real server (issue #18): `tally serve --settle-config` with keys, a day of payments
// and a refund posted to a channel's 在途 account, fee strategies under maker–checker (the maker cannot approve; an
// unapproved one never applies), a preview (nothing posted), a run refused by the ledger (the payout account is
// missing: nothing of the chain posts, the state does not move), the same run again once fixed (posted), again
// (nothing new), a D1 merchant below its minimum payout carried to the next run and paid there, the statements, and
// every balance the runs moved checked to the minor unit — across a kill -9 and restart.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Client, type TransferInput } from 'tally-ledger/client';
import { formatBusinessDay, nextBusinessDay, previousBusinessDay } from '../../src/core/business-day.js';
import { hashSecret, newSecret } from '../../src/gateway/auth.js';
import { promisify } from 'node:util';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard } from './shard-ids.js';

const ledger = 156;
const secrets = { maker: newSecret(), checker: newSecret() };
// The 在途 account and m1's available account on different shards: m1's chain spans shards (the coordinator's).
const inTransit = newIdOnShard(0, 2);
const feeIncome = newIdOnShard(1, 2);
const payout = newIdOnShard(1, 2);
const customers = newIdOnShard(1, 2);
const m1 = { available: newIdOnShard(1, 2), reserve: newIdOnShard(0, 2) };
const m2 = { available: newIdOnShard(0, 2), reserve: newIdOnShard(1, 2) };
const agent = newIdOnShard(1, 2);
let server: ServerProcess;
let maker: Client;
let checker: Client;
let dir: string;

/** Fee: round(amount × rate, half up); a refund gives its fee back. */
const percentFee = (id: string, rate: string) => ({
  id, version: 1, inputs: { amount: 'positive_integer', refund: 'integer' }, outputs: ['fee'],
  instructions: [
    { let: 'charged', expr: ['round', ['*', 'amount', rate], 0, 'half_up'] },
    { let: 'fee', expr: 'charged' },
    { let: 'fee', expr: ['-', '0', 'charged'], when: ['=', 'refund', '1'] },
  ],
});
const fixedFee = (id: string, minor: string) => ({
  id, version: 1, inputs: { amount: 'positive_integer', refund: 'integer' }, outputs: ['fee'],
  instructions: [{ let: 'fee', expr: ['min', minor, 'amount'] }, { let: 'fee', expr: '0', when: ['=', 'refund', '1'] }],
});

let nextId = 0x5e77_0000n;
const payment = (merchant: number, amount: bigint, code = 1101): TransferInput => ({ id: nextId++, debitAccountId: customers, creditAccountId: inTransit, amount, ledger, code, userData32: merchant, userData64: amount / 400n });
const refund = (merchant: number, amount: bigint): TransferInput => ({ id: nextId++, debitAccountId: inTransit, creditAccountId: customers, amount, ledger, code: 1201, userData32: merchant });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tally-settle-'));
  const keys = join(dir, 'keys.json');
  await writeFile(keys, JSON.stringify({
    keys: [
      { id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.maker) },
      { id: 'ops-bob', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.checker) },
    ],
  }));
  const config = join(dir, 'settle.json');
  await writeFile(config, JSON.stringify({
    version: 1, ledger,
    transferCodes: { reserve_release: 801, fee: 802, share: 806, reserve_hold: 803, settle: 804, payout: 805 },
    calendar: { name: 'test', firstDay: '2026-01-01', lastDay: '2028-12-31', weekendDays: [6, 7], holidays: [], workingWeekendDays: [] },
    receivers: [{ name: 'agent-7', account: String(agent) }],
    channels: [{ name: 'wechat', inTransitAccount: String(inTransit), feeIncomeAccount: String(feeIncome), payoutAccount: String(payout), payments: { 1101: 'qr' }, refunds: { 1201: 'qr' } }],
    merchants: [
      { id: 'm1', number: 1, availableAccount: String(m1.available), reserveAccount: String(m1.reserve), cycle: 'D0', reserveBps: 1000, reserveDays: 30 },
      { id: 'm2', number: 2, availableAccount: String(m2.available), reserveAccount: String(m2.reserve), cycle: 'D1', minimumPayoutMinor: '100000', split: [{ receiver: 'agent-7', bps: 100 }] },
    ],
  }));
  server = await startServerProcess({ shardCount: 2, env: { TALLY_DAY_CUT: 'manual', TALLY_KEYS: keys, TALLY_SETTLE_CONFIG: config } });
  [maker, checker] = await Promise.all([connect({ url: server.url, apiKey: secrets.maker, timeoutMs: 30_000 }), connect({ url: server.url, apiKey: secrets.checker, timeoutMs: 30_000 })]);
});

afterAll(async () => {
  await maker?.close();
  await checker?.close();
  await server?.cleanup();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const run = promisify(execFile);

/** The tally command as an operator runs it, with the maker's key. */
function tally(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [cliPath(), ...args, '--url', server.url, '--key', secrets.maker], { cwd: repoRoot(), timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

async function balances(id: bigint): Promise<{ debits: bigint; credits: bigint }> {
  const [account] = await maker.lookupAccounts([id]);
  return { debits: account!.debitsPosted, credits: account!.creditsPosted };
}

describe('settlement', () => {
  it('clears a day from the ledger, runs once, pays nothing twice, carries below the minimum', async () => {
    // Every account but the payout account: the first run must fail on it.
    const opened = await maker.createAccounts([inTransit, feeIncome, customers, m1.available, m1.reserve, m2.available, m2.reserve, agent].map((id) => ({ id, ledger, code: 1 })));
    expect(opened.map((r) => r.result)).toEqual(Array(8).fill('ok'));

    // Fee strategies under maker–checker.
    const from = '2026-01-01T00:00:00Z';
    const s1 = await maker.submitSettleStrategy({ merchant: 'm1', effectiveFrom: from, strategy: percentFee('fee/m1', '0.006'), reason: 'contract 2026' });
    expect(s1.status).toBe('pending');
    await expect(maker.approveSettleStrategy(s1.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect((await checker.approveSettleStrategy(s1.id)).status).toBe('approved');
    const s2 = await maker.submitSettleStrategy({ merchant: 'm2', product: 'qr', effectiveFrom: from, strategy: fixedFee('fee/m2', '200'), reason: 'contract 2026' });
    // A document that reads an input no fee strategy has is refused, naming it.
    await expect(maker.submitSettleStrategy({ merchant: 'm2', effectiveFrom: from, strategy: { ...fixedFee('fee/x', '1'), inputs: { amount: 'positive_integer', refund: 'integer', tip: 'integer' } }, reason: 'bad' }))
      .rejects.toThrow(/tip/);

    // m1's reserve as a strategy (10% of what it keeps, rounded down: what its terms' 1,000 bps would hold too); one
    // for a product is refused (a reserve is the merchant's).
    const reserveDoc = { id: 'reserve/m1', version: 1, inputs: { kept: 'integer' }, outputs: ['reserve'], instructions: [{ let: 'reserve', expr: ['max', '0', ['round', ['*', 'kept', '0.1'], 0, 'down']] }] };
    await expect(maker.submitSettleStrategy({ kind: 'reserve', merchant: 'm1', product: 'qr', effectiveFrom: from, strategy: reserveDoc, reason: 'x' })).rejects.toThrow(/leave product out/);
    const r1 = await maker.submitSettleStrategy({ kind: 'reserve', merchant: 'm1', effectiveFrom: from, strategy: reserveDoc, reason: 'risk review 2026' });
    expect((await checker.approveSettleStrategy(r1.id)).kind).toBe('reserve');

    const dayT = (await maker.closeDay()).dayBegun;
    const posted = await maker.createTransfers([
      payment(1, 10_000n), payment(1, 25_000n), payment(1, 5_050n), refund(1, 2_000n),
      payment(2, 30_000n), payment(2, 40_000n),
      payment(99, 7_000n), // a merchant the configuration does not know: ignored, left in 在途
    ]);
    expect(posted.map((r) => r.result)).toEqual(Array(7).fill('ok'));
    expect((await maker.closeDay()).day).toBe(dayT);
    const T = formatBusinessDay(dayT);

    // m2's strategy is not approved: it does not apply, and m2's items cannot be cleared.
    await expect(maker.settlePreview(T)).rejects.toThrow(/m2 has no fee strategy/);
    expect((await checker.approveSettleStrategy(s2.id)).status).toBe('approved');

    // m1 is D0: due on T. Fees 60 + 150 + 30 − 12 = 228; net 38,050 − 228 = 37,822; reserve 10% = 3,782 (floored).
    const preview = await maker.settlePreview(T);
    // Clearing of the channel's day: fees 228 + 400, channel cost Σ user_data_64 = 25 + 62 + 12 + 75 + 100, margin the rest.
    const zeros = { clearedMinor: '0', paymentsMinor: '0', refundsMinor: '0', merchantFeesMinor: '0', channelCostMinor: '0', marginMinor: '0', heldMinor: '0' };
    expect(preview.days).toEqual([
      { channel: 'wechat', day: formatBusinessDay(previousBusinessDay(dayT)), state: 'cleared', items: 0, ignored: 0, totals: zeros },
      {
        channel: 'wechat', day: T, state: 'cleared', items: 6, ignored: 1,
        totals: { clearedMinor: '108050', paymentsMinor: '110050', refundsMinor: '2000', merchantFeesMinor: '628', channelCostMinor: '274', marginMinor: '354', heldMinor: '0' },
      },
    ]);
    expect(preview.merchants.map((m) => [m.merchant, m.grossMinor, m.feesMinor, m.netMinor, m.reserveHeldMinor, m.settledMinor])).toEqual([['m1', '38050', '228', '37822', '3782', '34040']]);
    expect(preview.merchants[0]!.explanation).toContain(`  reserve by strategy: 3782 of 37822 kept, held until ${preview.merchants[0]!.reserveReleaseOn}`);
    expect(preview.postings).toBe(4);
    expect(preview.check.balanced).toBe(true);
    expect(await balances(feeIncome)).toEqual({ debits: 0n, credits: 0n }); // a preview posts nothing

    // The payout account is missing: the chain is refused whole, the state does not move.
    const failed = await maker.settleRun(T);
    expect(failed.status).toBe('failed');
    expect(failed.transfers).toMatchObject({ ok: 0, exists: 0, failed: 4 });
    expect(failed.failures.map((f) => f.role).sort()).toEqual(['fee', 'payout', 'reserve_hold', 'settle']);
    expect(await balances(m1.available)).toEqual({ debits: 0n, credits: 0n });
    expect(await maker.getSettleStatement('m1', T)).toBeNull();

    expect((await maker.createAccounts([{ id: payout, ledger, code: 1 }])).map((r) => r.result)).toEqual(['ok']);
    const run = await maker.settleRun(T);
    expect(run.failures).toEqual([]);
    expect(run.status).toBe('posted');
    expect(run.transfers).toEqual({ ok: 4, exists: 0, failed: 0 });
    expect(await balances(feeIncome)).toEqual({ debits: 0n, credits: 228n });
    expect(await balances(m1.reserve)).toEqual({ debits: 0n, credits: 3_782n });
    expect(await balances(m1.available)).toEqual({ debits: 34_040n, credits: 34_040n });
    expect(await balances(payout)).toEqual({ debits: 0n, credits: 34_040n });

    // The same date again: what was paid is not due again.
    const again = await maker.settleRun(T);
    expect(again.status).toBe('nothing_due');
    expect(again.postings).toBe(0);
    expect(await balances(payout)).toEqual({ debits: 0n, credits: 34_040n });

    const statement = await maker.getSettleStatement('m1', T);
    expect(statement?.runs).toHaveLength(1);
    expect(statement!.runs[0]!.lines.map((l) => [l.kind, l.amountMinor, l.feeMinor, l.strategy, l.state])).toEqual([
      ['payment', '10000', '60', 'fee/m1 v1', 'paid'], ['payment', '25000', '150', 'fee/m1 v1', 'paid'], ['payment', '5050', '30', 'fee/m1 v1', 'paid'], ['refund', '2000', '-12', 'fee/m1 v1', 'paid'],
    ]);
    expect(statement!.runs[0]!.postings.map((p) => [p.role, p.amountMinor])).toEqual([['fee', '228'], ['reserve_hold', '3782'], ['settle', '34040'], ['payout', '34040']]);
    // Its lines come in pages: 3, then the last one.
    const first = await maker.getSettleStatementPage('m1', T, 0, 3);
    expect([first!.lines.length, first!.next, first!.runs[0]!.lineCount]).toEqual([3, 3, 4]);
    const rest = await maker.getSettleStatementPage('m1', T, first!.next!, 3);
    expect([rest!.lines.map((l) => l.kind), rest!.next]).toEqual([['refund'], null]);

    // Day T+1: m2's day T falls due; its fees (400) are taken, its agent paid 1% of each payment after its fee (分账:
    // 298 + 398), and the 68,904 left is below its minimum of 1,000.00 and carries.
    expect((await maker.createTransfers([payment(2, 50_000n)])).map((r) => r.result)).toEqual(['ok']);
    const dayU = nextBusinessDay(dayT);
    expect((await maker.closeDay()).day).toBe(dayU);
    const U = formatBusinessDay(dayU);
    const carry = await maker.settleRun(U);
    expect(carry.status).toBe('posted');
    expect(carry.transfers).toEqual({ ok: 2, exists: 0, failed: 0 });
    expect(carry.merchants.map((m) => [m.merchant, m.netMinor, m.sharesMinor, m.settledMinor, m.carriedOutMinor])).toEqual([['m2', '69600', '696', '0', '68904']]);
    expect(await balances(agent)).toEqual({ debits: 0n, credits: 696n });

    // A kill -9 between runs loses nothing: the state the next run starts from is durable.
    await server.kill('SIGKILL');
    await server.restart();
    await maker.close();
    maker = await connect({ url: server.url, apiKey: secrets.maker, timeoutMs: 30_000 });

    // T+2 (not closed: waiting): m2's day T+1 is due; 49,800 − 498 to the agent + 68,904 carried = 118,206 is paid.
    const V = formatBusinessDay(nextBusinessDay(dayU));
    const paid = await maker.settleRun(V);
    expect(paid.status).toBe('posted');
    expect(paid.days.find((d) => d.day === V)).toMatchObject({ state: 'waiting' });
    expect(paid.merchants.map((m) => [m.merchant, m.carriedInMinor, m.sharesMinor, m.settledMinor])).toEqual([['m2', '68904', '498', '118206']]);
    expect(paid.transfers).toEqual({ ok: 4, exists: 0, failed: 0 });
    expect(await balances(payout)).toEqual({ debits: 0n, credits: 34_040n + 118_206n });
    expect(await balances(agent)).toEqual({ debits: 0n, credits: 696n + 498n });
    expect(await balances(feeIncome)).toEqual({ debits: 0n, credits: 228n + 600n });
    // 在途 keeps only the unknown merchant's 7,000: everything else was settled, shared, or taken as fees and reserve.
    const transit = await balances(inTransit);
    expect(transit.credits - transit.debits).toBe(7_000n);

    // The CLI: a preview of the next date (nothing due, balanced), the statement as CSV, a strategy refused.
    const preview2 = await tally(['settle', 'preview', '--date', V]);
    expect(preview2.code, preview2.stderr).toBe(0);
    expect(preview2.stdout).toContain('balance check (总账平衡): balanced');
    expect(preview2.stdout).toContain(`wechat   ${V}  waiting`);
    const csvFile = join(dir, 'm2.csv');
    const report = await tally(['settle', 'report', '--merchant', 'm2', '--date', V, '--csv', csvFile]);
    expect(report.code, report.stderr).toBe(0);
    const csv = await readFile(csvFile, 'utf8');
    expect(report.stdout).toContain(`wrote 1 statement line to ${csvFile}`);
    expect(csv.split('\n').slice(0, 2)).toEqual([
      'run_id,channel,cycle,batch,trade_day,order_id,kind,product,amount,fee,strategy,reconciliation,state',
      `${paid.id},wechat,D1,1,${U},${(nextId - 1n).toString(16).padStart(32, '0')},payment,qr,50000,200,fee/m2 v1,matched,paid`,
    ]);
    expect(csv).toContain(`m2,${V},${paid.id},wechat,D1,1,50000,200,49800,498,0,,0,68904,0,118206,118206`);
    expect((await tally(['settle', 'report', '--merchant', 'm1', '--date', V])).code).toBe(1);
    expect((await tally(['settle', 'run'])).code).toBe(2);

    const audit = await maker.getAuditLog();
    expect(audit.filter((r) => r.operation === 61).map((r) => r.code)).toEqual(['failed', 'ok', 'ok', 'ok', 'ok']);
  });
});
