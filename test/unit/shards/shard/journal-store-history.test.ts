// Spec of the history runs in a shard's store (journal-store.ts with core/accounts/history-runs.ts): a flush's run
// blocks are stored with its entry and readable at once (in flight, then from LMDB); a restart — reopen the
// store, replay every entry — answers every history page byte for byte as before; replay writes a block that
// is missing (the same bytes) and refuses one that differs; tally verify's comparison names both.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBlockKey } from '../../../../src/core/accounts/history-runs.js';
import { Ledger } from '../../../../src/core/posting/ledger.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeAccounts, encodeHistoryFilter, encodeTransfers } from '../../../../src/core/wire/records.js';
import { JournalStore } from '../../../../src/shards/shard/journal-store.js';
import { replayJournal } from '../../../../src/shards/shard/shard-loop.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';
import { open } from 'lmdb';

let dataDir: string;
const opened: JournalStore[] = [];

function openStore(): JournalStore {
  const store = JournalStore.open({ dataDir, shardIndex: 0, shardCount: 1 });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tally-history-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const accountIds = [1n, 2n, 3n, 4n];
const second = 1_000_000_000n;

/** A ledger over `store` that writes `rounds` batches, flushing after every `flushEvery`; returns it once all is durable. */
async function post(store: JournalStore, rounds: number, flushEvery: number): Promise<Ledger> {
  const ledger = new Ledger({ shardIndex: 0, shardCount: 1, journal: store });
  let now = 1_700_000_000n * second;
  const appends: Promise<void>[] = [];
  const write = (operation: number, body: Uint8Array) => {
    const { seq, entry } = ledger.execute(operation, body, (now += second));
    appends.push(store.append(seq, entry));
  };
  write(Operation.create_accounts, encodeAccounts(accountIds.map((id) => account(id))));
  let id = 100n;
  for (let round = 0; round < rounds; round++) {
    write(Operation.create_transfers, encodeTransfers([transfer(id++, 1n, 2n, 3n), transfer(id++, 2n, 3n, 1n), transfer(id++, 4n, 1n, 2n)]));
    if (round % flushEvery === flushEvery - 1) {
      const flushed = ledger.flushHistory((now += second))!;
      appends.push(store.appendFlush(flushed.seq, flushed.entry, flushed.runs));
      expect(ledger.historyBufferedNodes).toBe(0);
      // Readable before its commit: a query may run between the append and its fsync.
      expect(store.runBlock(flushed.seq, 0)).toBeDefined();
    }
  }
  await Promise.all(appends);
  return ledger;
}

/** Every page worth asking: whole histories both ways, small pages, and windows. */
function pages(ledger: Ledger): Uint8Array[] {
  const replies: Uint8Array[] = [];
  const start = 1_700_000_000n * second;
  for (const accountId of accountIds) {
    for (const reversed of [false, true]) {
      replies.push(ledger.query(Operation.get_account_transfers, encodeHistoryFilter({ accountId, reversed })));
      replies.push(ledger.query(Operation.get_account_transfers, encodeHistoryFilter({ accountId, reversed, limit: 3 })));
      replies.push(ledger.query(Operation.get_account_transfers, encodeHistoryFilter({ accountId, reversed, limit: 4, timestampMin: start + 7n * second, timestampMax: start + 19n * second })));
    }
  }
  return replies;
}

describe('JournalStore history runs', () => {
  it('a restart (reopen, full replay) answers every history page as before', async () => {
    const store = openStore();
    const ledger = await post(store, 20, 3);
    const before = pages(ledger);
    expect(store.historyStats().blocks).toBe(6);
    await store.close();
    const reopened = openStore();
    const replayed = new Ledger({ shardIndex: 0, shardCount: 1, journal: reopened });
    expect(replayJournal(replayed, reopened)).toBe(ledger.seqLast);
    expect(pages(replayed)).toEqual(before);
  });

  it('replay writes a missing run block again, with the same bytes', async () => {
    const store = openStore();
    const ledger = await post(store, 6, 3);
    const before = pages(ledger);
    const flushSeqs = [...store.entries(1)].filter(([, e]) => new DataView(e.buffer, e.byteOffset).getUint16(2, true) === Operation.flush_history).map(([seq]) => seq);
    expect(flushSeqs).toHaveLength(2);
    await store.close();
    removeRunBlock(flushSeqs[0]!);
    const reopened = openStore();
    const replayed = new Ledger({ shardIndex: 0, shardCount: 1, journal: reopened });
    replayJournal(replayed, reopened);
    expect(pages(replayed)).toEqual(before);
    await reopened.durable();
    expect(reopened.historyStats().blocks).toBe(2);
  });

  it('replay refuses a stored run block that differs from its replay (storage_failed), and compareRuns names it', async () => {
    const store = openStore();
    await post(store, 3, 3);
    await store.close();
    const [flushSeq] = [...tamperRunBlocks()];
    const reopened = openStore();
    const replayed = new Ledger({ shardIndex: 0, shardCount: 1, journal: reopened });
    expect(() => replayJournal(replayed, reopened)).toThrow(expect.objectContaining({ code: 'storage_failed' }));
    // What tally verify does: replay without writing, then compare the flush's runs with the stored ones.
    const checked = new Ledger({ shardIndex: 0, shardCount: 1, journal: reopened });
    for (const [seq, entry] of reopened.entries(1)) {
      checked.replay(seq, entry);
      const runs = checked.takeFlushedRuns();
      if (runs === null) continue;
      expect(runs.epoch).toBe(flushSeq);
      expect(reopened.compareRuns(runs)).toEqual({ missing: [], different: [0] });
    }
  });
});

/** Opens the shard's LMDB environment directly (the store is closed) and deletes one run block. */
function removeRunBlock(epoch: number): void {
  const root = open({ path: join(dataDir, 'shard-0'), maxDbs: 4 });
  const history = root.openDB<Uint8Array, Uint8Array>({ name: 'history', encoding: 'binary', keyEncoding: 'binary' });
  history.removeSync(runBlockKey(epoch, 0));
  void root.close();
}

/** Flips a location byte of every stored run block; yields their epochs. */
function* tamperRunBlocks(): Generator<number> {
  const root = open({ path: join(dataDir, 'shard-0'), maxDbs: 4 });
  const history = root.openDB<Uint8Array, Uint8Array>({ name: 'history', encoding: 'binary', keyEncoding: 'binary' });
  for (const { key, value } of history.getRange({})) {
    const changed = Uint8Array.prototype.slice.call(value);
    changed[changed.byteLength - 1]! ^= 0x40;
    history.putSync(key, changed);
    yield new DataView(key.buffer, key.byteOffset).getUint32(4);
  }
  void root.close();
}
