// When a shard takes its checkpoints and how it starts from them. Taking: captureAt(seq) runs right after a
// flush_history entry at seq is applied and queued (the shard loop's onHistoryFlushed, every --checkpoint-entries
// entries or --checkpoint-seconds), when the history buffer is empty; it captures the ledger synchronously (the
// stall, measured) and writes the file asynchronously, published only once the journal is durable through seq.
// Starting: the newest checkpoint that passes its checks and restores, else the one before, else a full replay;
// the caller replays the tail.

import { assert } from '../../core/assert.js';
import { Ledger, type LedgerOptions } from '../../core/posting/ledger.js';
import { stateBytesOf } from '../../core/posting/ledger-checkpoint.js';
import { CheckpointFiles, sha256, type CheckpointJournal } from './checkpoint-files.js';

/** Stalls of the last captures, for the status line and the bench (ms, newest last). */
const stallsKeptMax = 64;

/** SHA-256 (hex) of the canonical state of `ledger`: equal states, equal digests (hashing lives here, not in core). */
export function ledgerDigest(ledger: Pick<Ledger, 'encodeCheckpoint'>): string {
  return checkpointDigest(ledger.encodeCheckpoint());
}

/** The digest of a checkpoint body's state (its delivery section excluded: core/posting/ledger-checkpoint.ts). */
export function checkpointDigest(body: Uint8Array): string {
  return Buffer.from(sha256(stateBytesOf(body))).toString('hex');
}

/** What the checkpoints need of the journal: its entries. */
export type CheckpointedJournal = CheckpointJournal;

export interface ShardCheckpointsOptions {
  ledger: Pick<Ledger, 'seqLast' | 'encodeCheckpoint'>;
  journal: CheckpointedJournal;
  files: CheckpointFiles;
  /** Asked just before a checkpoint is published (e.g. every closed day through its seq is stored). */
  mayPublish?: () => boolean;
  /** One line per failed write (a failed checkpoint costs restart time, never data). */
  log?: (line: string) => void;
}

export class ShardCheckpoints {
  readonly #options: ShardCheckpointsOptions;
  #writing: Promise<string | null> | null = null;
  readonly stallsMs: number[] = [];
  /** Checkpoints published by this worker. */
  published = 0;

  constructor(options: ShardCheckpointsOptions) {
    this.#options = options;
  }

  /** Resolves when the write in flight (if any) has ended, published or not. */
  async settled(): Promise<void> {
    await this.#writing?.catch(() => {});
  }

  /**
   * A flush_history entry at `seq` was just applied and queued: captures the ledger now (it stands right after
   * seq, its history buffer empty) and writes it in the background once `durable` (the entry's, and every
   * earlier one's) resolves. A flush while the previous write is still in flight takes no checkpoint.
   */
  captureAt(seq: number, durable: Promise<void>): void {
    const options = this.#options;
    if (this.#writing !== null) return;
    assert(options.ledger.seqLast === seq, 'a checkpoint captures the ledger right after its flush entry');
    const entry = options.journal.entry(seq);
    assert(entry !== undefined, 'an appended entry can be read back');
    const startMs = performance.now();
    const body = options.ledger.encodeCheckpoint();
    this.#noteStall(performance.now() - startMs);
    const writing = options.files.write(seq, body, entry, durable, options.mayPublish);
    this.#writing = writing;
    writing.then(
      (path) => {
        if (path !== null) this.published++;
      },
      (error: unknown) => options.log?.(`checkpoint at seq ${seq} not written: ${error instanceof Error ? error.message : String(error)}`),
    ).finally(() => {
      if (this.#writing === writing) this.#writing = null;
    });
  }

  #noteStall(ms: number): void {
    this.stallsMs.push(ms);
    if (this.stallsMs.length > stallsKeptMax) this.stallsMs.shift();
  }
}

/**
 * A ledger for a starting shard: restored from the newest checkpoint of `files` that checks out against
 * `journal` and restores, or fresh (seq 0) when none does. Skipped files are logged with why. The caller
 * replays the journal after ledger.seqLast.
 */
export function ledgerFromCheckpoints(files: CheckpointFiles, journal: CheckpointJournal, options: Omit<LedgerOptions, 'checkpoint'>, log: (line: string) => void): { ledger: Ledger; checkpointSeq: number } {
  const seqs = files.seqs();
  for (const seq of seqs) {
    const path = files.pathOf(seq);
    const checked = files.read(path, seq, journal);
    if (typeof checked === 'string') {
      log(`checkpoint ${path} skipped: ${checked}`);
      continue;
    }
    try {
      return { ledger: new Ledger({ ...options, checkpoint: checked }), checkpointSeq: seq };
    } catch (error) {
      // A body whose checksum holds but that does not restore is a bug, not damage: the older one may still do.
      log(`checkpoint ${path} skipped: it does not restore: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { ledger: new Ledger(options), checkpointSeq: 0 };
}
