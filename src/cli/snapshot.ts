// `tally snapshot`: an online snapshot of a running server (every shard at one cut, posting goes on) into a
// directory on the server's machine, with a progress bar, then a summary. The server does the work
// (src/shards/snapshots/snapshot-host.ts); this command starts it and follows its status.

import { resolve } from 'node:path';
import { connect, type Client } from '../client/client.js';
import type { SnapshotStatus } from '../core/admin/snapshot-manifest.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { parseFlags } from './option-values.js';
import { ProgressLine, formatBytes } from './progress.js';
import { UsageError } from './serve-options.js';

export const snapshotUsage = `usage: tally snapshot --out DIR [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--json]

Takes an online snapshot of a running server: every shard and the bookkeeping shard at one cut in time
(a barrier holds all shards for a few milliseconds), LMDB stores copied compacted, a manifest with each
file's SHA-256 and the cut's sequence numbers written last. Needs a key with the admin scope.

  --out DIR     where to write it: absent or empty, a path on the SERVER's machine (made absolute here)
${clientFlagsUsage}
  --json        print the final status as JSON
  -h, --help    print this help

exit status: 0 the snapshot is complete, 1 it failed (the message says why), 2 usage error`;

/** How often the status is asked for while the snapshot runs. */
const pollMs = 250;

export async function snapshotCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, { ...clientFlags, out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, refuse);
  if (values.help) {
    console.log(snapshotUsage);
    return 0;
  }
  if (values.out === undefined || values.out.trim() === '') throw refuse('--out DIR is required');
  const client = await connect(clientConnectOptions(values, env, 60_000, refuse));
  try {
    const status = await takeSnapshot(client, resolve(values.out), new ProgressLine('snapshot'));
    if (values.json) console.log(JSON.stringify(status, null, 2));
    else console.log(describeSnapshot(status));
    if (status.state !== 'done') console.error(`tally snapshot: failed: ${status.error ?? 'unknown error'}`);
    return status.state === 'done' ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** Starts a snapshot into `out` and follows it to its end, drawing `progress`. */
export async function takeSnapshot(client: Client, out: string, progress: ProgressLine): Promise<SnapshotStatus> {
  let status = await client.startSnapshot(out);
  const id = status.id;
  while (status.state === 'running') {
    progress.update(status.bytesDone, status.bytesTotal, status.phase);
    await new Promise((done) => setTimeout(done, pollMs));
    const now = await client.getSnapshotStatus();
    if (now === null || now.id !== id) throw new Error(`the server no longer knows snapshot ${id} (restarted?)`);
    status = now;
  }
  progress.finish(status.bytesDone, status.bytesTotal, status.state);
  return status;
}

export function describeSnapshot(status: SnapshotStatus): string {
  const seconds = status.finishedAt === null ? '?' : ((Date.parse(status.finishedAt) - Date.parse(status.startedAt)) / 1000).toFixed(1);
  const cut = status.shards?.map((s) => `shard ${s.shard} @ ${s.seq}`).join(', ') ?? 'not reached';
  return [
    `snapshot ${status.state}: ${status.out}`,
    `  cut: ${cut}; shards held ${status.heldMs ?? '?'} ms`,
    `  copied: ${status.entriesCopied.toLocaleString('en-US')} entries, ${formatBytes(status.bytesTotal)} in ${seconds} s`,
  ].join('\n');
}

function refuse(message: string): UsageError {
  return new UsageError(message, snapshotUsage);
}
