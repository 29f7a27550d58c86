// Whether a directory is a Tally data directory (or a snapshot of one) that verify can read, and its shape:
// the shard count every shard store records, which optional stores it holds, a snapshot's manifest. Opens
// stores read-only only (read-only-env.ts); refuses one a running process holds open.

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TallyError } from '../../core/errors.js';
import { JournalStore } from '../shard/journal-store.js';
import { NotAStoreError, dataFileName, storeHolders } from '../storage/read-only-env.js';
import { messageOf } from './problems.js';

/** The directory cannot be verified at all (exit status 2): the message says why. */
export class DataDirError extends Error {
  override name = 'DataDirError';
}

/** What a snapshot's manifest.json says of its cut (read loosely: verify never depends on it). */
export interface SnapshotInfo {
  cutAt: string | null;
  /** Per shard, the last seq at the cut, when the manifest lists it. */
  shardSeqs: (number | null)[];
}

export interface DataDirLayout {
  dataDir: string;
  shardCount: number;
  hasBookkeeping: boolean;
  hasChains: boolean;
  snapshot: SnapshotInfo | null;
}

const shardDirPattern = /^shard-(\d+)$/;

/** Inspects `dataDir` (opening each shard store read-only, through links in `scratchDir`); throws DataDirError. */
export async function inspectDataDir(dataDir: string, scratchDir: string): Promise<DataDirLayout> {
  if (!existsSync(dataDir)) throw new DataDirError(`${dataDir} does not exist`);
  if (!statSync(dataDir).isDirectory()) throw new DataDirError(`${dataDir} is not a directory`);
  const names = readdirSync(dataDir);
  if (names.length === 0) throw new DataDirError(`${dataDir} is empty: not a Tally data directory`);
  const shardDirs = names.map((name) => shardDirPattern.exec(name)).filter((m) => m !== null).map((m) => Number(m[1]));
  if (!shardDirs.includes(0)) throw new DataDirError(`${dataDir} is not a Tally data directory: it has no shard-0 store (it holds ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`);
  // Before any store is opened: a reader outside the writer's lock table may read pages being rewritten.
  for (const store of [...shardDirs.map((shard) => `shard-${shard}`), 'bookkeeping', 'chains']) refuseLive(dataDir, store);
  const shardCount = await shardCountOf(dataDir, scratchDir);
  for (let shard = 1; shard < shardCount; shard++) {
    if (!shardDirs.includes(shard)) throw new DataDirError(`shard count mismatch: shard-0 records ${shardCount} shards but ${dataDir} has no shard-${shard}`);
    await checkShard(dataDir, scratchDir, shard, shardCount);
  }
  const extra = shardDirs.filter((shard) => shard >= shardCount).sort((a, b) => a - b);
  if (extra.length > 0) throw new DataDirError(`shard count mismatch: shard-0 records ${shardCount} shards but ${dataDir} also has ${extra.map((s) => `shard-${s}`).join(', ')}`);
  return {
    dataDir,
    shardCount,
    hasBookkeeping: existsSync(join(dataDir, 'bookkeeping', dataFileName)),
    hasChains: existsSync(join(dataDir, 'chains', dataFileName)),
    snapshot: readManifest(dataDir),
  };
}

async function shardCountOf(dataDir: string, scratchDir: string): Promise<number> {
  const identity = await withShard(dataDir, scratchDir, 0, (store) => store.storedIdentity());
  const count = identity.shardCount;
  if (count === undefined || !Number.isInteger(count) || count < 1) throw new DataDirError(`${join(dataDir, 'shard-0')} is not a Tally shard store: its meta records no shard count`);
  if (identity.shardIndex !== 0) throw new DataDirError(`${join(dataDir, 'shard-0')} holds shard ${String(identity.shardIndex)}, not shard 0`);
  return count;
}

async function checkShard(dataDir: string, scratchDir: string, shard: number, shardCount: number): Promise<void> {
  const identity = await withShard(dataDir, scratchDir, shard, (store) => store.storedIdentity());
  if (identity.shardCount !== shardCount) {
    throw new DataDirError(`shard count mismatch: shard-0 records ${shardCount} shards but shard-${shard} records ${String(identity.shardCount)}`);
  }
}

/** Runs `read` on shard `shard`'s store opened read-only; an unopenable store is a DataDirError naming it. */
async function withShard<T>(dataDir: string, scratchDir: string, shard: number, read: (store: JournalStore) => T): Promise<T> {
  let store: JournalStore;
  try {
    store = JournalStore.openReadOnly(dataDir, shard, scratchDir);
  } catch (error) {
    const why = error instanceof NotAStoreError || error instanceof TallyError ? error.message : `LMDB cannot open it: ${messageOf(error)}`;
    throw new DataDirError(`shard-${shard} is not a Tally shard store: ${why}`);
  }
  try {
    return read(store);
  } finally {
    await store.close();
  }
}

function refuseLive(dataDir: string, store: string): void {
  const holders = storeHolders(join(dataDir, store));
  if (holders.length === 0) return;
  throw new DataDirError(
    `${join(dataDir, store)} is open in a running process (pid ${holders.join(', ')}): stop the server first, or verify a snapshot (tally snapshot) instead`,
  );
}

function readManifest(dataDir: string): SnapshotInfo | null {
  const path = join(dataDir, 'manifest.json');
  if (!existsSync(path)) return null;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { cutAt?: unknown; shards?: unknown };
    const shards = Array.isArray(manifest.shards) ? (manifest.shards as { seq?: unknown }[]) : [];
    return {
      cutAt: typeof manifest.cutAt === 'string' ? manifest.cutAt : null,
      shardSeqs: shards.map((cut) => (typeof cut?.seq === 'number' ? cut.seq : null)),
    };
  } catch {
    return { cutAt: null, shardSeqs: [] };
  }
}
