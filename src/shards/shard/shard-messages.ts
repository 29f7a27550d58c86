// Message shapes between a shard host (main thread) and its worker: plain data only. Class identity
// (TallyError's included) does not survive postMessage, so errors cross as { code, message }.

import type { ReplicationOptions } from '../replication/journal-stream.js';
import { ErrorCode, type TallyError } from '../../core/errors.js';
import type { HotInboundStats } from '../../core/hot/hot-inbound-stats.js';
import { checkpointEntriesDefault, checkpointSecondsDefault } from '../../core/limits.js';
import type { IdCacheCapacity } from '../../core/accounts/id-cache.js';
import { cacheIdsOtherDefault, cacheTransferIdsDefault } from '../../core/limits.js';

/**
 * Control tasks: a number space of their own (ShardControlNumber), kept apart from the wire operations and
 * journal entry kinds (core/operations.ts: 1..19, 40..46, 48) so they can never be mistaken for ledger work, and
 * from the day book's queries (DayQuery in day-book.ts: 30, 31) — specs check they never collide.
 */
export const ShardControl = {
  /** Answers once the worker has replayed its journal: the host's ready() waits for it. */
  warmUp: 0,
  /** Body: instructions from other shards. Reply: one InboundStatus byte each, then the returns issued. */
  applyInbound: 20,
  /** Body: u16 peer, 6 zero bytes, u64 pair sequence. Reply: retained instructions for that peer after it. */
  fetchOutbox: 21,
  /** Body: (u16 peer, 6 zero bytes, u64 pair sequence) per peer that acknowledged. Reply: empty. */
  acknowledgeOutbox: 22,
  /** Reply: f64 × 2 × shardCount: last pair sequence issued to each peer, then last applied from each. */
  transitStatus: 23,
  /**
   * Body: u32 day to begin (0: the next one), then optionally u32 CutFlags (cutDayBody). Reply: the closed
   * day's summary (JSON, core/books/day-close.ts).
   */
  cutDay: 24,
  /**
   * Body: core/chains/prepared-chains.ts encodePrepare. The shard votes on its part of cross-shard chains and
   * runs nothing else until decideChains. Reply: one result (u32) per event, once the vote is durable.
   */
  prepareChains: 25,
  /** Body: encodeDecide. Reply: u32 DecideStatus, then for a commit decided now its results and instructions. */
  decideChains: 26,
  /** Reply: the u64 group this shard prepared and that awaits its decision, or empty. Never waits. */
  chainInDoubt: 27,
  /** Reply: JSON (UTF-8) HotInboundShardStatus — hot-inbound accounts, their buffers, apply delays. Never waits. */
  hotInboundStatus: 28,
  /** Reply: the ids (16 B each) of the shard's hot-outbound accounts. */
  hotOutboundIds: 29,
  /**
   * The snapshot barrier (src/shards/snapshots/snapshot-host.ts): once every earlier step is durable the shard holds
   * its turn — no write, read, tick, inbound credit or cut runs — until releaseTurn (or snapshotHoldMsMax).
   * Reply, once held: u64 seq of the shard's last journal entry.
   */
  holdTurn: 32,
  /** Ends a holdTurn. Never queued: the held step is what it unblocks. Reply: empty. */
  releaseTurn: 33,
  /**
   * Body: account records (128 B each) of slices of hot-outbound accounts (core/hot/hot-outbound.ts), all of this
   * shard, written as a create_accounts entry flagged opensSlices — the only way into the slice id range.
   * Sent by the shard set's slice keeper, never by a caller. Reply: one result (u32) per account, once durable.
   */
  openSlices: 34,
  /** Reply: every account of the shard (id, u32 ledger, u32 status: 24 B each), for the account directory at start. */
  directoryEntries: 35,
  /**
   * Body: transfer ids (16 B each). Reply: one byte each, 1 when this shard has taken the id (Ledger.transferIdsTaken).
   * Answered from the state applied so far, without waiting for durability: the router holds back a request whose
   * id is in flight on another shard (shards/set/ids-elsewhere-check.ts).
   */
  transferIdsTaken: 36,
  /** The same for account-operation ids (Ledger.operationIdsTaken): they are unique ledger-wide too. */
  operationIdsTaken: 37,
  /**
   * Body: transfer events (128 B each) routed to other shards that name a reference or credit a capped payee. Reply:
   * 12 B per event — the code one shard answers at the reference's check when the reference lives here, the code the
   * payee's balance rule gives when the payee lives here (u16 each, else 0), and for a whole freeze paid to such a
   * payee its room + 1 (u64) (Ledger.eventVerdicts, core/posting/verdicts-elsewhere.ts). Answered from the state
   * applied so far, as transferIdsTaken.
   */
  eventVerdicts: 38,
  /**
   * Replicated mode (issue #15). Reply: JSON (UTF-8) of where the shard stands with its JetStream stream — a primary's
   * acknowledged seq and backlog, a follower's applied seq and lag (core of GET /health's `replication`); empty when
   * the shard runs embedded. Never waits.
   */
  replicationStatus: 39,
  /** Drains the worker's appends and closes its journal before the host stops the thread. */
  close: 255,
} as const;

/**
 * A control task's number: only these reach a shard's control lane (ShardHost.runInternal), so the compiler
 * refuses a ledger Operation there. Still plain numbers on the wire between host and worker.
 */
export type ShardControlNumber = (typeof ShardControl)[keyof typeof ShardControl];

/** Flags of a cutDay task. */
export const CutFlags = {
  /** The day is the one the first shard just began (ShardSet.cutDay): a real date, taken without the limits on how far ahead. */
  follows: 1,
} as const;

/** The body of a cutDay task. */
export function cutDayBody(day: number, follows: boolean): Uint8Array {
  const body = new Uint8Array(8);
  const view = new DataView(body.buffer);
  view.setUint32(0, day, true);
  view.setUint32(4, follows ? CutFlags.follows : 0, true);
  return body;
}

export interface ShardTask {
  operation: number;
  /** Request body for ledger operations; empty for control tasks. */
  body: Uint8Array;
}

/** What a failed task rejects with. `message` is the TallyError message without its code prefix. */
export interface ShardTaskError {
  code: string;
  message: string;
}

/** How a shard runs hot-inbound accounts (core/hot/hot-inbound.ts). */
export interface HotInboundOptions {
  /** Interval of the summary postings: a buffered credit waits about this long (plus an fsync). */
  applyIntervalMs: number;
  autoMarkCreditsPerSecond: number;
  unmarkQuietSeconds: number;
}

export const hotInboundDefault: HotInboundOptions = { applyIntervalMs: 100, autoMarkCreditsPerSecond: 1000, unmarkQuietSeconds: 60 };

/** How often a shard writes a flush_history entry (tally serve --checkpoint-entries, --checkpoint-seconds). */
export interface CheckpointOptions {
  /** Journal entries between two flushes. */
  entries: number;
  /** Longest time between two flushes of a shard that wrote since the last one. */
  seconds: number;
  /**
   * Shortest time between two flushes the entry count triggers (absent: none). Each flush stalls the shard for a
   * checkpoint capture; small entries (one transfer each, light load) would reach the count several times a second
   * and stall every few hundred calls, for a replay bound nobody needs (their tail replays in milliseconds). Past
   * checkpointEntriesForced entries the count flushes anyway: the history buffer stays bounded.
   */
  countGapMs?: number;
}

/**
 * The default count gap: light-load p99 13–16 ms with a flush every 128 single-transfer entries, 7.5–7.8 ms without
 * (bench/RESULTS.md, issue #19); full batches reach 128 entries in ~8 s per shard, so they never wait for it.
 */
export const checkpointCountGapMsDefault = 5_000;

export const checkpointDefault: CheckpointOptions = { entries: checkpointEntriesDefault, seconds: checkpointSecondsDefault, countGapMs: checkpointCountGapMsDefault };
/** The id caches' default sizes (tally serve --cache-transfer-ids, --cache-ids-other). */
export const idCacheDefault: IdCacheCapacity = { transferIds: cacheTransferIdsDefault, idsOther: cacheIdsOtherDefault };

/** One shard's hot-inbound figures (ShardControl.hotInboundStatus): the shape the service reports for all of them. */
export type HotInboundShardStatus = Omit<HotInboundStats, 'shardsNotAnswering'>;

/** Piscina `workerData` of a shard worker. */
export interface ShardWorkerData {
  dataDir: string;
  shardIndex: number;
  shardCount: number;
  /** The calendar that names business days (the first one of a new store); the shard set orders cuts. */
  dayCut: { cutTime: string; timeZone: string };
  hotInbound: HotInboundOptions;
  /** When the shard flushes its history (and, with checkpoints, captures its state). */
  checkpoint: CheckpointOptions;
  /** Ids per generation of the id caches (core/accounts/id-cache.ts); older ids are read from the id index on disk. */
  idCache: IdCacheCapacity;
  /** The account directory's buffer (core/accounts/account-directory.ts): the shard set writes it, every shard reads it. */
  directory: SharedArrayBuffer;
  /** Replicated mode (issue #15): the shard's journal also goes to its JetStream stream; absent: embedded. */
  replication?: ReplicationOptions;
  /** With replication: this node follows the stream instead of writing it (writes refused not_primary). */
  follow?: { delayMs: number; untilMs?: number };
}

export function isShardTaskError(value: unknown): value is ShardTaskError {
  if (typeof value !== 'object' || value === null || value instanceof Error) return false;
  const { code, message } = value as Partial<ShardTaskError>;
  return typeof code === 'string' && typeof message === 'string' && code in ErrorCode;
}

/** The wire shape of a TallyError (its message loses the `code: ` prefix the constructor adds). */
export function toShardTaskError(error: TallyError): ShardTaskError {
  const prefix = `${error.code}: `;
  const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return { code: error.code, message };
}
