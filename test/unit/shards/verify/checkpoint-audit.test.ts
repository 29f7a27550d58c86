// Spec of tally verify's checkpoint checks (shards/verify/checkpoint-audit.ts) on a data directory written the way a
// shard writes it: entries appended, a flush_history entry every few entries and a checkpoint right after it.
//  1. Full mode passes on a healthy directory, replays every entry and matches every checkpoint file.
//  2. A forged checkpoint (state changed, checksum recomputed: its own checks pass) fails full mode ('checkpoints').
//  3. --incremental starts after the newest checkpoint, replays fewer entries (counted, never timed) and passes,
//     including a retry in the tail of an id taken before the checkpoint (found in the read-only id index).
//  4. A newest checkpoint with a flipped byte: --incremental uses the previous one, says so and passes; full mode
//     reports the damaged file. Neither mode changes a file of the directory.

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultChart } from '../../../../src/core/books/chart-of-accounts.js';
import { Ledger, restoreLedger } from '../../../../src/core/posting/ledger.js';
import { Operation } from '../../../../src/core/operations.js';
import { decodeResults, encodeAccounts, encodeTransfers } from '../../../../src/core/wire/records.js';
import { CheckpointFiles, CheckpointHeader } from '../../../../src/shards/shard/checkpoint-files.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { ShardCheckpoints } from '../../../../src/shards/shard/shard-checkpoints.js';
import { verifyDataDir, type VerifyReport } from '../../../../src/shards/verify/store-verify.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';
import { useTempDirs } from '../../../support/temp-dirs.js';

const tempDir = useTempDirs();
const shard = { shardIndex: 0, shardCount: 1 };
const accountIds = [1n, 2n, 3n, 4n];
const flushEveryEntries = 16;
const transferEntries = 120;
/** Tiny id caches: ids of entries before a checkpoint are on disk only, as in a long run. */
const capacity = { transferIds: 4, idsOther: 4 };

/** Writes a one-shard data directory with checkpoints; the last entry retries the first transfer's id. */
async function writeDataDir(): Promise<string> {
  const dataDir = tempDir('tally-verify-ckpt-');
  const store = JournalStore.open({ dataDir, ...shard });
  const ledger = new Ledger({ ...shard, journal: store, idIndex: { source: store.idIndex, capacity } });
  const checkpoints = new ShardCheckpoints({ ledger, journal: store, files: new CheckpointFiles(dataDir, 0, 1) });
  let nowNs = 1_700_000_000_000_000_000n;
  let sinceFlush = 0;
  const write = async (operation: number, body: Uint8Array): Promise<string[]> => {
    nowNs += 1_000_000n;
    const { seq, entry, reply } = ledger.execute(operation, body, nowNs);
    const durable = store.append(seq, entry);
    if (++sinceFlush >= flushEveryEntries) {
      sinceFlush = 0;
      const flushed = ledger.flushHistory(nowNs);
      if (flushed !== null) checkpoints.captureAt(flushed.seq, store.appendFlush(flushed.seq, flushed.entry, flushed.runs));
    }
    await durable;
    await checkpoints.settled(); // every due checkpoint taken: none skipped for a write in flight
    return decodeResults(reply).map((r) => r.result);
  };
  try {
    expect(await write(Operation.create_accounts, encodeAccounts(accountIds.map((id) => account(id))))).toEqual(accountIds.map(() => 'ok'));
    for (let i = 0; i < transferEntries; i++) {
      const from = accountIds[i % 4]!;
      const to = accountIds[(i + 1) % 4]!;
      expect(await write(Operation.create_transfers, encodeTransfers([transfer(10_000n + BigInt(i), from, to, BigInt(1 + (i % 7)))]))).toEqual(['ok']);
    }
    // A retry of an id taken long before the newest checkpoint: its replay must find it on disk to answer 'exists'.
    expect(await write(Operation.create_transfers, encodeTransfers([transfer(10_000n, 1n, 2n, 1n)]))).toEqual(['exists']);
  } finally {
    await checkpoints.settled();
    await store.close();
  }
  return dataDir;
}

function verify(dataDir: string, mode: 'full' | 'incremental'): Promise<VerifyReport> {
  return verifyDataDir({ dataDir, chart: defaultChart(), mode });
}

/** Every file under `dir` with its SHA-256: what verify must leave as it found it. */
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

/** Rewrites checkpoint `seq` with one account's posted credits raised by 1: a correct checksum, a state never reached. */
async function forge(dataDir: string, seq: number): Promise<void> {
  const store = JournalStore.open({ dataDir, ...shard });
  try {
    const files = new CheckpointFiles(dataDir, 0, 1);
    const body = files.read(files.pathOf(seq), seq, store);
    if (typeof body === 'string') throw new Error(body);
    const ledger = restoreLedger(body, { ...shard, journal: store, idIndex: { source: store.idIndex, capacity } });
    const accounts = ledger.state.accounts;
    accounts.setBalance('creditsPosted', 0, accounts.balance('creditsPosted', 0) + 1n);
    const forged = ledger.encodeCheckpoint();
    expect(await files.write(seq, forged, store.entry(seq)!, Promise.resolve())).toBe(files.pathOf(seq));
    const read = files.read(files.pathOf(seq), seq, store);
    expect(typeof read === 'string' ? read : Uint8Array.from(read)).toEqual(forged); // its own checks pass
  } finally {
    await store.close();
  }
}

function flipBody(dataDir: string, seq: number): void {
  const path = new CheckpointFiles(dataDir, 0, 1).pathOf(seq);
  const bytes = readFileSync(path);
  const at = CheckpointHeader.bytes + ((bytes.byteLength - CheckpointHeader.bytes) >> 1);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(path, bytes);
}

describe('tally verify: checkpoints', () => {
  test('full mode passes on a healthy directory, replaying every entry and matching every checkpoint', async () => {
    const dataDir = await writeDataDir();
    const seqs = new CheckpointFiles(dataDir, 0, 1).seqs();
    expect(seqs.length).toBe(3);
    const before = hashes(dataDir);
    const report = await verify(dataDir, 'full');
    expect(report.problems).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.mode).toBe('full');
    expect(report.shards[0]).toMatchObject({ seqFrom: 0, entriesReplayed: report.shards[0]!.entries, complete: true });
    expect(report.coverage).toContain('checkpoints: 3 of 3 checkpoint file(s) hold the state the replay reached at their seq');
    expect(hashes(dataDir)).toEqual(before);
  });

  test('a forged checkpoint (checksum right, state changed) fails full mode', async () => {
    const dataDir = await writeDataDir();
    const [newest] = new CheckpointFiles(dataDir, 0, 1).seqs();
    await forge(dataDir, newest!);
    const report = await verify(dataDir, 'full');
    expect(report.passed).toBe(false);
    expect(report.problems).toEqual([
      { check: 'checkpoints', message: expect.stringMatching(new RegExp(`^shard 0 checkpoint .*${newest}\\.ckpt: its state differs from the replay's at seq ${newest} `)) as string },
    ]);
  });

  test('--incremental replays only the tail after the newest checkpoint and passes', async () => {
    const dataDir = await writeDataDir();
    const [newest] = new CheckpointFiles(dataDir, 0, 1).seqs();
    const before = hashes(dataDir);
    const full = await verify(dataDir, 'full');
    const incremental = await verify(dataDir, 'incremental');
    expect(incremental.problems).toEqual([]);
    expect(incremental.passed).toBe(true);
    expect(incremental.mode).toBe('incremental');
    const [fullShard, tailShard] = [full.shards[0]!, incremental.shards[0]!];
    expect(tailShard).toMatchObject({ seqFrom: newest, replayed: fullShard.replayed, entriesReplayed: fullShard.entries - newest!, complete: true });
    expect(tailShard.entriesReplayed).toBeLessThan(fullShard.entriesReplayed);
    expect(tailShard.entriesReplayed).toBeLessThanOrEqual(flushEveryEntries + 1);
    expect(incremental.ledgers).toEqual(full.ledgers); // the same balances, restored rather than recounted
    expect(incremental.coverage.some((line) => line.startsWith('skipped (they need every entry from seq 1'))).toBe(true);
    expect(hashes(dataDir)).toEqual(before);
  });

  test('a damaged newest checkpoint: --incremental uses the previous one and passes; full mode reports the file', async () => {
    const dataDir = await writeDataDir();
    const [newest, previous] = new CheckpointFiles(dataDir, 0, 1).seqs();
    flipBody(dataDir, newest!);
    const incremental = await verify(dataDir, 'incremental');
    expect(incremental.problems).toEqual([]);
    expect(incremental.passed).toBe(true);
    expect(incremental.shards[0]).toMatchObject({ seqFrom: previous, entriesReplayed: incremental.shards[0]!.entries - previous! });
    expect(incremental.warnings).toContainEqual(expect.stringMatching(new RegExp(`^shard 0: --incremental: checkpoint .*${newest}\\.ckpt skipped: checksum mismatch`)));
    expect(incremental.warnings).toContain(`shard 0: --incremental: started from the older checkpoint at seq ${previous}`);
    const full = await verify(dataDir, 'full');
    expect(full.problems).toEqual([{ check: 'checkpoints', message: expect.stringMatching(new RegExp(`${newest}\\.ckpt: checksum mismatch \\(damaged\\)`)) as string }]);
    expect(full.coverage).toContain('checkpoints: 2 of 3 checkpoint file(s) hold the state the replay reached at their seq');
  });
});
