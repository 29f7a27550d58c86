// What the capability modules of one shard's ledger share (ledger.ts delegates to them): the state, where the
// journal stands (last seq and timestamp, the business day, cuts), the group a vote left undecided, and what
// the entry applied last issued. Only the modules of core/posting change it, one entry at a time, in seq order.

import { journalEntryBytes, writeJournalHeader, type JournalEntryHeader } from './journal-entry.js';
import type { LedgerState } from './ledger-state.js';
import type { FlushedRuns } from '../accounts/history-runs.js';
import type { JournalEntryKindNumber } from '../operations.js';

/** A group of cross-shard chains this shard voted on and that is not decided yet (core/chains/prepared-chains.ts). */
export interface PreparedGroup {
  group: bigint;
  operation: number;
  count: number;
  /** The caller's events, as the commit re-executes them. */
  events: Uint8Array;
  /** The dry run's results (u32 each): the commit must reproduce them. */
  results: Uint8Array;
  /** ChainEventBits per event, as the vote had them (the commit applies credit halves and carried payers alike). */
  roles: Uint8Array;
}

/** The state at a day cut: every account's balances as the closed day ended (its closing balances). */
export interface ClosedDay {
  /** The business day that ended (0: everything before the first cut). */
  day: number;
  /** The day that began. */
  dayBegun: number;
  /** Seq and timestamp of the day_cut entry: every earlier entry of this shard belongs to `day`. */
  cutSeq: number;
  cutTimestamp: bigint;
  accountCount: number;
  /** balanceStride words per account slot, slot order (see account-table.ts). */
  balances: BigUint64Array;
  /** transitStatus() at the cut: per peer the last pair sequence issued, then the last applied from it. */
  transitMarks: Float64Array;
}

/** A journal entry written live, before it is applied: its bytes and its header. */
export interface WrittenEntry {
  entry: Uint8Array;
  view: DataView;
  header: JournalEntryHeader;
}

export class LedgerContext {
  /** Seq of the entry applied last (0: none yet). */
  lastSeq = 0;
  timestampLast = 0n;
  /** The instructions issued by the entry applied last (null when none). */
  outboundLast: Uint8Array | null = null;
  /** The business day new postings belong to (0 until the first cut). */
  businessDay = 0;
  /** Days begun by a cut, ascending, with the cut's timestamp: postings of day d lie between the cut that began d and the next. */
  readonly cuts: { day: number; timestamp: bigint; seq: number }[] = [];
  closedDays: ClosedDay[] = [];
  /** The newest cut's closed day, taken or not: a checkpoint keeps it so that a restart can hand it to the day book again. */
  closedLast: ClosedDay | null = null;
  /** Set by a prepare_chains entry until the next entry decides it; nothing else may run meanwhile. */
  prepared: PreparedGroup | null = null;
  /** The run blocks the last flush_history entry produced, until the caller takes them to store. */
  flushedRuns: FlushedRuns | null = null;
  /** How long each credit applied live waited in its hot-inbound buffer (ns), until taken. */
  hotDelaysNs: number[] = [];

  constructor(readonly state: LedgerState) {
    state.onBufferApplied = (delays) => {
      for (const delay of delays) this.hotDelaysNs.push(delay);
    };
  }

  nextTimestamp(nowNs: bigint): bigint {
    return nowNs > this.timestampLast ? nowNs : this.timestampLast + 1n;
  }

  /**
   * A new entry of `kind` and `count` events stamped at `nowNs` (or just after the last entry), the next seq,
   * in the current business day (`businessDay` for a cut), with its header written.
   */
  newEntry(kind: JournalEntryKindNumber, count: number, nowNs: bigint, extra: { businessDay?: number; flags?: number } = {}): WrittenEntry {
    const header: JournalEntryHeader = {
      operation: kind,
      count,
      timestampBase: this.nextTimestamp(nowNs),
      seq: this.lastSeq + 1,
      businessDay: extra.businessDay ?? this.businessDay,
      flags: extra.flags,
    };
    const entry = new Uint8Array(journalEntryBytes(kind, count));
    const view = new DataView(entry.buffer);
    writeJournalHeader(view, header);
    return { entry, view, header };
  }

  /** The entry `seq` is applied: the journal now stands after it. */
  advance(seq: number, timestampLast: bigint, outbound: Uint8Array | null): void {
    this.outboundLast = outbound;
    this.lastSeq = seq;
    this.timestampLast = timestampLast;
  }
}
