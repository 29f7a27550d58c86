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

/**
 * Bytes of unread replies the gateway buffers across all its connections: eight slow readers at their own
 * cap. Without it the bound above multiplies by the number of connections (200 slow readers held 13 GB).
 * Past it the connection holding the most is closed at once, freeing its buffer.
 */
export const gatewayBufferedBytesMax = 512 * 1024 * 1024;

/** Tasks queued for one shard; a full queue rejects with `overloaded` instead of growing. */
export const shardQueueDepthMax = 4096;

/** Tasks one shard worker holds at once; many in flight let pipelined batches share an fsync. */
export const shardTasksInFlightMax = 64;

/** Entries in one page of account history (the cashflow view). */
export const historyPageMax = 8190;

/** Rows in one page of query_transfers or query_accounts. */
export const queryPageMax = 1000;

/**
 * Records one shard examines for one query page before it answers with what it found and a cursor (the reply says
 * `more`): a filter the index cannot narrow (a status, flags) costs bounded work per call, never a walk of history.
 */
export const queryExaminedMax = 20_000;

/** Ids in one lookup request. */
export const lookupIdsMax = batchEventsMax;

/** Shards one server may run; routing and transit bookkeeping are sized for it. */
export const shardCountMax = 64;

/** Largest transfer or freeze amount in minor units (2^63 − 1), so that sums fit comfortably. */
export const amountMax = (1n << 63n) - 1n;

/** Largest value of any balance field (u64 on the wire and in the journal). */
export const balanceMax = (1n << 64n) - 1n;
/**
 * The balance-overflow rule across shards (issue #14, item 5; account-directory.ts DirectoryMarks). A payee whose
 * credit balance reached creditsHighFrom, or to which a credit of creditBigFrom or more is on its way, has its
 * credits judged by its own shard before `ok`. Below both, no credit can overflow it: every credit still on its way
 * is under 2^36, at most transitInstructionsAdmittedMax per sending shard (< 2^25 in all), so they add under 2^61 to
 * a balance under 2^62 + 2^36 — far from 2^64.
 */
export const creditsHighFrom = 1n << 62n;
export const creditBigFrom = 1n << 36n;

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

/** History nodes per chunk of the in-memory history buffer (16 MiB of locations, links and slots). */
export const historyChunkNodes = 1 << 20;

/**
 * Account slots whose history runs share one stored value (core/accounts/history-runs.ts): a flush writes one
 * put per block of slots that posted since the last flush (157 puts for 10,000 busy accounts), and a history
 * page reads a whole block per run it visits (lmdb-js copies a value whole). At 1,024 slots a block of 10,000
 * busy accounts' runs was ~3 MB: an old account's oldest page took p50 44 ms, p99 0.4–2 s (bench/RESULTS.md).
 */
export const historyBlockSlots = 64;

/** History nodes the buffer holds between two flushes: node numbers are i32 (a flush every few seconds holds far fewer). */
export const historyBufferNodesMax = 0x7fff_ffff;

/** Default of `tally serve --checkpoint-entries`: journal entries between two flush_history entries (and checkpoints). */
export const checkpointEntriesDefault = 128;
/** Largest `--checkpoint-entries`: the history buffer holds at most this many batches of nodes. */
export const checkpointEntriesMax = 65_536;
/** Entries after which the count flushes whatever its gap (CheckpointOptions.countGapMs): the history buffer's bound. */
export const checkpointEntriesForced = checkpointEntriesMax;
/** Default of `tally serve --checkpoint-seconds`: longest time between two flush_history entries of a shard that wrote. */
export const checkpointSecondsDefault = 60;
/** Largest `--checkpoint-seconds`: a day; memory and restart time grow with it. */
export const checkpointSecondsMax = 86_400;

/** Transfer ids an unbounded id table (a Ledger without an id index on disk: tools, tests) holds before its first rehash: 8M buckets, 256 MiB of address
 * space that the OS commits only as it is touched. Growth past it works, but each doubling
 * rehashes (a part at a time) and costs a few percent of posting throughput while it lasts. */
export const transferIdsExpected = 4 * 1024 * 1024;

/**
 * Ids per generation of a shard's transfer-id cache (tally serve --cache-transfer-ids): two generations live in
 * memory, each allocated whole at 2 buckets of 32 B per id (rounded up to a power of two per part), so the default
 * holds 2–4M recent transfer ids in 256 MiB; older ids are found through the journal's id index on disk.
 */
export const cacheTransferIdsDefault = 2_000_000;
/** Ids per generation of each of the five other id caches (failures, operations, inbound): --cache-ids-other. */
export const cacheIdsOtherDefault = 262_144;
/** Largest id cache generation: 2^27 ids (8 GiB of buckets for the transfer cache's two generations). */
export const cacheIdsMax = 1 << 27;

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

/** Bytes of a GET /health reply the client reads when connecting (a few hundred in practice). */
export const healthReplyBytesMax = 1024 * 1024;

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

/** API keys in one keys file: each is checked at every connection's upgrade (a constant-time compare
 * per key), and each holds one rate bucket, so the list stays small. */
export const apiKeysMax = 10_000;

/** Largest rate a key or an account may be given, in events per second: far above what one server
 * posts, and small enough that a bucket's scaled token count (× 1,000) stays a safe integer. */
export const eventsPerSecondMax = 1_000_000_000;

/** Accounts the per-account rate limit counts in one one-second window (a Map entry each, ~100 B, so
 * ~100 MiB at most). Accounts first seen in a second after it is full go uncounted until the next
 * second: refusing them instead would punish accounts that did nothing wrong. */
export const accountRateTrackedMax = 1 << 20;

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

/**
 * Where the gateway starts refusing transfer requests (`overloaded`, the whole request, before any part runs) for a
 * shard whose instructions wait for receivers: instructions the relay holds from it, plus one per event of its parts
 * admitted and not answered yet. 32 batches: enough to keep a busy receiver fed (a delivery is one batch), short
 * enough that a payee waits about a second, not ten, for a credit when its shard is the bottleneck (measured under
 * sustained hot-credit load: at 1M in flight credits took 11 s to land and the first minute ran 20% above the
 * steady state while the queue filled; at 32 batches the rate held flat). Far below the shard's own limit, so
 * that refusal (after other shards may have posted their parts) never fires.
 */
export const transitInstructionsAdmittedMax = 32 * batchEventsMax;

/**
 * How long a close or credit block (RequestRouting's fence), or a read, waits for the credits answered `ok` before
 * it to land on the shard, in ms. Past it (or when a delivery to the shard fails) the close or block is refused
 * `overloaded`, nothing applied, and the read answers with what the shard holds. A relay at saturation lags 1–2.5 s.
 */
export const creditsLandingWaitMsMax = 10_000;
/**
 * Longest a day cut holds transfer requests back while those in flight end and their credits land (the cut is
 * then made with nothing between shards). Past it the cut goes ahead and reports what was still in flight.
 */
export const dayCutQuietMsMax = 5_000;

/** Control tasks one shard host has at once: chain decisions and votes in doubt, the relay's delivery, status,
 * fetch and acknowledgement, status probes, snapshot holds and releases, day cuts, warm-up and close — about a
 * dozen by construction, with headroom. They have worker slots of their own beside shardTasksInFlightMax, so
 * they never wait behind callers' tasks: a decision must reach a shard whose held turn those tasks wait on. */
export const shardControlTasksMax = 32;

/** Longest GET /health waits for a shard's own answer; a shard that takes longer is reported, not waited for. */
export const shardStatusWaitMsMax = 1_000;

/**
 * Stages one transfer request may run in (issue #14: core/wire/request-stages.ts), each a round trip and the
 * credits landing (~7 ms light, the relay's lag at saturation). A request that needs more is refused whole
 * (`body_invalid`, nothing applied: split it), so that no request holds its ids and capped payees for long: 8,190
 * random payments among no-overdraft accounts need ~45.
 */
export const requestStagesMax = 256;

/** Requests whose linked chains span shards that may be in progress at once (one group decides at a time;
 * each waiting request holds its body, up to a batch): past it such requests are refused `overloaded`
 * before any part of them runs. */
export const chainRequestsQueuedMax = 1024;

/** Default of `tally serve --shutdown-deadline-ms`: how long a shutdown may take before the process exits
 * anyway (status 1). Past it nothing acknowledged is lost: an acknowledgement follows its fsync. */
export const shutdownDeadlineMsDefault = 10_000;

/** Largest `--shutdown-deadline-ms`: an hour, far past any drain, but still a bound. */
export const shutdownDeadlineMsMax = 3_600_000;

/** Longest interval between hot-inbound summary postings: a buffered credit applies within about this. */
export const hotApplyIntervalMsMax = 1000;

/** Bytes of the JSON object an admin request carries (operations 41–45, and submit_adjustment's header):
 * a few fields and a reason, with room to spare; far below a frame. */
export const adminJsonBytesMax = 64 * 1024;

/** Bytes of one recon_upload chunk: a statement file goes up in chunks that fit a frame with their header. */
export const reconChunkBytesMax = 1_000_000;

/** Bytes of recon_upload's JSON header ({sha256, offset, total} takes under 150): the rest of its frame is the chunk. */
export const reconUploadHeaderBytesMax = 1024;

/**
 * Bytes of one statement file a channel sends, and of all files of one import together (a bill of a million rows is
 * ~250 MB). An import holds its files, their text and their rows in memory at once: the bound keeps that below what
 * the server's heap can take (V8 strings stop at ~512 M characters anyway).
 */
export const reconFileBytesMax = 512 * 1024 * 1024;
export const reconImportBytesMax = reconFileBytesMax;
/**
 * Bytes of uploads begun and not complete, all together: a key that starts uploads and never ends them fills the
 * disk otherwise. Four files of the largest size may be on their way at once; past it a new upload is refused.
 */
export const reconUploadsPendingBytesMax = 4 * reconFileBytesMax;
/** An upload no chunk has continued for this long is dropped (its chunks removed) when a new upload begins. */
export const reconUploadIdleMsMax = 24 * 60 * 60 * 1000;

/** Heap of the worker thread one import reads and matches in (a million-row bill took ~4.5 GB, bench/RESULTS.md
 * 2026-12-07): an import needing more ends that thread with a refusal, never the server. */
export const reconImportHeapMb = 8192;

/** Files in one recon_import (a day's statement may come in parts). */
export const reconFilesPerImportMax = 64;

/** Transfers one reconciliation batch posts by itself (补单 and the like); past it the rest hold for people. Each
 * action id is a straggler of the id index (core docs: ids far from newId()'s), so they are kept few per batch. */
export const reconActionsPerBatchMax = 20_000;

/** Batches in one get_recon_batches reply. */
export const reconBatchesPageMax = 100;

/** Exceptions in one get_recon_exceptions reply (each well under 1 KiB). */
export const reconExceptionsPageMax = 500;

/** Transfers in one adjustment (调账). Half a batch, so that an adjustment's records (base64), its results
 * and its reason fit one reply frame: a checker reads everything they approve in one call. */
export const adjustmentTransfersMax = 4096;

/** Characters (code points) of an adjustment's reason, and of a rejection's. */
export const adjustmentReasonCharsMax = 1000;

/** Adjustments in one get_adjustments reply (each at most a few KiB without its records). */
export const adjustmentsPageMax = 100;

/** Audit records in one get_audit_log reply; a page also stops before auditPageBytesMax. */
export const auditPageMax = 1000;

/** Bytes of one get_audit_log reply's records: well under a reply frame whatever the records hold. */
export const auditPageBytesMax = 1024 * 1024;

/** Characters of an audit record's detail. The audit log takes every event, so a longer detail is cut
 * (ending in "…") rather than refused: the one place a value is shortened instead of refused. */
export const auditDetailCharsMax = 1000;

/** Characters of an audit record's key id, code and peer address (cut like the detail). */
export const auditFieldCharsMax = 256;

/** Writes the admin store has in flight (audit records, adjustment changes); past it a write is refused
 * with `overloaded` rather than queued without bound (a flood of refused calls cannot grow memory). */
export const adminWritesInFlightMax = 65_536;

/**
 * Longest a shard holds its turn for a snapshot barrier (src/shards/snapshots/snapshot-host.ts). The barrier needs
 * a few ms (every shard held, then read transactions opened); the bound only frees a shard whose barrier
 * was abandoned.
 */
export const snapshotHoldMsMax = 10_000;

/** Longest a snapshot waits for every shard to reach the barrier before it gives up (and releases them). */
export const snapshotBarrierMsMax = 30_000;

/** Bytes of entries a snapshot copy writes per target transaction (one fsync each). */
export const snapshotCopyChunkBytesMax = 16 * 1024 * 1024;

/** Characters of a snapshot's target path in start_snapshot (Linux's PATH_MAX is 4,096 bytes). */
export const snapshotPathCharsMax = 4096;

/** Bytes of one record (line) of a CSV-family statement (csv-parse's max_record_size): a bill's row is a few hundred. */
export const statementRecordBytesMax = 64 * 1024;

/** Rows of one reconciliation batch (all its files): 1M a day is the design load, 5× leaves room for a busy day. */
export const statementRowsMax = 5_000_000;

/** Wall-clock minutes whose zone offset local-time.ts remembers (a Map entry each): a day's bill has at most 1,440
 * distinct minutes per zone, so Intl is asked once per minute, not once per row. Full: forgotten and refilled. */
export const zoneOffsetsCachedMax = 65_536;

/** Entries of one statement archive (an Alipay bill zip holds two CSVs): more is no channel's bill, and each entry costs a read. */
export const archiveEntriesMax = 16;

/** Bytes one archive entry may inflate to, counted while it streams (never its header's word): a statement file's own bound. */
export const archiveEntryBytesMax = reconFileBytesMax;

/** Inflated bytes per compressed byte of one entry: CSVs deflate 5–20×, a zip bomb a thousand times. */
export const archiveEntryRatioMax = 200;

/** Bytes all entries of one archive may inflate to together: the entries are held in memory while the bill is read. */
export const archiveBytesMax = 2 * 1024 * 1024 * 1024;
