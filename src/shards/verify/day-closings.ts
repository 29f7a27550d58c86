// Check 5 of tally verify: each day a shard's replay closes (a day_cut entry) against what its store keeps of
// that day in the `days` database and meta — the cut's seq, the day-close summary, and the closing balances
// chunk by chunk — and no stored closed day without a cut. Keeps every shard's summaries for the day reports.

import { Balance, balanceStride } from '../../core/accounts/account-table.js';
import { isBusinessDay } from '../../core/business-day.js';
import { summarizeClosedDay, type ShardDayClose } from '../../core/books/day-close.js';
import type { ClosedDay } from '../../core/posting/ledger.js';
import type { LedgerState } from '../../core/posting/ledger-state.js';
import { describeAccount } from '../../core/verify/state-audit.js';
import { closingChunkSlots, type JournalStore } from '../shard/journal-store.js';
import { firstJsonDifference } from './json-difference.js';
import type { Problems } from './problems.js';

const fieldNames = Object.keys(Balance) as (keyof typeof Balance)[];

export class DayClosingsAudit {
  /** Per closed day, every shard's day-close summary as the replay rebuilds it (for the day reports). */
  readonly closes = new Map<number, ShardDayClose[]>();
  readonly #problems: Problems;
  readonly #warnings: string[];
  #stored = new Map<number, number>();
  #replayed = new Set<number>();
  daysChecked = 0;
  /** Stored closed days cut at or before an incremental replay's checkpoint: not checked. */
  daysSkipped = 0;

  constructor(problems: Problems, warnings: string[]) {
    this.#problems = problems;
    this.#warnings = warnings;
  }

  beginShard(store: JournalStore): void {
    this.#stored = new Map(store.closedDaysStored().map((d) => [d.day, d.cutSeq] as const));
    this.#replayed = new Set();
  }

  /** A day the replay just closed (right after its cut entry: the statics and balances are the cut's). */
  onClosed(store: JournalStore, state: LedgerState, closed: ClosedDay): void {
    const shard = `shard ${state.shardIndex}`;
    // Ledgers of this version cut only to real dates; an earlier one journaled whatever close_day named.
    if (!isBusinessDay(closed.dayBegun)) this.#problems.add('days', `${shard}: the cut at seq ${closed.cutSeq} begins day ${closed.dayBegun}, which is no date (yyyymmdd)`);
    const summary = summarizeClosedDay(state, closed);
    const list = this.closes.get(closed.day) ?? [];
    list.push(summary);
    this.closes.set(closed.day, list);
    this.#replayed.add(closed.day);
    const cutSeq = this.#stored.get(closed.day);
    if (cutSeq === undefined) {
      this.#warnings.push(`${shard}: day ${closed.day} (cut at seq ${closed.cutSeq}) has no stored closing balances yet; the server's next start writes them`);
      return;
    }
    this.daysChecked++;
    if (cutSeq !== closed.cutSeq) this.#problems.add('days', `${shard} day ${closed.day}: the store says its cut is seq ${cutSeq}, the journal's cut is seq ${closed.cutSeq}`);
    const difference = summaryDifference(store.daySummary(closed.day), summary);
    if (difference !== null) this.#problems.add('days', `${shard} day ${closed.day}: the stored day-close summary differs from the replay's: ${difference}`);
    this.#checkChunks(store, state, closed);
  }

  /**
   * Stored closed days that no cut of the replayed journal closed. A replay that started after a checkpoint at
   * `seqFrom` did not read the cuts through it: those days are not checked (daysSkipped counts them).
   */
  endShard(shardIndex: number, complete: boolean, seqFrom = 0): void {
    if (!complete) return;
    for (const [day, cutSeq] of this.#stored) {
      if (this.#replayed.has(day)) continue;
      if (cutSeq <= seqFrom) this.daysSkipped++;
      else this.#problems.add('days', `shard ${shardIndex} day ${day}: closing balances are stored (cut at seq ${cutSeq}) but the journal never closed that day`);
    }
  }

  #checkChunks(store: JournalStore, state: LedgerState, closed: ClosedDay): void {
    const wordsPerChunk = closingChunkSlots * balanceStride;
    const bytes = new Uint8Array(closed.balances.buffer, closed.balances.byteOffset, closed.balances.byteLength);
    for (let chunk = 0; chunk * wordsPerChunk < closed.balances.length || chunk === 0; chunk++) {
      const expected = bytes.subarray(chunk * wordsPerChunk * 8, Math.min(bytes.byteLength, (chunk + 1) * wordsPerChunk * 8));
      const stored = store.closingChunkAt(chunk, closed.day);
      const where = `shard ${state.shardIndex} day ${closed.day}`;
      if (stored === null) {
        this.#problems.add('days', `${where}: no closing balances are stored for account slots ${chunk * closingChunkSlots}..${chunk * closingChunkSlots + expected.byteLength / (balanceStride * 8) - 1}`);
        continue;
      }
      const mismatch = firstWordMismatch(stored, expected);
      if (mismatch === null) continue;
      if (mismatch.word < 0) {
        this.#problems.add('days', `${where}: the stored closing chunk ${chunk} covers ${stored.byteLength / (balanceStride * 8)} accounts, the replay ${expected.byteLength / (balanceStride * 8)}`);
        continue;
      }
      const slot = chunk * closingChunkSlots + Math.floor(mismatch.word / balanceStride);
      const field = fieldNames[mismatch.word % balanceStride]!;
      this.#problems.add('days', `${where}: the stored closing ${field} of ${describeAccount(state, slot)} is ${mismatch.stored}, the replay's is ${mismatch.expected}`);
    }
  }
}

function summaryDifference(stored: string | undefined, rebuilt: ShardDayClose): string | null {
  if (stored === undefined) return 'no summary is stored';
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return 'the stored summary is not JSON';
  }
  return firstJsonDifference(parsed, JSON.parse(JSON.stringify(rebuilt)) as unknown);
}

/** The first u64 word where two chunks differ (word −1: their lengths differ), or null. */
function firstWordMismatch(stored: Uint8Array, expected: Uint8Array): { word: number; stored: bigint; expected: bigint } | null {
  if (stored.byteLength !== expected.byteLength) return { word: -1, stored: 0n, expected: 0n };
  const storedView = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const expectedView = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
  for (let at = 0; at < stored.byteLength; at += 8) {
    const storedWord = storedView.getBigUint64(at, true);
    const expectedWord = expectedView.getBigUint64(at, true);
    if (storedWord !== expectedWord) return { word: at / 8, stored: storedWord, expected: expectedWord };
  }
  return null;
}
