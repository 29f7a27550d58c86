// A shard ledger's checkpoint: every piece of state replay builds, encoded canonically (equal states give equal
// bytes, so a digest of the bytes compares states), and restored into a fresh ledger that then replays only the
// journal's tail. Pure: the caller hashes, frames and stores the bytes (src/shards/shard/checkpoint-files.ts).
// What is not here is not state: caches (recent entries), what a live entry hands its caller (outbound, hot
// delays) and the undo log (null between entries). Nor what lives on disk beside the journal (issue #22): the
// id → location tables (the id index: a restored ledger's id caches start empty and fall back on it) and the
// account history (taken right after a flush_history entry, the buffer is empty and each account's newest run
// is in its record).
//
// Canonical means: sections in a fixed order; maps in the order replay inserts into them (that order is itself
// replayed state: planHotRecords and the totals iterate it). Two kinds of
// state follow what the journal does not hold, and sit in a last `live` section outside the digested state bytes
// (stateBytesOf): the outbox's retained instructions and acknowledgements (peers' acknowledgements), and the
// credit-rate window of automatic hot-inbound marking (wall-clock ticks that write no entry when nothing is due;
// a replay counts every credit it replays instead). Both are restored as captured.

import { assert } from '../assert.js';
import { AccountRecordLayout, accountRecordBytes, accountStaticBytes, recordWords } from '../accounts/account-table.js';
import type { IdMap } from '../accounts/id-map.js';
import { shardCountMax } from '../limits.js';
import { InboundBuffer } from '../hot/hot-inbound.js';
import { CheckpointReader, CheckpointWriter } from './checkpoint-bytes.js';
import type { ClosedDay, LedgerContext, PreparedGroup } from './ledger-context.js';
import type { CreditHold, FreezeHold, LedgerState, PendingHold } from './ledger-state.js';
import { isOpenHold } from './transfer-posting.js';

/** The body's format; a restore refuses any other (a checkpoint is rebuilt from the journal, never migrated). */
// 3: the holds section keeps open holds only (no status, no amount posted: closed holds are read back from the
// journal, core/posting/hold-outcomes.ts).
// 4: the holds section also keeps the holds of other shards shown here (creditHolds).
export const ledgerCheckpointFormat = 4;

/** Section tags, in body order. */
export const CheckpointSection = {
  context: 1,
  accounts: 2,
  holds: 3,
  transit: 4,
  totals: 5,
  expiry: 6,
  hot: 7,
  /** Outside the digest: the outbox's retained instructions and acknowledgements, and the credit-rate window. */
  live: 200,
} as const;

/** Bytes of the body's trailer: the offset (f64) where the live section begins. */
const trailerBytes = 8;

/**
 * The checkpoint body of `context` as it stands between entries. `sections`, when given, receives each section's
 * tag → offset (for a report of where two bodies differ).
 */
export function encodeCheckpoint(context: LedgerContext, sections?: Map<number, number>): Uint8Array {
  const state = context.state;
  assert(state.undo === null, 'a checkpoint is taken between entries, never inside a linked chain');
  assert(state.outbox.stagedCount === 0, 'a checkpoint is taken with nothing staged');
  const w = new CheckpointWriter(bytesExpected(state));
  if (sections !== undefined) w.onSection = (tag, at) => sections.set(tag, at);
  w.u32(ledgerCheckpointFormat);
  w.u32(state.shardIndex);
  w.u32(state.shardCount);
  w.f64(context.lastSeq);
  writeContext(w, context);
  writeAccounts(w, state);
  writeHolds(w, state);
  writeTransit(w, state);
  writeTotals(w, state);
  writeExpiry(w, state);
  writeHot(w, state);
  const liveAt = w.length;
  writeLive(w, state);
  w.f64(liveAt);
  return w.finish();
}

/** About the body's size: records and statics, and the rate-window column. */
function bytesExpected(state: LedgerState): number {
  const slots = state.accounts.slotsGiven;
  return slots * (accountRecordBytes + accountStaticBytes + 4) + (1 << 16);
}

/** The digested part of a body: everything but the live section and the trailer. */
export function stateBytesOf(body: Uint8Array): Uint8Array {
  assert(body.byteLength >= trailerBytes, 'a checkpoint body has its trailer');
  const liveAt = new DataView(body.buffer, body.byteOffset + body.byteLength - trailerBytes, trailerBytes).getFloat64(0, true);
  assert(Number.isSafeInteger(liveAt) && liveAt >= 0 && liveAt <= body.byteLength - trailerBytes, 'a checkpoint trailer points inside its body');
  return body.subarray(0, liveAt);
}

/** Identity a body records: checked against the shard it is restored into. */
export function checkpointIdentity(body: Uint8Array): { format: number; shardIndex: number; shardCount: number; seq: number } {
  const r = new CheckpointReader(body);
  return { format: r.u32(), shardIndex: r.u32(), shardCount: r.u32(), seq: r.count() };
}

/** Restores `body` into `context`, a fresh ledger's (nothing applied yet, same shard). */
export function restoreCheckpoint(context: LedgerContext, body: Uint8Array): void {
  const state = context.state;
  assert(context.lastSeq === 0 && state.accounts.count === 0, 'a checkpoint is restored into a fresh ledger');
  const r = new CheckpointReader(body.subarray(0, body.byteLength - trailerBytes));
  assert(r.u32() === ledgerCheckpointFormat, `a checkpoint body has format ${ledgerCheckpointFormat}`);
  assert(r.u32() === state.shardIndex && r.u32() === state.shardCount, 'a checkpoint is restored into its own shard');
  const seq = r.count();
  readContext(r, context);
  assert(context.lastSeq === seq, 'a checkpoint body agrees with itself on its seq');
  readAccounts(r, state);
  readHolds(r, state);
  const { pairSeqLast } = readTransit(r, state);
  readTotals(r, state);
  readExpiry(r, state);
  readHot(r, state);
  readLive(r, state, pairSeqLast);
  assert(r.done, 'a checkpoint body ends with its last section');
}

function section(w: CheckpointWriter, tag: number): void {
  w.onSection?.(tag, w.length);
  w.u32(tag);
}

function expectSection(r: CheckpointReader, tag: number): void {
  const found = r.u32();
  assert(found === tag, `checkpoint section ${tag} expected, ${found} found`);
}

function writeContext(w: CheckpointWriter, context: LedgerContext): void {
  section(w, CheckpointSection.context);
  w.f64(context.lastSeq);
  w.i64(context.timestampLast);
  w.f64(context.businessDay);
  w.f64(context.cuts.length);
  for (const cut of context.cuts) {
    w.f64(cut.day);
    w.i64(cut.timestamp);
    w.f64(cut.seq);
  }
  writePrepared(w, context.prepared);
  writeClosedDay(w, context.closedLast);
}

function readContext(r: CheckpointReader, context: LedgerContext): void {
  expectSection(r, CheckpointSection.context);
  context.lastSeq = r.count();
  context.timestampLast = r.i64();
  context.businessDay = r.count();
  const cuts = r.count();
  for (let i = 0; i < cuts; i++) context.cuts.push({ day: r.count(), timestamp: r.i64(), seq: r.count() });
  context.prepared = readPrepared(r);
  context.closedLast = readClosedDay(r);
  // The day book takes the newest closed day again after a restart, as it would from a full replay.
  if (context.closedLast !== null) context.closedDays = [context.closedLast];
}

/** How a checkpoint keeps the group a vote left undecided: none, without its events' roles (older), with them. */
const PreparedSection = { none: 0, withoutRoles: 1, withRoles: 2 } as const;

function writePrepared(w: CheckpointWriter, prepared: PreparedGroup | null): void {
  w.u8(prepared === null ? PreparedSection.none : PreparedSection.withRoles);
  if (prepared === null) return;
  w.u128(prepared.group);
  w.f64(prepared.operation);
  w.f64(prepared.count);
  w.bytes(prepared.events);
  w.bytes(prepared.results);
  w.bytes(prepared.roles);
}

function readPrepared(r: CheckpointReader): PreparedGroup | null {
  const form = r.u8();
  if (form === PreparedSection.none) return null;
  const group = r.u128();
  const operation = r.count();
  const count = r.count();
  const events = r.bytes();
  const results = r.bytes();
  // A checkpoint written before credit halves were carried: every event was its shard's own, each ending its chain or not
  // (the chain-end bits are not needed after the vote: a commit applies events one by one).
  const roles = form === PreparedSection.withRoles ? r.bytes() : new Uint8Array(count);
  return { group, operation, count, events, results, roles };
}

function writeClosedDay(w: CheckpointWriter, closed: ClosedDay | null): void {
  w.u8(closed === null ? 0 : 1);
  if (closed === null) return;
  w.f64(closed.day);
  w.f64(closed.dayBegun);
  w.f64(closed.cutSeq);
  w.i64(closed.cutTimestamp);
  w.f64(closed.accountCount);
  w.bytes(closed.balances);
  w.bytes(closed.transitMarks);
}

function readClosedDay(r: CheckpointReader): ClosedDay | null {
  if (r.u8() === 0) return null;
  return { day: r.count(), dayBegun: r.count(), cutSeq: r.count(), cutTimestamp: r.i64(), accountCount: r.count(), balances: r.bigU64Array(), transitMarks: r.f64Array() };
}

function writeAccounts(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.accounts);
  const accounts = state.accounts;
  w.f64(accounts.count);
  w.f64(accounts.slotsGiven);
  // The records hold balances, ledger, flags, status, hot bits, history heads and rate-window credits; the last
  // are live state (the live section), zeroed here.
  const recordsAt = w.length + 8; // past the length prefix
  w.bytes(accounts.words.subarray(0, accounts.slotsGiven * recordWords));
  w.zeroColumn(recordsAt, accountRecordBytes, accounts.slotsGiven, AccountRecordLayout.creditsInWindow);
  w.bytes(accounts.statics.subarray(0, accounts.slotsGiven * accountStaticBytes));
  w.f64(state.systemSlots.size);
  for (const [key, slot] of state.systemSlots) {
    w.f64(key);
    w.f64(slot);
  }
}

function readAccounts(r: CheckpointReader, state: LedgerState): void {
  expectSection(r, CheckpointSection.accounts);
  const count = r.count();
  const slotsGiven = r.count();
  state.accounts.restore(count, slotsGiven, r.u32Array(), r.bytes());
  const systems = r.count();
  for (let i = 0; i < systems; i++) state.systemSlots.set(r.f64(), r.count());
}

function writeHolds(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.holds);
  // Open holds only (LedgerState keeps no other).
  writeIdMap(w, state.pendings, (hold: PendingHold) => {
    w.f64(hold.debitSlot);
    w.f64(hold.creditSlot);
    w.f64(hold.ledger);
    w.u128(hold.amount);
    w.u128(hold.expiresAtNs);
  });
  writeIdMap(w, state.creditHolds, (shown: CreditHold) => {
    w.f64(shown.payeeSlot);
    w.f64(shown.transitSlot);
    w.u128(shown.amount);
  });
  writeIdMap(w, state.freezes, (freeze: FreezeHold) => {
    w.f64(freeze.slot);
    w.u128(freeze.remaining);
  });
  writeIdMap(w, state.reversed, (amount: bigint) => w.u128(amount));
  writeIdMap(w, state.returned, (code: number) => w.f64(code));
}

function readHolds(r: CheckpointReader, state: LedgerState): void {
  expectSection(r, CheckpointSection.holds);
  readIdMap(r, state.pendings, () => ({
    debitSlot: r.count(),
    creditSlot: r.count(),
    ledger: r.count(),
    amount: r.u128(),
    expiresAtNs: r.u128(),
  }));
  readIdMap(r, state.creditHolds, () => ({ payeeSlot: r.count(), transitSlot: r.count(), amount: r.u128() }));
  readIdMap(r, state.freezes, () => ({ slot: r.count(), remaining: r.u128() }));
  readIdMap(r, state.reversed, () => r.u128());
  readIdMap(r, state.returned, () => r.count());
}

/** Entries in iteration order (partition by partition, each in insertion order): restoring keeps that order. */
function writeIdMap<V>(w: CheckpointWriter, map: IdMap<V>, value: (v: V) => void): void {
  w.f64(map.size);
  for (const [key, v] of map.entries()) {
    w.key(key);
    value(v);
  }
}

function readIdMap<V>(r: CheckpointReader, map: IdMap<V>, value: () => V): void {
  assert(map.size === 0, 'an id map is restored while empty');
  const size = r.count();
  for (let i = 0; i < size; i++) {
    const key = r.key();
    map.set(key, value());
  }
  assert(map.size === size, 'a restored id map holds each key once');
}

function writeTransit(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.transit);
  w.bytes(state.outbox.pairSeqLast);
  w.bytes(state.inboundApplied);
}

/** Returns the issued counters: the outbox takes them with its retained runs (readLive). */
function readTransit(r: CheckpointReader, state: LedgerState): { pairSeqLast: Float64Array } {
  expectSection(r, CheckpointSection.transit);
  const pairSeqLast = r.f64Array();
  assert(pairSeqLast.length === shardCountMax, 'a checkpoint counts pair sequences for every peer');
  const inboundApplied = r.f64Array();
  assert(inboundApplied.length === shardCountMax, 'a checkpoint holds the inbound marks of every peer');
  state.inboundApplied.set(inboundApplied);
  return { pairSeqLast };
}

function writeTotals(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.totals);
  // Folded (exact BigInts), by ledger number, zero totals left out: a read (verifyAllBalances) creates zero totals
  // for ledgers nothing moved yet, so which zero entries exist, and the order, depend on when reads ran.
  const totals = [...state.totals].filter(([, t]) => t.debitsPosted !== 0n || t.creditsPosted !== 0n || t.debitsPending !== 0n || t.creditsPending !== 0n);
  totals.sort(([a], [b]) => a - b);
  w.f64(totals.length);
  for (const [ledger, t] of totals) {
    w.f64(ledger);
    w.u128(t.debitsPosted);
    w.u128(t.creditsPosted);
    w.u128(t.debitsPending);
    w.u128(t.creditsPending);
  }
}

function readTotals(r: CheckpointReader, state: LedgerState): void {
  expectSection(r, CheckpointSection.totals);
  const size = r.count();
  const byLedger: [number, { debitsPosted: bigint; creditsPosted: bigint; debitsPending: bigint; creditsPending: bigint }][] = [];
  for (let i = 0; i < size; i++) byLedger.push([r.count(), { debitsPosted: r.u128(), creditsPosted: r.u128(), debitsPending: r.u128(), creditsPending: r.u128() }]);
  state.restoreTotals(byLedger);
}

function writeExpiry(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.expiry);
  // Only deadlines of holds still open, in pop order (a sorted array is a heap): stale ones (holds posted, voided
  // or undone) leave the heap when a live tick finds them on top, which writes no entry, so a replay keeps them.
  const exported = state.expiry.exportItems();
  const orderNext = exported.orderNext;
  const items = exported.items.filter((item) => isOpenHold(state, item.key, item.expiresAtNs));
  items.sort((a, b) => (a.expiresAtNs < b.expiresAtNs ? -1 : a.expiresAtNs > b.expiresAtNs ? 1 : a.order - b.order));
  w.f64(orderNext);
  w.f64(items.length);
  for (const item of items) {
    w.u128(item.expiresAtNs);
    w.f64(item.order);
    w.key(item.key);
  }
}

function readExpiry(r: CheckpointReader, state: LedgerState): void {
  expectSection(r, CheckpointSection.expiry);
  const orderNext = r.count();
  const size = r.count();
  const items = [];
  for (let i = 0; i < size; i++) items.push({ expiresAtNs: r.u128(), order: r.count(), key: r.key() });
  state.expiry.restoreItems(items, orderNext);
}

function writeHot(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.hot);
  w.f64(state.hotInboundAccounts);
  w.f64(state.buffers.size);
  for (const [slot, buffer] of state.buffers) {
    w.f64(slot);
    w.u128(buffer.amount);
    w.f64(buffer.seqLast);
    w.f64(buffer.seqApplied);
    w.bytes(Float64Array.from(buffer.creditTimes));
  }
}

function readHot(r: CheckpointReader, state: LedgerState): void {
  expectSection(r, CheckpointSection.hot);
  state.hotInboundAccounts = r.count();
  const buffers = r.count();
  for (let i = 0; i < buffers; i++) {
    const slot = r.count();
    const buffer = new InboundBuffer();
    buffer.amount = r.u128();
    buffer.seqLast = r.count();
    buffer.seqApplied = r.count();
    buffer.creditTimes.push(...r.f64Array());
    assert(buffer.waiting === buffer.creditTimes.length, 'a restored hot-inbound buffer keeps one time per credit waiting');
    state.buffers.set(slot, buffer);
  }
}

function writeLive(w: CheckpointWriter, state: LedgerState): void {
  section(w, CheckpointSection.live);
  writeRateWindow(w, state);
  const outbox = state.outbox;
  w.bytes(outbox.acknowledged);
  let runs = 0;
  for (let peer = 0; peer < state.shardCount; peer++) runs += outbox.retainedRuns(peer).length;
  w.f64(runs);
  for (let peer = 0; peer < state.shardCount; peer++) {
    for (const run of outbox.retainedRuns(peer)) {
      w.f64(peer);
      w.bytes(run.bytes);
    }
  }
}

/** `pairSeqLast`: the transit section's issued counters, restored with the runs (the outbox takes both at once). */
function readLive(r: CheckpointReader, state: LedgerState, pairSeqLast: Float64Array): void {
  expectSection(r, CheckpointSection.live);
  readRateWindow(r, state);
  const acknowledged = r.f64Array();
  assert(acknowledged.length === shardCountMax, 'a checkpoint holds the acknowledgement of every peer');
  const count = r.count();
  const runs: { peer: number; bytes: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) runs.push({ peer: r.count(), bytes: r.bytes() });
  state.outbox.restore(pairSeqLast, acknowledged, runs);
}

/** The credit-rate window: each slot's credits in it (a column of the account records), the slots touched, the quiet windows. */
function writeRateWindow(w: CheckpointWriter, state: LedgerState): void {
  const accounts = state.accounts;
  const credits = new Uint32Array(accounts.slotsGiven);
  for (let slot = 0; slot < credits.length; slot++) credits[slot] = accounts.creditsInWindow(slot);
  w.bytes(credits);
  const rates = state.creditRates;
  w.i64(rates.windowStartNs);
  w.bytes(Float64Array.from(rates.touched));
  w.f64(rates.quietWindows.size);
  for (const [slot, windows] of rates.quietWindows) {
    w.f64(slot);
    w.f64(windows);
  }
}

function readRateWindow(r: CheckpointReader, state: LedgerState): void {
  const accounts = state.accounts;
  const credits = r.u32Array();
  assert(credits.length === accounts.slotsGiven, 'a checkpoint counts window credits for every slot given');
  for (let slot = 0; slot < credits.length; slot++) accounts.setCreditsInWindow(slot, credits[slot]!);
  const windowStartNs = r.i64();
  const touched = [...r.f64Array()];
  const quiet = r.count();
  const quietWindows: [number, number][] = [];
  for (let i = 0; i < quiet; i++) quietWindows.push([r.count(), r.count()]);
  state.creditRates.restoreWindow(touched, windowStartNs, quietWindows);
}
