// A business day end to end on the real server (2 shards, manual cuts): a day of traffic — same-shard
// and cross-shard payments, a refused credit that comes back, two-phase holds — then the day cut.
// Checked: the day report passes (总分核对 per subject, trial balance, transit explained), every
// account's opening(T) = closing(T−1), statements add up, closed days never change, and the books
// (subject balances, trial balance, lag) answer. Then the server restarts and answers the same.

import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { connect, type Client, type TransferInput } from 'tally-ledger/client';
import { AccountFlags, TransferFlags } from '../../src/core/types.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard } from './shard-ids.js';

const shardCount = 2;
const ledger = 1;
const customerCode = 1; // customer basic accounts in the default chart
const bankCode = 5; // channel / bank deposits
let server: ServerProcess;
let client: Client;

beforeAll(async () => {
  server = await startServerProcess({ shardCount, env: { TALLY_DAY_CUT: 'manual' } });
  client = await connect({ url: server.url, timeoutMs: 30_000 });
});

afterAll(async () => {
  await client?.close();
  await server?.cleanup();
});

/** Waits until every cross-shard credit (and return) has landed, as GET /health reports. */
async function transitIdle(): Promise<void> {
  const health = new URL('/health', server.url.replace(/^ws/, 'http'));
  await vi.waitFor(
    async () => {
      const body = (await (await fetch(health)).json()) as { transit: { inFlight: number } };
      expect(body.transit.inFlight).toBe(0);
    },
    { timeout: 10_000, interval: 20 },
  );
}

let nextId = 1n;
const transfer = (debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput => ({
  id: 0x5000_0000n + nextId++,
  debitAccountId,
  creditAccountId,
  amount,
  ledger,
  code: 1,
  ...extra,
});

describe('a business day, cut and checked', () => {
  test('traffic, the cut, the report and the closed-day queries', async () => {
    const banks = [newIdOnShard(0, shardCount), newIdOnShard(1, shardCount)];
    const customers = [0, 1, 0, 1, 0, 1].map((shard) => newIdOnShard(shard, shardCount));
    // A bank account on shard 1 that takes no credit beyond its debits: its own shard judges credits to it.
    const capped = newIdOnShard(1, shardCount);
    const accounts = [
      ...banks.map((id) => ({ id, ledger, code: bankCode })),
      { id: capped, ledger, code: bankCode, flags: AccountFlags.credits_must_not_exceed_debits },
      ...customers.map((id) => ({ id, ledger, code: customerCode, flags: AccountFlags.debits_must_not_exceed_credits })),
    ];
    expect((await client.createAccounts(accounts)).map((r) => r.result)).toEqual(accounts.map(() => 'ok'));
    const first = await client.closeDay();
    expect(first.passed).toBe(true);
    const dayT = first.dayBegun;

    // Day T: deposits from the banks, payments within and across shards, a hold posted and one voided.
    const deposits = customers.map((c, i) => transfer(banks[i % 2]!, c, 1_000n));
    expect((await client.createTransfers(deposits)).every((r) => r.result === 'ok')).toBe(true);
    const payments = [
      transfer(customers[0]!, customers[2]!, 100n), // same shard
      transfer(customers[0]!, customers[1]!, 150n), // across
      transfer(customers[1]!, customers[4]!, 75n), // across
      transfer(customers[3]!, customers[5]!, 20n), // same shard
      transfer(customers[2]!, customers[3]!, 300n, { flags: TransferFlags.pending }),
      transfer(customers[4]!, customers[5]!, 40n, { flags: TransferFlags.pending }),
    ];
    expect((await client.createTransfers(payments)).map((r) => r.result)).toEqual(payments.map(() => 'ok'));
    const post = transfer(customers[2]!, customers[3]!, 250n, { flags: TransferFlags.post_pending, pendingId: payments[4]!.id });
    const voided = transfer(customers[4]!, customers[5]!, 0n, { flags: TransferFlags.void_pending, pendingId: payments[5]!.id });
    expect((await client.createTransfers([post, voided])).map((r) => r.result)).toEqual(['ok', 'ok']);
    // A payee blocked for credits on the other shard is refused at once, as on one shard.
    expect((await client.accountOperations([{ id: 0x6000_0001n, accountId: customers[5]!, kind: 'block', flags: 4 }])).map((r) => r.result)).toEqual(['ok']);
    expect((await client.createTransfers([transfer(customers[0]!, customers[5]!, 10n)])).map((r) => r.result)).toEqual(['account_blocked']);
    // A credit the payee's balance rule refuses: judged by its shard before the reply, as on one shard, whether the
    // amount is stated or is a whole freeze paid to it (the payer's shard checks that against the payee's room).
    expect((await client.createTransfers([transfer(customers[0]!, capped, 10n)])).map((r) => r.result)).toEqual(['credits_exceed_debits']);
    expect((await client.accountOperations([{ id: 0x6000_0002n, accountId: customers[0]!, kind: 'freeze', amount: 10n }])).map((r) => r.result)).toEqual(['ok']);
    const refused = transfer(customers[0]!, capped, 0n, { flags: TransferFlags.unfreeze_and_pay, pendingId: 0x6000_0002n });
    expect((await client.createTransfers([refused])).map((r) => r.result)).toEqual(['credits_exceed_debits']);
    expect((await client.accountOperations([{ id: 0x6000_0003n, accountId: customers[0]!, kind: 'unfreeze', freezeId: 0x6000_0002n }])).map((r) => r.result)).toEqual(['ok']);
    await transitIdle();

    const report = await client.closeDay();
    expect(report.day).toBe(dayT);
    expect(report.failures).toEqual([]);
    expect(report.checks.detailVsGeneral.passed).toBe(true);
    expect(report.checks.trialBalance.passed).toBe(true);
    expect(report.checks.transit.passed).toBe(true);
    expect(report.passed).toBe(true);
    expect(await client.getDayReport(dayT)).toEqual(report);
    const health = (await (await fetch(new URL('/health', server.url.replace(/^ws/, 'http')))).json()) as { days: unknown };
    expect(health.days).toEqual({ lastClosedDay: dayT, lastReportPassed: true, failedReports: 0 });
    // Closing the same day again returns the stored report: a closed day never changes.
    expect(await client.closeDay(report.dayBegun)).toEqual(report);

    // Opening(T) = closing(T−1) for every account, and statements add up to the closing balance.
    for (const { id } of accounts) {
      const before = await client.getBalanceAtDay(id, first.day);
      const closing = await client.getBalanceAtDay(id, dayT);
      const statement = (await client.getAccountStatement(id, dayT, dayT))!;
      expect(statement.opening).toEqual(before ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n });
      expect(statement.closing).toEqual(closing);
      const moved = statement.entries.reduce(
        (sum, e) => {
          if (e.transfer.debitAccountId === id) sum.debits += e.transfer.amount;
          if (e.transfer.creditAccountId === id) sum.credits += e.transfer.amount;
          return sum;
        },
        { debits: 0n, credits: 0n },
      );
      const pendingKinds = TransferFlags.pending | TransferFlags.void_pending;
      const postedOnly = statement.entries.filter((e) => (e.transfer.flags & pendingKinds) === 0);
      const postedDebits = postedOnly.filter((e) => e.transfer.debitAccountId === id).reduce((s, e) => s + e.transfer.amount, 0n);
      const postedCredits = postedOnly.filter((e) => e.transfer.creditAccountId === id).reduce((s, e) => s + e.transfer.amount, 0n);
      expect(moved.debits).toBeGreaterThanOrEqual(postedDebits);
      expect(statement.opening.debitsPosted + postedDebits).toBe(statement.closing.debitsPosted);
      expect(statement.opening.creditsPosted + postedCredits).toBe(statement.closing.creditsPosted);
    }
    expect(await client.getBalanceAtDay(customers[0]!, dayT)).toMatchObject({ debitsPosted: 250n, creditsPosted: 1_000n });

    // The books: customer deposits are a liability of 6,000 minus nothing paid out (money only moved between customers).
    const subjects = await client.getSubjectBalances(ledger, dayT);
    const customerLeaf = subjects.find((s) => s.name.includes('Customer basic'));
    expect(customerLeaf?.balance).toBe('6000');
    expect((await client.getBookkeepingStatus()).every((s) => s.lag >= 0)).toBe(true);
    await expect(client.getBalanceAtDay(customers[0]!, report.dayBegun)).rejects.toMatchObject({ code: 'body_invalid' });

    // The operator's command: the next cut, its report printed, exit status 0 when every check passed.
    const cli = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'src', 'cli', 'main.js'), 'close-day', '--url', server.url], { encoding: 'utf8' });
    expect(cli.status).toBe(0);
    expect(cli.stdout).toContain(`Day report ${String(report.dayBegun).replace(/(\d{4})(\d{2})(\d{2})/, '$1-$2-$3')}`);
    expect(cli.stdout).toMatch(/✓/);

    // After a restart the closed day answers exactly the same.
    const closingBefore = await Promise.all(accounts.map((a) => client.getBalanceAtDay(a.id, dayT)));
    await client.close();
    await server.kill('SIGKILL');
    await server.restart();
    client = await connect({ url: server.url, timeoutMs: 30_000 });
    expect(await client.getDayReport(dayT)).toEqual(report);
    expect(await Promise.all(accounts.map((a) => client.getBalanceAtDay(a.id, dayT)))).toEqual(closingBefore);
  });
});
