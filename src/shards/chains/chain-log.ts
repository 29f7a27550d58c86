// The chain coordinator's durable decisions at `${dataDir}/chains` (LMDB, main thread). Presumed abort:
// only commits are written, each before any shard is told to commit; a group with no commit record was
// never committed anywhere and is aborted wherever it is still in doubt. Group numbers never repeat:
// each start takes a new epoch (its high 32 bits), written durably before the first group. A full disk
// fails the write with storage_failed (never an unhandled rejection on the main thread): an epoch not yet
// stored is stored again on a later request, and no group is numbered before it is.

import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { assert } from '../../core/assert.js';
import { errors, type TallyError } from '../../core/errors.js';
import { storageFailure } from '../storage/commit-failures.js';
import { openEnvironmentReadOnly } from '../storage/read-only-env.js';
import { lowSpaceError, storageRetryMs } from '../storage/storage-health.js';

const epochKey = 'epoch';

/**
 * Replicated mode (issue #15): where decisions are kept beside this log, and decided (shards/replication/
 * chain-decisions.ts). A commit counts once it holds it; it also hands out start epochs across nodes.
 */
export interface ReplicatedDecisions {
  takeEpoch(localLast: number): Promise<number>;
  logCommit(group: bigint): Promise<void>;
  isCommitted(group: bigint): Promise<boolean>;
  close(): Promise<void>;
}
const groupsPerEpochMax = 0xffff_ffff;

export class ChainLog {
  readonly #root: RootDatabase<string, string>;
  readonly epoch: number;
  /** Where the log writes (null when opened read-only): below the disk's free-space reserve it writes nothing. */
  #path: string | null = null;
  #groupLast = 0;
  /** Why the epoch is not durable yet (null once it is), failures in a row, and when (performance.now() ms) to try again. */
  #epochPending: { error: TallyError; failures: number; retryAtMs: number } | null = null;
  #epochStoring: Promise<void> | null = null;
  /** Replicated mode: the authority on commits (null: embedded, this log alone). */
  #replicated: ReplicatedDecisions | null = null;

  private constructor(root: RootDatabase<string, string>, epoch: number) {
    this.#root = root;
    this.epoch = epoch;
  }

  /** Opens (creating) the log and begins a new epoch: stored now, or, on a full disk, by a later nextGroup(). */
  static async open(dataDir: string, replicated: ReplicatedDecisions | null = null): Promise<ChainLog> {
    const path = join(dataDir, 'chains');
    const root = open<string, string>({
      path,
      overlappingSync: false, // a commit record is on disk before the put resolves
      noSync: false,
      useWritemap: false,
      compression: false,
      encoding: 'string',
      keyEncoding: 'ordered-binary',
      cache: false,
      eventTurnBatching: false, // one awaited put per write: a failed commit rejects that put's promise only
    });
    try {
      const localLast = Number(root.get(epochKey) ?? '0');
      // Replicated: above every epoch any node took (a new disk must not number groups an old one numbered).
      const epoch = replicated === null ? localLast + 1 : await replicated.takeEpoch(localLast);
      assert(epoch < 0x20_0000, 'group numbers stay below 2^53');
      const log = new ChainLog(root, epoch);
      log.#path = path;
      log.#replicated = replicated;
      log.#epochPending = { error: errors.storageFailed('chain log: the epoch is not stored yet'), failures: 0, retryAtMs: 0 };
      await log.#storeEpoch(); // on a full disk the service still starts: chains across shards wait for the epoch
      return log;
    } catch (error) {
      await root.close();
      throw error;
    }
  }

  /**
   * Opens the existing log for reading only (tally verify: isCommitted): never creates or writes a file of
   * `dataDir` (see read-only-env.ts; `scratchDir` takes LMDB's lock file). NotAStoreError when there is none.
   */
  static openReadOnly(dataDir: string, scratchDir: string): ChainLog {
    const root = openEnvironmentReadOnly(join(dataDir, 'chains'), scratchDir, 12, 'string') as unknown as RootDatabase<string, string>;
    return new ChainLog(root, Number(root.get(epochKey) ?? '0'));
  }

  /** A group number no earlier start or group used. Throws storage_failed while this start's epoch is not stored. */
  nextGroup(): bigint {
    const pending = this.#epochPending;
    if (pending !== null) {
      // The request that finds the back-off over stores the epoch again; it (and any meanwhile) is refused.
      if (this.#epochStoring === null && performance.now() >= pending.retryAtMs) {
        this.#epochStoring = this.#storeEpoch().finally(() => (this.#epochStoring = null));
      }
      throw pending.error;
    }
    assert(this.#groupLast < groupsPerEpochMax, 'groups of one start fit in 32 bits');
    this.#groupLast++;
    return (BigInt(this.epoch) << 32n) | BigInt(this.#groupLast);
  }

  /** Resolves once the commit of `group` is durable: from then on it commits wherever it was prepared. Rejects storage_failed. */
  async logCommit(group: bigint): Promise<void> {
    this.#checkSpace(`the commit of group ${group}`);
    if (this.#replicated !== null) {
      // The bucket decides: once it holds the commit the group commits, whatever this disk does next.
      await this.#replicated.logCommit(group);
      await this.#root.put(commitKey(group), new Date().toISOString()).catch((error: unknown) => {
        console.error(JSON.stringify({ level: 'warn', msg: 'chain log: a commit stored in JetStream could not be copied to the local log', group: String(group), error: String(error) }));
      });
      return;
    }
    try {
      await this.#root.put(commitKey(group), new Date().toISOString());
    } catch (error) {
      throw await storageFailure(error, `chain log: the commit of group ${group}`);
    }
  }

  /** Stores this start's epoch; a failure is kept (with its back-off) for nextGroup to report and retry. */
  async #storeEpoch(): Promise<void> {
    try {
      this.#checkSpace(`storing epoch ${this.epoch}`);
      await this.#root.put(epochKey, String(this.epoch));
      this.#epochPending = null;
    } catch (error) {
      const failures = (this.#epochPending?.failures ?? 0) + 1;
      const failed = await storageFailure(error, `chain log: storing epoch ${this.epoch} (chains across shards wait for it)`);
      this.#epochPending = { error: failed, failures, retryAtMs: performance.now() + storageRetryMs(failures - 1) };
      if (failures === 1) console.error(JSON.stringify({ level: 'error', msg: 'chain log cannot store its epoch; chains across shards are refused until it can', error: failed.message }));
    }
  }

  /** Refuses a write (storage_failed) while the disk is under its free-space reserve: LMDB is not even tried. */
  #checkSpace(what: string): void {
    const low = this.#path === null ? null : lowSpaceError(this.#path, `chain log: ${what}`);
    if (low !== null) throw low;
  }

  isCommitted(group: bigint): boolean {
    return this.#root.get(commitKey(group)) !== undefined;
  }

  /** How a vote left in doubt is decided at a start: this log, and in replicated mode the bucket, which decides. */
  async wasCommitted(group: bigint): Promise<boolean> {
    if (this.isCommitted(group)) return true;
    return this.#replicated === null ? false : this.#replicated.isCommitted(group);
  }

  async close(): Promise<void> {
    await this.#replicated?.close();
    await this.#root.close();
  }
}

function commitKey(group: bigint): string {
  // Fixed width so that keys sort by group number.
  return `commit:${group.toString(16).padStart(16, '0')}`;
}
