// What GET /health and GET /metrics report of the hot-inbound accounts: a plain data shape the shard set fills
// in (src/shards/set/shard-set.ts) and the gateway reads through its ledger service. Here, below both, because
// the shards may not import the gateway. Amounts are decimal strings: exact, and JSON has no integers past 2^53.

/** Hot-inbound accounts of every shard (hot-inbound.ts), summed over the shards that answered. */
export interface HotInboundStats {
  accounts: number;
  /** Minor units waiting in buffers, as a decimal string (exact), and how many credits. */
  creditsBuffered: string;
  creditsBufferedCount: number;
  /** Credits applied by summary postings since the shards started, and how long recent ones waited. */
  creditsApplied: number;
  delayMsP50: number;
  delayMsP99: number;
  delayMsMax: number;
  /**
   * Shards that did not answer within shardStatusWaitMsMax (a worker replaying its journal, or wedged): their
   * figures are missing from the sums above. GET /health reports them and answers 503 `degraded`.
   */
  shardsNotAnswering: number[];
}
