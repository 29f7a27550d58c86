// Online snapshots on real worker threads and LMDB stores (run `npm run build` first: the workers load
// dist/). Clients post transfers — many across shards, so credits are in flight at any instant — while a
// snapshot is taken. The snapshot must be one cut across all shards: each shard's journal in it is a
// prefix of the live journal (ending at the seq in the manifest), every transfer acknowledged before the
// snapshot began is in it, none begun after the barrier is, and the restored data directory starts, lands
// every in-flight credit exactly once, and conserves money. Restore refuses damaged or partial snapshots.

import { appendFileSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { encodeAdminJson } from '../../src/core/wire/admin-bodies.js';
import { decodeAccountStates, decodeResults, decodeTransferQueryPage, decodeTransferStates, encodeAccounts, encodeIds, encodeQueryFilter, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { newId } from '../../src/client/ids.js';
import { manifestFileName, type SnapshotStatus } from '../../src/core/admin/snapshot-manifest.js';
import { startShards, type ShardSet } from '../../src/shards/set/shard-set.js';
import { verifyDataDir } from '../../src/shards/verify/store-verify.js';
import { defaultChart } from '../../src/core/books/chart-of-accounts.js';
import { checkSnapshot, readManifest, restoreSnapshot } from '../../src/shards/snapshots/snapshot-restore.js';
import { prepareFullDisk } from '../support/full-disk.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';
import { useTempDirs } from '../support/temp-dirs.js';

const shardCount = 2;
const ledger = 1;
const sets = useShardSets('tally-snap-', { shardCount, transit: fastTransit });
const tempDir = useTempDirs();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function untilSnapshotEnds(set: ShardSet): Promise<SnapshotStatus> {
  for (let i = 0; i < 600; i++) {
    const status = set.snapshotStatus()!;
    if (status.state !== 'running') return status;
    await sleep(25);
  }
  throw new Error('snapshot did not finish in 15 s');
}

/** Every journal entry of `dataDir`'s shard `shard`, by seq (raw bytes). */
function journalOf(dataDir: string, shard: number): Map<number, Buffer> {
  const root = open({ path: join(dataDir, `shard-${shard}`), maxDbs: 3, readOnly: true });
  const journal = root.openDB<Buffer, number>({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary' });
  const entries = new Map<number, Buffer>();
  for (const { key, value } of journal.getRange()) entries.set(key, Buffer.from(value));
  void root.close();
  return entries;
}

describe('an online snapshot', () => {
  it('is one cut across shards under load, restores, and the restored directory conserves money', async () => {
    const set = await sets.start();
    const accounts = [...idsOnShard(0, 4, 1n, shardCount), ...idsOnShard(1, 4, 1n, shardCount)];
    expect(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))))).every((r) => r.result === 'ok')).toBe(true);

    let nextId = 1_000n;
    const acked: { id: bigint; startedMs: number; ackedMs: number; amount: bigint; debit: bigint; credit: bigint }[] = [];
    let posting = true;
    const client = async (seed: number): Promise<void> => {
      let i = seed;
      while (posting) {
        const batch: TransferInput[] = [];
        for (let k = 0; k < 50; k++, i++) {
          const debit = accounts[i % accounts.length]!;
          const credit = accounts[(i * 7 + 3) % accounts.length]!;
          if (debit === credit) continue;
          batch.push({ id: nextId++, debitAccountId: debit, creditAccountId: credit, amount: BigInt(1 + (i % 97)), ledger, code: 1 });
        }
        const startedMs = performance.now();
        const results = decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(batch)));
        const ackedMs = performance.now();
        results.forEach((r, j) => {
          const t = batch[j]!;
          if (r.result === 'ok') acked.push({ id: t.id, startedMs, ackedMs, amount: t.amount, debit: t.debitAccountId, credit: t.creditAccountId });
        });
      }
    };
    const clients = [client(0), client(1), client(2)];
    await sleep(300);

    const out = join(tempDir('tally-snap-out-'), 'snap');
    const beganMs = performance.now();
    const started = set.startSnapshot(out);
    expect(started.state).toBe('running');
    expect(() => set.startSnapshot(join(tempDir('tally-snap-other-'), 'x'))).toThrow(/one at a time/);
    // The barrier is passed once the status names the cut.
    let barrierPassedMs = 0;
    for (let i = 0; i < 400 && barrierPassedMs === 0; i++) {
      if (set.snapshotStatus()!.shards !== null) barrierPassedMs = performance.now();
      else await sleep(5);
    }
    const status = await untilSnapshotEnds(set);
    await sleep(200);
    posting = false;
    await Promise.all(clients);
    expect(status.state, status.error ?? '').toBe('done');
    expect(status.heldMs!).toBeLessThan(1000);

    const manifest = await checkSnapshot(out);
    expect(manifest.shardCount).toBe(shardCount);
    expect(manifest.shards.map((s) => s.seq)).toEqual(status.shards!.map((s) => s.seq));
    await sets.close(set);

    // Each shard's journal in the snapshot is exactly the live journal's first `seq` entries.
    for (const cut of manifest.shards) {
      const live = journalOf(sets.dataDir, cut.shard);
      const copied = journalOf(out, cut.shard);
      expect(copied.size).toBe(cut.seq);
      expect(live.size).toBeGreaterThan(cut.seq); // posting went on after the cut
      for (let seq = 1; seq <= cut.seq; seq++) expect(copied.get(seq)!.equals(live.get(seq)!), `shard ${cut.shard} seq ${seq}`).toBe(true);
    }

    // Restore and start: acknowledged before the snapshot began → present; begun after the barrier → absent.
    const restored = join(tempDir('tally-snap-restored-'), 'data');
    await restoreSnapshot(out, restored);
    // The barrier came at a quiet instant (issue #14, item 29): nothing was between shards at the cut.
    const verified = await verifyDataDir({ dataDir: restored, chart: defaultChart() });
    expect(verified.problems).toEqual([]);
    expect(verified.transit?.inFlight).toEqual([]);
    const again = await startShards({ dataDir: restored, shardCount, transit: fastTransit });
    try {
      const before = acked.filter((t) => t.ackedMs < beganMs);
      const after = acked.filter((t) => t.startedMs > barrierPassedMs);
      expect(before.length).toBeGreaterThan(0);
      expect(after.length).toBeGreaterThan(0);
      const found = new Set<bigint>();
      for (let at = 0; at < acked.length; at += 8190) {
        const page = acked.slice(at, at + 8190).map((t) => t.id);
        for (const t of decodeTransferStates(await again.execute(Operation.lookup_transfers, encodeIds(page)))) found.add(t.id);
      }
      for (const t of before) expect(found.has(t.id), `transfer ${t.id} acknowledged before the snapshot`).toBe(true);
      for (const t of after) expect(found.has(t.id), `transfer ${t.id} begun after the barrier`).toBe(false);
      // Every credit lands exactly once: balances are the sums of the transfers present.
      const present = acked.filter((t) => found.has(t.id));
      const expected = new Map<bigint, bigint>(accounts.map((id) => [id, 0n]));
      for (const t of present) {
        expected.set(t.debit, expected.get(t.debit)! - t.amount);
        expected.set(t.credit, expected.get(t.credit)! + t.amount);
      }
      let settled = false;
      for (let i = 0; i < 200 && !settled; i++) {
        const states = decodeAccountStates(await again.execute(Operation.lookup_accounts, encodeIds(accounts)));
        settled = states.every((a) => a.creditsPosted - a.debitsPosted === expected.get(a.id));
        if (!settled) await sleep(25);
      }
      expect(settled).toBe(true);
    } finally {
      await again.close();
    }
  }, 60_000);

  it('restores the id index and the transfer index: old ids answer exists, queries find old transfers', async () => {
    // Small id caches and frequent checkpoints: the restored shards start from a checkpoint with empty caches, so
    // an old id is found on disk only (idTimes, for time-ordered ids), and the transfer index answers queries.
    const dataDir = join(tempDir('tally-snap-small-'), 'data');
    const set = await startShards({ dataDir, shardCount, transit: fastTransit, idCache: { transferIds: 64, idsOther: 64 }, checkpoint: { entries: 4, seconds: 1, countGapMs: 0 } });
    const accounts = [...idsOnShard(0, 2, 1n, shardCount), ...idsOnShard(1, 2, 1n, shardCount)];
    expect(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))))).every((r) => r.result === 'ok')).toBe(true);
    const posted: TransferInput[] = [];
    for (let batch = 0; batch < 40; batch++) {
      const transfers = Array.from({ length: 20 }, (_, k): TransferInput => ({ id: newId(), debitAccountId: accounts[k % 4]!, creditAccountId: accounts[(k + 1) % 4]!, amount: 1n, ledger, code: 9, userData32: batch }));
      expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).every((r) => r.result === 'ok')).toBe(true);
      posted.push(...transfers);
    }
    const out = join(tempDir('tally-snap-out-'), 'snap');
    set.startSnapshot(out);
    expect((await untilSnapshotEnds(set)).state).toBe('done');
    await set.close();
    const restored = join(tempDir('tally-snap-restored-'), 'data');
    await restoreSnapshot(out, restored);
    const again = await startShards({ dataDir: restored, shardCount, transit: fastTransit, idCache: { transferIds: 64, idsOther: 64 } });
    try {
      // The first transfers, sent again: answered from the id index on disk, posted once.
      const retried = decodeResults(await again.execute(Operation.create_transfers, encodeTransfers(posted.slice(0, 20))));
      expect(retried.map((r) => r.result)).toEqual(posted.slice(0, 20).map(() => 'exists'));
      const page = decodeTransferQueryPage(await again.execute(Operation.query_transfers, encodeQueryFilter({ code: 9, userData32: 1 }, 'transfers')));
      expect(page.rows.map((t) => t.id).sort()).toEqual(posted.slice(20, 40).map((t) => t.id).sort());
    } finally {
      await again.close();
    }
  }, 60_000);

  it('refuses a target that is not empty or not absolute, and restore refuses damaged, partial and unlisted files', async () => {
    const set = await sets.start();
    const accounts = idsOnShard(0, 2, 1n, shardCount);
    await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))));
    const busy = tempDir('tally-snap-busy-');
    writeFileSync(join(busy, 'x'), 'x');
    expect(() => set.startSnapshot(busy)).toThrow(/not an empty directory/);
    expect(() => set.startSnapshot('relative/dir')).toThrow(/absolute/);
    expect(() => set.startSnapshot(join(sets.dataDir, 'snap'))).toThrow(/inside the data directory/);
    // The request's body: exactly {"out": …}; an extra or misspelt field is refused, not ignored (issue #20).
    const request = (fields: Record<string, unknown>) => set.execute(Operation.start_snapshot, encodeAdminJson(fields));
    const fresh = join(tempDir('tally-snap-fields-'), 'snap');
    await expect(request({ out: fresh, extra: true })).rejects.toMatchObject({ code: 'body_invalid' });
    await expect(request({ output: fresh })).rejects.toMatchObject({ code: 'body_invalid' });
    await expect(request({ out: 42 })).rejects.toMatchObject({ code: 'body_invalid' });
    expect(existsSync(fresh)).toBe(false);

    const out = join(tempDir('tally-snap-out-'), 'snap');
    set.startSnapshot(out);
    expect((await untilSnapshotEnds(set)).state).toBe('done');
    const manifest = readManifest(out);
    expect(manifest.files.map((f) => f.path)).toContain('shard-0/data.mdb');

    // A restore into a directory that is not empty is refused, and it stays as it was.
    const occupied = tempDir('tally-snap-occupied-');
    writeFileSync(join(occupied, 'keep'), 'keep');
    await expect(restoreSnapshot(out, occupied)).rejects.toThrow(/not an empty directory/);
    expect(readFileSync(join(occupied, 'keep'), 'utf8')).toBe('keep');

    // One flipped byte: refused, naming the file; nothing is left at the target.
    const damaged = join(tempDir('tally-snap-damaged-'), 'snap');
    await restoreSnapshot(out, join(damaged, '..', 'ok-copy')); // a good restore first: the snapshot itself is fine
    rmSync(join(damaged, '..', 'ok-copy'), { recursive: true });
    const { cpSync } = await import('node:fs');
    cpSync(out, damaged, { recursive: true });
    const file = join(damaged, 'shard-1', 'data.mdb');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] ^= 0xff;
    writeFileSync(file, bytes);
    const target = join(tempDir('tally-snap-target-'), 'data');
    await expect(restoreSnapshot(damaged, target)).rejects.toThrow(/shard-1\/data\.mdb: checksum mismatch/);
    expect(existsSync(target)).toBe(false);

    // A snapshot cut short (no manifest) and one with a file the manifest does not list.
    const partial = join(tempDir('tally-snap-partial-'), 'snap');
    cpSync(out, partial, { recursive: true });
    rmSync(join(partial, manifestFileName));
    await expect(restoreSnapshot(partial, target)).rejects.toThrow(/partial snapshot/);
    const extra = join(tempDir('tally-snap-extra-'), 'snap');
    cpSync(out, extra, { recursive: true });
    appendFileSync(join(extra, 'stray.bin'), 'x');
    await expect(restoreSnapshot(extra, target)).rejects.toThrow(/stray\.bin is not in the manifest/);
    expect(existsSync(target)).toBe(false);
  }, 60_000);

  it('into a target disk too small for it fails cleanly (before LMDB is tried) while the shards post on', async () => {
    const disk = prepareFullDisk(8 * 1024 * 1024, { tmpfsOnly: true });
    try {
      const set = await sets.start();
      const accounts = [...idsOnShard(0, 2, 1n, shardCount), ...idsOnShard(1, 2, 1n, shardCount)];
      await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))));
      for (let round = 0; round < 8; round++) {
        const batch = Array.from({ length: 8000 }, (_, k) => ({ id: BigInt(round * 8000 + k + 1), debitAccountId: accounts[k % 4]!, creditAccountId: accounts[(k + 1) % 4]!, amount: 1n, ledger, code: 1 }));
        await set.execute(Operation.create_transfers, encodeTransfers(batch));
      }
      set.startSnapshot(join(disk.dir, 'snap'));
      const status = await untilSnapshotEnds(set);
      expect(status.state).toBe('failed');
      expect(status.error).toMatch(/bytes free, under the \d+ a chunk/);
      expect(existsSync(join(disk.dir, 'snap', manifestFileName))).toBe(false);
      const after = decodeResults(await set.execute(Operation.create_transfers, encodeTransfers([{ id: 999_999n, debitAccountId: accounts[0]!, creditAccountId: accounts[1]!, amount: 1n, ledger, code: 1 }])));
      expect(after[0]!.result).toBe('ok');
      await sets.close(set);
    } finally {
      disk.dispose();
    }
  }, 60_000);
});

