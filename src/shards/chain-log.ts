// The chain coordinator's durable decisions at `${dataDir}/chains` (LMDB, main thread). Presumed abort:
// only commits are written, each before any shard is told to commit; a group with no commit record was
// never committed anywhere and is aborted wherever it is still in doubt. Group numbers never repeat:
// each start takes a new epoch (its high 32 bits), written durably before the first group.

import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { assert } from '../core/assert.js';
import { openEnvironmentReadOnly } from './read-only-env.js';

const epochKey = 'epoch';
const groupsPerEpochMax = 0xffff_ffff;

export class ChainLog {
  readonly #root: RootDatabase<string, string>;
  readonly epoch: number;
  #groupLast = 0;

  private constructor(root: RootDatabase<string, string>, epoch: number) {
    this.#root = root;
    this.epoch = epoch;
  }

  /** Opens (creating) the log and begins a new epoch. */
  static async open(dataDir: string): Promise<ChainLog> {
    const root = open<string, string>({
      path: join(dataDir, 'chains'),
      overlappingSync: false, // a commit record is on disk before the put resolves
      noSync: false,
      useWritemap: false,
      compression: false,
      encoding: 'string',
      keyEncoding: 'ordered-binary',
      cache: false,
    });
    try {
      const epoch = Number(root.get(epochKey) ?? '0') + 1;
      assert(epoch < 0x20_0000, 'group numbers stay below 2^53');
      await root.put(epochKey, String(epoch));
      return new ChainLog(root, epoch);
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

  /** A group number no earlier start or group used. */
  nextGroup(): bigint {
    assert(this.#groupLast < groupsPerEpochMax, 'groups of one start fit in 32 bits');
    this.#groupLast++;
    return (BigInt(this.epoch) << 32n) | BigInt(this.#groupLast);
  }

  /** Resolves once the commit of `group` is durable: from then on it commits wherever it was prepared. */
  async logCommit(group: bigint): Promise<void> {
    await this.#root.put(commitKey(group), new Date().toISOString());
  }

  isCommitted(group: bigint): boolean {
    return this.#root.get(commitKey(group)) !== undefined;
  }

  close(): Promise<void> {
    return this.#root.close();
  }
}

function commitKey(group: bigint): string {
  // Fixed width so that keys sort by group number.
  return `commit:${group.toString(16).padStart(16, '0')}`;
}
