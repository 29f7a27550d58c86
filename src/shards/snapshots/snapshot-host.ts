// An online snapshot of a running data directory (main thread). The cut is one instant across all shards:
// the shard set holds every shard at a barrier (each after its journal is durable, so nothing is half
// written and no cross-shard credit can be ahead of its debit), the copier opens one read transaction per
// store, and the shards run on — held for a few milliseconds. The copy, its checksums and the manifest
// follow in the copier's thread while postings continue. One snapshot at a time.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { assert } from '../../core/assert.js';
import { errors } from '../../core/errors.js';
import { manifestFileName, snapshotFormat, snapshotFormatVersion, type SnapshotFile, type SnapshotManifest, type SnapshotStatus } from '../../core/admin/snapshot-manifest.js';

export type { SnapshotStatus } from '../../core/admin/snapshot-manifest.js';
import type { SnapshotCommand, SnapshotEvent, SnapshotWorkerData } from './snapshot.worker.js';
import { workerFilename } from '../shard/shard-host.js';
import { storeCatalog } from '../storage/store-catalog.js';
import { fsyncPath } from '../storage/fsync-path.js';
import { checkNewDirectory } from './write-targets.js';

/** Holds every shard, runs `whileHeld`, releases them; answers each shard's last seq at the hold. */
export type Barrier = (whileHeld: () => Promise<void>) => Promise<{ seqs: number[]; heldMs: number; cutAt: string }>;

export class SnapshotRunner {
  readonly #dataDir: string;
  readonly #shardCount: number;
  readonly #barrier: Barrier;
  #status: SnapshotStatus | null = null;
  #running: Promise<void> | null = null;

  constructor(dataDir: string, shardCount: number, barrier: Barrier) {
    this.#dataDir = resolve(dataDir);
    this.#shardCount = shardCount;
    this.#barrier = barrier;
  }

  /**
   * Starts a snapshot into `out` and answers its status at once. `out` must be absolute, absent or an empty
   * directory, and away from the data directory once symlinks are followed (write-targets.ts): the copy is
   * written to that real path, which the status reports.
   */
  start(out: string): SnapshotStatus {
    if (this.#running !== null) throw errors.overloaded(`a snapshot into ${this.#status!.out} is running; one at a time`);
    const target = this.#checkTarget(out);
    const status: SnapshotStatus = {
      id: `snap_${Date.now().toString(36)}`,
      out: target,
      state: 'running',
      phase: 'opening',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      bytesDone: 0,
      bytesTotal: 0,
      entriesCopied: 0,
      shards: null,
      heldMs: null,
      error: null,
    };
    this.#status = status;
    this.#running = this.#run(status).then(
      () => {
        status.state = 'done';
        status.phase = 'done';
      },
      (error: unknown) => {
        status.state = 'failed';
        status.error = error instanceof Error ? error.message : String(error);
      },
    ).finally(() => {
      status.finishedAt = new Date().toISOString();
      this.#running = null;
    });
    return { ...status };
  }

  /** The running snapshot's status, or the last one's; null when none ran since start. */
  status(): SnapshotStatus | null {
    return this.#status === null ? null : { ...this.#status };
  }

  /** Resolves when the snapshot in progress (if any) has ended, either way. */
  async settled(): Promise<void> {
    await this.#running;
  }

  #checkTarget(out: string): string {
    const checked = checkNewDirectory(out, this.#dataDir, 'snapshot target', 'data directory');
    if (checked.problem !== undefined) throw errors.bodyInvalid(checked.problem);
    return checked.path;
  }

  async #run(status: SnapshotStatus): Promise<void> {
    mkdirSync(status.out, { recursive: true });
    const workerData: SnapshotWorkerData = { dataDir: this.#dataDir, outDir: status.out, stores: storeCatalog(this.#shardCount) };
    const worker = new Worker(workerFilename('snapshots/snapshot.worker.js'), { workerData });
    const copier = new Copier(worker, status);
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    try {
      await copier.opened;
      status.phase = 'barrier';
      const cut = await this.#barrier(async () => {
        copier.send({ type: 'pin' });
        await copier.pinned;
      });
      const journalEntries = await copier.pinned;
      cut.seqs.forEach((seq, shard) => {
        // The copier's read transaction and the held shard must see the same journal.
        if (journalEntries[shard] !== seq) throw new Error(`shard ${shard}: held at seq ${seq} but its pinned journal holds ${journalEntries[shard]} entries`);
      });
      status.shards = cut.seqs.map((seq, shard) => ({ shard, seq }));
      status.heldMs = cut.heldMs;
      status.phase = 'copying';
      const { files } = await copier.done;
      status.phase = 'manifest';
      writeManifest(status.out, {
        format: snapshotFormat,
        formatVersion: snapshotFormatVersion,
        tallyVersion: tallyVersion(),
        shardCount: this.#shardCount,
        cutAt: cut.cutAt,
        heldMs: cut.heldMs,
        shards: status.shards,
        files,
        finishedAt: new Date().toISOString(),
      });
    } finally {
      // Never terminate(): the copier closes its stores and exits by itself (abort when the barrier failed).
      copier.send({ type: 'abort' });
      await exited;
    }
  }
}

/** The copier's messages as promises, and its progress into the status. */
class Copier {
  readonly opened: Promise<void>;
  readonly pinned: Promise<number[]>;
  readonly done: Promise<{ files: SnapshotFile[] }>;
  readonly #worker: Worker;

  constructor(worker: Worker, status: SnapshotStatus) {
    this.#worker = worker;
    let onOpened!: () => void;
    let onPinned!: (entries: number[]) => void;
    let onDone!: (done: { files: SnapshotFile[] }) => void;
    let fail!: (error: Error) => void;
    const failed = new Promise<never>((_, reject) => (fail = reject));
    failed.catch(() => undefined);
    this.opened = Promise.race([new Promise<void>((r) => (onOpened = r)), failed]);
    this.pinned = Promise.race([new Promise<number[]>((r) => (onPinned = r)), failed]);
    this.done = Promise.race([new Promise<{ files: SnapshotFile[] }>((r) => (onDone = r)), failed]);
    this.pinned.catch(() => undefined);
    this.done.catch(() => undefined);
    worker.on('message', (event: SnapshotEvent) => {
      switch (event.type) {
        case 'opened':
          status.bytesTotal = event.bytesTotal;
          return onOpened();
        case 'pinned':
          return onPinned(event.journalEntries);
        case 'progress':
          status.phase = event.phase;
          status.bytesDone = event.bytesDone;
          status.bytesTotal = event.bytesTotal;
          status.entriesCopied = event.entriesCopied;
          return;
        case 'done':
          status.entriesCopied = event.entriesCopied;
          status.bytesDone = status.bytesTotal;
          return onDone({ files: event.files });
        case 'failed':
          return fail(new Error(`snapshot copy failed: ${event.message}`));
      }
    });
    worker.on('error', (error) => fail(error));
    worker.on('exit', (code) => fail(new Error(`snapshot copier exited (${code})`)));
  }

  send(command: SnapshotCommand): void {
    try {
      this.#worker.postMessage(command);
    } catch {
      // the thread is gone: nothing to tell it
    }
  }
}

/** Written last and atomically (temp file, fsync, rename, fsync of the directory): its presence means complete. */
function writeManifest(dir: string, manifest: SnapshotManifest): void {
  const temp = join(dir, `${manifestFileName}.partial`);
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  fsyncPath(temp);
  renameSync(temp, join(dir, manifestFileName));
  fsyncPath(dir);
}


let versionCached: string | null = null;

/** This package's version: the nearest package.json above this module (dist/src/shards or src/shards). */
export function tallyVersion(): string {
  if (versionCached !== null) return versionCached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (!existsSync(path)) continue;
    const version = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version;
    assert(typeof version === 'string', `${path} has a version`);
    versionCached = version;
    return version;
  }
  throw new Error('package.json not found above the snapshot module');
}
