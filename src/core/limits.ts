// Every bound in Tally, named with `Max` last, each with the reason for its value.
// Nothing in the system is unbounded; a value past a limit is refused, never truncated.

import { TransferStateLayout } from './layout.js';

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

/** Journal entries the ledger itself keeps after building them: the batch being applied must be
 * readable before it is persisted (a duplicate or reversal inside one batch); older entries come
 * from the JournalSource, whose store holds in-flight entries apart and caches recent ones. */
export const recentEntriesMax = 4;

/** Id maps are split so that no single V8 Map exceeds its 16,777,216-entry limit. */
export const idMapPartitions = 64;

/** Parts of an id table: each grows on its own, so a rehash pauses a shard for 1/256 of the table. */
export const idTablePartitions = 256;

/** History nodes per chunk of the append-only history log (16 MiB of locations and links). */
export const historyChunkNodes = 1 << 20;

/** Transfer ids a shard's id table holds before its first rehash: 8M buckets, 256 MiB of address
 * space that the OS commits only as it is touched. Growth past it works, but each doubling
 * rehashes (a part at a time) and costs a few percent of posting throughput while it lasts. */
export const transferIdsExpected = 4 * 1024 * 1024;

/** Request ids are u32 so they stay small msgpack integers; 0 is reserved for "request not identified". */
export const requestIdMax = 0xffff_ffff;

/** Envelope headroom of a frame beyond its body, enough for the array header, request id, status
 * and bin header. */
export const envelopeBytesMax = 4096;

/** Largest reply a client accepts: a full page of 160-byte lookup or history entries plus the envelope. */
export const replyFrameBytesMax = Math.max(lookupIdsMax, historyPageMax) * TransferStateLayout.bytes + envelopeBytesMax;

/** Default client wait for a reply: long enough for a full batch behind a busy fsync, short enough
 * to surface a hung server. */
export const clientTimeoutMsDefault = 30_000;

/** Longest client timeout: the largest delay setTimeout honours (2^31 − 1 ms, about 24.8 days). */
export const clientTimeoutMsMax = 2 ** 31 - 1;

/** Frames a client holds waiting for a free slot in the window; past it a call is refused with
 * `overloaded` instead of growing the queue. */
export const clientFramesQueuedMax = 65_536;

/** Decimal places of any currency or asset we expect; past it the value would not fit a u64 amount anyway. */
export const amountScaleMax = 18;

/** Draws newIdOnShardOf makes before giving up: with N shards a draw lands on the wanted one with
 * probability 1/N, so with up to shardCountMax shards it never runs out in practice. */
export const colocatedDrawsMax = 64 * 1024;

/** Longest the gateway's close() waits for requests already in the service, so their replies (and acks) still go out. */
export const shutdownDrainMsMax = 5_000;

/** Silence after which uWS pings a socket and drops it if the ping goes unanswered, so a dead peer
 * goes within minutes. */
export const connectionIdleSecondsMax = 120;

/** Tasks one shard host holds at once: those in the worker plus those queued for it, so its queue
 * never grows past its bound. */
export const hostTasksMax = shardTasksInFlightMax + shardQueueDepthMax;

/** Most recent journal entries a shard keeps in memory, because lookups right after writes read them
 * (entries whose commit is still in flight are held apart until durable, whatever their number): 64 × ≤ ~1.6 MiB. */
export const journalCacheEntriesMax = 64;

/** Cross-shard instructions a shard keeps for receivers that have not acknowledged them (144 B each,
 * ~140 MiB). A receiver that lags this far is down or overwhelmed: the sender answers `overloaded`
 * to new writes instead of growing without bound, and resumes as acknowledgements arrive. */
export const transitInstructionsRetainedMax = 1_000_000;

/** Instructions in one delivery to a receiving shard (as many as events in one batch). */
export const transitDeliveryInstructionsMax = batchEventsMax;

/** Tasks the cross-shard relay has on one shard at once (a delivery, a status, a fetch, an acknowledgement,
 * with headroom): they run beside the callers' bound, not inside it. */
export const relayTasksMax = 8;

/** Longest interval between hot-inbound summary postings: a buffered credit applies within about this. */
export const hotApplyIntervalMsMax = 1000;
