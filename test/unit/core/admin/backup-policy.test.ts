// Backup rotation: the newest snapshot of each of the last N hours and M days (UTC) that have one, always
// the newest complete one, never a partial one once a newer complete one exists; names round-trip.

import { describe, expect, it } from 'vitest';
import { backupName, parseBackupName, planPruning, type BackupEntry } from '../../../../src/core/admin/backup-policy.js';

const hour = 3_600_000;
const t0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const entry = (takenMs: number, complete = true): BackupEntry => ({ name: backupName(takenMs), takenMs, complete });

describe('backup pruning', () => {
  it('keeps the newest of each of the last N hours and M days, and drops the rest', () => {
    // Every 30 minutes for three days.
    const entries = Array.from({ length: 144 }, (_, i) => entry(t0 - i * hour / 2));
    const { keep, remove } = planPruning(entries, { hourly: 6, daily: 3 });
    expect(keep.length + remove.length).toBe(144);
    const kept = new Set(keep);
    // Newest of each hour: 12:00, then 11:30, 10:30, … (11:00, 10:00, … are the older ones of their hours).
    expect(kept.has(backupName(t0))).toBe(true);
    for (let h = 1; h < 6; h++) expect(kept.has(backupName(t0 - h * hour + hour / 2))).toBe(true);
    for (let h = 1; h < 6; h++) expect(kept.has(backupName(t0 - h * hour))).toBe(false);
    const days = new Set(keep.map((name) => Math.floor(parseBackupName(name)! / (24 * hour))));
    expect(days.size).toBe(3);
    expect(keep.length).toBeLessThanOrEqual(6 + 3);
  });

  it('always keeps the newest complete snapshot, and a partial one only while it is the newest', () => {
    const entries = [entry(t0 - 3 * hour), entry(t0 - 2 * hour, false), entry(t0 - hour), entry(t0, false)];
    const { keep, remove } = planPruning(entries, { hourly: 0, daily: 0 });
    expect(keep).toEqual([backupName(t0 - hour), backupName(t0)]);
    expect(remove).toEqual([backupName(t0 - 3 * hour), backupName(t0 - 2 * hour)]);
    expect(() => planPruning(entries, { hourly: -1, daily: 0 })).toThrow(RangeError);
  });

  it('names snapshots by UTC second and parses only its own names', () => {
    expect(backupName(t0)).toBe('tally-20261123T120000Z');
    expect(parseBackupName('tally-20261123T120000Z')).toBe(t0);
    for (const other of ['tally-20261323T120000Z', 'tally-2026-11-23', 'notes.txt', 'tally-20261123T120000Z.old']) expect(parseBackupName(other)).toBeNull();
  });
});
