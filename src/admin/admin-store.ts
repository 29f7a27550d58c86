// The admin store at `${dataDir}/admin` (LMDB, main thread): the audit log and the adjustments (调账).
// The audit log is append-only: records are numbered 1, 2, 3… without gaps, each put refuses to overwrite,
// and this module has no way to change or remove one. An adjustment moves only pending → approved |
// rejected, and each change commits in the same transaction as its audit record. Resolves once durable.
// Every write is one change (admin-changes.ts). Embedded, the store applies its own; in replicated mode
// (issue #15, admin-replica.ts) the primary's store publishes each change to the admin stream before it applies
// it, one at a time, and a follower's store takes changes only from the stream (its own writes are refused
// not_primary, the refusals it would record go to the process log).

import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { adjustmentIdPattern, type AdjustmentDetail, type AdjustmentResult, type AdjustmentStatus } from '../core/admin/adjustments.js';
import { assert } from '../core/assert.js';
import { auditRecordOf, type AuditEntry, type AuditRecord } from '../core/admin/audit-log.js';
import type { AdminChange } from './admin-changes.js';
import { TallyError, errors } from '../core/errors.js';
import { adminWritesInFlightMax, adjustmentsPageMax, auditPageBytesMax, auditPageMax, eventBytes } from '../core/limits.js';
import { openDurableEnvironment, writeDurably } from '../shards/storage/durable-side-store.js';

/** An adjustment as stored: the reply shape with its transfer records (base64) and, once approved, results. */
export type StoredAdjustment = AdjustmentDetail;

export interface NewAdjustment {
  id: string;
  maker: string;
  reason: string;
  /** N × 128 B transfer records, as create_transfers takes them. */
  records: Uint8Array;
}

export type AdjustmentDecision =
  | { status: 'approved'; checker: string; results: AdjustmentResult[] }
  | { status: 'rejected'; checker: string; rejectReason?: string };

export interface AdjustmentQuery {
  status?: AdjustmentStatus;
  /** Only adjustments with a smaller (older) id: the last id of the previous page. */
  before?: string;
  limit: number;
}

/** lmdb-js returns put's outcome inside a transaction; its typings declare void. */
type PutSync<K> = (key: K, value: string, options: { noOverwrite: boolean }) => boolean;

/** Key prefixes of the adjustments database: the records, and an index by status (newest id last). */
const adjustmentPrefix = 'adjustment:';
const statusPrefix = (status: AdjustmentStatus): string => `status:${status}:`;
/** Sorts after every id (ids are ASCII): the open upper end of a reverse range. */
const keyEnd = '\uffff';

/** Where a replicated primary's store sends each change before applying it (admin-replica.ts). */
export interface ChangePublisher {
  /** Why this node may not write now (its lease lapsed: it may come back), or null. */
  refusal(): Error | null;
  /**
   * Resolves once the admin stream holds `change`; rejects `not_primary` once another node appended (this store
   * then takes no write of its own again), `unavailable` when the outcome is unknown (`catchUp` runs first next time).
   */
  publish(change: AdminChange): Promise<void>;
  /** Applies what the stream holds past this store (a change whose publish timed out may be there). */
  catchUp(): Promise<void>;
  /** Where what the store would record goes once another node writes the admin log (as a follower's). */
  logAudit(entry: AuditEntry): void;
}

export class AdminStore {
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #audit: Database<string, number>;
  readonly #adjustments: Database<string, string>;
  #writesInFlight = 0;
  #idle: (() => void) | null = null;
  #closed = false;
  /**
   * How the store takes writes: its own (embedded); each change through the admin stream first, one at a time (a
   * replicated primary); none of its own, what it would record going to `log` (a follower, or a deposed primary).
   */
  #mode: { kind: 'own' } | { kind: 'published'; publisher: ChangePublisher } | { kind: 'followed'; refusal: TallyError; log: (entry: AuditEntry) => void } = { kind: 'own' };
  /** The last change's outcome in the stream is unknown, or it is there and not here: catch up before the next. */
  #behind = false;
  /** Changes waiting for their turn to be published and applied (a replicated primary's). */
  #queued = 0;
  #turn: Promise<unknown> = Promise.resolve();

  private constructor(path: string, root: RootDatabase, audit: Database<string, number>, adjustments: Database<string, string>) {
    this.path = path;
    this.#root = root;
    this.#audit = audit;
    this.#adjustments = adjustments;
  }

  /** Opens (creating) the store; checks that the audit log has no gap. */
  static open(dataDir: string): AdminStore {
    if (typeof dataDir !== 'string' || dataDir === '') throw new TypeError('AdminStore.open: dataDir must be a non-empty path');
    const path = join(dataDir, 'admin');
    const root = openDurableEnvironment(path, 2); // audit, adjustments (shards/storage/store-catalog.ts lists them for snapshots)
    try {
      const audit = root.openDB<string, number>({ name: 'audit', encoding: 'string', keyEncoding: 'ordered-binary', cache: false, compression: false });
      const adjustments = root.openDB<string, string>({ name: 'adjustments', encoding: 'string', keyEncoding: 'ordered-binary', cache: false, compression: false });
      const store = new AdminStore(path, root, audit, adjustments);
      const entries = (audit.getStats() as { entryCount: number }).entryCount;
      assert(store.auditSeqLast() === entries, `the audit log at ${path} has ${entries} records but its last is ${store.auditSeqLast()}: a record is missing`);
      return store;
    } catch (error) {
      void root.close();
      throw error;
    }
  }

  // ---- the audit log ---------------------------------------------------------------------------

  /**
   * AuditSink: appends `entry` with the next number and the time; resolves once durable. On a follower, whose
   * audit log is the primary's, the entry goes to the process log instead (refusals of writes sent to it, its
   * snapshots).
   */
  async record(entry: AuditEntry): Promise<void> {
    if (this.#mode.kind === 'followed') return this.#mode.log(entry);
    await this.appendAudit(entry);
  }

  /** Appends `entry`; resolves with the stored record once it is durable. */
  appendAudit(entry: AuditEntry): Promise<AuditRecord> {
    return this.#change((seq, at) => {
      const audit = auditRecordOf(entry, seq, at);
      return { change: { audit }, result: audit };
    });
  }

  /** Number of the last audit record (0 when the log is empty). */
  auditSeqLast(): number {
    for (const key of this.#audit.getKeys({ reverse: true, limit: 1 })) return key;
    return 0;
  }

  /** Records numbered after `after`, oldest first: at most `limit` (≤ auditPageMax) and auditPageBytesMax bytes. */
  auditAfter(after: number, limit: number): AuditRecord[] {
    assert(Number.isSafeInteger(after) && after >= 0, 'audit pages start after a record number ≥ 0');
    assert(Number.isInteger(limit) && limit >= 1 && limit <= auditPageMax, `an audit page holds 1..${auditPageMax} records`);
    const records: AuditRecord[] = [];
    let bytes = 0;
    for (const { key, value } of this.#audit.getRange({ start: after + 1, limit })) {
      bytes += Buffer.byteLength(value);
      if (records.length > 0 && bytes > auditPageBytesMax) break;
      const record = JSON.parse(value) as AuditRecord;
      assert(record.seq === key && key === after + records.length + 1, `audit record ${key} follows ${after + records.length} without a gap`);
      records.push(record);
    }
    return records;
  }

  // ---- adjustments -------------------------------------------------------------------------------

  /** Stores a new pending adjustment together with the audit record `entry`. */
  submitAdjustment(adjustment: NewAdjustment, entry: AuditEntry): Promise<{ adjustment: StoredAdjustment; audit: AuditRecord }> {
    assert(adjustment.records.byteLength > 0 && adjustment.records.byteLength % eventBytes === 0, 'an adjustment holds whole transfer records');
    return this.#change((seq, at) => {
      const audit = auditRecordOf(entry, seq, at);
      assert(this.adjustment(adjustment.id) === undefined, `adjustment ${adjustment.id} is new`);
      const stored: StoredAdjustment = {
        id: adjustment.id,
        status: 'pending',
        maker: adjustment.maker,
        submittedAt: audit.at,
        reason: adjustment.reason,
        transferCount: adjustment.records.byteLength / eventBytes,
        transfers: Buffer.from(adjustment.records.buffer, adjustment.records.byteOffset, adjustment.records.byteLength).toString('base64'),
      };
      return { change: { audit, adjustment: { id: stored.id, fields: stored } }, result: { adjustment: stored, audit } };
    });
  }

  /** The adjustment `id`, or undefined. */
  adjustment(id: string): StoredAdjustment | undefined {
    const text = this.#adjustments.get(adjustmentPrefix + id);
    return text === undefined ? undefined : (JSON.parse(text) as StoredAdjustment);
  }

  /**
   * Marks a pending adjustment as being posted by `checker` (durably, with the audit record `entry`) before
   * its transfers go to the ledger: from then on a rejection is refused, since some of them may have posted.
   */
  startApproval(id: string, checker: string, entry: AuditEntry): Promise<StoredAdjustment> {
    return this.#change((seq, at) => {
      const audit = auditRecordOf(entry, seq, at);
      const current = this.#adjustmentNamed(id);
      assert(current.status === 'pending', `only a pending adjustment is approved (${id} is ${current.status})`);
      const fields = { approvalStartedBy: checker, approvalStartedAt: audit.at };
      return { change: { audit, adjustment: { id, fields } }, result: { ...current, ...fields } };
    });
  }

  /** pending → approved | rejected, with the audit record `entry`; asserts the transition. */
  decideAdjustment(id: string, decision: AdjustmentDecision, entry: AuditEntry): Promise<StoredAdjustment> {
    assert(decision.status === 'approved' || decision.status === 'rejected', 'an adjustment is decided approved or rejected');
    return this.#change((seq, at) => {
      const audit = auditRecordOf(entry, seq, at);
      const current = this.#adjustmentNamed(id);
      assert(current.status === 'pending', `adjustment ${id} moves from pending only, it is ${current.status}`);
      const fields = { ...decision, decidedAt: audit.at };
      return { change: { audit, adjustment: { id, fields } }, result: { ...current, ...fields } };
    });
  }

  /** Adjustments newest first (by id), optionally of one status, older than `before`. */
  adjustments(query: AdjustmentQuery): StoredAdjustment[] {
    assert(Number.isInteger(query.limit) && query.limit >= 1 && query.limit <= adjustmentsPageMax, `an adjustments page holds 1..${adjustmentsPageMax}`);
    const prefix = query.status === undefined ? adjustmentPrefix : statusPrefix(query.status);
    const start = prefix + (query.before ?? keyEnd);
    const found: StoredAdjustment[] = [];
    for (const key of this.#adjustments.getKeys({ start, end: prefix, reverse: true })) {
      if (key === start) continue; // `before` itself is on the previous page
      const adjustment = this.adjustment(key.slice(prefix.length));
      assert(adjustment !== undefined && (query.status === undefined || adjustment.status === query.status), `index entry ${key} matches its adjustment`);
      found.push(adjustment);
      if (found.length === query.limit) break;
    }
    return found;
  }

  // ---- replicated mode (issue #15) ----------------------------------------------------------------

  /** A follower's store: its own writes are refused with `refusal`; what it would record goes to `log`. */
  followOnly(refusal: TallyError, log: (entry: AuditEntry) => void): void {
    this.#mode = { kind: 'followed', refusal, log };
  }

  /** A replicated primary's store: each change goes to `publisher` first, then here, one at a time. */
  publishThrough(publisher: ChangePublisher): void {
    this.#mode = { kind: 'published', publisher };
    this.#behind = false;
  }

  /** Applies a change the admin stream holds (a follower's, or a primary catching up); one this store has is skipped. */
  applyChange(change: AdminChange): Promise<void> {
    return this.#write(() => {
      if (change.audit.seq <= this.auditSeqLast()) return;
      this.#applyInTxn(change);
    });
  }

  /**
   * This store's changes after audit record `after`, rebuilt for a stream that lacks them (a store written
   * embedded, now replicated): each audit record, with the whole of each adjustment on the last record that names it.
   */
  *changesAfter(after: number): Generator<AdminChange> {
    // Every adjustment change's record begins with the adjustment's id (admin-service.ts): one that no record after
    // `after` names was made before it, and the stream has it already.
    const lastRecordOf = new Map<string, number>();
    for (const { key: seq, value } of this.#audit.getRange({ start: after + 1 })) {
      const { detail } = JSON.parse(value) as AuditRecord;
      const id = detail.slice(0, detail.indexOf(':'));
      if (adjustmentIdPattern.test(id) && this.adjustment(id) !== undefined) lastRecordOf.set(id, seq);
    }
    const adjustmentAt = new Map([...lastRecordOf].map(([id, seq]) => [seq, id]));
    for (const { key: seq, value } of this.#audit.getRange({ start: after + 1 })) {
      const audit = JSON.parse(value) as AuditRecord;
      const adjustment = this.adjustment(adjustmentAt.get(seq) ?? '');
      yield adjustment === undefined ? { audit } : { audit, adjustment: { id: adjustment.id, fields: adjustment } };
    }
  }

  /** One write: built from the store as it stands, then published (a replicated primary) and applied. */
  async #change<T>(build: (seq: number, at: Date) => { change: AdminChange; result: T }): Promise<T> {
    if (this.#mode.kind === 'followed') throw this.#mode.refusal;
    if (this.#mode.kind === 'own') {
      return this.#write(() => {
        const { change, result } = build(this.auditSeqLast() + 1, new Date());
        this.#applyInTxn(change);
        return result;
      });
    }
    if (this.#closed) throw errors.shuttingDown();
    if (this.#queued >= adminWritesInFlightMax) throw errors.overloaded(`the admin store has ${this.#queued} writes waiting for the admin stream (max ${adminWritesInFlightMax})`);
    this.#queued++;
    const turn = this.#turn.then(() => this.#published(build));
    this.#turn = turn.catch(() => {}); // a failed change does not stop the next
    try {
      return await turn;
    } finally {
      this.#queued--;
    }
  }

  async #published<T>(build: (seq: number, at: Date) => { change: AdminChange; result: T }): Promise<T> {
    // The mode may have changed while the change waited its turn (deposed, or following again).
    if (this.#mode.kind !== 'published') throw this.#mode.kind === 'followed' ? this.#mode.refusal : errors.shuttingDown();
    const { publisher } = this.#mode;
    const refusal = publisher.refusal();
    if (refusal !== null) throw refusal;
    if (this.#behind) {
      await publisher.catchUp();
      this.#behind = false;
    }
    const { change, result } = build(this.auditSeqLast() + 1, new Date());
    try {
      await publisher.publish(change);
    } catch (error) {
      // Another node writes the admin log now: this store takes no more writes of its own (what it would record is
      // logged, as a follower's). Else the outcome is unknown: the next change reads the stream first.
      if (error instanceof TallyError && error.code === 'not_primary') this.#mode = { kind: 'followed', refusal: error, log: publisher.logAudit };
      else this.#behind = true;
      throw error;
    }
    try {
      await this.#write(() => this.#applyInTxn(change));
    } catch (error) {
      this.#behind = true; // the stream has it: the next write takes it from there
      throw error;
    }
    return result;
  }

  /** Waits for writes in flight, then closes; later writes are refused with shutting_down. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#writesInFlight > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.#root.close();
  }

  // ---- inside write transactions ---------------------------------------------------------------

  /**
   * Runs `action` in a child transaction of the next commit: if it throws, its writes are undone and the
   * others of that commit stand. Resolves with its value once the commit is durable.
   */
  async #write<T>(action: () => T): Promise<T> {
    if (this.#closed) throw errors.shuttingDown();
    if (this.#writesInFlight >= adminWritesInFlightMax) throw errors.overloaded(`the admin store has ${this.#writesInFlight} writes in flight (max ${adminWritesInFlightMax})`);
    this.#writesInFlight++;
    try {
      return await writeDurably(this.#root, this.path, 'admin store', action);
    } finally {
      this.#writesInFlight--;
      if (this.#writesInFlight === 0 && this.#idle) this.#idle();
    }
  }


  /** Stores `change` in the current write transaction: its audit record next in line, the adjustment's fields and index. */
  #applyInTxn(change: AdminChange): void {
    const { audit } = change;
    assert(audit.seq === this.auditSeqLast() + 1, `audit record ${audit.seq} follows ${this.auditSeqLast()} without a gap`);
    const stored = (this.#audit.putSync as unknown as PutSync<number>).call(this.#audit, audit.seq, JSON.stringify(audit), { noOverwrite: true });
    assert(stored, `audit record ${audit.seq} is new`);
    if (change.adjustment === undefined) return;
    const { id, fields } = change.adjustment;
    const current = this.adjustment(id);
    const next = { ...current, ...fields } as StoredAdjustment;
    assert(next.id === id && typeof next.status === 'string', `adjustment ${id} has an id and a status after change ${audit.seq}`);
    this.#adjustments.putSync(adjustmentPrefix + id, JSON.stringify(next));
    if (current?.status === next.status) return;
    if (current !== undefined) assert(this.#adjustments.removeSync(statusPrefix(current.status) + id), `adjustment ${id} was indexed as ${current.status}`);
    assert(this.#put(statusPrefix(next.status) + id, ''), `adjustment ${id} is indexed as ${next.status} once`);
  }

  #adjustmentNamed(id: string): StoredAdjustment {
    const current = this.adjustment(id);
    assert(current !== undefined, `adjustment ${id} exists`);
    return current;
  }

  #put(key: string, value: string): boolean {
    return (this.#adjustments.putSync as unknown as PutSync<string>).call(this.#adjustments, key, value, { noOverwrite: true });
  }
}
