// The reconciliation store at `${dataDir}/recon` (LMDB, main thread; issue #17): the statement files channels sent
// (kept whole, in chunks, never deleted: financial records), the batches with their statistics and exceptions, the
// identities that refuse an import of the same file or the same day twice, each channel's pending pool (our
// postings the channel has not stated yet) and the transfers recon's own actions posted (never matched as ours). A batch, its exceptions, its identities and the channel's new pool
// commit in one transaction: an import is stored whole or not at all. Each write resolves once durable.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../core/assert.js';
import { errors } from '../core/errors.js';
import { reconChunkBytesMax, reconUploadIdleMsMax, reconUploadsPendingBytesMax } from '../core/limits.js';
import type { ReconBatch, ReconException, ReconExceptionsPage, ReconBatchesQuery, ReconExceptionsQuery } from '../core/recon/batches.js';
import type { LedgerRow } from '../core/recon/matcher.js';
import type { OfxChainEnd } from '../core/recon/ofx-chain.js';
import { reconActionIdTag, reconResolutionIdTag } from './recon-actions.js';
import { newestFirst, openDurableStore, writeDurably } from '../shards/storage/durable-side-store.js';

/** The databases, as shards/storage/store-catalog.ts lists them for snapshots. */
export const reconStoreDbs = ['files', 'uploads', 'batches', 'identities', 'exceptions', 'pool', 'actions'] as const;

export interface UploadState {
  sha256: string;
  total: number;
  /** Bytes stored, contiguous from 0. */
  received: number;
  complete: boolean;
  /** When a chunk last came (ms since the epoch); absent in uploads stored before it was kept. */
  touchedAt?: number;
}

/** A pool row as stored: bigints as decimal text. */
type StoredLedgerRow = Omit<LedgerRow, 'transferId' | 'key128' | 'amountMinor'> & { transferId: string; key128: string; amountMinor: string };

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const chunkKey = (sha256: string, offset: number): string => `${sha256}:${pad(offset, 12)}`;
const exceptionKey = (batch: string, n: number): string => `${batch}:${pad(n, 10)}`;
const poolPrefix = (channel: string): string => `${channel}\u0000`;
/** The end of an account's OFX balance chain, among the identities (no identity key starts so). */
const ofxChainKey = (channel: string, account: string): string => `ofx-chain:${channel}:${account}`;
/**
 * Uploads begun and not complete, indexed apart in the uploads database (keys no sha256 can have: hashes are hex
 * digits, these start with '~'), so that a new upload looks at those alone, never at every file ever stored (they
 * are kept forever).
 */
const indexKeys = '~';
const pendingPrefix = '~pending:';
const pendingEnd = '~pending;';
const pendingKey = (sha256: string): string => `${pendingPrefix}${sha256}`;
/** Set once the index holds every pending upload (a store written before it is indexed on its first new upload). */
const pendingIndexed = '~pending-indexed';

export class ReconStore {
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #files: Database<Buffer, string>;
  readonly #uploads: Database<string, string>;
  readonly #batches: Database<string, string>;
  readonly #identities: Database<string, string>;
  readonly #exceptions: Database<string, string>;
  readonly #pool: Database<string, string>;
  readonly #actions: Database<string, string>;
  #closed = false;
  /** The wall clock (ms since the epoch): when an upload was last continued. Tests give their own. */
  readonly #now: () => number;

  private constructor(path: string, root: RootDatabase, dbs: Record<(typeof reconStoreDbs)[number], Database<never, string>>, now: () => number) {
    this.path = path;
    this.#now = now;
    this.#root = root;
    this.#files = dbs.files as unknown as Database<Buffer, string>;
    this.#uploads = dbs.uploads as unknown as Database<string, string>;
    this.#batches = dbs.batches as unknown as Database<string, string>;
    this.#identities = dbs.identities as unknown as Database<string, string>;
    this.#exceptions = dbs.exceptions as unknown as Database<string, string>;
    this.#pool = dbs.pool as unknown as Database<string, string>;
    this.#actions = dbs.actions as unknown as Database<string, string>;
  }

  static open(dataDir: string, now: () => number = Date.now): ReconStore {
    const path = join(dataDir, 'recon');
    const { root, dbs } = openDurableStore(path, reconStoreDbs, ['files']);
    return new ReconStore(path, root, dbs as unknown as Record<(typeof reconStoreDbs)[number], Database<never, string>>, now);
  }

  // ---- statement files --------------------------------------------------------------------------

  upload(sha256: string): UploadState | undefined {
    const text = this.#uploads.get(sha256);
    return text === undefined ? undefined : (JSON.parse(text) as UploadState);
  }

  /**
   * Stores the chunk at `offset` when it continues what is stored (else nothing changes: the reply's `received`
   * tells the sender where to go on). The last chunk completes the file only if the whole hashes to `sha256`;
   * otherwise the upload is dropped and refused.
   */
  async putChunk(sha256: string, offset: number, total: number, chunk: Uint8Array): Promise<UploadState> {
    const current = this.upload(sha256);
    if (current !== undefined && current.total !== total) throw errors.bodyInvalid(`recon_upload: ${sha256} is being uploaded with a total of ${current.total} bytes, not ${total}`);
    if (current?.complete === true || (current?.received ?? 0) !== offset) return current ?? { sha256, total, received: 0, complete: false };
    if (current === undefined) await this.#makeRoomFor(sha256, total);
    const received = offset + chunk.byteLength;
    const complete = received === total;
    if (complete && this.#hashOf(sha256, chunk) !== sha256) {
      await this.#write(() => this.#dropUpload(sha256));
      throw errors.bodyInvalid(`recon_upload: the ${total} bytes received do not hash to ${sha256}; send the file again from offset 0`);
    }
    const state: UploadState = { sha256, total, received, complete, touchedAt: this.#now() };
    await this.#write(() => {
      this.#files.putSync(chunkKey(sha256, offset), Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#uploads.putSync(sha256, JSON.stringify(state));
      if (complete) this.#uploads.removeSync(pendingKey(sha256));
      else if (offset === 0) this.#uploads.putSync(pendingKey(sha256), '');
    });
    return state;
  }

  /**
   * A complete file's bytes, in memory of their own (a SharedArrayBuffer, not Node's pool): an import shares it with
   * its workers, never copied (a big bill's two halves are read from it side by side).
   */
  file(sha256: string): Buffer | undefined {
    const state = this.upload(sha256);
    if (state?.complete !== true) return undefined;
    // One copy, each chunk straight into place (lmdb-js reuses a value's buffer: it is copied before the next read).
    const whole = new Uint8Array(new SharedArrayBuffer(state.total));
    let at = 0;
    for (const { value } of this.#files.getRange({ start: `${sha256}:`, end: `${sha256};` })) {
      assert(at + value.byteLength <= state.total, `stored file ${sha256} has no more than its ${state.total} bytes`);
      whole.set(value, at);
      at += value.byteLength;
    }
    assert(at === state.total, `stored file ${sha256} has its ${state.total} bytes`);
    return Buffer.from(whole.buffer, 0, whole.byteLength);
  }

  /**
   * Before a new upload begins: uploads idle past reconUploadIdleMsMax are dropped, then the bytes of those still
   * on their way, with this one, must stay within reconUploadsPendingBytesMax (else it is refused, nothing stored).
   */
  async #makeRoomFor(sha256: string, total: number): Promise<void> {
    await this.#indexPending();
    const now = this.#now();
    const pending: UploadState[] = [];
    for (const key of this.#uploads.getKeys({ start: pendingPrefix, end: pendingEnd })) {
      const state = this.upload(key.slice(pendingPrefix.length));
      assert(state !== undefined && !state.complete, 'an upload indexed as pending is stored and not complete');
      pending.push(state);
    }
    // An upload stored before touchedAt was kept counts as touched now: it gets its full idle time from here.
    const idle = pending.filter((state) => now - (state.touchedAt ?? now) > reconUploadIdleMsMax);
    if (idle.length > 0) await this.#write(() => idle.forEach((state) => this.#dropUpload(state.sha256)));
    const onTheirWay = pending.filter((state) => !idle.includes(state)).reduce((bytes, state) => bytes + state.total, 0);
    if (onTheirWay + total > reconUploadsPendingBytesMax) {
      throw errors.bodyInvalid(`recon_upload: ${onTheirWay} bytes of uploads are begun and not complete; ${sha256} would take it past ${reconUploadsPendingBytesMax}: complete them first, or wait until those idle for ${reconUploadIdleMsMax / 3_600_000} h are dropped`);
    }
  }

  /**
   * Once per store written before the index: every upload not complete put in it (the one look at every stored
   * file's state, on its first new upload after the upgrade).
   */
  async #indexPending(): Promise<void> {
    if (this.#uploads.get(pendingIndexed) !== undefined) return;
    const pending: string[] = [];
    for (const { key, value } of this.#uploads.getRange({})) {
      if (key.startsWith(indexKeys)) continue;
      if (!(JSON.parse(value) as UploadState).complete) pending.push(key);
    }
    await this.#write(() => {
      for (const sha256 of pending) this.#uploads.putSync(pendingKey(sha256), '');
      this.#uploads.putSync(pendingIndexed, '');
    });
  }

  /** Removes an upload's chunks and state (inside a write). */
  #dropUpload(sha256: string): void {
    for (const key of this.#files.getKeys({ start: `${sha256}:`, end: `${sha256};` })) this.#files.removeSync(key);
    this.#uploads.removeSync(sha256);
    this.#uploads.removeSync(pendingKey(sha256));
  }

  #hashOf(sha256: string, last: Uint8Array): string {
    const hash = createHash('sha256');
    for (const { value } of this.#files.getRange({ start: `${sha256}:`, end: `${sha256};` })) hash.update(value);
    hash.update(last);
    return hash.digest('hex');
  }

  // ---- batches ----------------------------------------------------------------------------------

  /**
   * Where the OFX balance chain of `account` (BANKID/ACCTID) of `channel` ends: the last accepted statement's
   * LEDGERBAL and period end (kept beside the identities, replaced by each accepted batch that carries one).
   */
  ofxChainEnd(channel: string, account: string): OfxChainEnd | undefined {
    const text = this.#identities.get(ofxChainKey(channel, account));
    if (text === undefined) return undefined;
    const stored = JSON.parse(text) as Omit<OfxChainEnd, 'closingMinor'> & { closingMinor: string };
    return { ...stored, closingMinor: BigInt(stored.closingMinor) };
  }

  /** The batch an identity (a file's hash, a channel's daily statement) was imported in, if any. */
  identity(key: string): string | undefined {
    return this.#identities.get(key);
  }

  batch(id: string): ReconBatch | undefined {
    const text = this.#batches.get(id);
    return text === undefined ? undefined : (JSON.parse(text) as ReconBatch);
  }

  batches(query: ReconBatchesQuery): ReconBatch[] {
    return newestFirst<ReconBatch>(this.#batches, query.before, query.limit, (batch) => query.channel === null || batch.channel === query.channel);
  }


  exceptions(query: ReconExceptionsQuery): ReconExceptionsPage {
    const exceptions: ReconException[] = [];
    let next: number | null = null;
    for (const { value } of this.#exceptions.getRange({ start: exceptionKey(query.batch, query.after + 1), end: `${query.batch};` })) {
      const exception = JSON.parse(value) as ReconException;
      if (query.outcome !== null && exception.outcome !== query.outcome) continue;
      if (exceptions.length === query.limit) {
        next = exceptions[exceptions.length - 1]!.n;
        break;
      }
      exceptions.push(exception);
    }
    return { exceptions, next };
  }

  /** The channel's pending pool: our postings of earlier days it has not stated yet. */
  pool(channel: string): LedgerRow[] {
    const rows: LedgerRow[] = [];
    for (const { value } of this.#pool.getRange({ start: poolPrefix(channel), end: `${channel}\u0001` })) {
      const stored = JSON.parse(value) as StoredLedgerRow;
      rows.push({ ...stored, transferId: BigInt(stored.transferId), key128: BigInt(stored.key128), amountMinor: BigInt(stored.amountMinor) });
    }
    return rows;
  }

  /**
   * Stores a batch whole: the batch, its exceptions, the identities it claims (refused, in the same transaction, if
   * another batch claimed one first) and — for a matched batch — the channel's pool replaced by `pool`.
   */
  /**
   * Whether recon posted this transfer itself: an automatic action of some batch, or a manual resolution (its tag
   * alone: newId() never makes it — that top word is ~year 4800 in ms — and the ledger's own random ids never touch a
   * clearing account).
   */
  isActionTransfer(id: bigint): boolean {
    const tag = id >> 96n;
    return tag === reconResolutionIdTag || (tag === reconActionIdTag && this.#actions.get(String(id)) !== undefined);
  }

  async putBatch(batch: ReconBatch, exceptions: readonly ReconException[], identities: readonly string[], pool: readonly LedgerRow[] | null, actionIds: readonly string[] = [], chainEnds: readonly { account: string; end: OfxChainEnd }[] = []): Promise<void> {
    assert(this.batch(batch.id) === undefined, `batch ${batch.id} is new`);
    await this.#write(() => {
      for (const key of identities) {
        const earlier = this.#identities.get(key);
        if (earlier !== undefined) throw errors.bodyInvalid(`recon_import: already imported in batch ${earlier}`);
        this.#identities.putSync(key, batch.id);
      }
      this.#batches.putSync(batch.id, JSON.stringify(batch));
      for (const exception of exceptions) this.#exceptions.putSync(exceptionKey(batch.id, exception.n), JSON.stringify(exception));
      for (const id of actionIds) this.#actions.putSync(id, batch.id);
      for (const { account, end } of chainEnds) this.#identities.putSync(ofxChainKey(batch.channel, account), JSON.stringify({ ...end, closingMinor: String(end.closingMinor) }));
      if (pool === null) return;
      for (const key of this.#pool.getKeys({ start: poolPrefix(batch.channel), end: `${batch.channel}\u0001` })) this.#pool.removeSync(key);
      for (const row of pool) {
        const stored: StoredLedgerRow = { ...row, transferId: String(row.transferId), key128: String(row.key128), amountMinor: String(row.amountMinor) };
        this.#pool.putSync(`${poolPrefix(batch.channel)}${pad(row.businessDay, 8)}:${stored.transferId}`, JSON.stringify(stored));
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#root.close();
  }

  async #write(action: () => void): Promise<void> {
    if (this.#closed) throw errors.shuttingDown();
    await writeDurably(this.#root, this.path, 'recon store', action);
  }

}

assert(reconChunkBytesMax < 2 ** 31, 'a chunk fits one LMDB value');
