// Check 6 of tally verify: a shard's checkpoint files (DATA/checkpoints/shard-<i>). Full mode reads each file,
// reports one that fails its own checks (checksum, identity, the journal entry it followed) and, as the replay
// from seq 1 passes the file's seq, compares the replay's state digest with the file's: a checkpoint whose
// checksum holds but whose state is not the journal's (forged, or taken by a buggy build) is a problem.
// Incremental mode starts from the newest file that passes (shard-checkpoints.ts, the same start a shard makes),
// saying which files it skipped. Reads checkpoint files only: never writes, renames or prunes one.

import { readJournalHeader } from '../../core/posting/journal-entry.js';
import { Ledger } from '../../core/posting/ledger.js';
import { JournalEntryKind } from '../../core/operations.js';
import { idCacheDefault } from '../shard/shard-messages.js';
import { CheckpointFiles } from '../shard/checkpoint-files.js';
import type { JournalStore } from '../shard/journal-store.js';
import { checkpointDigest, ledgerDigest, ledgerFromCheckpoints } from '../shard/shard-checkpoints.js';
import { messageOf, type Problems } from './problems.js';

/** Full mode: the digests the replay must reach at each valid checkpoint's seq. */
export class CheckpointAudit {
  /** seq → the state digest of the file at that seq (files that failed their own checks are not here). */
  readonly #expected = new Map<number, { digest: string; path: string }>();
  /** Files found, and those whose state the replay reached and matched. */
  filesFound = 0;
  filesMatched = 0;

  constructor(
    readonly store: JournalStore,
    readonly shard: number,
    shardCount: number,
    dataDir: string,
    readonly problems: Problems,
  ) {
    const files = new CheckpointFiles(dataDir, shard, shardCount);
    for (const seq of files.seqs()) {
      this.filesFound++;
      const path = files.pathOf(seq);
      const checked = files.read(path, seq, store);
      if (typeof checked === 'string') {
        problems.add('checkpoints', `shard ${shard} checkpoint ${path}: ${checked} (a start skips it and uses an older one)`);
        continue;
      }
      this.#expected.set(seq, { digest: checkpointDigest(checked), path });
    }
  }

  /** Right after entry `seq` replayed and its checks ran (closed days and flushed runs taken, as a shard does). */
  onReplayed(seq: number, ledger: Ledger, entry: Uint8Array): void {
    const expected = this.#expected.get(seq);
    if (expected === undefined) return;
    this.#expected.delete(seq);
    const where = `shard ${this.shard} checkpoint ${expected.path}`;
    // Checkpoints follow flush_history entries only: then the history buffer is empty, as encoding requires.
    if (readJournalHeader(entry).operation !== JournalEntryKind.flush_history) {
      this.problems.add('checkpoints', `${where}: seq ${seq} is not a flush_history entry, after which alone a checkpoint is taken`);
      return;
    }
    let digest: string;
    try {
      digest = ledgerDigest(ledger);
    } catch (error) {
      this.problems.add('checkpoints', `${where}: the replay's state at seq ${seq} cannot be encoded: ${messageOf(error)}`);
      return;
    }
    if (digest === expected.digest) this.filesMatched++;
    else this.problems.add('checkpoints', `${where}: its state differs from the replay's at seq ${seq} (digest ${expected.digest.slice(0, 16)}…, replay ${digest.slice(0, 16)}…): a start from it would restore a state the journal never reached`);
  }

  /** After the replay: files at seqs it never reached (it stopped short) are named, not compared. */
  unreached(): number[] {
    return [...this.#expected.keys()].sort((a, b) => a - b);
  }
}

/** Where an incremental replay starts: a ledger restored from a checkpoint (seqFrom > 0) or fresh (seqFrom 0). */
export interface IncrementalStart {
  ledger: Ledger;
  seqFrom: number;
}

/**
 * Incremental mode: the ledger restored from the newest checkpoint that passes its checks and restores, with the
 * store's read-only id index as its id source (ids of entries through the checkpoint live there only). Each file
 * skipped is a note; no usable checkpoint, or no id index, means a full replay (also a note).
 */
export function startIncremental(store: JournalStore, shard: number, shardCount: number, dataDir: string, warnings: string[]): IncrementalStart {
  const outboxAcknowledged = store.outboxAcknowledged(shardCount);
  const source = store.idIndexIfAny;
  if (source === null) {
    warnings.push(`shard ${shard}: --incremental: the store has no id index (written before it existed): replayed from seq 1`);
    return { ledger: new Ledger({ shardIndex: shard, shardCount, journal: store, outboxAcknowledged }), seqFrom: 0 };
  }
  const files = new CheckpointFiles(dataDir, shard, shardCount);
  const skipped: string[] = [];
  const idIndex = { source, capacity: idCacheDefault };
  const { ledger, checkpointSeq } = ledgerFromCheckpoints(files, store, { shardIndex: shard, shardCount, journal: store, outboxAcknowledged, idIndex }, (line) => skipped.push(line));
  // A restored ledger hands its newest closed day over again (a shard's day book re-takes it): its cut lies at or
  // before the checkpoint, in what this replay does not read, so it is not compared (DayClosingsAudit skips it).
  ledger.takeClosedDays();
  for (const line of skipped) warnings.push(`shard ${shard}: --incremental: ${line}`);
  if (checkpointSeq === 0) warnings.push(`shard ${shard}: --incremental: no usable checkpoint: replayed from seq 1`);
  else if (skipped.length > 0) warnings.push(`shard ${shard}: --incremental: started from the older checkpoint at seq ${checkpointSeq}`);
  return { ledger, seqFrom: checkpointSeq };
}
