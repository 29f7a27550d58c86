// `tally backup`: one scheduled snapshot into a backup directory, then pruning by policy (the newest
// snapshot of each of the last N hours and M days). Meant for cron; `tally serve --backup-dir` runs the
// same from the server.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect } from '../client/client.js';
import { backupName } from '../core/admin/backup-policy.js';
import { pruneBackups } from '../shards/snapshots/backups.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { integerOption, parseFlags } from './option-values.js';
import { ProgressLine } from './progress.js';
import { describeSnapshot, takeSnapshot } from './snapshot.js';
import { UsageError } from './serve-options.js';

export const backupDefault = { hourly: 24, daily: 7 } as const;

export const backupUsage = `usage: tally backup --dir DIR [--hourly N] [--daily M] [--prune-only] [--url ws://HOST:PORT] [--key KEY] [--ca FILE]

Takes an online snapshot of a running server into DIR/tally-YYYYMMDDTHHMMSSZ (a path on the server's
machine), then prunes DIR: keeps the newest snapshot of each of the last N hours and of each of the last M
days (UTC) that have one, and always the newest complete one; partial snapshots (interrupted: no
manifest) go once a newer complete one exists. Other entries of DIR are never touched. Cron example,
hourly: 5 * * * * TALLY_API_KEY=... tally backup --dir /var/backups/tally

  --dir DIR       the backup directory (created if absent)
  --hourly N      hours to keep, 0.. (default ${backupDefault.hourly})
  --daily M       days to keep, 0..  (default ${backupDefault.daily})
  --prune-only    prune without taking a snapshot (no server needed)
${clientFlagsUsage}
  -h, --help      print this help

exit status: 0 snapshot taken and pruned, 1 the snapshot failed (nothing pruned), 2 usage error`;

export async function backupCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const flags = { ...clientFlags, dir: { type: 'string' }, hourly: { type: 'string' }, daily: { type: 'string' }, 'prune-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values } = parseFlags(argv, flags, refuse);
  if (values.help) {
    console.log(backupUsage);
    return 0;
  }
  if (values.dir === undefined || values.dir.trim() === '') throw refuse('--dir DIR is required');
  const policy = {
    hourly: integerOption('--hourly', values.hourly ?? String(backupDefault.hourly), 0, 100_000, refuse),
    daily: integerOption('--daily', values.daily ?? String(backupDefault.daily), 0, 100_000, refuse),
  };
  const dir = resolve(values.dir);
  mkdirSync(dir, { recursive: true });
  if (values['prune-only'] !== true) {
    const client = await connect(clientConnectOptions(values, env, 60_000, refuse));
    try {
      const status = await takeSnapshot(client, join(dir, backupName(Date.now())), new ProgressLine('backup'));
      console.log(describeSnapshot(status));
      if (status.state !== 'done') {
        console.error(`tally backup: the snapshot failed, nothing pruned: ${status.error ?? 'unknown error'}`);
        return 1;
      }
    } finally {
      await client.close();
    }
  }
  const { keep, remove } = pruneBackups(dir, policy);
  console.log(`backup ${dir}: kept ${keep.length} (${keep.join(', ') || 'none'}), removed ${remove.length}${remove.length > 0 ? ` (${remove.join(', ')})` : ''}`);
  return 0;
}

function refuse(message: string): UsageError {
  return new UsageError(message, backupUsage);
}
