// Spec of a shard's checkpoints on a real store (shard-checkpoints.ts, checkpoint-files.ts), driven the way the
// shard loop drives them: apply, append, and every N entries a flush_history entry, then captureAt(its seq).
//
// Invariants checked (fast-check, random histories with restarts at random points):
//  1. After a restart — clean, with a checkpoint's tmp file left half-written, with a crash between its write and
//     its rename, or with the newest checkpoint's bytes flipped — the state digest equals a full replay's from seq 1.
//  2. Every acknowledged transfer (its entry durable before the reply) is present exactly once after the restart.
//  3. A damaged checkpoint is detected and the previous one used; a checkpoint is never published ahead of the journal.
//  4. Restart work after a checkpoint is bounded by the checkpoint interval, not by the history's length
//     (counted in replayed entries, never timed).
// fast-check prints the seed on failure; TALLY_PROPERTY_SEED and TALLY_PROPERTY_RUNS replay or widen a run.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Ledger } from '../../../../src/core/posting/ledger.js';
import { Operation } from '../../../../src/core/operations.js';
import { decodeResults, decodeTransferStates, encodeAccounts, encodeIds, encodeTransfers } from '../../../../src/core/wire/records.js';
import { CheckpointFiles, CheckpointHeader } from '../../../../src/shards/shard/checkpoint-files.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { ShardCheckpoints, ledgerDigest, ledgerFromCheckpoints } from '../../../../src/shards/shard/shard-checkpoints.js';
import { replayJournal } from '../../../../src/shards/shard/shard-loop.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';
import { useTempDirs } from '../../../support/temp-dirs.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 12);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);
const tempDir = useTempDirs();
const shard = { shardIndex: 0, shardCount: 1 };
const accountIds = [1n, 2n, 3n, 4n];
const nowStartNs = 1_700_000_000_000_000_000n;

/** How the worker dies at a restart step. */
type Crash = 'clean' | 'tmpHalfWritten' | 'beforeRename' | 'flipNewest';

type Step = { kind: 'pay'; from: number; to: number; amount: bigint; count: number } | { kind: 'restart'; crash: Crash };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('pay' as const), from: fc.nat({ max: 3 }), to: fc.nat({ max: 3 }), amount: fc.bigInt({ min: 1n, max: 50n }), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('restart' as const), crash: fc.constantFrom<Crash>('clean', 'tmpHalfWritten', 'beforeRename', 'flipNewest') }) },
);

/** One shard worker's life: its store, its ledger, its checkpoints. */
class Worker {
  store: JournalStore;
  ledger: Ledger;
  checkpoints: ShardCheckpoints;
  files: CheckpointFiles;
  nowNs = nowStartNs;
  /** Entries the last start replayed, and the checkpoint it started from (0: none). */
  replayed = 0;
  checkpointSeq = 0;
  readonly log: string[] = [];

  constructor(readonly dataDir: string, readonly everyEntries: number) {
    this.store = JournalStore.open({ dataDir, ...shard });
    this.files = new CheckpointFiles(dataDir, shard.shardIndex, shard.shardCount);
    // Tiny id caches: ids of entries before a checkpoint are found on disk (the id index), as in a long run.
    const idIndex = { source: this.store.idIndex, capacity: { transferIds: 4, idsOther: 4 } };
    ({ ledger: this.ledger, checkpointSeq: this.checkpointSeq } = ledgerFromCheckpoints(this.files, this.store, { ...shard, journal: this.store, idIndex }, (line) => this.log.push(line)));
    this.replayed = replayJournal(this.ledger, this.store);
    this.files.prune();
    this.checkpoints = new ShardCheckpoints({ ledger: this.ledger, journal: this.store, files: this.files });
  }

  #entriesSinceFlush = 0;

  /** A write as the loop runs it; resolves with the results once durable (the acknowledgement). */
  async write(operation: number, body: Uint8Array): Promise<string[]> {
    this.nowNs += 1_000_000n;
    const { seq, entry, reply } = this.ledger.execute(operation, body, this.nowNs);
    const durable = this.store.append(seq, entry);
    if (++this.#entriesSinceFlush >= this.everyEntries) {
      this.#entriesSinceFlush = 0;
      const flushed = this.ledger.flushHistory(this.nowNs);
      if (flushed !== null) this.checkpoints.captureAt(flushed.seq, this.store.appendFlush(flushed.seq, flushed.entry, flushed.runs));
    }
    await durable;
    return decodeResults(reply).map((r) => r.result);
  }

  async close(): Promise<void> {
    await this.checkpoints.settled();
    await this.store.close();
  }
}

/** A full replay from seq 1 of the store in `dataDir` (no checkpoint), for its digest. */
function fullReplayDigest(store: JournalStore): string {
  const ledger = new Ledger({ ...shard, journal: store });
  replayJournal(ledger, store);
  ledger.verify();
  return ledgerDigest(ledger);
}

function ckptFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.ckpt')) : [];
}

/** Leaves what a crash leaves: a tmp file half-written, or a whole one never renamed. */
function leaveTmp(worker: Worker, crash: Crash): void {
  const seqs = worker.files.seqs();
  if (seqs.length === 0) return;
  const newest = readFileSync(worker.files.pathOf(seqs[0]!));
  const seqNext = worker.ledger.seqLast;
  const tmp = join(worker.files.dir, `${seqNext}.ckpt.tmp`);
  writeFileSync(tmp, crash === 'tmpHalfWritten' ? newest.subarray(0, newest.byteLength >> 1) : newest);
}

/** Flips a byte in the body of checkpoint `seq`. */
function flip(worker: Worker, seq: number): void {
  const path = worker.files.pathOf(seq);
  const bytes = readFileSync(path);
  const at = CheckpointHeader.bytes + ((bytes.byteLength - CheckpointHeader.bytes) >> 1);
  bytes[at] = bytes[at]! ^ 0xff;
  writeFileSync(path, bytes);
}

describe('shard checkpoints on a real store', () => {
  test('random writes and restarts (clean, mid-write, damaged): digest equals a full replay, every acknowledged transfer once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.array(step, { minLength: 1, maxLength: 40 }), async (everyEntries, steps) => {
        const dataDir = tempDir('tally-ckpt-');
        let worker = new Worker(dataDir, everyEntries);
        const acknowledged: bigint[] = [];
        /** Checkpoints this test damaged: a start skips them (and logs why) for as long as they are kept. */
        const damaged = new Set<number>();
        let idNext = 1_000n;
        try {
          expect(await worker.write(Operation.create_accounts, encodeAccounts(accountIds.map((id) => account(id))))).toEqual(accountIds.map(() => 'ok'));
          for (const s of steps) {
            if (s.kind === 'pay') {
              const transfers = Array.from({ length: s.count }, () => transfer(idNext++, accountIds[s.from]!, accountIds[(s.from + 1 + (s.to % 3)) % 4]!, s.amount));
              const results = await worker.write(Operation.create_transfers, encodeTransfers(transfers));
              transfers.forEach((t, i) => results[i] === 'ok' && acknowledged.push(t.id));
              continue;
            }
            await worker.checkpoints.settled();
            // The newest checkpoint not damaged yet (flipping one twice would mend it).
            const flipped = s.crash === 'flipNewest' ? worker.files.seqs().find((seq) => !damaged.has(seq)) : undefined;
            if (flipped !== undefined) {
              flip(worker, flipped);
              damaged.add(flipped);
            }
            else if (s.crash !== 'clean') leaveTmp(worker, s.crash);
            const newestBefore = worker.files.seqs().find((seq) => !damaged.has(seq)) ?? 0;
            await worker.close();
            worker = new Worker(dataDir, everyEntries);
            // Only the tail after the checkpoint started from is replayed; an undamaged newest one is the one used.
            expect(worker.replayed).toBe(worker.store.seqLast - worker.checkpointSeq);
            expect(worker.checkpointSeq).toBe(newestBefore);
            if (flipped !== undefined) {
              expect(worker.checkpointSeq).not.toBe(flipped);
              expect(worker.log.some((line) => line.includes('checksum mismatch'))).toBe(true);
            }
            expect(ckptFiles(worker.files.dir).length).toBeLessThanOrEqual(3);
            if (existsSync(worker.files.dir)) expect(readdirSync(worker.files.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
            expect(ledgerDigest(worker.ledger)).toBe(fullReplayDigest(worker.store));
            worker.ledger.verify();
          }
          const found = acknowledged.length === 0 ? [] : decodeTransferStates(worker.ledger.query(Operation.lookup_transfers, encodeIds(acknowledged)));
          expect(found.map((t) => t.id)).toEqual(acknowledged);
          for (const seq of worker.files.seqs()) expect(seq).toBeLessThanOrEqual(worker.store.seqLast);
        } finally {
          await worker.close();
        }
      }),
      { numRuns: runs, seed },
    );
  }, 120_000);

  test.each([40, 400])('restart work after %i entries is bounded by the checkpoint interval, not the history', async (entries) => {
    const everyEntries = 16;
    const dataDir = tempDir('tally-ckpt-');
    let worker = new Worker(dataDir, everyEntries);
    try {
      await worker.write(Operation.create_accounts, encodeAccounts(accountIds.map((id) => account(id))));
      for (let i = 0; i < entries; i++) {
        await worker.write(Operation.create_transfers, encodeTransfers([transfer(10_000n + BigInt(i), 1n, 2n, 1n)]));
        await worker.checkpoints.settled(); // each due capture is taken: none skipped for a write in flight
      }
      await worker.close();
      worker = new Worker(dataDir, everyEntries);
      expect(worker.checkpointSeq).toBeGreaterThan(0);
      expect(worker.replayed).toBeLessThanOrEqual(everyEntries); // the entries after the last flush, at most
      expect(ledgerDigest(worker.ledger)).toBe(fullReplayDigest(worker.store));
    } finally {
      await worker.close();
    }
  });

  test('a checkpoint of another history (same seq, other entry) is refused, and a full replay used', async () => {
    const dirA = tempDir('tally-ckpt-a-');
    const dirB = tempDir('tally-ckpt-b-');
    const a = new Worker(dirA, 1);
    const b = new Worker(dirB, 1000);
    try {
      await a.write(Operation.create_accounts, encodeAccounts([account(1n)])); // then its flush entry, seq 2
      await b.write(Operation.create_accounts, encodeAccounts([account(2n)]));
      await b.write(Operation.create_accounts, encodeAccounts([account(3n)]));
      await a.checkpoints.settled();
      expect(a.files.seqs()).toEqual([2]);
      const files = new CheckpointFiles(dirB, 0, 1);
      const found = files.read(a.files.pathOf(2), 2, b.store);
      expect(found).toBe('journal entry 2 is not the one this checkpoint followed');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
