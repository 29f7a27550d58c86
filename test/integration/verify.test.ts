// tally verify on a data directory a real shard set wrote (run `npm run build` first: the workers and the CLI
// load dist/). Two shards post a mix — accounts, single-phase, pending/post/void, cross-shard transfers and a
// cross-shard hold, linked chains across shards (one commits, one aborts), a hot-inbound account credited from
// both shards, a day cut with its report, a posting after it — and close. Specs:
//  1. verify passes (exit 0, in-process and as `node dist/src/cli/main.js verify`) and no file of the
//     directory changes or appears (every file hashed before and after);
//  2. on copies of the directory it fails (exit 1) naming the problem: a journal entry's amount overwritten,
//     the last-but-one journal entry of a shard deleted (a gap), a stored bookkeeping voucher tampered, the
//     bookkeeper's stored books (what its start resumes from) tampered, a day
//     cut to a day that is no date (as close_day 20261301 was journaled before days were checked);
//  3. a snapshot-shaped copy (data files only, a manifest.json) passes too, and gets no lock file;
//  4. it refuses (DataDirError, exit 2) a directory whose stores a running shard set holds open.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { open, type RootDatabase } from 'lmdb';
import { afterAll, describe, expect, it } from 'vitest';
import { BusinessCalendar, parseDayCutSchedule } from '../../src/core/business-day.js';
import { defaultChart } from '../../src/core/books/chart-of-accounts.js';
import { eventOffset, journalEntryBytes, readJournalHeader, writeJournalHeader } from '../../src/core/posting/journal-entry.js';
import { TransferLayout } from '../../src/core/layout.js';
import { Operation } from '../../src/core/operations.js';
import { decodeResults, encodeAccountOperations, encodeAccounts, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { AccountOperationFlags, TransferFlags } from '../../src/core/types.js';
import { readU128 } from '../../src/core/u128.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { DataDirError, verifyDataDir, type VerifyReport } from '../../src/shards/verify/store-verify.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 156;
// A flush (and a checkpoint) every 3 entries: the mix leaves several checkpoints per shard for verify to check.
const fixture = useShardSets('tally-verify-', { shardCount, transit: fastTransit, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false }, checkpoint: { entries: 3, seconds: 3600 } });
const cli = join(import.meta.dirname, '../../dist/src/cli/main.js');
const run = promisify(execFile);

const [a0, a1] = [idsOnShard(0, 5, 1n, shardCount), idsOnShard(1, 5, 1n, shardCount)] as [bigint[], bigint[]];
/** A same-shard transfer on shard 0 whose journal entry the amount corruption rewrites. */
const rewrittenTransfer = 5001n;

async function expectOk(set: ShardSet, operation: number, body: Uint8Array): Promise<void> {
  const results = decodeResults(await set.execute(operation, body)).map((r) => r.result);
  expect(results).toEqual(results.map(() => 'ok'));
}

function transfer(id: bigint, debitAccountId: bigint, creditAccountId: bigint, amount: bigint, extra: Partial<TransferInput> = {}): TransferInput {
  return { id, debitAccountId, creditAccountId, amount, ledger, code: 1, ...extra };
}

/** Posts the mix described at the top, closes a day (its report must pass) and posts once more. */
async function populate(set: ShardSet): Promise<void> {
  await expectOk(set, Operation.create_accounts, encodeAccounts([...a0, ...a1].map((id) => ({ id, ledger, code: 1 }))));
  await expectOk(set, Operation.create_transfers, encodeTransfers([
    transfer(5000n, a0[0]!, a0[1]!, 1_000n),
    transfer(rewrittenTransfer, a0[1]!, a0[2]!, 300n),
    transfer(5002n, a1[0]!, a1[1]!, 2_000n),
    transfer(5003n, a0[0]!, a1[2]!, 700n), // cross-shard
    transfer(5004n, a1[0]!, a0[2]!, 400n), // cross-shard
    transfer(5005n, a0[1]!, a0[3]!, 50n, { flags: TransferFlags.pending }),
    transfer(5006n, a0[1]!, a0[4]!, 20n, { flags: TransferFlags.pending }),
    transfer(5007n, a1[1]!, a0[4]!, 40n, { flags: TransferFlags.pending }), // a cross-shard hold
  ]));
  await expectOk(set, Operation.create_transfers, encodeTransfers([
    transfer(5010n, a0[1]!, a0[3]!, 30n, { flags: TransferFlags.post_pending, pendingId: 5005n }),
    transfer(5011n, a0[1]!, a0[4]!, 0n, { flags: TransferFlags.void_pending, pendingId: 5006n }),
    transfer(5012n, a1[1]!, a0[4]!, 0n, { flags: TransferFlags.post_pending, pendingId: 5007n }),
  ]));
  // Linked chains across shards: the first commits on both shards, the second (an unknown account) aborts.
  await expectOk(set, Operation.create_transfers, encodeTransfers([transfer(5020n, a0[2]!, a0[0]!, 5n, { flags: TransferFlags.linked }), transfer(5021n, a1[2]!, a1[0]!, 6n)]));
  const failing = decodeResults(await set.execute(Operation.create_transfers, encodeTransfers([transfer(5022n, a0[2]!, a0[0]!, 5n, { flags: TransferFlags.linked }), transfer(5023n, a1[2]!, 999_999n, 6n)])));
  expect(failing.map((r) => r.result)).toEqual(['linked_event_failed', 'account_not_found']);
  // A hot-inbound account credited from its own shard and from the other one.
  await expectOk(set, Operation.account_operations, encodeAccountOperations([{ id: 6000n, accountId: a0[3]!, kind: 'mark_hot', flags: AccountOperationFlags.credits }]));
  await expectOk(set, Operation.create_transfers, encodeTransfers([transfer(5030n, a0[0]!, a0[3]!, 11n), transfer(5031n, a0[2]!, a0[3]!, 12n)]));
  await expectOk(set, Operation.create_transfers, encodeTransfers([transfer(5032n, a1[1]!, a0[3]!, 13n)]));
  await set.transit.idle(30_000);
  const report = JSON.parse(await set.closeDayReport()) as { passed: boolean };
  expect(report.passed).toBe(true);
  await expectOk(set, Operation.create_transfers, encodeTransfers([transfer(5040n, a0[4]!, a1[4]!, 9n), transfer(5041n, a0[0]!, a0[3]!, 1n)]));
  await set.transit.idle(30_000);
}

const workDir = mkdtempSync(join(tmpdir(), 'tally-verify-copies-'));
let base: string | null = null;
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** A closed data directory holding the mix, made once (by whichever spec asks first) and copied for each corruption. */
async function baseDataDir(): Promise<string> {
  if (base !== null) return base;
  const set = await fixture.start();
  await populate(set);
  await fixture.close(set);
  const dir = join(workDir, 'base');
  cpSync(fixture.dataDir, dir, { recursive: true });
  base = dir;
  return dir;
}

function copyOfBase(name: string): string {
  const dir = join(workDir, name);
  cpSync(base!, dir, { recursive: true });
  return dir;
}

/** Every file under `dir` by relative path, with its SHA-256. */
function hashes(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string): void => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), createHash('sha256').update(readFileSync(path)).digest('hex'));
    }
  };
  walk(dir);
  return files;
}

const verify = (dataDir: string): Promise<VerifyReport> => verifyDataDir({ dataDir, chart: defaultChart() });

async function cliVerify(dataDir: string, ...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, 'verify', '--data', dataDir, ...flags]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Opens a copy's store with lmdb-js for a corruption (never the original), runs `work`, closes it. */
async function withStore(path: string, work: (root: RootDatabase) => Promise<void>): Promise<void> {
  const root = open({ path, maxDbs: 4 });
  try {
    await work(root);
  } finally {
    await root.close();
  }
}

describe('tally verify on a data directory a shard set wrote', () => {
  it('passes, exit 0, and changes no file of the directory', async () => {
    const dir = await baseDataDir();
    const before = hashes(dir);
    const report = await verify(dir);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ passed: true, shardCount: 2, problemCount: 0 });
    expect(report.transfers).toBe(18); // 5000..5007, 5010..5012, 5020..5021, 5030..5032, 5040..5041
    expect(report.shards.reduce((sum, s) => sum + s.creditsApplied, 0)).toBe(5); // 5003, 5004, 5012, 5032, 5040
    expect(report.accounts).toBe(10);
    expect(report.bookkeeping?.reports).toEqual([expect.objectContaining({ passed: true, rechecked: true })]);
    expect(report.transit?.inFlight).toEqual([]);
    expect(report.coverage).toContain('chains: 2 decided cross-shard chain group(s) against the chain log');
    const [cliText, cliJson] = await Promise.all([cliVerify(dir), cliVerify(dir, '--json')]);
    expect(cliText.code).toBe(0);
    expect(cliText.stdout).toMatch(/\nverify: PASSED\n?$/);
    expect(cliText.stderr).toMatch(/verify: shard 2\/2: [\d,]+ of [\d,]+ entries replayed/);
    expect(cliJson.code).toBe(0);
    expect(JSON.parse(cliJson.stdout)).toMatchObject({ passed: true, problemCount: 0, shardCount: 2 });
    expect(hashes(dir)).toEqual(before);
  });

  it('checks every checkpoint in full mode, and --incremental replays only the tails and passes', async () => {
    const dir = await baseDataDir();
    const before = hashes(dir);
    const full = await verify(dir);
    const files = (shard: number) => readdirSync(join(dir, 'checkpoints', `shard-${shard}`)).filter((name) => name.endsWith('.ckpt')).length;
    expect(files(0) + files(1)).toBeGreaterThan(2);
    expect(full.coverage).toContain(`checkpoints: ${files(0) + files(1)} of ${files(0) + files(1)} checkpoint file(s) hold the state the replay reached at their seq`);
    const incremental = await verifyDataDir({ dataDir: dir, chart: defaultChart(), mode: 'incremental' });
    expect(incremental.problems).toEqual([]);
    expect(incremental.passed).toBe(true);
    expect(incremental.bookkeeping).toBeNull();
    for (const [shard, summary] of incremental.shards.entries()) {
      expect(summary.seqFrom).toBeGreaterThan(0);
      expect(summary.entriesReplayed).toBe(full.shards[shard]!.entries - summary.seqFrom);
      expect(summary.entriesReplayed).toBeLessThan(full.shards[shard]!.entriesReplayed);
    }
    expect(incremental.ledgers).toEqual(full.ledgers);
    const cli = await cliVerify(dir, '--incremental');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/shard 0: [\d,]+ entries, [\d,]+ replayed after the checkpoint at seq [\d,]+/);
    expect(hashes(dir)).toEqual(before);
  });

  it('verifies a snapshot-shaped copy (data files and a manifest, no lock files) without creating a file', async () => {
    await baseDataDir();
    const dir = copyOfBase('snapshot');
    for (const store of readdirSync(dir)) rmSync(join(dir, store, 'lock.mdb'), { force: true });
    const seqs = (await verify(base!)).shards.map((s) => s.entries);
    const manifest = { format: 'tally-snapshot', cutAt: '2026-01-02T03:04:05.000Z', shards: seqs.map((seq, shard) => ({ shard, seq: shard === 1 ? seq + 1 : seq })) };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const before = hashes(dir);
    const report = await verify(dir);
    expect(report).toMatchObject({ passed: true, snapshot: { cutAt: '2026-01-02T03:04:05.000Z', shardSeqs: [seqs[0], seqs[1]! + 1] } });
    // The manifest is read for what it says of the cut, never trusted: a seq that disagrees is a note.
    expect(report.warnings).toContain(`snapshot manifest: shard 1 cut at seq ${seqs[1]! + 1}, its journal ends at seq ${seqs[1]}`);
    expect(hashes(dir)).toEqual(before);
    expect([...before.keys()].filter((path) => path.endsWith('lock.mdb'))).toEqual([]);
  });

  it('fails naming the entry when a journal entry’s amount was overwritten', async () => {
    await baseDataDir();
    const dir = copyOfBase('amount');
    let rewrittenSeq = 0;
    await withStore(join(dir, 'shard-0'), async (root) => {
      const journal = root.openDB<Uint8Array, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
      for (const { key, value } of journal.getRange({ start: 1 })) {
        const entry = Uint8Array.prototype.slice.call(value);
        const { operation, count } = readJournalHeader(entry);
        const view = new DataView(entry.buffer);
        const index = Array.from({ length: operation === Operation.create_transfers ? count : 0 }, (_, i) => i).find((i) => readU128(view, eventOffset(i) + TransferLayout.id) === rewrittenTransfer);
        if (index === undefined) continue;
        for (const field of [TransferLayout.amount, TransferLayout.amountEffective]) view.setBigUint64(eventOffset(index) + field, 301n, true);
        rewrittenSeq = key;
        await journal.put(key, entry);
        return;
      }
    });
    expect(rewrittenSeq).toBeGreaterThan(0);
    const report = await verify(dir);
    expect(report.passed).toBe(false);
    const messages = report.problems.map((p) => `[${p.check}] ${p.message}`);
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^\\[entries\\] shard 0 seq ${rewrittenSeq}: event \\d+ balances after, debit account debitsPosted is \\d+ in the journal but \\d+ on replay`)));
    expect(messages).toContainEqual(expect.stringMatching(/^\[days\] shard 0 day \d+: the stored closing debitsPosted of account 0x[0-9a-f]+ is \d+, the replay's is \d+$/));
    expect(messages).toContainEqual(expect.stringMatching(/^\[bookkeeping\] bookkeeping voucher of shard 0 seq \d+: ledger 156 code 1 debit amount is \d+ in the store, \d+ from the journal entry$/));
    const cli = await cliVerify(dir);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/verify: FAILED \(\d+ problems\)\n- \[entries\] shard 0 seq \d+: /);
  });

  it('fails naming the gap when a shard’s last-but-one journal entry was deleted', async () => {
    await baseDataDir();
    const dir = copyOfBase('gap');
    let deleted = 0;
    await withStore(join(dir, 'shard-1'), async (root) => {
      const journal = root.openDB<Uint8Array, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
      const keys = [...journal.getKeys({ start: 1 })];
      deleted = keys[keys.length - 2]!;
      await journal.remove(deleted);
    });
    const report = await verify(dir);
    expect(report.passed).toBe(false);
    expect(report.problems).toContainEqual({
      check: 'journal',
      message: `shard 1: journal seq ${deleted} is missing: entries run 1..${deleted - 1}, then resume at seq ${deleted + 1} and end at seq ${deleted + 1} (a start would drop every entry past the gap as never acknowledged)`,
    });
    expect(report.shards[1]).toMatchObject({ complete: false, replayed: deleted - 1, entries: deleted + 1 });
  });

  // Issue #20 (3): close_day 20261301 was journaled; verify passed such a journal without a word.
  it('fails naming the cut when a shard’s journal cuts to a day that is no date', async () => {
    await baseDataDir();
    const dir = copyOfBase('no-date');
    let cutSeq = 0;
    await withStore(join(dir, 'shard-1'), async (root) => {
      const journal = root.openDB<Uint8Array, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary', cache: false });
      const [last] = [...journal.getRange({ reverse: true, limit: 1 })];
      const header = readJournalHeader(Uint8Array.prototype.slice.call(last!.value));
      cutSeq = last!.key + 1;
      const entry = new Uint8Array(journalEntryBytes(Operation.day_cut, 0));
      writeJournalHeader(new DataView(entry.buffer), { operation: Operation.day_cut, count: 0, timestampBase: header.timestampBase + 1_000n, seq: cutSeq, businessDay: 20261301 });
      await journal.put(cutSeq, entry);
    });
    const report = await verify(dir);
    expect(report.passed).toBe(false);
    expect(report.problems).toContainEqual({ check: 'days', message: `shard 1: the cut at seq ${cutSeq} begins day 20261301, which is no date (yyyymmdd)` });
  });

  it('fails naming the voucher when a stored bookkeeping voucher was tampered with', async () => {
    await baseDataDir();
    const dir = copyOfBase('voucher');
    let tampered = '';
    await withStore(join(dir, 'bookkeeping'), async (root) => {
      const vouchers = root.openDB<string, number[]>({ name: 'vouchers', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
      for (const { key, value } of vouchers.getRange({ start: [1, 0] })) {
        const voucher = JSON.parse(value) as { lines: { ledger: number; code: number; side: string; amount: string }[] };
        const line = voucher.lines.find((l) => l.side === 'credit');
        if (line === undefined) continue;
        tampered = `bookkeeping voucher of shard ${key[0]} seq ${key[1]}: ledger ${line.ledger} code ${line.code} credit amount is ${BigInt(line.amount) + 5n} in the store, ${line.amount} from the journal entry`;
        line.amount = String(BigInt(line.amount) + 5n);
        await vouchers.put(key, JSON.stringify(voucher));
        return;
      }
    });
    expect(tampered).not.toBe('');
    const report = await verify(dir);
    expect(report.problems).toEqual([{ check: 'bookkeeping', message: tampered }]);
    const cli = await cliVerify(dir);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`verify: FAILED (1 problem)\n- [bookkeeping] ${tampered}`);
  });

  it('fails naming the row when the books the bookkeeper resumes from were tampered with', async () => {
    await baseDataDir();
    const dir = copyOfBase('books');
    let tampered = '';
    await withStore(join(dir, 'bookkeeping'), async (root) => {
      const books = root.openDB<string, (string | number)[]>({ name: 'books', encoding: 'string', keyEncoding: 'ordered-binary', cache: false });
      for (const { key, value } of books.getRange({ start: ['day'], end: ['day', Number.MAX_SAFE_INTEGER] })) {
        // Both sides moved alike: the ledger still balances, so only the comparison with the journals can tell.
        const row = JSON.parse(value) as { debits: string; credits: string };
        tampered = `the stored books (what a bookkeeper start resumes from) differ from the general ledger rebuilt from the journals: days.0.debits: stored "${BigInt(row.debits) + 5n}", rebuilt "${row.debits}"`;
        await books.put(key, JSON.stringify({ ...row, debits: String(BigInt(row.debits) + 5n), credits: String(BigInt(row.credits) + 5n) }));
        return;
      }
    });
    expect(tampered).not.toBe('');
    const report = await verify(dir);
    expect(report.problems).toEqual([{ check: 'bookkeeping', message: tampered }]);
  });

  it.runIf(existsSync('/proc/locks'))('refuses, exit 2, a directory whose stores a running shard set holds open', async () => {
    const set = await fixture.start();
    await expectOk(set, Operation.create_accounts, encodeAccounts([{ id: a0[0]!, ledger, code: 1 }]));
    await expect(verify(fixture.dataDir)).rejects.toThrow(DataDirError);
    await expect(verify(fixture.dataDir)).rejects.toThrow(/is open in a running process \(pid \d+\): stop the server first, or verify a snapshot/);
    const cli = await cliVerify(fixture.dataDir);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/tally verify: .*shard-0 is open in a running process/);
  });
});

describe('tally verify after day cuts that postings followed', () => {
  // Regression: a passed day report was rebuilt from the general ledger booked through the journals' end,
  // so a ledger first posted after a cut — the quickstart after a new server's opening cut, whose report
  // holds no ledger at all — made the rebuilt report differ from the stored one.
  const ledgers = [156, 840, 978] as const;
  let nextTransfer = 7000n;

  /** Two accounts per shard on `onLedger`, funded within each shard and paid across both ways. */
  async function openAndPost(set: ShardSet, onLedger: number, from: bigint): Promise<[bigint[], bigint[]]> {
    const [s0, s1] = [idsOnShard(0, 2, from, shardCount), idsOnShard(1, 2, from, shardCount)] as [bigint[], bigint[]];
    await expectOk(set, Operation.create_accounts, encodeAccounts([...s0, ...s1].map((id) => ({ id, ledger: onLedger, code: 1 }))));
    await postMore(set, onLedger, [s0, s1]);
    return [s0, s1];
  }

  async function postMore(set: ShardSet, onLedger: number, [s0, s1]: [bigint[], bigint[]]): Promise<void> {
    const on = { ledger: onLedger };
    await expectOk(set, Operation.create_transfers, encodeTransfers([
      transfer(nextTransfer++, s0[0]!, s0[1]!, 100n, on),
      transfer(nextTransfer++, s1[0]!, s1[1]!, 200n, on),
      transfer(nextTransfer++, s0[1]!, s1[0]!, 30n, on), // cross-shard
      transfer(nextTransfer++, s1[1]!, s0[0]!, 40n, on), // cross-shard
    ]));
    await set.transit.idle(30_000);
  }

  it('passes (exit 0, no file changed) with day 0 closed on empty books and a new ledger, across shards, after every cut', async () => {
    // As a new server does at start (ShardSet.scheduleDays): each shard's opening cut begins today, and the
    // report of day 0 is asked for with today, before anything is posted. Today is taken before the start,
    // so that it never names a day after the one the shards began (which would cut another day).
    const today = new BusinessCalendar(parseDayCutSchedule('00:00', 'UTC')).dayOf(BigInt(Date.now()) * 1_000_000n);
    const set = await fixture.start();
    expect(JSON.parse(await set.closeDayReport(today))).toMatchObject({ day: 0, passed: true, checks: { trialBalance: { ledgers: [] } } });
    const first = await openAndPost(set, ledgers[0], 100n);
    const dayOne = JSON.parse(await set.closeDayReport()) as { day: number; passed: boolean };
    expect(dayOne.passed).toBe(true);
    const second = await openAndPost(set, ledgers[1], 200n);
    await postMore(set, ledgers[0], first);
    const dayTwo = JSON.parse(await set.closeDayReport()) as { day: number; passed: boolean };
    expect(dayTwo).toMatchObject({ passed: true, checks: { trialBalance: { ledgers: [{ ledger: ledgers[0] }, { ledger: ledgers[1] }] } } });
    expect(dayTwo.day).toBeGreaterThan(dayOne.day);
    await openAndPost(set, ledgers[2], 300n);
    await postMore(set, ledgers[1], second);
    await fixture.close(set);

    const dir = fixture.dataDir;
    const before = hashes(dir);
    const report = await verify(dir);
    expect(report.problems).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.bookkeeping?.reports).toEqual([0, dayOne.day, dayTwo.day].map((day) => ({ day, passed: true, rechecked: true })));
    const cli = await cliVerify(dir);
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/\nverify: PASSED\n?$/);
    expect(hashes(dir)).toEqual(before);
  });
});
