// Which scheduled snapshots a backup directory keeps (tally backup): the newest snapshot of each of the
// last `hourly` hours that have one, and of each of the last `daily` days (UTC) that have one — the
// usual grandfather–father rotation. The newest complete snapshot is always kept; a partial one (no
// manifest: interrupted) is never kept once a newer complete one exists. Pure: the caller lists and deletes.

export interface BackupPolicy {
  /** Hours (each its newest snapshot) kept, counting hours that have a snapshot. */
  readonly hourly: number;
  /** Days (UTC, each its newest snapshot) kept, counting days that have a snapshot. */
  readonly daily: number;
}

export interface BackupEntry {
  readonly name: string;
  /** When the snapshot was taken (ms since the epoch), from its name. */
  readonly takenMs: number;
  /** True when its manifest exists. */
  readonly complete: boolean;
}

/** Names to keep and to delete; every entry lands in exactly one list. */
export function planPruning(entries: readonly BackupEntry[], policy: BackupPolicy): { keep: string[]; remove: string[] } {
  if (!Number.isInteger(policy.hourly) || policy.hourly < 0 || !Number.isInteger(policy.daily) || policy.daily < 0) {
    throw new RangeError(`backup policy needs whole numbers of hours and days, got ${policy.hourly} and ${policy.daily}`);
  }
  const complete = entries.filter((e) => e.complete).sort((a, b) => b.takenMs - a.takenMs);
  const keep = new Set<string>();
  if (complete.length > 0) keep.add(complete[0]!.name);
  const keepNewestPer = (bucketOf: (ms: number) => number, count: number): void => {
    const seen = new Set<number>();
    for (const entry of complete) {
      const bucket = bucketOf(entry.takenMs);
      if (seen.has(bucket)) continue;
      if (seen.size >= count) break;
      seen.add(bucket);
      keep.add(entry.name);
    }
  };
  keepNewestPer((ms) => Math.floor(ms / 3_600_000), policy.hourly);
  keepNewestPer((ms) => Math.floor(ms / 86_400_000), policy.daily);
  // A partial snapshot newer than every complete one may still be being written (a run in progress).
  const newestCompleteMs = complete[0]?.takenMs ?? -Infinity;
  for (const entry of entries) if (!entry.complete && entry.takenMs > newestCompleteMs) keep.add(entry.name);
  return { keep: entries.filter((e) => keep.has(e.name)).map((e) => e.name), remove: entries.filter((e) => !keep.has(e.name)).map((e) => e.name) };
}

/** A backup snapshot's directory name: `tally-YYYYMMDDTHHMMSSZ` (UTC), sortable and parseable. */
export function backupName(takenMs: number): string {
  const iso = new Date(takenMs).toISOString(); // 2026-11-23T17:54:32.123Z
  return `tally-${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** The time in a backup name, or null for a name that is not one (left alone by pruning). */
export function parseBackupName(name: string): number | null {
  const match = /^tally-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(name);
  if (match === null) return null;
  const [, y, mo, d, h, mi, s] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(ms) || backupName(ms) !== name ? null : ms;
}
