// The in-memory state of one shard's ledger and the only code that changes balances.
// Every balance change goes through `move`, which keeps per-ledger totals (for the
// conservation check) and, inside a linked chain, records its own undo — or, for a plain
// transfer outside a chain with every value below 2^53, through its number twin `postPlain`.

import { assert } from '../assert.js';
import { AccountTable, Balance, accountStaticBytes, balanceWordIndex, type BalanceField } from '../accounts/account-table.js';
import { ExpiryHeap } from './expiry-heap.js';
import { CreditRates, HotBits, InboundBuffer } from '../hot/hot-inbound.js';
import { IdMap } from '../accounts/id-map.js';
import type { HistorySource } from '../accounts/history-runs.js';
import { IdCache, IdTableKind, OwnedIds, noIdIndex, type IdCacheCapacity, type IdIndexSource } from '../accounts/id-cache.js';
import { balancesAfterOffset, eventOffset, JournalHeader, keepsBalancesAfter, RecordParts, RecordSlice, recordSliceMax, resultsOffset } from './journal-entry.js';
import { resultBytes } from '../layout.js';
import { shardOfIdAt } from '../routing.js';
import type { AccountDirectory } from '../accounts/account-directory.js';
import { balanceMax, creditsHighFrom, locationEventsPerBatchMax, recentEntriesMax, shardCountMax } from '../limits.js';
import { TransferLayout } from '../layout.js';
import { Outbox } from '../transit/transit.js';
import { AccountFlags, DirectoryMarks } from '../types.js';
import { RunningTotals, type LedgerTotals } from './ledger-totals.js';
import { exactNumberLimit } from '../u64-words.js';
import { indexRunsOf, MemoryTransferIndex, type TransferIndexSource } from './transfer-index.js';

/**
 * The core's read interface to storage: journal entries and, when the ledger flushes its history (a shard
 * does; tests that keep everything in memory need not), the stored history runs (core/accounts/history-runs.ts).
 */
export interface JournalSource extends Partial<HistorySource>, Partial<TransferIndexSource> {
  /** A persisted journal entry by seq, read synchronously. */
  entry(seq: number): Uint8Array | undefined;
  /**
   * Record `index` of entry `seq` as a RecordSlice copy with at least the RecordParts in `parts` filled, read
   * synchronously. Optional: a store that has it answers lookups of old records without copying their whole
   * entry (and without the pieces of parts nobody asked for); without it `entry` is used. With `into` (a scratch
   * of recordSliceMax bytes or more) the slice is its start.
   */
  recordSlice?(seq: number, index: number, parts?: number, into?: Uint8Array): Uint8Array | undefined;
  /** The journal entry kind of entry `seq`, from its header alone (optional: without it the entry is read). */
  entryOperation?(seq: number): number | undefined;
}

export type { HistorySource } from '../accounts/history-runs.js';

export type { BalanceField } from '../accounts/account-table.js';

/**
 * An open hold. Only open ones are kept: a hold posted or voided is found by its resolution (the `resolutions`
 * id cache: the closing event), one expired by having neither (core/posting/hold-outcomes.ts).
 */
export interface PendingHold {
  debitSlot: number;
  creditSlot: number;
  ledger: number;
  amount: bigint;
  /** 0 when the hold never expires. */
  expiresAtNs: bigint;
}

/**
 * A hold opened on another shard for an account of this one, shown here (InstructionKind.hold) until its post,
 * void or expiry arrives: the payee's creditsPending and this shard's transit-in debitsPending carry it.
 */
export interface CreditHold {
  payeeSlot: number;
  transitSlot: number;
  amount: bigint;
}

export interface FreezeHold {
  slot: number;
  remaining: bigint;
}

export type { LedgerTotals } from './ledger-totals.js';

/**
 * A stored record: its event at `at` in `view`, its result at `resultAt`, its balances after at `balancesAt` (−1: none
 * kept). Only the RecordParts asked of LedgerState.record are sure to be there.
 */
export interface RecordRef {
  view: DataView;
  at: number;
  resultAt: number;
  balancesAt: number;
}

/** A buffer LedgerState.record copies older records into, for a reader of many records one at a time. */
export interface RecordScratch {
  readonly bytes: Uint8Array;
  readonly view: DataView;
}

export function newRecordScratch(): RecordScratch {
  const bytes = new Uint8Array(recordSliceMax);
  return { bytes, view: new DataView(bytes.buffer) };
}

export function locationOf(seq: number, index: number): number {
  return seq * locationEventsPerBatchMax + index;
}

export class LedgerState {
  readonly accounts = new AccountTable();
  /**
   * Id → journal location, for every id that succeeded (transfers, operations) or failed: bounded caches
   * in front of the journal's id index on disk (accounts/id-cache.ts); each id taken is recorded on its entry.
   */
  readonly ownedIds = new OwnedIds();
  readonly accountsFailed: IdCache;
  readonly transfers: IdCache;
  readonly transfersFailed: IdCache;
  readonly operations: IdCache;
  readonly operationsFailed: IdCache;
  /** Open holds only: memory grows with the holds open, not with the holds ever taken. */
  readonly pendings = new IdMap<PendingHold>();
  /** Closed holds: the pending transfer's id → location of the post_pending/void_pending that closed it. */
  readonly resolutions: IdCache;
  /** Holds of other shards shown on accounts of this one, by the pending transfer's id: open ones only. */
  readonly creditHolds = new IdMap<CreditHold>();
  readonly freezes = new IdMap<FreezeHold>();
  readonly reversed = new IdMap<bigint>();
  /** Cross-shard transfers credited here (id → location of the applied instruction), for reversals. */
  readonly inbound: IdCache;
  /** Cross-shard transfers of this shard whose credit was refused and came back: id → the refusing code. */
  readonly returned = new IdMap<number>();
  /** Instructions issued to other shards (debit first, credit after). */
  readonly outbox: Outbox;
  /** Per sending shard, the last pair sequence applied here. */
  readonly inboundApplied = new Float64Array(shardCountMax);
  /** Slots of the transit and suspense accounts opened so far, by kind, ledger and peer. */
  readonly systemSlots = new Map<number, number>();
  /** Every system account's generations, oldest first (system-accounts.ts): built on the first need, then kept. */
  systemGenerations: Map<number, number[]> | null = null;
  readonly #totals = new RunningTotals();
  readonly expiry = new ExpiryHeap();
  /** Hot-inbound accounts' credits waiting to be applied, by slot (core/hot/hot-inbound.ts). */
  readonly buffers = new Map<number, InboundBuffer>();
  /** Accounts marked hot-inbound now (kept by setHotInbound, so a status read never scans the accounts). */
  hotInboundAccounts = 0;
  /** Credits per account in the current rate window (automatic hot-inbound marking). */
  readonly creditRates = new CreditRates(this.accounts);
  /** Set while the ledger applies entries live (not replaying): only then are delays worth recording. */
  onBufferApplied: ((delaysNs: number[]) => void) | null = null;
  /** Inverse actions of the open linked chain, newest last; null outside a chain. */
  undo: (() => void)[] | null = null;
  /**
   * Every account of the ledger, whichever shard holds it (account-directory.ts): what a payer's shard checks a
   * payee on another shard against. Null: such a payee is checked only when the credit arrives (tests, tools).
   */
  directory: AccountDirectory | null = null;
  /**
   * While an entry is replayed or a vote's commit re-executes: the results (u32 each) the entry was decided with.
   * A payee on another shard is then judged by them, not by the directory as it stands now (remote-payee.ts).
   */
  payeeVerdicts: Uint8Array | null = null;
  /**
   * While a batch entry is applied live: per event, what other shards answered for it as the router marked it
   * (verdicts-elsewhere.ts): the reference's code (low 16 bits), the payee's (high 16 bits); null when none was.
   */
  verdictsElsewhere: Uint32Array | null = null;
  /** The same entry's whole freezes paid to capped payees on other shards: per event index, the payee's room. */
  payeeRoomsElsewhere: Map<number, bigint> | null = null;
  /**
   * While a vote's dry run or its commit applies a cross-shard chain group: ChainEventBits per event (credit halves
   * carried for another shard's events, and the payer events whose credit they carry); null otherwise.
   */
  chainRoles: Uint8Array | null = null;
  private readonly recent = new Map<number, Uint8Array>();
  /**
   * Where query_transfers finds transfers by field (transfer-index.ts): the store's index, written with each entry
   * beside the id index; or, for a journal without one (tests, tools), an index in memory fed by noteOwnedIds.
   */
  readonly transferIndex: TransferIndexSource;
  readonly #memoryIndex: MemoryTransferIndex | null;

  constructor(
    readonly shardIndex: number,
    readonly shardCount: number,
    private readonly journal: JournalSource,
    transferIdsExpected: number,
    outboxAcknowledged: readonly number[] = [],
    readonly idIndex: IdIndexSource = noIdIndex,
    idCapacity: IdCacheCapacity | null = null,
  ) {
    assert(idCapacity === null || idIndex !== noIdIndex, 'bounded id caches need an id index on disk');
    const transferIds = idCapacity?.transferIds ?? Infinity;
    const idsOther = idCapacity?.idsOther ?? Infinity;
    const cache = (kind: (typeof IdTableKind)[keyof typeof IdTableKind], capacity: number, idsExpected = 0) =>
      new IdCache(kind, capacity, idIndex, this.ownedIds, idsExpected);
    // A bounded transfer cache allocates each generation whole: no rehash pauses while it fills.
    this.transfers = cache(IdTableKind.transfers, transferIds, transferIds === Infinity ? transferIdsExpected : transferIds);
    this.transfersFailed = cache(IdTableKind.transfersFailed, idsOther);
    this.accountsFailed = cache(IdTableKind.accountsFailed, idsOther);
    this.operations = cache(IdTableKind.operations, idsOther);
    this.operationsFailed = cache(IdTableKind.operationsFailed, idsOther);
    this.inbound = cache(IdTableKind.inbound, idsOther);
    this.resolutions = cache(IdTableKind.resolutions, idsOther);
    if (journal.runBlock !== undefined) this.accounts.history.source = journal as HistorySource;
    this.#memoryIndex = journal.runsUnder === undefined ? new MemoryTransferIndex() : null;
    this.transferIndex = this.#memoryIndex ?? (journal as TransferIndexSource);
    this.outbox = new Outbox(outboxAcknowledged);
  }

  /** Once an entry's events are applied (or its apply failed): its verdicts from other shards are of no further use. */
  forgetVerdictsElsewhere(): void {
    this.verdictsElsewhere = null;
    this.payeeRoomsElsewhere = null;
  }


  /** Hands the ids entry `seq` took (applied live or replayed) to the index on disk, which writes them with it. */
  noteOwnedIds(seq: number, entry: Uint8Array): void {
    const owned = this.ownedIds.take(seq);
    if (owned.length === 0) return;
    this.idIndex.noteOwnedIds(seq, entry, owned);
    this.#memoryIndex?.add(indexRunsOf(seq, entry, owned));
  }

  /** Whether the account id at `at` routes to this shard. */
  isLocal(view: DataView, at: number): boolean {
    return this.shardCount === 1 || shardOfIdAt(view, at, this.shardCount) === this.shardIndex;
  }

  remember(seq: number, entry: Uint8Array): void {
    this.recent.set(seq, entry);
    this.recent.delete(seq - recentEntriesMax);
  }

  entry(seq: number): Uint8Array {
    const entry = this.recent.get(seq) ?? this.journal.entry(seq);
    assert(entry !== undefined, `journal entry ${seq} missing`);
    return entry;
  }

  /**
   * The record at `location`, with (at least) the RecordParts in `parts`: by default its event alone. An older
   * record is copied into `scratch` when given (valid until the caller reads another record into it), else into
   * a buffer of its own.
   */
  record(location: number, parts: number = RecordParts.event, scratch?: RecordScratch): RecordRef {
    const seq = Math.floor(location / locationEventsPerBatchMax);
    const index = location - seq * locationEventsPerBatchMax;
    const recent = this.recent.get(seq);
    if (recent === undefined && this.journal.recordSlice !== undefined) {
      // An older record: cut out of the store's pieces that hold the parts asked for, never the whole entry.
      const slice = this.journal.recordSlice(seq, index, parts, scratch?.bytes);
      assert(slice !== undefined, `journal entry ${seq} missing`);
      const balancesAt = slice.byteLength > RecordSlice.balances ? RecordSlice.balances : -1;
      const view = scratch?.view ?? new DataView(slice.buffer, slice.byteOffset, slice.byteLength);
      return { view, at: RecordSlice.event, resultAt: RecordSlice.result, balancesAt };
    }
    const entry = recent ?? this.entry(seq);
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    const count = view.getUint32(JournalHeader.count, true);
    const keepsBalances = keepsBalancesAfter(view.getUint16(JournalHeader.operation, true));
    return {
      view,
      at: eventOffset(index),
      resultAt: resultsOffset(count) + index * resultBytes,
      balancesAt: keepsBalances ? balancesAfterOffset(count, index) : -1,
    };
  }

  /** The journal entry kind of the entry holding `location`. */
  entryOperationAt(location: number): number {
    const seq = Math.floor(location / locationEventsPerBatchMax);
    const recent = this.recent.get(seq);
    const operation = recent === undefined ? this.journal.entryOperation?.(seq) : undefined;
    if (operation !== undefined) return operation;
    const entry = recent ?? this.entry(seq);
    return new DataView(entry.buffer, entry.byteOffset, entry.byteLength).getUint16(JournalHeader.operation, true);
  }

  /** The result stored with the event at `location` (for remembered failures): code | detail << 16. */
  storedResult(location: number): number {
    const stored = this.record(location, RecordParts.result);
    // The detail (e.g. why a close was refused) is part of the answer a retry must repeat.
    return stored.view.getUint32(stored.resultAt, true);
  }

  /** Whether `slot[field] + amount` still fits a u64 balance. */
  fits(field: BalanceField, slot: number, amount: bigint): boolean {
    // Below 2^63 any amount (≤ 2^63 − 1) fits: decide from the high word without creating a BigInt.
    const highWord = this.accounts.words[balanceWordIndex(slot, Balance[field]) + 1]!;
    if (highWord < 0x8000_0000) return true;
    return this.accounts.balance(field, slot) + amount <= balanceMax;
  }

  move(field: BalanceField, slot: number, delta: bigint): void {
    // Constant messages on this path: a template literal would be built on every call, the assertion holding or not.
    assert(delta !== 0n, 'a balance move changes the balance');
    const next = this.accounts.balance(field, slot) + delta;
    assert(next >= 0n && next <= balanceMax, 'a balance stays within 0..balanceMax');
    this.accounts.setBalance(field, slot, next);
    if (field !== 'frozen') {
      const totals = this.totalsOf(this.accounts.ledgerOf(slot));
      totals[field] += delta;
    }
    // Checked after every raise, and only then: inside one posting a lowering comes first (a hold closes before
    // its amount is posted, a freeze shrinks before it pays), so every state a raise leaves is a final one.
    if (delta > 0n) assert(this.withinRules(slot), 'a balance raise keeps the account within its overdraft rule');
    if (delta > 0n && next >= creditsHighFrom && (field === 'creditsPosted' || field === 'creditsPending')) this.#markCreditsHigh(slot);
    if (this.undo !== null) this.undo.push(() => this.move(field, slot, -delta));
  }

  /**
   * Whether a credit balance of `slot` is at 2^62 or more (posted, pending, or posted with its hot-inbound buffer):
   * its credits from other shards are then judged here before `ok` (DirectoryMarks.creditsHigh).
   */
  creditsHigh(slot: number): boolean {
    // Every account is asked at start: numbers first (below 2^53 reads exact, no BigInt), a buffer only if it has one.
    const accounts = this.accounts;
    if (accounts.balanceNumber(Balance.creditsPosted, slot) < exactNumberLimit && accounts.balanceNumber(Balance.creditsPending, slot) < exactNumberLimit && !this.buffers.has(slot)) return false;
    return this.creditsAccepted(slot) >= creditsHighFrom || accounts.balance('creditsPending', slot) >= creditsHighFrom;
  }

  /**
   * Marks the account in the directory every shard reads: from now on the router has its credits judged here
   * (issue #14, item 5: a credit that would overflow it is refused before `ok`, not returned). Kept after a chain's
   * undo: the mark only makes the router more careful.
   */
  #markCreditsHigh(slot: number): void {
    this.directory?.markAt(this.accounts.staticsView, slot * accountStaticBytes, DirectoryMarks.creditsHigh);
  }

  /**
   * Whether the account at `slot` keeps its overdraft rule: with debits_must_not_exceed_credits, debits posted
   * + pending + frozen ≤ credits posted; with credits_must_not_exceed_debits, credits posted + buffered + pending
   * ≤ debits posted. The checks before each posting guarantee it; this is what they guarantee, read back.
   */
  withinRules(slot: number): boolean {
    const accounts = this.accounts;
    const flags = accounts.flagsOf(slot);
    if ((flags & AccountFlags.debits_must_not_exceed_credits) !== 0) {
      const committed = accounts.balance('debitsPosted', slot) + accounts.balance('debitsPending', slot) + accounts.balance('frozen', slot);
      if (committed > accounts.balance('creditsPosted', slot)) return false;
    }
    if ((flags & AccountFlags.credits_must_not_exceed_debits) !== 0) {
      if (this.creditsAccepted(slot) + accounts.balance('creditsPending', slot) > accounts.balance('debitsPosted', slot)) return false;
    }
    return true;
  }

  /**
   * The credit side of a posting: onto creditsPosted, or into the buffer of a hot-inbound account (in
   * the totals either way, so conservation holds). `view`/`at`: the posted record (its timestamp).
   */
  creditPosted(slot: number, amount: bigint, view: DataView, at: number): void {
    assert(amount > 0n, 'a credit posts a positive amount');
    this.creditRates.record(slot);
    if ((this.accounts.hotOf(slot) & HotBits.inbound) === 0) return this.move('creditsPosted', slot, amount);
    let buffer = this.buffers.get(slot);
    if (buffer === undefined) this.buffers.set(slot, (buffer = new InboundBuffer()));
    const totals = this.totalsOf(this.accounts.ledgerOf(slot));
    buffer.amount += amount;
    buffer.seqLast++;
    buffer.creditTimes.push(Number(view.getBigUint64(at + TransferLayout.timestamp, true)));
    totals.creditsPosted += amount;
    if (this.accounts.balance('creditsPosted', slot) + buffer.amount >= creditsHighFrom) this.#markCreditsHigh(slot);
    // Posting checked creditsAccepted + amount against balanceMax (balanceRefusal, creditRefusal): the apply will fit.
    assert(this.accounts.balance('creditsPosted', slot) + buffer.amount <= balanceMax, 'a buffered credit still fits creditsPosted once applied');
    assert(buffer.waiting === buffer.creditTimes.length, 'a hot-inbound buffer keeps one time per credit waiting');
    assert(this.withinRules(slot), 'a buffered credit keeps the account within its overdraft rule');
    if (this.undo !== null) {
      const taken = buffer;
      this.undo.push(() => {
        taken.amount -= amount;
        taken.seqLast--;
        taken.creditTimes.pop();
        totals.creditsPosted -= amount;
        assert(taken.amount >= 0n && taken.seqLast >= taken.seqApplied, 'an undone credit leaves the buffer as it was');
      });
    }
  }

  /**
   * The number twin of move('debitsPosted', debit, amount) then creditPosted(credit, amount), for a plain
   * transfer outside a linked chain into an account that is not hot-inbound, whose amount and both posted
   * balances after it are below 2^53 (core/posting/plain-transfer.ts checked): no BigInt, no undo to record.
   */
  postPlain(debit: number, credit: number, ledger: number, amount: number): void {
    assert(this.undo === null, 'a plain posting is never part of a linked chain');
    const accounts = this.accounts;
    assert((accounts.hotOf(credit) & HotBits.inbound) === 0, 'a plain posting never credits a hot-inbound account');
    assert(accounts.ledgerOf(debit) === ledger && accounts.ledgerOf(credit) === ledger, 'a plain posting stays in its ledger');
    // Below 2^53 every term is exact; setBalanceNumber asserts the sums are too (never rounded, never past u64).
    const debitsAfter = accounts.balanceNumber(Balance.debitsPosted, debit) + amount;
    const creditsAfter = accounts.balanceNumber(Balance.creditsPosted, credit) + amount;
    accounts.setBalanceNumber(Balance.debitsPosted, debit, debitsAfter);
    this.creditRates.record(credit);
    accounts.setBalanceNumber(Balance.creditsPosted, credit, creditsAfter);
    this.#totals.addPosted(ledger, amount);
    // Conservation of this posting, read back: the credit side rose by what the debit side rose by. The totals
    // take the amount on both sides whatever the balances did, so only this catches a lost side here.
    assert(accounts.balanceNumber(Balance.debitsPosted, debit) === debitsAfter && accounts.balanceNumber(Balance.creditsPosted, credit) === creditsAfter, 'a plain posting raises both sides by its amount');
    // Only a ruled account is read again: an unruled posting pays two flag reads, not the call.
    const ruled = (accounts.flagsOf(debit) & AccountFlags.debits_must_not_exceed_credits) | (accounts.flagsOf(credit) & AccountFlags.credits_must_not_exceed_debits);
    if (ruled !== 0) assert(this.#withinRulesPlain(debit, credit), 'a plain posting keeps both accounts within their overdraft rules');
  }

  /**
   * The number twin of withinRules after a plain posting, for the rules it could break: the debit account's
   * debits_must_not_exceed_credits, the credit account's mirror. Exact: when a rule applies, the posting's checks
   * (core/plain-transfer.ts) found its sum below 2^53, and a balance of 2^53 or more on the other side reads as
   * Infinity, which compares truly (it is larger).
   */
  #withinRulesPlain(debit: number, credit: number): boolean {
    const accounts = this.accounts;
    if ((accounts.flagsOf(debit) & AccountFlags.debits_must_not_exceed_credits) !== 0) {
      const committed = accounts.balanceNumber(Balance.debitsPosted, debit) + accounts.balanceNumber(Balance.debitsPending, debit) + accounts.balanceNumber(Balance.frozen, debit);
      if (committed > accounts.balanceNumber(Balance.creditsPosted, debit)) return false;
    }
    if ((accounts.flagsOf(credit) & AccountFlags.credits_must_not_exceed_debits) !== 0) {
      if (accounts.balanceNumber(Balance.creditsPosted, credit) + accounts.balanceNumber(Balance.creditsPending, credit) > accounts.balanceNumber(Balance.debitsPosted, credit)) return false;
    }
    return true;
  }

  /** What the account's buffer holds (0 when none). */
  buffered(slot: number): bigint {
    return this.buffers.get(slot)?.amount ?? 0n;
  }

  /** creditsPosted plus what waits in the buffer: what every limit on credits counts. */
  creditsAccepted(slot: number): bigint {
    return this.accounts.balance('creditsPosted', slot) + this.buffered(slot);
  }

  /**
   * Moves the buffer of `slot` through `seqThrough` onto creditsPosted (the totals counted it already).
   * Returns the amount moved. Undoable inside a linked chain.
   */
  applyBuffer(slot: number, seqThrough: number, timestampNs: bigint): bigint {
    const buffer = this.buffers.get(slot);
    if (buffer === undefined || buffer.waiting === 0) return 0n;
    assert(seqThrough === buffer.seqLast, `a hot-inbound apply takes the whole buffer (through ${buffer.seqLast}, not ${seqThrough})`);
    // Every credit taken in is positive, so a buffer with credits waiting holds a positive amount.
    assert(buffer.amount > 0n, 'a hot-inbound buffer with credits waiting holds a positive amount');
    const amount = buffer.amount;
    const accounts = this.accounts;
    const next = accounts.balance('creditsPosted', slot) + amount;
    assert(next <= balanceMax, 'creditsPosted out of range');
    accounts.setBalance('creditsPosted', slot, next);
    const times = buffer.creditTimes.splice(0);
    const seqApplied = buffer.seqApplied;
    buffer.amount = 0n;
    buffer.seqApplied = buffer.seqLast;
    assert(times.length === buffer.seqApplied - seqApplied, 'a hot-inbound apply takes one credit per sequence number');
    if (this.undo !== null) {
      this.undo.push(() => {
        accounts.setBalance('creditsPosted', slot, accounts.balance('creditsPosted', slot) - amount);
        buffer.amount = amount;
        buffer.seqApplied = seqApplied;
        buffer.creditTimes.push(...times);
      });
    } else if (this.onBufferApplied !== null) {
      const now = Number(timestampNs);
      this.onBufferApplied(times.map((t) => now - t));
    }
    return amount;
  }

  /** Inside a linked chain, remember how to revert a change just made. */
  onUndo(revert: () => void): void {
    if (this.undo !== null) this.undo.push(revert);
  }

  get inChain(): boolean {
    return this.undo !== null;
  }

  /** Per ledger, the running totals of every balance change (exact: reading folds what plain postings gathered). */
  get totals(): ReadonlyMap<number, LedgerTotals> {
    return this.#totals.byLedger;
  }

  /** A checkpoint's totals into this fresh state (core/posting/ledger-checkpoint.ts). */
  restoreTotals(byLedger: readonly [number, LedgerTotals][]): void {
    this.#totals.restore(byLedger);
  }

  /** The totals of `ledger`, created at zero, to change with a move. */
  totalsOf(ledger: number): LedgerTotals {
    return this.#totals.of(ledger);
  }

  /** Double entry: per ledger, debits equal credits, posted and pending. Cheap: runs every batch. */
  assertConservation(): void {
    for (const [ledger, t] of this.totals) {
      assert(t.debitsPosted === t.creditsPosted, `ledger ${ledger}: posted debits ${t.debitsPosted} != credits ${t.creditsPosted}`);
      assert(t.debitsPending === t.creditsPending, `ledger ${ledger}: pending debits ${t.debitsPending} != credits ${t.creditsPending}`);
    }
  }

  /** The full check: recompute every ledger's totals from the accounts and compare. */
  verifyAllBalances(): void {
    const sums = new Map<number, LedgerTotals>();
    const accounts = this.accounts;
    for (let slot = 0; slot < accounts.count; slot++) {
      const ledger = accounts.ledgerOf(slot);
      const sum = sums.get(ledger) ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      sum.debitsPosted += accounts.balance('debitsPosted', slot);
      sum.creditsPosted += accounts.balance('creditsPosted', slot) + this.buffered(slot);
      sum.debitsPending += accounts.balance('debitsPending', slot);
      sum.creditsPending += accounts.balance('creditsPending', slot);
      sums.set(ledger, sum);
    }
    for (const [ledger, sum] of sums) {
      const totals = this.#totals.exactOf(ledger);
      assert(sum.debitsPosted === totals.debitsPosted && sum.creditsPosted === totals.creditsPosted, `ledger ${ledger}: posted totals drifted`);
      assert(sum.debitsPending === totals.debitsPending && sum.creditsPending === totals.creditsPending, `ledger ${ledger}: pending totals drifted`);
    }
    this.assertConservation();
    this.verifyHolds();
    let hot = 0;
    for (let slot = 0; slot < accounts.count; slot++) if ((accounts.hotOf(slot) & HotBits.inbound) !== 0) hot++;
    assert(hot === this.hotInboundAccounts, `hot-inbound accounts: ${hot} marked, ${this.hotInboundAccounts} counted`);
    // Posting reads the hot bit, not the buffers, to know an account has nothing buffered.
    for (const [slot, buffer] of this.buffers) {
      assert(buffer.amount === 0n || (accounts.hotOf(slot) & HotBits.inbound) !== 0, `account slot ${slot}: a buffer holds credits, but the account is not hot-inbound`);
    }
  }

  /** Pending (both sides) and frozen balances equal the sums of the open holds and freezes behind them. */
  private verifyHolds(): void {
    const accounts = this.accounts;
    const pending = new Map<number, bigint>();
    const pendingCredits = new Map<number, bigint>();
    for (const [, hold] of this.pendings.entries()) {
      pending.set(hold.debitSlot, (pending.get(hold.debitSlot) ?? 0n) + hold.amount);
      pendingCredits.set(hold.creditSlot, (pendingCredits.get(hold.creditSlot) ?? 0n) + hold.amount);
    }
    for (const [, shown] of this.creditHolds.entries()) {
      pending.set(shown.transitSlot, (pending.get(shown.transitSlot) ?? 0n) + shown.amount);
      pendingCredits.set(shown.payeeSlot, (pendingCredits.get(shown.payeeSlot) ?? 0n) + shown.amount);
    }
    const frozen = new Map<number, bigint>();
    for (const [, freeze] of this.freezes.entries()) frozen.set(freeze.slot, (frozen.get(freeze.slot) ?? 0n) + freeze.remaining);
    for (let slot = 0; slot < accounts.count; slot++) {
      assert((pending.get(slot) ?? 0n) === accounts.balance('debitsPending', slot), `account slot ${slot}: debits pending != open holds`);
      assert((pendingCredits.get(slot) ?? 0n) === accounts.balance('creditsPending', slot), `account slot ${slot}: credits pending != open holds`);
      assert((frozen.get(slot) ?? 0n) === accounts.balance('frozen', slot), `account slot ${slot}: frozen != open freezes`);
    }
  }
}
