// Our postings of a day (matcher.ts LedgerRow) packed into typed arrays, to cross from the gateway's thread to a
// recon import worker (issue #17). A million rows as objects cost the gateway's thread ~2 s of structured clone
// (three bigints each) and the worker as much again to rebuild; packed, the buffers move without a copy
// (transferred) and each side spends a fraction of that. Amounts and ids are u128 as two u64 words.

import { assert } from '../assert.js';
import type { RowDirection } from './statement-row.js';
import type { LedgerCodeClass, LedgerRow, LedgerRowSource } from './matcher.js';
import type { OurStatus } from './channel-config.js';

export const directions: readonly RowDirection[] = ['credit', 'debit'];
export const codeClasses: readonly LedgerCodeClass[] = ['payment', 'refund', 'fee', 'other'];
export const statuses: readonly Exclude<OurStatus, 'none'>[] = ['posted', 'pending', 'voided', 'expired', 'reversed'];
const mask64 = (1n << 64n) - 1n;

export interface PackedLedgerRows {
  count: number;
  /** Per row, 6 words: transfer id, key, amount, each high word then low. */
  words: BigUint64Array;
  timestampMs: Float64Array;
  businessDay: Int32Array;
  /** Per row: direction (bit 0), code class (bits 1–2), status (bits 3–5). */
  kinds: Uint8Array;
}

export function packLedgerRows(rows: readonly LedgerRow[]): PackedLedgerRows {
  const count = rows.length;
  const packed: PackedLedgerRows = {
    count, words: new BigUint64Array(count * 6), timestampMs: new Float64Array(count), businessDay: new Int32Array(count), kinds: new Uint8Array(count),
  };
  for (let i = 0; i < count; i++) {
    const row = rows[i]!;
    const at = i * 6;
    putU128(packed.words, at, row.transferId);
    putU128(packed.words, at + 2, row.key128);
    putU128(packed.words, at + 4, row.amountMinor);
    packed.timestampMs[i] = row.timestampMs;
    packed.businessDay[i] = row.businessDay;
    packed.kinds[i] = kindOf(row.direction, row.codeClass, row.status);
  }
  return packed;
}

export function unpackLedgerRows(packed: PackedLedgerRows): LedgerRow[] {
  const rows: LedgerRow[] = new Array<LedgerRow>(packed.count);
  for (let i = 0; i < packed.count; i++) rows[i] = unpackedRow(packed, i);
  return rows;
}

/**
 * The rows as the matcher reads them, left packed: a million postings as objects were ~200 MB of an import's
 * heap, and all but the few a record names are only compared field by field.
 */
export function packedLedgerSource(packed: PackedLedgerRows): LedgerRowSource {
  return {
    length: packed.count,
    row: (i) => unpackedRow(packed, i),
    key128: (i) => getU128(packed.words, i * 6 + 2),
    amountMinor: (i) => getU128(packed.words, i * 6 + 4),
    direction: (i) => directions[packed.kinds[i]! & 1]!,
    codeClass: (i) => codeClasses[(packed.kinds[i]! >> 1) & 3]!,
    status: (i) => statuses[packed.kinds[i]! >> 3]!,
  };
}

function unpackedRow(packed: PackedLedgerRows, i: number): LedgerRow {
  const at = i * 6;
  const kind = packed.kinds[i]!;
  return {
    transferId: getU128(packed.words, at),
    key128: getU128(packed.words, at + 2),
    amountMinor: getU128(packed.words, at + 4),
    direction: directions[kind & 1]!,
    codeClass: codeClasses[(kind >> 1) & 3]!,
    timestampMs: packed.timestampMs[i]!,
    businessDay: packed.businessDay[i]!,
    status: statuses[kind >> 3]!,
  };
}

/** Per-row kind byte: direction (bit 0), code class (bits 1–2), status (bits 3–5). */
export function kindOf(direction: RowDirection, codeClass: LedgerCodeClass, status: Exclude<OurStatus, 'none'>): number {
  const [d, c, st] = [directions.indexOf(direction), codeClasses.indexOf(codeClass), statuses.indexOf(status)];
  assert(d >= 0 && c >= 0 && st >= 0, 'a ledger row has a known direction, code class and status');
  return d | (c << 1) | (st << 3);
}

export function statusOfKind(kind: number): Exclude<OurStatus, 'none'> {
  return statuses[kind >> 3]!;
}

/** The kind with its status replaced. */
export function withStatus(kind: number, status: Exclude<OurStatus, 'none'>): number {
  return (kind & 0b111) | (statuses.indexOf(status) << 3);
}

/** The row's transfer id (a few rows only: ids are kept as words). */
export function transferIdAt(packed: PackedLedgerRows, row: number): bigint {
  return getU128(packed.words, row * 6);
}

/** The rows `keep` says yes to, in order, as rows of their own. */
export function filterPacked(packed: PackedLedgerRows, keep: (row: number) => boolean): PackedLedgerRows {
  const kept: number[] = [];
  for (let i = 0; i < packed.count; i++) if (keep(i)) kept.push(i);
  const out: PackedLedgerRows = {
    count: kept.length, words: new BigUint64Array(kept.length * 6), timestampMs: new Float64Array(kept.length), businessDay: new Int32Array(kept.length), kinds: new Uint8Array(kept.length),
  };
  kept.forEach((from, to) => {
    out.words.set(packed.words.subarray(from * 6, from * 6 + 6), to * 6);
    out.timestampMs[to] = packed.timestampMs[from]!;
    out.businessDay[to] = packed.businessDay[from]!;
    out.kinds[to] = packed.kinds[from]!;
  });
  return out;
}

/** The buffers of `packed`, for postMessage's transfer list (packed is unusable here afterwards). */
export function packedBuffers(packed: PackedLedgerRows): ArrayBuffer[] {
  return [packed.words.buffer, packed.timestampMs.buffer, packed.businessDay.buffer, packed.kinds.buffer] as ArrayBuffer[];
}

function putU128(words: BigUint64Array, at: number, value: bigint): void {
  assert(value >= 0n && value >> 128n === 0n, 'ledger row ids, keys and amounts are u128');
  // Most keys and every amount fit one word: no shift, no mask then.
  if (value <= mask64) {
    words[at + 1] = value;
    return;
  }
  words[at] = value >> 64n;
  words[at + 1] = value & mask64;
}

function getU128(words: BigUint64Array, at: number): bigint {
  const high = words[at]!;
  return high === 0n ? words[at + 1]! : (high << 64n) | words[at + 1]!;
}
