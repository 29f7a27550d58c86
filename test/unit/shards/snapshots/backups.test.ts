// Scheduled backups (tally serve --backup-dir): each run starts a snapshot into a new tally-<time>
// directory and prunes only after a complete one; a run that finds a snapshot running skips its turn.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backupName } from '../../../../src/core/admin/backup-policy.js';
import { listBackups, pruneBackups, scheduleBackups } from '../../../../src/shards/snapshots/backups.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const temp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-backups-'));
  dirs.push(dir);
  return dir;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A snapshot: its directory, and a manifest when it completed. */
function fakeSnapshot(dir: string, name: string, complete: boolean): void {
  mkdirSync(join(dir, name));
  if (complete) writeFileSync(join(dir, name, 'manifest.json'), '{}');
}

describe('backup directories', () => {
  it('list only backup names, and prune by policy leaving other entries alone', () => {
    const dir = temp();
    const t0 = Date.UTC(2026, 10, 23, 12);
    for (let i = 0; i < 5; i++) fakeSnapshot(dir, backupName(t0 - i * 3_600_000), true);
    mkdirSync(join(dir, 'keep-me'));
    writeFileSync(join(dir, 'notes.txt'), 'x');
    expect(listBackups(dir)).toHaveLength(5);
    const { keep, remove } = pruneBackups(dir, { hourly: 2, daily: 0 });
    expect(keep).toHaveLength(2);
    expect(remove).toHaveLength(3);
    expect(readdirSync(dir).sort()).toEqual([...keep, 'keep-me', 'notes.txt'].sort());
  });

  it('are filled by the schedule, which prunes after complete snapshots only and skips a busy turn', async () => {
    const dir = temp();
    const outs: string[] = [];
    let outcome: 'done' | 'failed' | 'busy' = 'done';
    const logs: string[] = [];
    const snapshots = {
      startSnapshot(out: string) {
        if (outcome === 'busy') throw new Error('a snapshot is running; one at a time');
        outs.push(out);
        mkdirSync(out, { recursive: true });
        if (outcome === 'done') writeFileSync(join(out, 'manifest.json'), '{}');
        return { id: out };
      },
      snapshotSettled: () => Promise.resolve({ state: outcome, error: outcome === 'failed' ? 'disk full' : null }),
    };
    const stop = scheduleBackups(snapshots, { dir, everyMs: 30, policy: { hourly: 0, daily: 0 } }, (fields) => logs.push(`${fields.level} ${fields.msg}`));
    await sleep(1100); // names are per second: at least one run lands in a new second
    await stop();
    expect(outs.length, logs.join('\n')).toBeGreaterThan(0);
    expect(listBackups(dir).filter((e) => e.complete)).toHaveLength(1); // policy 0/0 keeps the newest only
    expect(logs.some((line) => line.startsWith('info backup taken')), logs.join('\n')).toBe(true);
    outcome = 'failed';
    const failing = scheduleBackups(snapshots, { dir, everyMs: 30, policy: { hourly: 0, daily: 0 } }, (fields) => logs.push(`${fields.level} ${fields.msg}`));
    await sleep(100);
    await failing();
    expect(logs.some((line) => line.startsWith('error scheduled backup failed'))).toBe(true);
    outcome = 'busy';
    const busy = scheduleBackups(snapshots, { dir, everyMs: 30, policy: { hourly: 0, daily: 0 } }, (fields) => logs.push(`${fields.level} ${fields.msg}`));
    await sleep(100);
    await busy();
    expect(logs.some((line) => line.startsWith('warn scheduled backup skipped'))).toBe(true);
  });
});
