// `tally restore`: a snapshot into an empty data directory, every file checked against the manifest's
// SHA-256 while it is copied (a damaged or partial snapshot is refused, naming the file), with a progress
// bar. Offline: no server runs on the target. `--check` only checks the snapshot.

import { resolve } from 'node:path';
import { checkSnapshot, restoreSnapshot, SnapshotRefused } from '../shards/snapshots/snapshot-restore.js';
import { parseFlags } from './option-values.js';
import { ProgressLine, formatBytes } from './progress.js';
import { UsageError } from './serve-options.js';

export const restoreUsage = `usage: tally restore --from SNAPSHOT --data DIR
       tally restore --from SNAPSHOT --check

Restores a snapshot (tally snapshot, tally backup) into DIR, which must be absent or empty. Every file is
checked against the manifest while it is copied; the copy is renamed into place only when complete, so a
refused or interrupted restore leaves DIR as it was. Then start it with
tally serve --data DIR --shards N (N as printed) and check it with tally verify --data DIR.

  --from DIR    the snapshot directory
  --data DIR    the data directory to create
  --check       only check the snapshot's files against its manifest
  -h, --help    print this help

exit status: 0 restored (or checked), 1 refused (the message names the file and why), 2 usage error`;

export async function restoreCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, { from: { type: 'string' }, data: { type: 'string' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, refuse);
  if (values.help) {
    console.log(restoreUsage);
    return 0;
  }
  if (values.from === undefined) throw refuse('--from SNAPSHOT is required');
  if (values.check === true && values.data !== undefined) throw refuse('--check takes no --data');
  if (values.check !== true && values.data === undefined) throw refuse('--data DIR is required (or --check)');
  const from = resolve(values.from);
  const progress = new ProgressLine(values.check ? 'check' : 'restore');
  const startedMs = Date.now();
  let last = { bytesDone: 0, bytesTotal: 0 };
  const onProgress = (p: { bytesDone: number; bytesTotal: number; file: string }): void => {
    last = p;
    progress.update(p.bytesDone, p.bytesTotal, p.file);
  };
  try {
    const manifest = values.check ? await checkSnapshot(from, onProgress) : await restoreSnapshot(from, resolve(values.data!), onProgress);
    progress.finish(last.bytesTotal, last.bytesTotal, 'done');
    const seconds = ((Date.now() - startedMs) / 1000).toFixed(1);
    const cut = manifest.shards.map((s) => `shard ${s.shard} @ ${s.seq}`).join(', ');
    console.log(values.check ? `snapshot ${from}: every file matches its manifest` : `restored ${from} into ${resolve(values.data!)}`);
    console.log(`  ${manifest.files.length} files, ${formatBytes(last.bytesTotal)} in ${seconds} s; ${manifest.shardCount} shards, cut at ${manifest.cutAt}: ${cut}`);
    console.log(`  written by tally ${manifest.tallyVersion} at ${manifest.finishedAt}`);
    if (!values.check) console.log(`  next: tally verify --data ${values.data} && tally serve --data ${values.data} --shards ${manifest.shardCount}`);
    return 0;
  } catch (error) {
    progress.finish(last.bytesDone, last.bytesTotal, 'refused');
    if (!(error instanceof SnapshotRefused)) throw error;
    console.error(`tally restore: refused: ${error.message}`);
    return 1;
  }
}

function refuse(message: string): UsageError {
  return new UsageError(message, restoreUsage);
}
