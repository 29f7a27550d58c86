// Every bound in Tally, named with `Max` last, each with the reason for its value.
// Nothing in the system is unbounded; a value past a limit is refused, never truncated.

/** Events in one request. 8,190 × 128 B ≈ 1 MiB of events, which keeps one frame under 1 MiB + header. */
export const batchEventsMax = 8190;

/** Bytes of one fixed-layout event record (account, transfer, account operation). */
export const eventBytes = 128;

/** Bytes of one WebSocket frame: a full batch plus the msgpack envelope, with headroom. */
export const frameBytesMax = batchEventsMax * eventBytes + 4096;

/** Requests one connection may have in flight; past it the gateway answers `overloaded`. */
export const connectionRequestsInFlightMax = 1024;

/** Bytes buffered for one slow reader before the gateway stops answering it and closes it. */
export const connectionBufferedBytesMax = 64 * 1024 * 1024;

/** Tasks queued for one shard; a full queue rejects with `overloaded` instead of growing. */
export const shardQueueDepthMax = 4096;

/** Tasks one shard worker holds at once; many in flight let pipelined batches share an fsync. */
export const shardTasksInFlightMax = 64;

/** Entries in one page of account history (the cashflow view). */
export const historyPageMax = 8190;

/** Ids in one lookup request. */
export const lookupIdsMax = batchEventsMax;

/** Shards one server may run; routing and transit bookkeeping are sized for it. */
export const shardCountMax = 64;

/** Largest transfer or freeze amount in minor units (2^63 − 1), so that sums fit comfortably. */
export const amountMax = (1n << 63n) - 1n;

/** Largest value of any balance field (u64 on the wire and in the journal). */
export const balanceMax = (1n << 64n) - 1n;

/** Largest id (u128). Zero is never a valid id. */
export const idMax = (1n << 128n) - 1n;

/** Longest pending hold, in seconds (about 10 years): keeps expiry arithmetic well inside u64 ns. */
export const pendingTimeoutSecondsMax = 315_360_000;

/** Events in one batch are stamped timestamp + index, so the index space per batch is bounded. */
export const locationEventsPerBatchMax = 8192;

/** Journal entries the ledger keeps in memory after writing them, so reads of recent batches
 * (duplicate checks, reversals, lookups) never wait on storage that may not have committed yet. */
export const recentEntriesMax = 128;

/** Id maps are split so that no single V8 Map exceeds its 16,777,216-entry limit. */
export const idMapPartitions = 64;

/** Parts of an id table: each grows on its own, so a rehash pauses a shard for 1/256 of the table. */
export const idTablePartitions = 256;

/** History nodes per chunk of the append-only history log (16 MiB of locations and links). */
export const historyChunkNodes = 1 << 20;

/** Transfer ids a shard's id table holds before its first rehash: 4M buckets, 128 MiB of address
 * space that the OS commits only as it is touched. Growth past it is fine, just not free. */
export const transferIdsExpected = 2 * 1024 * 1024;
