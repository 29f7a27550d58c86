// One shard's Ledger driven in-process, the way the shard worker drives it: every write's
// journal entry is stored under its seq (what the shard does after fsync), and restart()
// rebuilds a fresh Ledger by replaying them. Results come back as names, lookups as objects.

import { operationIdEvents, withCallerMarksInvalid } from '../../src/core/wire/ids-elsewhere.js';
import { Ledger, type JournalSource } from '../../src/core/posting/ledger.js';
import { Operation } from '../../src/core/operations.js';
import { stateBytesOf } from '../../src/core/posting/ledger-checkpoint.js';
import {
  decodeAccountStates,
  decodeHistoryEntries,
  decodeResults,
  decodeTransferStates,
  encodeAccountOperations,
  encodeAccounts,
  encodeHistoryFilter,
  encodeIds,
  encodeTransfers,
  type AccountInput,
  type AccountOperationInput,
  type EventResult,
  type HistoryFilterInput,
  type TransferInput,
} from '../../src/core/wire/records.js';
import type { CloseRefusedReasonName, ResultName } from '../../src/core/result-codes.js';
import type { AccountHistoryEntry, AccountState, TransferState } from '../../src/core/types.js';
import { lookupIdsMax } from '../../src/core/limits.js';
import type { HotInboundPolicy } from '../../src/core/hot/hot-inbound.js';
import type { AccountDirectory } from '../../src/core/accounts/account-directory.js';
import type { IdCacheCapacity } from '../../src/core/accounts/id-cache.js';
import { MemoryIdIndex, MemoryIdStore } from './memory-id-index.js';
import type { RememberedFailure } from '../../src/core/chains/prepared-chains.js';

/** A result name, or `close_refused:<reason>` so that table-driven specs can name the reason too. */
export type Outcome = ResultName | `close_refused:${CloseRefusedReasonName}`;

export function outcomeOf(result: EventResult): Outcome {
  return result.result === 'close_refused' ? `close_refused:${result.reason ?? 'none'}` : result.result;
}

/** 2023-11-14T22:13:20Z in ns: a realistic wall clock that still leaves u64 headroom. */
export const clockStartNs = 1_700_000_000_000_000_000n;
export const nsPerSecond = 1_000_000_000n;

export interface LedgerHarnessOptions {
  shardIndex?: number;
  shardCount?: number;
  nowNs?: bigint;
  /** Run Ledger.verify() (the O(accounts) whole-state check) after every write. Default true. */
  verifyEachWrite?: boolean;
  /** Bounded id caches over an id index kept beside the journal (MemoryIdStore); absent: every id in memory. */
  idCache?: IdCacheCapacity;
  /** The account directory shared with the other shards (ClusterHarness), kept across restarts as the set keeps it. */
  directory?: AccountDirectory;
}

export class LedgerHarness {
  /** The persisted journal: seq → entry, as the shard stores it after fsync. */
  readonly journal = new Map<number, Uint8Array>();
  /** The controllable clock handed to every write (ns since the epoch). */
  nowNs: bigint;
  ledger: Ledger;
  /** Every event result of the last write, with indexes and close reasons. */
  lastResults: EventResult[] = [];
  /** The raw reply of the last write (N × 4-byte results). */
  lastReply: Uint8Array = new Uint8Array(0);
  /** Cross-shard instructions issued by writes (and inbound deliveries) not yet taken by a relay. */
  outbound: Uint8Array[] = [];
  /** Per peer, the pair sequence that peer acknowledged (what the shard stores beside its journal). */
  readonly outboxAcknowledged: number[] = [];
  private readonly shardIndex: number;
  private readonly shardCount: number;
  private readonly verifyEachWrite: boolean;
  private readonly accountIds = new Set<bigint>();
  private readonly transferIds = new Set<bigint>();
  /** The stored history run blocks, by `${epoch}:${block}`, as the shard stores them with each flush entry. */
  readonly runBlocks = new Map<string, Uint8Array>();
  private readonly source: JournalSource = {
    entry: (seq) => this.journal.get(seq),
    runBlock: (epoch, block) => this.runBlocks.get(`${epoch}:${block}`),
  };
  private readonly idCache: IdCacheCapacity | undefined;
  private readonly directory: AccountDirectory | undefined;
  /** The id index beside the journal, when the caches are bounded: it survives restarts as the journal does. */
  readonly idStore = new MemoryIdStore();

  constructor(options: LedgerHarnessOptions = {}) {
    this.shardIndex = options.shardIndex ?? 0;
    this.shardCount = options.shardCount ?? 1;
    this.nowNs = options.nowNs ?? clockStartNs;
    this.verifyEachWrite = options.verifyEachWrite ?? true;
    this.idCache = options.idCache;
    this.directory = options.directory;
    this.ledger = this.newLedger();
  }

  /** Moves the clock by whole seconds (negative moves it back, as a wall clock may). */
  advanceSeconds(seconds: number): void {
    this.nowNs += BigInt(seconds) * nsPerSecond;
  }

  createAccounts(accounts: readonly AccountInput[]): Outcome[] {
    for (const a of accounts) this.accountIds.add(a.id);
    return this.write(Operation.create_accounts, encodeAccounts(accounts));
  }

  createTransfers(transfers: readonly TransferInput[]): Outcome[] {
    for (const t of transfers) this.transferIds.add(t.id);
    // As the shard set does at any shard count (a caller's copy of the router's mark is made invalid).
    return this.write(Operation.create_transfers, withCallerMarksInvalid(encodeTransfers(transfers)));
  }

  accountOperations(operations: readonly AccountOperationInput[]): Outcome[] {
    return this.write(Operation.account_operations, withCallerMarksInvalid(encodeAccountOperations(operations), operationIdEvents));
  }

  /** Checkpoint bodies by seq (Ledger.encodeCheckpoint), as a shard takes them: restart() starts from the newest. */
  readonly checkpoints = new Map<number, Uint8Array>();
  /** Entries the last restart replayed into the ledger it kept (the tail after its checkpoint, or all). */
  replayedLast = 0;

  /** Takes a checkpoint of the ledger as it stands; returns its seq. */
  checkpoint(): number {
    // As the shard does: right after a flush_history entry, the history buffer empty; none while a vote awaits.
    if (this.ledger.state.accounts.history.bufferedNodes > 0) this.flushHistory();
    if (this.ledger.state.accounts.history.bufferedNodes > 0) return 0;
    const seq = this.ledger.seqLast;
    this.checkpoints.set(seq, this.ledger.encodeCheckpoint());
    return seq;
  }

  /** Ids whose lookups and history a restart must reproduce (for writes made through `write`). */
  remember(accountIds: readonly bigint[], transferIds: readonly bigint[]): void {
    for (const id of accountIds) this.accountIds.add(id);
    for (const id of transferIds) this.transferIds.add(id);
  }

  /** A write of raw records (for fields the codec will not encode, such as reserved bytes). */
  write(operation: number, body: Uint8Array): Outcome[] {
    const { seq, entry, reply, outbound } = this.ledger.execute(operation, body, this.nowNs);
    this.persist(seq, entry);
    if (outbound !== null) this.outbound.push(outbound);
    this.lastReply = reply;
    this.lastResults = decodeResults(reply);
    return this.lastResults.map(outcomeOf);
  }

  /** Votes on a part of cross-shard chains (core/chains/prepared-chains.ts); returns its results (u32 each). */
  prepareChains(operation: number, events: Uint8Array, chainEnds: Uint8Array, group: bigint): Uint32Array {
    const { seq, entry, results } = this.ledger.prepareChains({ operation, events, chainEnds, group }, this.nowNs);
    this.persist(seq, entry);
    const view = new DataView(results.buffer, results.byteOffset, results.byteLength);
    return Uint32Array.from({ length: results.byteLength / 4 }, (_, i) => view.getUint32(i * 4, true));
  }

  /** The prepared group committed: its events re-executed as an ordinary entry. */
  commitPrepared(): Outcome[] {
    const { seq, entry, reply, outbound } = this.ledger.commitPrepared(this.nowNs);
    this.persist(seq, entry);
    if (outbound !== null) this.outbound.push(outbound);
    return decodeResults(reply).map(outcomeOf);
  }

  /** The prepared group abandoned; the failures at `remember` (positions in the part) are kept by id. */
  abortPrepared(remember: readonly RememberedFailure[] = []): void {
    const { seq, entry } = this.ledger.abortPrepared(this.nowNs, remember);
    this.persist(seq, entry);
  }

  /** Applies instructions from other shards (InstructionLayout records); returns one InboundStatus each. */
  applyInbound(body: Uint8Array): Uint8Array {
    const { applied, statuses, outbound } = this.ledger.applyInbound(body, this.nowNs);
    if (applied !== null) this.persist(applied.seq, applied.entry);
    if (outbound !== null) this.outbound.push(outbound);
    return statuses;
  }

  /** The peer applied everything up to `pairSeq`: the outbox forgets it, and a restart starts above it. */
  acknowledge(peer: number, pairSeq: number): void {
    this.ledger.state.outbox.acknowledge(peer, pairSeq);
    this.outboxAcknowledged[peer] = Math.max(this.outboxAcknowledged[peer] ?? 0, pairSeq);
  }

  /** The shard's hot-inbound tick (automatic marking off unless a policy is given); true when it wrote an entry. */
  applyHotInbound(policy: HotInboundPolicy = { autoMarkCreditsPerSecond: 0, unmarkQuietSeconds: 60 }): boolean {
    const written = this.ledger.applyHotInbound(this.nowNs, policy);
    if (written === null) return false;
    this.persist(written.seq, written.entry);
    return true;
  }

  /** The shard's history flush: a flush_history entry, its run blocks stored with it. */
  flushHistory(): boolean {
    const flushed = this.ledger.flushHistory(this.nowNs);
    if (flushed === null) return false;
    for (const { block, bytes } of flushed.runs.blocks) this.runBlocks.set(`${flushed.runs.epoch}:${block}`, bytes);
    this.persist(flushed.seq, flushed.entry);
    return true;
  }

  /** Lets the ledger expire due holds at the current clock; true when it wrote an entry. */
  expireDue(): boolean {
    const written = this.ledger.expireDue(this.nowNs);
    if (written === null) return false;
    this.persist(written.seq, written.entry);
    return true;
  }

  /** As a caller's lookup_accounts: the ledger's own accounts (transit, suspense, slices) answer as unknown. */
  lookupAccounts(ids: readonly bigint[]): AccountState[] {
    return decodeAccountStates(this.ledger.query(Operation.lookup_accounts, encodeIds(ids)));
  }

  /** As lookup_ledger_accounts (admin): the ledger's own accounts too. */
  lookupLedgerAccounts(ids: readonly bigint[]): AccountState[] {
    return decodeAccountStates(this.ledger.query(Operation.lookup_ledger_accounts, encodeIds(ids)));
  }

  lookupTransfers(ids: readonly bigint[]): TransferState[] {
    return decodeTransferStates(this.ledger.query(Operation.lookup_transfers, encodeIds(ids)));
  }

  /** The account with this id, the ledger's own included; throws when the ledger does not know it. */
  account(id: bigint): AccountState {
    const [found] = this.lookupLedgerAccounts([id]);
    if (found === undefined) throw new Error(`account ${id} not found`);
    return found;
  }

  /** The transfer with this id; throws when the ledger does not know it. */
  transfer(id: bigint): TransferState {
    const [found] = this.lookupTransfers([id]);
    if (found === undefined) throw new Error(`transfer ${id} not found`);
    return found;
  }

  history(filter: HistoryFilterInput): AccountHistoryEntry[] {
    // White-box: the ledger's own accounts' histories too (a caller's read answers them empty).
    return decodeHistoryEntries(this.ledger.query(Operation.get_account_transfers, encodeHistoryFilter(filter), true));
  }

  /**
   * Crash and recover: a new Ledger replays every persisted entry in seq order (replay asserts
   * each entry's results match), passes verify(), and must answer every lookup and history page
   * byte for byte as the old one did.
   */
  restart(): void {
    const before = this.snapshot();
    this.outbound = []; // replies in flight die with the worker; a relay fetches them from the outbox
    const full = this.newLedger();
    const seqs = [...this.journal.keys()].sort((a, b) => a - b);
    // A copy, as a read from storage would be: replay must not depend on the live buffer.
    for (const seq of seqs) {
      full.replay(seq, this.journal.get(seq)!.slice());
      // A replayed flush produces exactly the run blocks stored with it (the shard checks the same).
      const runs = full.takeFlushedRuns();
      for (const { block, bytes } of runs?.blocks ?? []) {
        if (!bytesEqual(bytes, this.runBlocks.get(`${runs!.epoch}:${block}`) ?? new Uint8Array(0))) throw new Error(`flush ${seq}: run block ${block} replays to other bytes`);
      }
    }
    full.verify();
    this.ledger = full;
    this.replayedLast = seqs.length;
    const newest = Math.max(0, ...this.checkpoints.keys());
    if (newest > 0) {
      // The shard's start: the newest checkpoint, then the tail. Its state must be the full replay's, byte for byte.
      const restored = this.newLedger(this.checkpoints.get(newest)!);
      const tail = seqs.filter((seq) => seq > newest);
      for (const seq of tail) {
        restored.replay(seq, this.journal.get(seq)!.slice());
        restored.takeFlushedRuns();
      }
      restored.verify();
      // The state bytes: the live section (outbox delivery, credit-rate window) follows what the journal does not hold.
      const sections = new Map<number, number>();
      const [a, b] = [stateBytesOf(restored.encodeCheckpoint()), stateBytesOf(full.encodeCheckpoint(sections))];
      if (!bytesEqual(a, b)) {
        const at = firstDifference(a, b);
        const tag = [...sections].filter(([, from]) => from <= at).at(-1)?.[0];
        throw new Error(`a restart from checkpoint ${newest} differs from a full replay (${a.byteLength} vs ${b.byteLength} bytes, first difference at ${at}, in section ${tag})`);
      }
      this.ledger = restored;
      this.replayedLast = tail.length;
    }
    const after = this.snapshot();
    for (const [what, bytes] of before) {
      if (!bytesEqual(bytes, after.get(what)!)) throw new Error(`after restart, ${what} differs from before`);
    }
  }

  /** Raw replies of every lookup and history page the harness can name, keyed by what was asked. */
  snapshot(): Map<string, Uint8Array> {
    const replies = new Map<string, Uint8Array>();
    const accounts = [...this.accountIds].filter(validId);
    const transfers = [...this.transferIds].filter(validId);
    for (let i = 0; i < accounts.length; i += lookupIdsMax) {
      replies.set(`accounts ${i}`, this.ledger.query(Operation.lookup_accounts, encodeIds(accounts.slice(i, i + lookupIdsMax))));
    }
    for (let i = 0; i < transfers.length; i += lookupIdsMax) {
      replies.set(`transfers ${i}`, this.ledger.query(Operation.lookup_transfers, encodeIds(transfers.slice(i, i + lookupIdsMax))));
    }
    for (const id of accounts) {
      replies.set(`history of ${id}`, this.ledger.query(Operation.get_account_transfers, encodeHistoryFilter({ accountId: id })));
    }
    return replies;
  }

  private persist(seq: number, entry: Uint8Array): void {
    if (this.journal.has(seq)) throw new Error(`journal seq ${seq} written twice`);
    this.journal.set(seq, entry);
    this.idStore.seqPersisted = seq;
    if (this.verifyEachWrite) this.ledger.verify();
  }

  private newLedger(checkpoint?: Uint8Array): Ledger {
    const outboxAcknowledged = Array.from({ length: this.shardCount }, (_, peer) => this.outboxAcknowledged[peer] ?? 0);
    // Always over the id store: a ledger restored from a checkpoint finds its older ids there (unbounded caches unless set).
    const capacity = this.idCache ?? { transferIds: Infinity, idsOther: Infinity };
    const idIndex = { source: new MemoryIdIndex(this.idStore), capacity };
    return new Ledger({ shardIndex: this.shardIndex, shardCount: this.shardCount, journal: this.source, outboxAcknowledged, idIndex, checkpoint, directory: this.directory });
  }
}

function validId(id: bigint): boolean {
  return id > 0n && id < (1n << 128n) - 1n;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < a.byteLength && i < b.byteLength && a[i] === b[i]) i++;
  return i;
}
