// The snapshot copier (one worker thread per snapshot, src/shards/snapshots/snapshot-host.ts). It opens every store
// of the data directory, and when told `pin` — while the shard set holds every shard at its barrier — opens
// one LMDB read transaction per store: each sees its store exactly at the cut, however long the copy then
// takes and whatever the shards write meanwhile. It then copies every database entry by entry into fresh
// environments (compacted by construction: no free pages, no history) and hashes the files it wrote.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb';
import { assert } from '../../core/assert.js';
import { snapshotCopyChunkBytesMax } from '../../core/limits.js';
import type { SnapshotFile } from '../../core/admin/snapshot-manifest.js';
import { dataFileOf, type StoreSpec } from '../storage/store-catalog.js';
import { fsyncPath } from '../storage/fsync-path.js';
import { spaceOf } from '../storage/storage-health.js';

export interface SnapshotWorkerData {
  readonly dataDir: string;
  readonly outDir: string;
  readonly stores: readonly StoreSpec[];
}

/** Host → worker. `abort`: the barrier failed; the copier closes its stores and exits. */
export type SnapshotCommand = { type: 'pin' } | { type: 'abort' };

/** Worker → host. */
export type SnapshotEvent =
  | { type: 'opened'; bytesTotal: number }
  | { type: 'pinned'; journalEntries: number[] }
  | { type: 'progress'; phase: 'copying' | 'checksums'; bytesDone: number; bytesTotal: number; entriesCopied: number }
  | { type: 'done'; files: SnapshotFile[]; entriesCopied: number }
  | { type: 'failed'; message: string };

/** Progress messages at most this often. */
const progressIntervalMs = 200;

interface OpenStore {
  readonly spec: StoreSpec;
  readonly root: RootDatabase<Uint8Array, Uint8Array>;
  /** The databases to copy; the root itself when the store keeps its entries there. */
  readonly dbs: { name: string | null; db: Database<Uint8Array, Uint8Array> }[];
  txn: Transaction | null;
}

const port = parentPort;
assert(port !== null, 'the snapshot copier runs in a worker thread');
const data = workerData as SnapshotWorkerData;
let progressAtMs = 0;

function post(event: SnapshotEvent): void {
  port!.postMessage(event);
}

function openStores(): OpenStore[] {
  const present = data.stores.filter((spec) => existsSync(join(data.dataDir, dataFileOf(spec))));
  for (const spec of data.stores) {
    if (!spec.optional && !present.includes(spec)) throw new Error(`${join(data.dataDir, spec.dir)} is missing: not a complete data directory`);
  }
  return present.map((spec) => {
    // Opened like any reader beside the owner (the bookkeeper reads the shards' stores the same way):
    // lmdb-js shares one environment per path within the process.
    const root = open<Uint8Array, Uint8Array>({ path: join(data.dataDir, spec.dir), maxDbs: Math.max(spec.dbs.length, 1), ...rawEncoding });
    const dbs = spec.dbs.length === 0 ? [{ name: null, db: root as Database<Uint8Array, Uint8Array> }] : spec.dbs.map((name) => ({ name, db: root.openDB<Uint8Array, Uint8Array>({ name, ...rawEncoding }) }));
    return { spec, root, dbs, txn: null };
  });
}

/** Keys and values as raw bytes: the copy is byte for byte, whatever the owner's encodings. */
const rawEncoding = { encoding: 'binary', keyEncoding: 'binary', cache: false, compression: false } as const;

function pin(stores: OpenStore[]): number[] {
  for (const store of stores) store.txn = store.root.useReadTransaction();
  // Each shard's journal under its pinned transaction: the cut's seq (entries run 1..n without gaps).
  return stores.filter((s) => s.spec.dir.startsWith('shard-')).map((s) => s.dbs.find((d) => d.name === 'journal')!.db.getCount({ transaction: s.txn! } as never));
}

async function copyStore(store: OpenStore, counters: { bytesDone: number; bytesTotal: number; entriesCopied: number }): Promise<void> {
  const target = open<Uint8Array, Uint8Array>({
    path: join(data.outDir, store.spec.dir),
    maxDbs: Math.max(store.spec.dbs.length, 1),
    overlappingSync: false,
    noSync: false, // each chunk's commit is fsync'd: a finished snapshot is on disk
    useWritemap: false,
    noMemInit: false,
    pageSize: 4096,
    ...rawEncoding,
  });
  try {
    for (const { name, db } of store.dbs) {
      const into = name === null ? (target as Database<Uint8Array, Uint8Array>) : target.openDB<Uint8Array, Uint8Array>({ name, ...rawEncoding });
      let chunk: [Uint8Array, Uint8Array][] = [];
      let chunkBytes = 0;
      const flush = (): void => {
        checkTargetSpace(chunkBytes);
        const pairs = chunk;
        target.transactionSync(() => {
          for (const [key, value] of pairs) into.putSync(key, value);
        });
        counters.entriesCopied += pairs.length;
        counters.bytesDone += chunkBytes;
        chunk = [];
        chunkBytes = 0;
        report('copying', counters);
      };
      for (const { key, value } of db.getRange({ transaction: store.txn! } as never) as Iterable<{ key: Uint8Array; value: Uint8Array }>) {
        chunk.push([key, value]);
        chunkBytes += key.byteLength + value.byteLength;
        if (chunkBytes >= snapshotCopyChunkBytesMax) flush();
      }
      if (chunk.length > 0) flush();
    }
  } finally {
    store.txn?.done();
    store.txn = null;
    await target.close();
  }
}

/**
 * The target must hold the chunk with room to spare: a write failing in lmdb-js 3.5.6 may abort the whole
 * process (the server's), so a full target ends the snapshot before LMDB is tried (docs/ARCHITECTURE.md).
 */
function checkTargetSpace(chunkBytes: number): void {
  const space = spaceOf(data.outDir);
  if (space === null) return;
  const neededBytes = 2 * chunkBytes + space.reserveBytes;
  if (space.freeBytes < neededBytes) throw new Error(`the target ${data.outDir} has ${space.freeBytes} bytes free, under the ${neededBytes} a chunk of ${chunkBytes} bytes needs with the disk's reserve`);
}

function report(phase: 'copying' | 'checksums', counters: { bytesDone: number; bytesTotal: number; entriesCopied: number }): void {
  const now = Date.now();
  if (now - progressAtMs < progressIntervalMs) return;
  progressAtMs = now;
  post({ type: 'progress', phase, ...counters });
}

async function sha256Of(path: string, onBytes: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    onBytes((chunk as Buffer).byteLength);
  }
  return hash.digest('hex');
}


async function finish(stores: OpenStore[], entriesCopied: number): Promise<void> {
  // Only data files travel: lock files belong to a running environment and are made anew on open.
  const paths = stores.map((s) => dataFileOf(s.spec));
  for (const store of stores) rmSync(join(data.outDir, store.spec.dir, 'lock.mdb'), { force: true });
  const bytesTotal = paths.reduce((sum, path) => sum + statSync(join(data.outDir, path)).size, 0);
  const counters = { bytesDone: 0, bytesTotal, entriesCopied };
  const files: SnapshotFile[] = [];
  for (const path of paths) {
    const full = join(data.outDir, path);
    fsyncPath(full);
    fsyncPath(join(data.outDir, path, '..'));
    const sha256 = await sha256Of(full, (bytes) => {
      counters.bytesDone += bytes;
      report('checksums', counters);
    });
    files.push({ path: path.split('\\').join('/'), bytes: statSync(full).size, sha256 });
  }
  post({ type: 'done', files, entriesCopied });
}

let stores: OpenStore[] = [];

async function run(): Promise<void> {
  stores = openStores();
  const bytesTotal = stores.reduce((sum, s) => sum + statSync(join(data.dataDir, dataFileOf(s.spec))).size, 0);
  const pinned = await new Promise<boolean>((resolve, reject) => {
    port!.once('message', (command: SnapshotCommand) => {
      if (command.type === 'abort') return resolve(false);
      try {
        post({ type: 'pinned', journalEntries: pin(stores) });
        resolve(true);
      } catch (error) {
        reject(error as Error);
      }
    });
    post({ type: 'opened', bytesTotal });
  });
  if (!pinned) return;
  const counters = { bytesDone: 0, bytesTotal, entriesCopied: 0 };
  for (const store of stores) await copyStore(store, counters);
  const copied = [...stores];
  await closeSources();
  await finish(copied, counters.entriesCopied);
}

async function closeSources(): Promise<void> {
  for (const store of stores.splice(0)) {
    store.txn?.done();
    await store.root.close();
  }
}

// The thread ends itself at an event-loop turn once its stores are closed: a Worker.terminate() landing in
// an lmdb-js native call aborts the whole process (see src/shards/shard/crash-orders.ts).
run().then(
  () => process.exit(0),
  async (error: unknown) => {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    await closeSources().catch(() => undefined);
    process.exit(1);
  },
);
