// Issue #20 on the real server (2 shards, manual cuts), regressions of two ways a day cut stopped the ledger:
//  - a day that is no date (20261301) or years ahead was taken by close_day; the bookkeeper then failed on it
//    in a loop (thousands of error lines, also after a restart) and GET /metrics answered 500. Now refused
//    body_invalid with nothing cut, on every day-taking operation.
//  - with accounts on hundreds of ledgers the cut's closing write failed ("Key of size 6436 was too large"),
//    and from then on every write to that shard answered storage_failed and cross-shard credits to it stayed
//    in flight; after restarts `tally verify` could find a closed day with "no summary is stored". Now the cut
//    passes, writes and credits go on, a SIGKILL and restart answer the same, and verify passes.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { connect, type Client, type TransferInput } from 'tally-ledger/client';
import { BusinessCalendar, nextBusinessDay, parseDayCutSchedule } from '../../src/core/business-day.js';
import { BalanceAtDayLayout, StatementLayout } from '../../src/core/layout.js';
import { Operation } from '../../src/core/operations.js';
import { writeU128 } from '../../src/core/u128.js';
import { RawSocket } from '../support/raw-socket.js';
import { cliPath, repoRoot, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard } from './shard-ids.js';

const run = promisify(execFile);
const shardCount = 2;
const ledgerCount = 300;
const bankCode = 5;
const customerCode = 1;
let server: ServerProcess;
let client: Client;

beforeAll(async () => {
  server = await startServerProcess({ shardCount, env: { TALLY_DAY_CUT: 'manual' } });
  client = await connect({ url: server.url, timeoutMs: 60_000 });
});

afterAll(async () => {
  await client?.close();
  await server?.cleanup();
});

async function transitIdle(): Promise<void> {
  await vi.waitFor(
    async () => {
      const body = JSON.parse((await server.health()).body) as { transit: { inFlight: number } };
      expect(body.transit.inFlight).toBe(0);
    },
    { timeout: 30_000, interval: 20 },
  );
}

/** One raw request; its error code, or 'ok'. */
async function codeOf(operation: number, body: Uint8Array): Promise<string> {
  const socket = await RawSocket.open(server.port);
  try {
    socket.request(1, operation, body);
    const reply = await socket.next();
    return reply.error?.code ?? 'ok';
  } finally {
    await socket.close();
  }
}

function u32s(...values: number[]): Uint8Array {
  const body = new Uint8Array(values.length * 4);
  values.forEach((value, i) => new DataView(body.buffer).setUint32(i * 4, value, true));
  return body;
}

describe('hostile days', () => {
  test('a day that is no date, or too far ahead, is refused everywhere and cuts nothing; the books and /metrics go on', async () => {
    const dayBefore = (await client.getBookkeepingStatus()).map((s) => s.businessDay);
    const today = new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')).dayOf(BigInt(Date.now()) * 1_000_000n);
    const balanceAt = (day: number): Uint8Array => {
      const body = new Uint8Array(BalanceAtDayLayout.bytes);
      writeU128(new DataView(body.buffer), BalanceAtDayLayout.accountId, 1n);
      new DataView(body.buffer).setUint32(BalanceAtDayLayout.day, day, true);
      return body;
    };
    const statement = (from: number, to: number): Uint8Array => {
      const body = new Uint8Array(StatementLayout.bytes);
      const view = new DataView(body.buffer);
      view.setUint32(StatementLayout.fromDay, from, true);
      view.setUint32(StatementLayout.toDay, to, true);
      view.setUint32(StatementLayout.limit, 10, true);
      return body;
    };
    const refusals = [
      [Operation.close_day, u32s(20261301)],
      [Operation.close_day, u32s(20260230)],
      [Operation.close_day, u32s(0xffff_ffff)],
      [Operation.close_day, u32s(nextBusinessDay(nextBusinessDay(today)))], // two days ahead of everything
      [Operation.close_day, u32s(99991231)],
      [Operation.get_day_report, u32s(20261301)],
      [Operation.get_balance_at_day, balanceAt(20251301)],
      [Operation.get_account_statement, statement(20260101, 20261332)],
      [Operation.get_subject_balances, u32s(1, 20261301)],
      [Operation.get_trial_balance, u32s(1, 20250229)],
    ] as const;
    for (const [operation, body] of refusals) expect([operation, await codeOf(operation, body)]).toEqual([operation, 'body_invalid']);
    expect((await client.getBookkeepingStatus()).map((s) => s.businessDay)).toEqual(dayBefore);
    const metrics = await fetch(`${server.httpUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/tally_bookkeeping_lag_entries\{shard="1"\}/);
    expect(server.output()).not.toMatch(/bookkeeping halted|assertion failed/);
  });
});

describe('a day cut with accounts on hundreds of ledgers', () => {
  test(`${ledgerCount} ledgers on both shards: the cut passes, writes and cross-shard credits go on, through a SIGKILL; verify passes`, async () => {
    // Per ledger a bank on shard 0 and a customer on shard 1; money crosses both ways on every ledger.
    const banks = Array.from({ length: ledgerCount }, () => newIdOnShard(0, shardCount));
    const customers = Array.from({ length: ledgerCount }, () => newIdOnShard(1, shardCount));
    const accounts = banks.flatMap((bank, i) => [
      { id: bank, ledger: i + 1, code: bankCode },
      { id: customers[i]!, ledger: i + 1, code: customerCode },
    ]);
    expect((await client.createAccounts(accounts)).every((r) => r.result === 'ok')).toBe(true);
    let nextId = 0x9000_0000n;
    const pay = (from: bigint, to: bigint, amount: bigint, ledger: number): TransferInput => ({ id: nextId++, debitAccountId: from, creditAccountId: to, amount, ledger, code: 1 });
    const deposits = banks.map((bank, i) => pay(bank, customers[i]!, 10n, i + 1));
    expect((await client.createTransfers(deposits)).every((r) => r.result === 'ok')).toBe(true);
    await transitIdle();
    const refunds = customers.map((customer, i) => pay(customer, banks[i]!, 3n, i + 1));
    expect((await client.createTransfers(refunds)).every((r) => r.result === 'ok')).toBe(true);
    await transitIdle();

    const report = await client.closeDay();
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.checks.trialBalance.ledgers).toHaveLength(ledgerCount);
    const closedDay = report.day;

    // Both shards take writes, and credits across shards land, after the cut.
    const after = [pay(banks[0]!, customers[0]!, 5n, 1), pay(customers[1]!, banks[1]!, 2n, 2)];
    expect((await client.createTransfers(after)).map((r) => r.result)).toEqual(['ok', 'ok']);
    await transitIdle();
    const closing = async (): Promise<unknown[]> =>
      Promise.all([banks[0]!, customers[0]!, banks[ledgerCount - 1]!, customers[ledgerCount - 1]!].map((id) => client.getBalanceAtDay(id, closedDay)));
    expect(await closing()).toEqual([
      { debitsPosted: 10n, creditsPosted: 3n, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 3n, creditsPosted: 10n, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 10n, creditsPosted: 3n, debitsPending: 0n, creditsPending: 0n },
      { debitsPosted: 3n, creditsPosted: 10n, debitsPending: 0n, creditsPending: 0n },
    ]);
    const second = await client.closeDay();
    expect(second.passed).toBe(true);
    expect(second.day).toBe(report.dayBegun);

    // Killed right after a cut: the restarted server answers the same and goes on.
    expect((await client.createTransfers([pay(banks[2]!, customers[2]!, 1n, 3)])).map((r) => r.result)).toEqual(['ok']);
    const third = await client.closeDay();
    expect(third.passed).toBe(true);
    const closingBefore = await closing();
    await client.close();
    await server.kill('SIGKILL');
    await server.restart();
    client = await connect({ url: server.url, timeoutMs: 60_000 });
    expect(await client.getDayReport(closedDay)).toEqual(report);
    expect(await closing()).toEqual(closingBefore);
    expect((await client.createTransfers([pay(banks[3]!, customers[3]!, 1n, 4), pay(customers[4]!, banks[4]!, 1n, 5)])).map((r) => r.result)).toEqual(['ok', 'ok']);
    await transitIdle();
    expect((await client.closeDay()).passed).toBe(true);
    expect(server.output()).not.toMatch(/storage_failed|could not be stored/);

    await client.close();
    expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    // execFile rejects on a non-zero exit: the message then carries verify's output.
    const verify = await run(process.execPath, [cliPath(), 'verify', '--data', server.dataDir], { cwd: repoRoot(), timeout: 120_000 });
    expect(verify.stdout).not.toMatch(/no summary is stored/);
    expect(verify.stdout).toMatch(/\nverify: PASSED\n?$/);
    await server.restart(); // afterAll closes a client of a running server
    client = await connect({ url: server.url, timeoutMs: 60_000 });
  });
});
