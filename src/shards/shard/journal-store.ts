// One shard's journal on disk: an LMDB environment at `${dataDir}/shard-${index}` holding entries by seq
// (1, 2, 3, … without gaps), each stored as a head and pieces (entry-pieces.ts), the account history runs of
// each flush_history entry (written in the entry's own transaction), the closed days, the shard's identity and
// the id index (id-index.ts, written only from append, in the entry's transaction). The only module that writes
// it (the snapshot copier and tally verify open it read-only on their own; storage/store-catalog.ts lists every store).
// An append resolves only once its entry AND every earlier entry are fsync'd; an entry is never overwritten.

import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { balanceStride } from '../../core/accounts/account-table.js';
import { assert } from '../../core/assert.js';
import { bytesEqual } from '../../core/bytes.js';
import { errors } from '../../core/errors.js';
import { JournalHeader, RecordParts, RecordSlice, eventOffset, recordRanges, recordSliceBytes, recordSliceOf, recordSliceRoom } from '../../core/posting/journal-entry.js';
import { eventBytes } from '../../core/limits.js';
import { resultBytes } from '../../core/layout.js';
import { balancesAfterBytes } from '../../core/posting/journal-entry.js';
import { EntryPieces, piecesFormat1, piecesFormat2, type PieceFormat } from './entry-pieces.js';
import { RecentBytes } from './recent-bytes.js';
import { runBlockKey, type FlushedRuns, type HistorySource } from '../../core/accounts/history-runs.js';
import type { IndexRun } from '../../core/posting/transfer-index.js';
import { journalCacheEntriesMax, shardCountMax } from '../../core/limits.js';
import { openEnvironmentReadOnly } from '../storage/read-only-env.js';
import { quietCommitFailure, storageFailure } from '../storage/commit-failures.js';
import { IdIndex } from './id-index.js';

/**
 * The layout a new store is created with, checked on open; bumped when entries or meta change meaning.
 * 2: entries cut in 4,072-byte pieces (entry-pieces.ts, piecesFormat2). Format 1 (16 KiB pieces) is still read and
 * written: a store keeps the format it was created with.
 */
export const journalFormatVersion = 2;
/** Every format this build opens, and how each cuts its entries. */
const pieceFormats: ReadonlyMap<number, PieceFormat> = new Map([
  [1, piecesFormat1],
  [2, piecesFormat2],
]);

/** Initial address space mapped per shard; lmdb-js grows the map by doubling when it fills. */
const mapBytesInitial = 1024 * 1024 * 1024;

export interface JournalStoreOptions {
  readonly dataDir: string;
  readonly shardIndex: number;
  readonly shardCount: number;
  /** The format of a store created here (tests of older formats); default journalFormatVersion. Ignored for a store that exists. */
  readonly createFormat?: number;
}

/**
 * Meta values are numbers (format, identity, marks, closed days' cut seqs). The meta database encodes its
 * values as ordered-binary, which caps a value at LMDB's key size (1,978 bytes): nothing whose size grows
 * with the data may be put there. Stores written before day-close summaries moved to the days database
 * may still hold them here as strings (read by daySummary only).
 */
type MetaValue = number | string;

interface ShardMeta {
  formatVersion: number;
  shardIndex: number;
  shardCount: number;
}

/** lmdb-js accepts put flags as a third argument; its typings only declare the version form. */
type PutWithFlags = (key: number, value: Uint8Array, options: { noOverwrite: boolean; append: boolean }) => Promise<boolean>;
type PutBytesWithFlags = (key: Uint8Array, value: Uint8Array, options: { noOverwrite: boolean }) => Promise<boolean>;

/** Named databases of a shard store: journal, meta, days, history (storage/store-catalog.ts lists them too). */
/** meta, journal, entryPieces, days, history, the id index's idx, idTimes, idStragglers (and idBuckets of older stores), transferIndex. */
const databasesMax = 12;

/** Entry heads recordSlice keeps (a piece each at most: ≤ 1 MiB). */
const headsKeptMax = 64;

const noop = (): void => {};

export class JournalStore implements HistorySource {
  /** Highest seq appended (durable or still in flight); 0 when empty. */
  seqLast: number;
  /** Highest seq known durable together with every seq below it. */
  seqDurable: number;
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #journal: Database<Uint8Array, number>;
  readonly #meta: Database<MetaValue, string>;
  readonly #days: Database<Uint8Array, Uint8Array>;
  /** History run blocks by (epoch, block) (core/accounts/history-runs.ts); null: a read-only store that has none. */
  readonly #history: Database<Uint8Array, Uint8Array> | null;
  /** Runs of flushes not yet committed, by epoch: LMDB reads cannot see them yet. */
  readonly #runsInFlight = new Map<number, FlushedRuns>();
  readonly #cache: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(journalCacheEntriesMax);
  readonly #cacheSeqs = new Float64Array(journalCacheEntriesMax);
  /** Each entry past its head (entry-pieces.ts); null only read-only on a store written before pieces. */
  readonly #pieces: EntryPieces | null;
  /** Heads recordSlice read lately (a piece each at most), by seq: entries are never rewritten, except past a gap (discardAfter). */
  readonly #heads: RecentBytes;
  /** Where entryViews assembles an entry stored in pieces (grown as needed, reused: valid until the next step). */
  readonly #assembly = { buffer: new Uint8Array(0) };
  /** Entries appended but not yet committed: LMDB reads cannot see them yet. */
  readonly #inFlight = new Map<number, Uint8Array>();
  /** Resolves when every append so far is durable; rejects once any append failed. */
  #tail: Promise<void> = Promise.resolve();
  #closed = false;
  /** Where every id an entry took lives (id-index.ts); null when opened read-only. */
  #ids: IdIndex | null = null;
  /** A store opened read-only whose id index is not opened yet (idIndexIfAny opens it). */
  #idsReadOnlyUnopened = false;

  private constructor(
    path: string,
    root: RootDatabase,
    journal: Database<Uint8Array, number>,
    meta: Database<MetaValue, string>,
    days: Database<Uint8Array, Uint8Array>,
    history: Database<Uint8Array, Uint8Array> | null,
    pieces: Database<Uint8Array, Uint8Array> | null,
    format: PieceFormat,
    seqLast: number,
  ) {
    this.path = path;
    this.#pieces = pieces === null ? null : new EntryPieces(pieces, format);
    this.#heads = new RecentBytes(headsKeptMax, format.pieceBytes);
    this.#root = root;
    this.#journal = journal;
    this.#meta = meta;
    this.#days = days;
    this.#history = history;
    this.seqLast = seqLast;
    this.seqDurable = seqLast;
  }

  /** Opens (creating when absent) the store of one shard; refuses a store made for another layout. */
  static open(options: JournalStoreOptions): JournalStore {
    checkOptions(options);
    const path = join(options.dataDir, `shard-${options.shardIndex}`);
    const root = openEnvironment(path);
    try {
      const { meta, journal, days, history, pieces, format } = openDatabases(root, path, options.createFormat ?? journalFormatVersion);
      checkIdentity(root, meta, journal, path, options);
      assert(history !== undefined && pieces !== undefined, 'a writable store opens (creating) its history and entry-piece databases');
      const store = new JournalStore(path, root, journal, meta, days, history, pieces, format, lastSeqOf(journal));
      store.#ids = new IdIndex(root, {
        eventInto: (seq, index, out) => store.eventInto(seq, index, out),
        get seqLast() {
          return store.seqLast;
        },
        get seqDurable() {
          return store.seqDurable;
        },
      });
      return store;
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  /**
   * Opens the existing store of shard `shardIndex` for reading only (tally verify): never creates or writes
   * a file of `dataDir` (see read-only-env.ts; `scratchDir` takes LMDB's lock file). Refuses a directory
   * without a store (NotAStoreError), a store without this format's meta or one that holds another shard.
   */
  static openReadOnly(dataDir: string, shardIndex: number, scratchDir: string): JournalStore {
    const path = join(dataDir, `shard-${shardIndex}`);
    const root = openEnvironmentReadOnly(path, scratchDir, databasesMax);
    try {
      // An unknown format is refused here (openDatabases); no format at all, just below.
      const { meta, journal, days, history, pieces, format } = openDatabases(root, path, journalFormatVersion);
      const identity = readIdentity(meta);
      if (identity.formatVersion === undefined) throw errors.storageFailed(`${path} is not a Tally shard store: its meta records no format`);
      if (identity.shardIndex !== shardIndex) throw errors.storageFailed(`${path} holds shard ${String(identity.shardIndex)}, not shard ${shardIndex}`);
      // A store no flushing build ever opened has no history database (and no flush_history entry either).
      // One written before entries were stored in pieces holds each whole under its seq (entry-pieces.ts).
      const store = new JournalStore(path, root, journal, meta, days, history ?? null, pieces ?? null, format, lastSeqOf(journal));
      store.#idsReadOnlyUnopened = true; // opened on first use: its open scans the straggler keys
      return store;
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  /**
   * append() of a flush_history entry with the run blocks its application produced: the blocks are put in
   * the same synchronous call, so in the same event turn and LMDB transaction as the entry (one commit, one
   * fsync). Resolves, like append, once the entry and every earlier one are durable.
   */
  appendFlush(seq: number, entry: Uint8Array, runs: FlushedRuns): Promise<void> {
    assert(runs.epoch === seq, 'a flush\'s runs carry its seq as their epoch');
    const history = this.#writableHistory();
    this.#runsInFlight.set(seq, runs);
    // A failed commit rejects these puts and the entry's alike: the entry's rejection is the one answered.
    for (const { block, bytes } of runs.blocks) void (history.put as unknown as PutBytesWithFlags).call(history, runBlockKey(seq, block), bytes, { noOverwrite: true }).catch(quietCommitFailure);
    return this.append(seq, entry);
  }

  /**
   * Replay of a flush_history entry already journaled: its blocks are normally stored (same transaction as
   * the entry); any that are missing are written (idempotent: the replay produced the same bytes), and those
   * present must equal the replay's. Throws storage_failed when one differs. Returns the blocks written.
   */
  restoreRuns(runs: FlushedRuns): number {
    const { missing, different } = this.compareRuns(runs);
    if (different.length > 0) throw errors.storageFailed(`${this.path}: history run blocks ${different.join(', ')} of flush ${runs.epoch} differ from their replay`);
    if (missing.length === 0) return 0;
    const history = this.#writableHistory();
    this.#runsInFlight.set(runs.epoch, runs);
    const written = Promise.all(runs.blocks.filter(({ block }) => missing.includes(block)).map(({ block, bytes }) => history.put(runBlockKey(runs.epoch, block), bytes)));
    const durable = Promise.all([this.#tail, written]).then(
      () => void this.#runsInFlight.delete(runs.epoch),
      async (error: unknown) => {
        throw await storageFailure(error, `history runs of flush ${runs.epoch} were not restored`);
      },
    );
    durable.catch(noop); // the next append chains on it
    this.#tail = durable;
    return missing.length;
  }

  /** Which of `runs`' blocks the store lacks, and which it holds with other bytes (tally verify reports both). */
  compareRuns(runs: FlushedRuns): { missing: number[]; different: number[] } {
    const missing: number[] = [];
    const different: number[] = [];
    for (const { block, bytes } of runs.blocks) {
      const stored = this.#storedRunBlock(runs.epoch, block);
      if (stored === undefined) missing.push(block);
      else if (!bytesEqual(stored, bytes)) different.push(block);
    }
    return { missing, different };
  }

  /** HistorySource: the run block (epoch, block), in flight or stored; a stored one is a view valid until the next read. */
  runBlock(epoch: number, block: number): Uint8Array | undefined {
    const inFlight = this.#runsInFlight.get(epoch);
    if (inFlight !== undefined) return inFlight.blocks.find((b) => b.block === block)?.bytes;
    return this.#storedRunBlock(epoch, block);
  }

  /** Stored bytes of run blocks (for the measurements of bytes per history node). */
  historyStats(): { blocks: number; bytes: number } {
    let blocks = 0;
    let bytes = 0;
    for (const { value } of this.#history?.getRange({}) ?? []) {
      blocks++;
      bytes += value.byteLength;
    }
    return { blocks, bytes };
  }

  #storedRunBlock(epoch: number, block: number): Uint8Array | undefined {
    const bytes = this.#history?.getBinaryFast(runBlockKey(epoch, block));
    // A zero-copy view into LMDB's map (or its reused read buffer for a small value, whose `length` is the value's).
    return bytes === undefined ? undefined : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  #writableHistory(): Database<Uint8Array, Uint8Array> {
    assert(this.#history !== null && !this.#closed, 'history runs are written to an open, writable store');
    return this.#history;
  }

  /**
   * Queues `entry` under `seq` (= seqLast + 1). Resolves once it and every earlier entry are durable
   * (fsync'd): callers acknowledge writes and serve reads only after that. Rejects with storage_failed.
   */
  append(seq: number, entry: Uint8Array): Promise<void> {
    assert(!this.#closed, 'journal append after close');
    assert(seq === this.seqLast + 1, `journal append of seq ${seq} after ${this.seqLast}`);
    assert(entry.byteLength > 0, 'a journal entry is never empty');
    this.seqLast = seq;
    this.#remember(seq, entry);
    this.#inFlight.set(seq, entry);
    // In this same synchronous call, so in the entry's own transaction (lmdb-js: one event turn, one commit).
    this.#ids?.write(seq);
    // noOverwrite: a seq already on disk means another writer (e.g. a dead worker's last commit) raced us.
    // append: seqs only grow (a recovery removes the heads past its cut), so LMDB fills pages rather than halving them.
    const written = (this.#journal.put as unknown as PutWithFlags).call(this.#journal, seq, this.#pieces!.headOf(entry), { noOverwrite: true, append: true });
    // Same event turn, so same transaction: the head's put answers for the pieces (a failed commit rejects all).
    this.#pieces!.put(seq, entry, quietCommitFailure);
    const durable = Promise.all([this.#tail, written]).then(
      ([, stored]) => this.#onDurable(seq, stored),
      async (error: unknown) => {
        throw await storageFailure(error, `journal entry ${seq} was not made durable`);
      },
    );
    durable.catch(noop); // the caller awaits it; the next append chains on it
    this.#tail = durable;
    return durable;
  }

  /** The id index on disk that the ledger's id caches fall back on (a store opened for writing). */
  get idIndex(): IdIndex {
    assert(this.#ids !== null, 'a store opened read-only on a store without an id index has none');
    return this.#ids;
  }

  /**
   * The id index, or null when a store opened read-only predates it. Read-only, it is opened here, on first use
   * (lookups only: verify --incremental restores from a checkpoint, whose older ids live in it).
   */
  get idIndexIfAny(): IdIndex | null {
    if (this.#idsReadOnlyUnopened) {
      this.#idsReadOnlyUnopened = false;
      this.#ids = IdIndex.openReadOnly(this.#root, { eventInto: (seq, index, out) => this.eventInto(seq, index, out), seqLast: this.seqLast, seqDurable: this.seqLast });
    }
    return this.#ids;
  }

  /**
   * The transfer index's runs under `prefix` (core/posting/transfer-index.ts TransferIndexSource): written with the
   * id index, so none on a read-only store that predates it.
   */
  *runsUnder(prefix: Uint8Array, fromTimestamp: bigint, toTimestamp: bigint, reversed: boolean): Generator<IndexRun> {
    const transfers = this.idIndexIfAny?.transfers ?? null;
    if (transfers !== null) yield* transfers.runsUnder(prefix, fromTimestamp, toTimestamp, reversed);
  }

  /** The transfer index's run under `prefix` of the entry stamped from `timestampBase` (TransferIndexSource). */
  indexesAt(prefix: Uint8Array, timestampBase: bigint, among: Uint16Array): Uint16Array {
    return this.idIndexIfAny?.transfers?.indexesAt(prefix, timestampBase, among) ?? new Uint16Array(0);
  }

  /** Resolves when every append made so far is durable; rejects if any of them failed. */
  durable(): Promise<void> {
    return this.#tail;
  }

  /** The entry under `seq`, synchronously (JournalSource); recent entries come from memory. */
  entry(seq: number): Uint8Array | undefined {
    if (!Number.isInteger(seq) || seq < 1 || seq > this.seqLast) return undefined;
    const held = this.#held(seq);
    if (held !== undefined) return held;
    // Read into lmdb-js's reused buffer (a memcpy: values under 16 MiB are never mapped), then one copy out:
    // half the time of get(), which copies twice (measured: 1.6 MB in ~0.25 ms + ~0.25 ms, against ~0.6-1.2 ms).
    const fast = this.#journal.getBinaryFast(seq);
    if (fast === undefined) return undefined;
    // Kept: lookups of many transfers of one old batch would otherwise copy its whole entry (up to 1 MiB)
    // out of LMDB once per transfer (8,000 lookups of one batch took 4.5 s).
    const bytes = this.#whole(seq, new Uint8Array(fast.buffer, fast.byteOffset, fast.length).slice()); // a plain Uint8Array, not a Buffer
    this.#remember(seq, bytes);
    return bytes;
  }

  /**
   * Record `index` of entry `seq` as a RecordSlice copy (JournalSource.recordSlice): from memory when the entry is
   * held there, else out of the one or two stored pieces that hold it (entry-pieces.ts) — never the whole entry.
   * Undefined when there is no such entry, or `index` names none of its events. With `into` (recordSliceMax bytes
   * or more) the slice is its start, valid until the caller reuses it: a page of a query reads a hundred records
   * without a buffer each.
   */
  recordSlice(seq: number, index: number, parts: number = RecordParts.all, into?: Uint8Array): Uint8Array | undefined {
    if (!Number.isInteger(seq) || seq < 1 || seq > this.seqLast) return undefined;
    const held = this.#held(seq);
    if (held !== undefined) return isEventOf(held, index) ? recordSliceOf(held, index, into) : undefined;
    const head = this.#head(seq);
    if (head === undefined || !isEventOf(head, index)) return undefined;
    if (this.#pieces === null || !this.#pieces.mayContinue(head)) return recordSliceOf(head, index, into);
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const ranges = recordRanges(view.getUint16(JournalHeader.operation, true), view.getUint32(JournalHeader.count, true), index);
    const slice = recordSliceRoom(recordSliceBytes(ranges.balances >= 0), into);
    // Only the pieces of the parts asked for (the rest of the slice is zero): a lookup reads one piece, not three.
    if ((parts & RecordParts.event) !== 0) this.#pieces.read(seq, head, ranges.event, eventBytes, slice, RecordSlice.event);
    if ((parts & RecordParts.result) !== 0) this.#pieces.read(seq, head, ranges.result, resultBytes, slice, RecordSlice.result);
    if ((parts & RecordParts.balances) !== 0 && ranges.balances >= 0) this.#pieces.read(seq, head, ranges.balances, balancesAfterBytes, slice, RecordSlice.balances);
    return slice;
  }

  /** The operation (journal entry kind) of entry `seq`, read from its header alone; undefined when there is none. */
  entryOperation(seq: number): number | undefined {
    if (!Number.isInteger(seq) || seq < 1 || seq > this.seqLast) return undefined;
    const entry = this.#held(seq) ?? this.#head(seq);
    if (entry === undefined) return undefined;
    return new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint16(JournalHeader.operation, true);
  }

  /**
   * Copies the event of record `index` of entry `seq` into `out` (eventBytes), reading only the piece that holds
   * it; false when there is no such event. The id index confirms its candidates so, allocating nothing.
   */
  eventInto(seq: number, index: number, out: Uint8Array): boolean {
    if (!Number.isInteger(seq) || seq < 1 || seq > this.seqLast) return false;
    const entry = this.#held(seq) ?? this.#head(seq);
    if (entry === undefined || !isEventOf(entry, index)) return false;
    const from = eventOffset(index);
    if (from + eventBytes <= entry.byteLength) out.set(entry.subarray(from, from + eventBytes));
    else if (this.#pieces !== null) this.#pieces.read(seq, entry, from, eventBytes, out, 0);
    else return false;
    return true;
  }

  /** Entries from `fromSeq` in seq order, stopping before the first gap (entries past it were never acknowledged). */
  *entries(fromSeq: number): Generator<[seq: number, entry: Uint8Array]> {
    assert(Number.isInteger(fromSeq) && fromSeq >= 1, 'entries start at seq 1 or later');
    let expected = fromSeq;
    for (const { key, value } of this.#journal.getRange({ start: fromSeq })) {
      if (key !== expected) return;
      yield [key, this.#whole(key, plainBytes(value))];
      expected++;
    }
  }

  /**
   * entries() without a copy, for a reader that is done with each entry before it asks for the next (the
   * bookkeeper): an entry is a view into LMDB's map, or into lmdb-js's reused read buffer when small, and
   * is valid only until the loop takes its next step. Never keep one, nor await while holding one. Spares
   * a zero-filled allocation and a copy of every entry (1.6 MB for a full batch): measured, 20–30% of booking.
   * lmdb-js keeps a remapped map's old mapping, and the snapshot being read keeps its pages from reuse.
   */
  *entryViews(fromSeq: number): Generator<[seq: number, entry: Uint8Array]> {
    assert(Number.isInteger(fromSeq) && fromSeq >= 1, 'entries start at seq 1 or later');
    for (let seq = fromSeq; ; seq++) {
      const bytes = this.#journal.getBinaryFast(seq);
      if (bytes === undefined) return; // a gap: entries past it were never acknowledged
      // lmdb-js's reused buffer is longer than the value: its `length` (set per read), not byteLength, is the value's.
      const head = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      yield [seq, this.#pieces !== null && this.#pieces.mayContinue(head) ? this.#pieces.assemble(seq, head, this.#assembly) : head];
    }
  }

  /**
   * Removes every entry after `seq` and makes that durable. Recovery calls it with the last replayed seq:
   * entries after a gap exist only when an earlier append failed, so none of them was acknowledged.
   */
  async discardAfter(seq: number): Promise<number> {
    assert(this.seqDurable === this.seqLast, 'discard only before any append');
    const keys = [...this.#journal.getKeys({ start: seq + 1 })];
    const pieceKeys = this.#pieces?.keysAfter(seq) ?? [];
    // Read before the commit removes them: the index keys any id of theirs made.
    const idKeys = this.#ids?.keysOf(keys.map((key): [number, Uint8Array] => [key, this.#whole(key, this.#head(key)!.slice())])) ?? { seqs: [], times: [], transfers: [] };
    // The run blocks of a removed flush: its seq may come again as another flush, whose replay writes its own.
    const runKeys = this.#history === null ? [] : [...this.#history.getKeys({ start: runBlockKey(seq + 1, 0) })];
    if (keys.length > 0 || pieceKeys.length > 0 || runKeys.length > 0) {
      await this.#commit(`removing ${keys.length} journal entries after seq ${seq} (past a gap)`, () => {
        for (const key of keys) void this.#journal.remove(key);
        for (const key of pieceKeys) this.#pieces!.remove(key);
        for (const key of runKeys) void this.#history!.remove(key);
        this.#ids?.remove(idKeys);
      });
    }
    this.#heads.clear(); // a head past `seq` may be written again with other bytes
    this.seqLast = seq;
    this.seqDurable = seq;
    return keys.length;
  }

  /**
   * Per peer shard, the last pair sequence it acknowledged (0 when unknown). A hint, not a fact the
   * journal depends on: too low only means instructions are offered again and the peer skips them.
   */
  outboxAcknowledged(shardCount: number): number[] {
    return Array.from({ length: shardCount }, (_, peer) => Number(this.#meta.get(`outboxAcknowledged:${peer}`) ?? 0));
  }

  /** Records a peer's acknowledgement; written with the next commit, never awaited by anyone. */
  recordOutboxAcknowledged(peer: number, pairSeq: number): void {
    if (this.#closed) return;
    // A failed hint write is harmless (see outboxAcknowledged); a failed commit still fails the appends in it.
    this.#meta.put(`outboxAcknowledged:${peer}`, pairSeq).catch(quietCommitFailure);
  }

  /** The highest seq committed to the store (read afresh: another thread may be the writer). */
  lastCommittedSeq(): number {
    return lastSeqOf(this.#journal);
  }

  /** Whether the closing balances of business day `day` are stored (a replay need not write them again). */
  isDayClosed(day: number): boolean {
    return this.#meta.get(`dayClosed:${day}`) !== undefined;
  }

  /**
   * Stores the closing balances of a day in chunks of `closingChunkSlots` account slots (a chunk equal to the
   * previous day's is not written again: a balance lookup takes the latest chunk at or before a day), the
   * day-close summary (JSON, any size) beside them in the days database, and the day's cut seq in meta. Every
   * value is encoded before the transaction, so the transaction cannot fail half way through its callback
   * (lmdb-js would commit the puts made before a throw). Resolves once durable. Rewriting a day after a crash
   * writes the same bytes.
   */
  async writeClosedDay(day: number, cutSeq: number, balances: BigUint64Array, previous: BigUint64Array | null, summary: string): Promise<number> {
    assert(Number.isInteger(day) && day >= 0 && day < summaryChunk, 'a closed day is a u32 yyyymmdd (or 0)');
    const puts = changedChunks(day, balances, previous);
    puts.push({ key: closingKey(summaryChunk, day), value: textEncoder.encode(summary) });
    await this.#commit(`storing the closing balances of day ${day}`, () => {
      for (const { key, value } of puts) void this.#days.put(key, value);
      void this.#meta.put(`dayClosed:${day}`, cutSeq);
    });
    return puts.length - 1;
  }

  /**
   * Whether the store takes writes now (after a failed commit, e.g. a full disk): one commit of `bytes`
   * under a key no reader visits, then one that removes it, each fsync'd. Touches neither the journal nor
   * seqLast, so a failed probe leaves nothing to undo. Rejects storage_failed with the cause. (Plain puts,
   * not a transaction callback: a large value there makes LMDB spill pages early, one more failing write.)
   */
  async probe(bytes: number): Promise<void> {
    assert(!this.#closed, 'probe after close');
    assert(Number.isInteger(bytes) && bytes > 0, 'a probe writes at least one byte');
    try {
      await this.#days.put(probeKey, new Uint8Array(bytes));
      await this.#days.remove(probeKey);
    } catch (error) {
      throw await storageFailure(error, `${this.path}: probing with a ${bytes}-byte write`);
    }
  }

  /** The day-close summary (JSON) stored with a closed day. */
  daySummary(day: number): string | undefined {
    const stored = this.#days.get(closingKey(summaryChunk, day));
    if (stored !== undefined) return textDecoder.decode(stored);
    const legacy = this.#meta.get(`daySummary:${day}`); // where stores written before summaries moved kept them
    return typeof legacy === 'string' ? legacy : undefined;
  }

  /** The identity the store's meta records (undefined fields: absent). */
  storedIdentity(): Partial<ShardMeta> {
    return readIdentity(this.#meta);
  }

  /** The first seq stored after `seq`, or undefined: where a journal resumes after a gap. */
  seqFirstAfter(seq: number): number | undefined {
    for (const key of this.#journal.getKeys({ start: seq + 1, limit: 1 })) return key;
    return undefined;
  }

  /** Every business day whose closing balances are stored, with the seq of the cut that closed it, ascending. */
  closedDaysStored(): { day: number; cutSeq: number }[] {
    const days: { day: number; cutSeq: number }[] = [];
    for (const { key, value } of this.#meta.getRange({ start: 'dayClosed:', end: 'dayClosed;' })) {
      days.push({ day: Number(key.slice('dayClosed:'.length)), cutSeq: Number(value) });
    }
    return days.sort((a, b) => a.day - b.day);
  }

  /** The stored closing chunk `chunk` in force at the end of `day` (the latest at or before it, a copy), or null. */
  closingChunkAt(chunk: number, day: number): Uint8Array | null {
    for (const { key, value } of this.#days.getRange({ start: closingKey(chunk, day), reverse: true, limit: 1 })) {
      if (new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(0) !== chunk) return null;
      return Uint8Array.prototype.slice.call(value);
    }
    return null;
  }

  /** The closing balances (closingStride u64 words) of account `slot` at the end of `day`, or null when it had none yet. */
  closingAt(slot: number, day: number): BigUint64Array | null {
    const chunk = Math.floor(slot / closingChunkSlots);
    for (const { key, value } of this.#days.getRange({ start: closingKey(chunk, day), reverse: true, limit: 1 })) {
      if (new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(0) !== chunk) return null;
      const at = (slot - chunk * closingChunkSlots) * closingStride * 8;
      if (at + closingStride * 8 > value.byteLength) return null; // the account was opened after that day
      // lmdb-js returns a Buffer whose slice() is a view into shared memory: copy the bytes out.
      return new BigUint64Array(Uint8Array.prototype.slice.call(value, at, at + closingStride * 8).buffer);
    }
    return null;
  }

  /** Waits for appends in flight (failed or not), then closes the environment. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail.catch(noop);
    await this.#root.close();
  }

  /** One transaction of `writes`, resolved once durable; a failure rejects storage_failed naming `what` and why. */
  async #commit(what: string, writes: () => void): Promise<void> {
    try {
      await this.#root.transaction(writes);
    } catch (error) {
      throw await storageFailure(error, `${this.path}: ${what}`);
    }
  }

  #onDurable(seq: number, stored: boolean): void {
    if (!stored) throw errors.storageFailed(`journal entry ${seq} already exists in ${this.path}: another writer appended it`);
    assert(seq > this.seqDurable, 'appends become durable in seq order');
    // LMDB reads see the entry now: lmdb-js renews its read snapshot before resolving a commit.
    this.#inFlight.delete(seq);
    this.#runsInFlight.delete(seq);
    this.seqDurable = seq;
  }

  /** A copy of the stored head of entry `seq`; the last few read are kept (an id's lookup and its record read both need it). */
  /** Entry `seq` whole, when memory holds it: among the recent ones, or appended and not yet committed. */
  #held(seq: number): Uint8Array | undefined {
    const slot = seq % journalCacheEntriesMax;
    return this.#cacheSeqs[slot] === seq ? this.#cache[slot] : this.#inFlight.get(seq);
  }

  #head(seq: number): Uint8Array | undefined {
    const kept = this.#heads.get(seq);
    if (kept !== undefined) return kept;
    const stored = this.#journal.getBinaryFast(seq);
    if (stored === undefined) return undefined;
    // lmdb-js's reused buffer is longer than the value and valid until the next read: keep the value's `length`.
    return this.#heads.keep(seq, new Uint8Array(stored.buffer, stored.byteOffset, stored.length));
  }

  /** The whole entry of `seq` from its stored head (a copy the caller owns): the head itself unless pieces follow. */
  #whole(seq: number, head: Uint8Array): Uint8Array {
    return this.#pieces !== null && this.#pieces.mayContinue(head) ? this.#pieces.assemble(seq, head) : head;
  }

  #remember(seq: number, entry: Uint8Array): void {
    const slot = seq % journalCacheEntriesMax;
    this.#cache[slot] = entry;
    this.#cacheSeqs[slot] = seq;
  }
}

/** Account slots per stored chunk of closing balances: 4,096 × 40 B = 160 KiB, so a lookup reads one chunk. */
export const closingChunkSlots = 4096;
/** Balance words per slot in closing chunks: the account table's stride (posted, pending, frozen). */
const closingStride = balanceStride;

/**
 * The chunk number under which a day's summary is kept in the days database: above every chunk of account
 * slots (slots are u32, so chunks stay below 2^20), so no range read of closing chunks meets a summary.
 */
const summaryChunk = 0xffff_ffff;

/**
 * Where probe() writes: 9 bytes of 0xff sort after every 8-byte closing or summary key, so no range read of
 * closing chunks (which run from a (chunk, day) key downwards) ever meets it, even one a crash left behind.
 */
const probeKey = new Uint8Array(9).fill(0xff);

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8'); // a damaged summary reads as text that is not JSON (tally verify says so)

/** Key of a closing chunk: u32 chunk then u32 day, big-endian, so byte order is (chunk, day) order. Always 8 bytes. */
function closingKey(chunk: number, day: number): Uint8Array {
  const key = new Uint8Array(8);
  const view = new DataView(key.buffer);
  view.setUint32(0, chunk);
  view.setUint32(4, day);
  return key;
}

/** The chunks of `balances` that differ from `previous` (every chunk when it is null), as puts. */
function changedChunks(day: number, balances: BigUint64Array, previous: BigUint64Array | null): { key: Uint8Array; value: Uint8Array }[] {
  const wordsPerChunk = closingChunkSlots * closingStride;
  const bytes = new Uint8Array(balances.buffer, balances.byteOffset, balances.byteLength);
  const before = previous === null ? null : new Uint8Array(previous.buffer, previous.byteOffset, previous.byteLength);
  const puts: { key: Uint8Array; value: Uint8Array }[] = [];
  for (let chunk = 0; chunk * wordsPerChunk < balances.length || chunk === 0; chunk++) {
    assert(chunk < summaryChunk, 'closing chunks stay below the summary chunk');
    const from = chunk * wordsPerChunk * 8;
    const to = Math.min(bytes.byteLength, from + wordsPerChunk * 8);
    const value = bytes.subarray(from, to);
    if (before !== null && bytesEqual(value, before.subarray(from, Math.min(before.byteLength, to)))) continue;
    puts.push({ key: closingKey(chunk, day), value: value.slice() });
  }
  return puts;
}


function openDatabases(root: RootDatabase, path: string, createFormat: number): {
  meta: Database<MetaValue, string>;
  journal: Database<Uint8Array, number>;
  days: Database<Uint8Array, Uint8Array>;
  /** Undefined only when opened read-only on a store without one. */
  history: Database<Uint8Array, Uint8Array> | undefined;
  /** Undefined only when opened read-only on a store written before entries were stored in pieces. */
  pieces: Database<Uint8Array, Uint8Array> | undefined;
  /** How the store cuts its entries: its format's, or this build's for a store being created. */
  format: PieceFormat;
} {
  const meta = root.openDB<MetaValue, string>({
    name: 'meta', // formatVersion, shardIndex, shardCount
    encoding: 'ordered-binary',
    keyEncoding: 'ordered-binary',
    cache: false,
    compression: false,
  });
  const journal = root.openDB<Uint8Array, number>({
    name: 'journal',
    encoding: 'binary', // entries are opaque bytes; `get` returns a fresh copy
    keyEncoding: 'ordered-binary', // numbers encode so that byte order is numeric order: range scans go by seq
    cache: false, // our own bounded cache below; lmdb-js's weak cache would pin every in-flight put
    compression: false,
    useVersions: false,
    dupSort: false,
  });
  const format = pieceFormatOf(meta, path, createFormat);
  const days = root.openDB<Uint8Array, Uint8Array>({
    name: 'days', // closing balances by (slot chunk, business day), and each day's summary: see writeClosedDay
    encoding: 'binary',
    keyEncoding: 'binary',
    cache: false,
    compression: false,
  });
  const history = root.openDB<Uint8Array, Uint8Array>({
    name: 'history', // account history run blocks by (u64 epoch, u32 slot block) big-endian: see core/accounts/history-runs.ts
    encoding: 'binary',
    keyEncoding: 'binary',
    cache: false,
    compression: false,
  }) as Database<Uint8Array, Uint8Array> | undefined;
  const pieces = root.openDB<Uint8Array, Uint8Array>({
    name: 'entryPieces', // each journal entry past its first piece, by (u64 seq, u32 piece) big-endian: see entry-pieces.ts
    encoding: 'binary',
    keyEncoding: 'binary',
    cache: false,
    // LZ4, piece by piece (lmdb-js), with the dictionary the store was created with: its bytes read only so.
    compression: format.compression,
  }) as Database<Uint8Array, Uint8Array> | undefined;
  return { meta, journal, days, history, pieces, format };
}

/** The piece format of the store `meta` describes (`createFormat`'s when it describes none yet); refuses one unknown. */
function pieceFormatOf(meta: Database<MetaValue, string>, path: string, createFormat: number): PieceFormat {
  const version = readIdentity(meta).formatVersion ?? createFormat;
  const format = pieceFormats.get(version);
  if (format === undefined) throw errors.storageFailed(`${path} has journal format ${version}; this build reads formats ${[...pieceFormats.keys()].join(', ')}`);
  return format;
}

function readIdentity(meta: Database<MetaValue, string>): Partial<ShardMeta> {
  return {
    formatVersion: numberOrUndefined(meta.get('formatVersion')),
    shardIndex: numberOrUndefined(meta.get('shardIndex')),
    shardCount: numberOrUndefined(meta.get('shardCount')),
  };
}

function openEnvironment(path: string): RootDatabase {
  return open({
    path,
    // Durability: with overlappingSync off, each commit fdatasyncs before lmdb-js resolves the put's
    // promise, and a failed commit rejects it. One promise answers both "durable?" and "failed?",
    // unlike `db.flushed` (which never rejects). Puts of one event turn share one commit and one fsync.
    overlappingSync: false,
    noSync: false, // never: an acknowledged write must survive power loss
    noMetaSync: false,
    useWritemap: false, // a stray write through the map could corrupt the file
    eventTurnBatching: true, // puts of one event turn form one transaction (group commit)
    commitDelay: 0, // commit at the end of the turn: latency first; load groups commits by itself
    separateFlushed: false, // meaningless without overlappingSync
    compression: false, // entries are small fixed-layout records; lz4 costs CPU for little gain
    encoding: 'binary',
    keyEncoding: 'ordered-binary',
    cache: false,
    maxDbs: databasesMax,
    mapSize: mapBytesInitial,
    remapChunks: false, // one contiguous map: the fastest reads on 64-bit
    pageSize: 4096,
    noMemInit: false, // zero unused page bytes so old data never leaks into the file
    readOnly: false,
  });
}

function checkOptions(options: JournalStoreOptions): void {
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) throw new TypeError('options.dataDir must be a non-empty path');
  if (!Number.isInteger(options.shardCount) || options.shardCount < 1 || options.shardCount > shardCountMax) {
    throw new RangeError(`options.shardCount must be an integer in 1..${shardCountMax}, got ${String(options.shardCount)}`);
  }
  if (!Number.isInteger(options.shardIndex) || options.shardIndex < 0 || options.shardIndex >= options.shardCount) {
    throw new RangeError(`options.shardIndex must be an integer in 0..${options.shardCount - 1}, got ${String(options.shardIndex)}`);
  }
}

/** A new store records who it belongs to; an existing one must match, because routing depends on it. */
function checkIdentity(
  root: RootDatabase,
  meta: Database<MetaValue, string>,
  journal: Database<Uint8Array, number>,
  path: string,
  options: JournalStoreOptions,
): void {
  const found = readIdentity(meta);
  if (found.formatVersion === undefined) {
    assert(lastSeqOf(journal) === 0, 'a store without meta has no journal');
    root.transactionSync(() => {
      meta.putSync('formatVersion', options.createFormat ?? journalFormatVersion);
      meta.putSync('shardIndex', options.shardIndex);
      meta.putSync('shardCount', options.shardCount);
    });
    return;
  }
  // Its format is one this build reads: openDatabases refused any other before this runs.
  if (found.shardCount !== options.shardCount) {
    throw errors.storageFailed(
      `${path} was created with shardCount ${String(found.shardCount)}, not ${options.shardCount}: ` +
        'accounts are routed by shardCount, so it cannot change',
    );
  }
  if (found.shardIndex !== options.shardIndex) {
    throw errors.storageFailed(`${path} holds shard ${String(found.shardIndex)}, not shard ${options.shardIndex}`);
  }
}

function numberOrUndefined(value: MetaValue | undefined): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

function lastSeqOf(journal: Database<Uint8Array, number>): number {
  for (const key of journal.getKeys({ reverse: true, limit: 1 })) return key;
  return 0;
}

/** Whether `index` names an event of the entry whose head (or whole) is `entry`. */
function isEventOf(entry: Uint8Array, index: number): boolean {
  const count = new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint32(JournalHeader.count, true);
  return Number.isInteger(index) && index >= 0 && index < count;
}

/** lmdb-js returns Buffers; hand out plain Uint8Arrays over the same memory (one type everywhere). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
