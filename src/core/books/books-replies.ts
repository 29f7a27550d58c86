// Reply shapes of the books operations (JSON on the wire): the bookkeeping shard's lag per shard and
// subject balances. Amounts are decimal strings: JSON has no integers past 2^53.

export interface ShardLag {
  shard: number;
  /** Last journal seq booked. */
  booked: number;
  /** Last journal seq committed by the shard. */
  journaled: number;
  /** Entries not yet booked. */
  lag: number;
  businessDay: number;
}

export interface SubjectBalanceRow {
  code: string;
  name: string;
  level: number;
  side: string;
  debits: string;
  credits: string;
  balance: string;
}
