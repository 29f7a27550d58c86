// Spec of the transfer index on disk (issue #16): written with each entry, so query_transfers finds transfers by
// field after a restart (nothing replayed into memory), with the id caches far smaller than the history; an entry
// whose index went missing (taken from a stream, or written by an older build) is indexed again at replay; and
// the keys of entries a recovery discards never answer, though their seqs are written again.

import { open } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../../src/core/posting/ledger.js';
import { Operation } from '../../../../src/core/operations.js';
import { decodeResults, decodeTransferQueryPage, encodeAccounts, encodeQueryFilter, encodeTransfers, type QueryFilterInput, type TransferInput } from '../../../../src/core/wire/records.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { replayJournal } from '../../../../src/shards/shard/shard-loop.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';
import { useTempDirs } from '../../../support/temp-dirs.js';

const tempDir = useTempDirs();
const bank = 1n;
const bob = 3n;

/** One shard over a real store, each write awaited durable; small id caches, so old ids live on disk only. */
class DiskShard {
  nowMs = 1_700_000_000_000;

  private constructor(
    readonly store: JournalStore,
    readonly ledger: Ledger,
  ) {}

  static open(dataDir: string, nowMs?: number): DiskShard {
    const store = JournalStore.open({ dataDir, shardIndex: 0, shardCount: 1 });
    const ledger = new Ledger({ shardIndex: 0, shardCount: 1, journal: store, idIndex: { source: store.idIndex, capacity: { transferIds: 8, idsOther: 4 } } });
    replayJournal(ledger, store);
    const shard = new DiskShard(store, ledger);
    if (nowMs !== undefined) shard.nowMs = nowMs;
    return shard;
  }

  async write(operation: number, body: Uint8Array): Promise<string[]> {
    this.nowMs += 1000;
    const { seq, entry, reply } = this.ledger.execute(operation, body, BigInt(this.nowMs) * 1_000_000n);
    await this.store.append(seq, entry);
    return decodeResults(reply).map((r) => r.result);
  }

  transfers(transfers: readonly TransferInput[]): Promise<string[]> {
    return this.write(Operation.create_transfers, encodeTransfers(transfers));
  }

  query(filter: QueryFilterInput): bigint[] {
    return decodeTransferQueryPage(this.ledger.query(Operation.query_transfers, encodeQueryFilter({ limit: 1000, ...filter }, 'transfers'))).rows.map((row) => row.id);
  }
}

/** 10 batches of 5 transfers: order 100 + i in user_data_128, merchant i % 4 in user_data_32. */
async function fill(shard: DiskShard): Promise<void> {
  expect(await shard.write(Operation.create_accounts, encodeAccounts([account(bank), account(bob)]))).toEqual(['ok', 'ok']);
  for (let batch = 0; batch < 10; batch++) {
    const transfers = Array.from({ length: 5 }, (_, k) => {
      const i = batch * 5 + k;
      return transfer(1000n + BigInt(i), bank, bob, 1n, { userData128: 100n + BigInt(i), userData32: i % 4, code: 5 });
    });
    expect(await shard.transfers(transfers)).toEqual(transfers.map(() => 'ok'));
  }
}

const ids = (keep: (i: number) => boolean): bigint[] => Array.from({ length: 50 }, (_, i) => i).filter(keep).map((i) => 1000n + BigInt(i));

describe('the transfer index on disk', () => {
  it('answers after a restart, read from disk, with id caches far smaller than the history', async () => {
    const dataDir = tempDir('tally-tindex-');
    let shard = DiskShard.open(dataDir);
    await fill(shard);
    const before = [shard.query({ userData128: 137n }), shard.query({ userData32: 3 }), shard.query({ code: 5, reversed: true })];
    expect(before).toEqual([[1037n], ids((i) => i % 4 === 3), ids(() => true).reverse()]);
    await shard.store.close();
    shard = DiskShard.open(dataDir);
    expect(shard.ledger.state.transfers.evictions + shard.ledger.state.transfers.size).toBeLessThan(50);
    expect([shard.query({ userData128: 137n }), shard.query({ userData32: 3 }), shard.query({ code: 5, reversed: true })]).toEqual(before);
    await shard.store.close();
  });

  it('indexes again, at replay, an entry whose index is missing', async () => {
    const dataDir = tempDir('tally-tindex-');
    let shard = DiskShard.open(dataDir);
    await fill(shard);
    await shard.store.close();
    // As a store an older build wrote, or entries taken from a stream: no index values for them.
    const env = open({ path: `${dataDir}/shard-0`, maxDbs: 12 });
    const binary = { encoding: 'binary', keyEncoding: 'binary' } as const;
    const index = env.openDB({ name: 'transferIndex', ...binary });
    const idx = env.openDB({ name: 'idx', encoding: 'binary', keyEncoding: 'ordered-binary' });
    await env.transaction(() => {
      for (const key of index.getKeys()) void index.remove(key);
      for (const key of idx.getKeys()) void idx.remove(key);
    });
    await env.close();
    shard = DiskShard.open(dataDir); // replays every entry (no checkpoint): rewrites both indexes
    await shard.store.close(); // once the rewrites are committed
    shard = DiskShard.open(dataDir);
    expect(shard.query({ userData32: 1 })).toEqual(ids((i) => i % 4 === 1));
    expect(shard.query({ userData128: 149n })).toEqual([1049n]);
    await shard.store.close();
  });

  it('never answers from keys of entries a recovery discarded, though their seqs are written again', async () => {
    const dataDir = tempDir('tally-tindex-');
    let shard = DiskShard.open(dataDir);
    expect(await shard.write(Operation.create_accounts, encodeAccounts([account(bank), account(bob)]))).toEqual(['ok', 'ok']);
    expect(await shard.transfers([transfer(2000n, bank, bob, 1n, { userData128: 7n })])).toEqual(['ok']); // seq 2
    expect(await shard.transfers([transfer(2001n, bank, bob, 1n, { userData128: 8n })])).toEqual(['ok']); // seq 3
    const nowMs = shard.nowMs;
    await shard.store.close();
    // Seq 2 lost (its append failed): seq 3 lies past a gap, was never acknowledged, and recovery drops it.
    const env = open({ path: `${dataDir}/shard-0`, maxDbs: 12 });
    await env.openDB({ name: 'journal', encoding: 'binary', keyEncoding: 'ordered-binary' }).remove(2);
    await env.close();
    shard = DiskShard.open(dataDir, nowMs - 2000);
    expect(await shard.store.discardAfter(shard.ledger.seqLast)).toBe(1);
    expect(shard.query({ userData128: 8n })).toEqual([]);
    // Seqs 2 and 3 again, with other transfers: only they answer.
    expect(await shard.transfers([transfer(2002n, bank, bob, 1n, { userData128: 9n })])).toEqual(['ok']);
    expect(await shard.transfers([transfer(2003n, bank, bob, 1n, { userData128: 8n })])).toEqual(['ok']);
    expect([shard.query({ userData128: 7n }), shard.query({ userData128: 8n }), shard.query({ userData128: 9n })]).toEqual([[], [2003n], [2002n]]);
    await shard.store.close();
  });
});
