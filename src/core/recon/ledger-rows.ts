// Our side of reconciliation (issue #17): the clearing account's history entries of a business day turned into the
// rows the matcher compares with the channel's statement. A hold (pending) is one row whose status its post or void
// decides when that is in the entries read; a post or void of a hold made before the entries read stands on its
// own as posted (a void of an earlier hold moved nothing today and is left out). The direction is the channel's:
// for a clearing account the channel holds for us (an asset), our debit is money in at the channel, their credit.

import { assert } from '../assert.js';
import { TransferLayout } from '../layout.js';
import { idKeyAt, viewOf, writeU128 } from '../u128.js';
import type { ChannelConfig, MatchKey } from './channel-config.js';
import type { LedgerCodeClass, LedgerRow } from './matcher.js';
import { kindOf, unpackLedgerRows, withStatus, type PackedLedgerRows } from './packed-ledger-rows.js';
import { eventBytes } from '../limits.js';
import { encodeTransfers } from '../wire/records.js';
import { TransferFlags, type Transfer } from '../types.js';

export interface LedgerSide {
  clearing: bigint;
  direction: ChannelConfig['direction'];
  keyField: MatchKey['ledger'];
  ledgerCodes: ChannelConfig['ledgerCodes'];
}

export function ledgerSideOf(channel: ChannelConfig): LedgerSide {
  return { clearing: channel.accounts.clearing, direction: channel.direction, keyField: channel.keys[0]!.ledger, ledgerCodes: channel.ledgerCodes };
}

const nsPerMs = 1_000_000n;

export function ledgerKeyOf(transfer: Transfer, field: MatchKey['ledger']): bigint {
  switch (field) {
    case 'user_data_128':
      return transfer.userData128;
    case 'user_data_64':
      return transfer.userData64;
    case 'user_data_32':
      return BigInt(transfer.userData32);
    case 'id':
      return transfer.id;
  }
}

function codeClassOf(code: number, codes: LedgerSide['ledgerCodes']): LedgerCodeClass {
  if (codes.fee.includes(code)) return 'fee';
  if (codes.refund.includes(code)) return 'refund';
  if (codes.payment.includes(code)) return 'payment';
  return 'other';
}

/** The rows of decoded transfers (tests, small days): their records built by PackedLedgerRowsBuilder, unpacked. */
export function ledgerRowsOf(transfers: readonly Transfer[], side: LedgerSide, businessDayOf: (timestamp: bigint) => number): LedgerRow[] {
  const builder = new PackedLedgerRowsBuilder(side, businessDayOf);
  builder.add(encodeTransfers(transfers), eventBytes);
  return unpackLedgerRows(builder.build());
}

/**
 * Rows of the clearing account's transfers, oldest first as history answers them, from the transfer records'
 * bytes straight into packed rows (packed-ledger-rows.ts): a million transfers decoded as objects cost the
 * gateway's thread seconds and a gigabyte of heap for the few fields read here. Only a row's words are copied, 32
 * bits at a time (no bigint per field); a hold's id is a string key, and only holds get one. `businessDayOf` says
 * which day a transfer's timestamp belongs to (the day cut of the account's shard).
 */
export class PackedLedgerRowsBuilder {
  #count = 0;
  /** Records read, the clearing account's or not (history pages hold only its own). */
  #recordsRead = 0;
  #words = new BigUint64Array(0);
  #halves = new Uint32Array(0);
  #timestampMs = new Float64Array(0);
  #businessDay = new Int32Array(0);
  #kinds = new Uint8Array(0);
  readonly #holds = new Map<string, number>();
  readonly #clearing = new DataView(new ArrayBuffer(16));

  constructor(readonly side: LedgerSide, readonly businessDayOf: (timestamp: bigint) => number) {
    // Words are written as their two 32-bit halves, low first: the layout of a u64 on a little-endian machine.
    assert(new Uint8Array(new Uint32Array([1]).buffer)[0] === 1, 'packed ledger rows are built on a little-endian machine');
    writeU128(this.#clearing, 0, side.clearing);
  }

  get transfersRead(): number {
    return this.#recordsRead;
  }

  /** The transfer records of `bytes`, one every `stride` bytes (a history entry: 160), in history order. */
  add(bytes: Uint8Array, stride: number): void {
    const view = viewOf(bytes);
    for (let at = 0; at + TransferLayout.timestamp + 8 <= bytes.byteLength; at += stride) {
      this.#recordsRead++;
      this.#addRecord(view, at);
    }
  }

  /** The rows built, as rows of their own (exactly `count` long). */
  build(): PackedLedgerRows {
    const n = this.#count;
    return { count: n, words: this.#words.slice(0, n * 6), timestampMs: this.#timestampMs.slice(0, n), businessDay: this.#businessDay.slice(0, n), kinds: this.#kinds.slice(0, n) };
  }

  #addRecord(view: DataView, at: number): void {
    const T = TransferLayout;
    const debited = this.#isClearing(view, at + T.debitAccountId);
    if (!debited && !this.#isClearing(view, at + T.creditAccountId)) return;
    const theirCredit = this.side.direction === 'asset' ? debited : !debited;
    const flags = view.getUint16(at + T.flags, true);
    if ((flags & (TransferFlags.post_pending | TransferFlags.void_pending)) !== 0) {
      const hold = this.#holds.get(idKeyAt(view, at + T.pendingId));
      const voids = (flags & TransferFlags.void_pending) !== 0;
      if (hold !== undefined) {
        this.#kinds[hold] = withStatus(this.#kinds[hold]!, voids ? 'voided' : 'posted');
        const amountLow = view.getUint32(at + T.amount, true);
        const amountHigh = view.getUint32(at + T.amount + 4, true);
        if (!voids && (amountLow !== 0 || amountHigh !== 0)) this.#setWords(hold, 4, 0, 0, amountLow, amountHigh);
        return;
      }
      if (voids) return;
    }
    const row = this.#grow();
    this.#copyU128(row, 0, view, at + T.id);
    this.#copyKey(row, view, at);
    this.#setWords(row, 4, 0, 0, view.getUint32(at + T.amount, true), view.getUint32(at + T.amount + 4, true));
    const timestamp = view.getBigUint64(at + T.timestamp, true);
    this.#timestampMs[row] = Number(timestamp / nsPerMs);
    this.#businessDay[row] = this.businessDayOf(timestamp);
    const pending = (flags & TransferFlags.pending) !== 0;
    this.#kinds[row] = kindOf(theirCredit ? 'credit' : 'debit', codeClassOf(view.getUint16(at + T.code, true), this.side.ledgerCodes), pending ? 'pending' : 'posted');
    if (pending) this.#holds.set(idKeyAt(view, at + T.id), row);
  }

  #isClearing(view: DataView, at: number): boolean {
    const c = this.#clearing;
    return view.getUint32(at, true) === c.getUint32(0, true) && view.getUint32(at + 4, true) === c.getUint32(4, true)
      && view.getUint32(at + 8, true) === c.getUint32(8, true) && view.getUint32(at + 12, true) === c.getUint32(12, true);
  }

  /** The configured key field of the record at `at` into the row's key words. */
  #copyKey(row: number, view: DataView, at: number): void {
    const T = TransferLayout;
    switch (this.side.keyField) {
      case 'user_data_128':
        return this.#copyU128(row, 2, view, at + T.userData128);
      case 'user_data_64':
        return this.#setWords(row, 2, 0, 0, view.getUint32(at + T.userData64, true), view.getUint32(at + T.userData64 + 4, true));
      case 'user_data_32':
        return this.#setWords(row, 2, 0, 0, view.getUint32(at + T.userData32, true), 0);
      case 'id':
        return this.#copyU128(row, 2, view, at + T.id);
    }
  }

  /** A record's u128 (little-endian: low word first) into the row's high and low words at `word`. */
  #copyU128(row: number, word: number, view: DataView, at: number): void {
    this.#setWords(row, word, view.getUint32(at + 8, true), view.getUint32(at + 12, true), view.getUint32(at, true), view.getUint32(at + 4, true));
  }

  /** Words `word` (high) and `word + 1` (low) of the row, each as its low and high 32 bits. */
  #setWords(row: number, word: number, highLow: number, highHigh: number, lowLow: number, lowHigh: number): void {
    const half = (row * 6 + word) * 2;
    this.#halves[half] = highLow;
    this.#halves[half + 1] = highHigh;
    this.#halves[half + 2] = lowLow;
    this.#halves[half + 3] = lowHigh;
  }

  #grow(): number {
    const row = this.#count++;
    if (row < this.#kinds.length) return row;
    const capacity = Math.max(1024, this.#kinds.length * 2);
    const words = new BigUint64Array(capacity * 6);
    words.set(this.#words);
    this.#words = words;
    this.#halves = new Uint32Array(words.buffer);
    this.#timestampMs = grown(this.#timestampMs, new Float64Array(capacity));
    this.#businessDay = grown(this.#businessDay, new Int32Array(capacity));
    this.#kinds = grown(this.#kinds, new Uint8Array(capacity));
    return row;
  }
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}
