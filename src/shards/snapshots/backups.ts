// A directory of scheduled snapshots (tally backup, or tally serve --backup-dir): one `tally-<UTC time>`
// snapshot per run, pruned by core/admin/backup-policy.ts. Entries whose names are not backup names are never
// touched, so the directory may hold other things.

import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { backupName, parseBackupName, planPruning, type BackupEntry, type BackupPolicy } from '../../core/admin/backup-policy.js';
import { manifestFileName } from '../../core/admin/snapshot-manifest.js';
import { overlapProblem, pathProblem, realPathOf } from './write-targets.js';

export function listBackups(dir: string): BackupEntry[] {
  const entries: BackupEntry[] = [];
  for (const name of readdirSync(dir)) {
    const takenMs = parseBackupName(name);
    if (takenMs === null || !statSync(join(dir, name)).isDirectory()) continue;
    entries.push({ name, takenMs, complete: existsSync(join(dir, name, manifestFileName)) });
  }
  return entries;
}

/** Deletes what the policy does not keep; answers both lists. */
export function pruneBackups(dir: string, policy: BackupPolicy): { keep: string[]; remove: string[] } {
  const plan = planPruning(listBackups(dir), policy);
  for (const name of plan.remove) rmSync(join(dir, name), { recursive: true, force: true });
  return plan;
}

/**
 * Why `dir` cannot take scheduled backups of `dataDir` (null when it can): each snapshot in it would be
 * refused for lying inside the data directory (or holding it), so the server refuses to start instead.
 */
export function backupDirProblem(dir: string, dataDir: string): string | null {
  const path = resolve(dir);
  const problem = pathProblem(path, '--backup-dir');
  if (problem !== null) return problem;
  const real = realPathOf(path);
  if (real === null) return `--backup-dir ${path} cannot be resolved (a dangling or looping symlink, or no permission on the way)`;
  return overlapProblem(real, resolve(dataDir), '--backup-dir', 'data directory');
}

export interface BackupScheduleOptions {
  readonly dir: string;
  readonly everyMs: number;
  readonly policy: BackupPolicy;
}

/** What the schedule needs of the shard set: start a snapshot, and learn how it ended. */
export interface Snapshots {
  startSnapshot(out: string): { id: string };
  snapshotSettled(): Promise<{ state: string; error: string | null } | null>;
}

/**
 * `tally serve --backup-dir`: a snapshot every `everyMs` into `dir`, each followed by pruning (only after a
 * complete one). A run that finds a snapshot already running (an operator's) skips its turn. Returns stop.
 */
export function scheduleBackups(snapshots: Snapshots, options: BackupScheduleOptions, log: (fields: { level: 'error' | 'warn' | 'info'; msg: string; [field: string]: unknown }) => void): () => Promise<void> {
  mkdirSync(options.dir, { recursive: true });
  let running: Promise<void> = Promise.resolve();
  const run = async (): Promise<void> => {
    const out = join(options.dir, backupName(Date.now()));
    try {
      snapshots.startSnapshot(out);
    } catch (error) {
      log({ level: 'warn', msg: 'scheduled backup skipped', out, error: String(error) });
      return;
    }
    const ended = await snapshots.snapshotSettled();
    if (ended?.state !== 'done') {
      log({ level: 'error', msg: 'scheduled backup failed', out, error: ended?.error ?? 'unknown' });
      return;
    }
    const { keep, remove } = pruneBackups(options.dir, options.policy);
    log({ level: 'info', msg: 'backup taken', out, kept: keep.length, removed: remove });
  };
  const timer = setInterval(() => {
    running = running.then(run, run);
  }, options.everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
