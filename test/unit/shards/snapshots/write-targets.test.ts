// Where snapshots, backups and restores may write: checked on real paths, so a symlink cannot lead a
// snapshot into the data directory (or a restore into its snapshot), and a path the file system would
// refuse later (a NUL byte, relative) is refused at once, with body_invalid from start_snapshot.

import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TallyError } from '../../../../src/core/errors.js';
import { backupDirProblem } from '../../../../src/shards/snapshots/backups.js';
import { SnapshotRunner } from '../../../../src/shards/snapshots/snapshot-host.js';
import { restoreSnapshot } from '../../../../src/shards/snapshots/snapshot-restore.js';
import { checkNewDirectory, isWithin, realPathOf } from '../../../../src/shards/snapshots/write-targets.js';
import { useTempDirs } from '../../../support/temp-dirs.js';

const tempDir = useTempDirs();

/** A data directory with a shard in it, and an unrelated directory beside it with links into the first. */
function layout() {
  const root = tempDir('tally-targets-');
  const data = join(root, 'data');
  mkdirSync(join(data, 'shard-0'), { recursive: true });
  const elsewhere = join(root, 'elsewhere');
  mkdirSync(elsewhere);
  symlinkSync(data, join(elsewhere, 'to-data'));
  symlinkSync(root, join(elsewhere, 'to-root'));
  symlinkSync(join(data, 'absent'), join(elsewhere, 'dangling'));
  symlinkSync(join(elsewhere, 'loop'), join(elsewhere, 'loop'));
  symlinkSync(data, join(root, 'data-link'));
  writeFileSync(join(elsewhere, 'file'), 'x');
  mkdirSync(join(elsewhere, 'full'));
  writeFileSync(join(elsewhere, 'full', 'x'), 'x');
  return { root, data, elsewhere };
}

function snapshotRefusal(dataDir: string, out: string): string {
  // The target is checked before any worker or barrier is involved: a refusal never gets that far.
  const runner = new SnapshotRunner(dataDir, 1, () => Promise.reject(new Error('the barrier is never reached by a refused target')));
  try {
    runner.start(out);
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    expect((error as TallyError).code).toBe('body_invalid');
    return (error as TallyError).message;
  }
  throw new Error(`start_snapshot accepted ${JSON.stringify(out)}`);
}

describe('snapshot targets', () => {
  const refused: [string, (l: ReturnType<typeof layout>) => string, RegExp][] = [
    ['inside the data directory', (l) => join(l.data, 'snap'), /inside the data directory/],
    ['the data directory itself', (l) => l.data, /inside the data directory/],
    ['inside the data directory through a symlink', (l) => join(l.elsewhere, 'to-data', 'snap'), /inside the data directory/],
    ['the data directory through a symlink', (l) => join(l.elsewhere, 'to-data'), /inside the data directory/],
    ['the data directory by its name under a linked parent', (l) => join(l.elsewhere, 'to-root', 'data'), /inside the data directory/],
    ['a directory whose name starts with two dots, inside the data directory', (l) => join(l.data, '..snap'), /inside the data directory/],
    ['a directory holding the data directory', (l) => l.root, /holds the data directory/],
    ['a symlink to a directory holding the data directory', (l) => join(l.elsewhere, 'to-root'), /holds the data directory/],
    ['a dangling symlink into the data directory', (l) => join(l.elsewhere, 'dangling'), /cannot be resolved/],
    ['a path under a dangling symlink', (l) => join(l.elsewhere, 'dangling', 'snap'), /cannot be resolved/],
    ['a symlink loop', (l) => join(l.elsewhere, 'loop', 'snap'), /cannot be resolved/],
    ['a path with a NUL byte', (l) => join(l.elsewhere, 'sn\0ap'), /NUL byte/],
    ['a relative path', () => 'relative/snap', /absolute path/],
    ['an empty path', () => '', /non-empty path/],
    ['a path under a file', (l) => join(l.elsewhere, 'file', 'snap'), /parent .* is not an existing directory/],
    ['a path whose parent is absent', (l) => join(l.elsewhere, 'absent', 'snap'), /parent .* is not an existing directory/],
    ['a file', (l) => join(l.elsewhere, 'file'), /not an empty directory/],
    ['a directory that is not empty', (l) => join(l.elsewhere, 'full'), /not an empty directory/],
  ];
  it.each(refused)('refuse %s with body_invalid, creating nothing', (_name, target, message) => {
    const l = layout();
    expect(snapshotRefusal(l.data, target(l))).toMatch(message);
    expect(existsSync(join(l.data, 'snap'))).toBe(false);
    expect(existsSync(join(l.data, '..snap'))).toBe(false);
  });

  it('refuse a target inside the data directory when the server was given the data directory through a symlink', () => {
    const l = layout();
    expect(snapshotRefusal(join(l.root, 'data-link'), join(l.data, 'snap'))).toMatch(/inside the data directory/);
  });

  it('accept a new or empty directory away from the data directory, answering its real path', () => {
    const l = layout();
    expect(checkNewDirectory(join(l.elsewhere, 'snap'), l.data, 'snapshot target', 'data directory')).toEqual({ path: join(l.elsewhere, 'snap') });
    expect(checkNewDirectory(`${l.data}-snap`, l.data, 'snapshot target', 'data directory')).toEqual({ path: `${l.data}-snap` });
    mkdirSync(join(l.root, 'empty'));
    symlinkSync(join(l.root, 'empty'), join(l.elsewhere, 'to-empty'));
    expect(checkNewDirectory(join(l.elsewhere, 'to-empty'), l.data, 'snapshot target', 'data directory')).toEqual({ path: join(l.root, 'empty') });
  });

  it('resolve the existing part of a path and keep the rest', () => {
    const l = layout();
    expect(realPathOf(join(l.elsewhere, 'to-data', 'a', 'b'))).toBe(join(l.data, 'a', 'b'));
    expect(realPathOf(join(l.elsewhere, 'dangling'))).toBeNull();
    expect(isWithin('/a/b', '/a')).toBe(true);
    expect(isWithin('/a', '/a')).toBe(true);
    expect(isWithin('/a/..b', '/a')).toBe(true);
    expect(isWithin('/ab', '/a')).toBe(false);
    expect(isWithin('/', '/a')).toBe(false);
  });
});

describe('restore targets', () => {
  it.each([
    ['inside the snapshot', (snap: string, _l: ReturnType<typeof layout>) => join(snap, 'data'), /inside the snapshot/],
    ['inside the snapshot through a symlink', (snap: string, l: ReturnType<typeof layout>) => (symlinkSync(snap, join(l.elsewhere, 'to-snap')), join(l.elsewhere, 'to-snap', 'data')), /inside the snapshot/],
    ['holding the snapshot', (_snap: string, l: ReturnType<typeof layout>) => l.root, /holds the snapshot/],
    ['with a NUL byte', (_snap: string, l: ReturnType<typeof layout>) => join(l.elsewhere, 'da\0ta'), /NUL byte/],
  ])('refuse a target %s, writing nothing', async (_name, target, message) => {
    const l = layout();
    const snap = join(l.root, 'snap');
    mkdirSync(snap);
    await expect(restoreSnapshot(snap, target(snap, l))).rejects.toThrow(message);
    expect(existsSync(join(snap, 'data'))).toBe(false);
  });
});

describe('serve --backup-dir', () => {
  it('is refused inside the data directory (also through a symlink) or holding it, and accepted away from it', () => {
    const l = layout();
    expect(backupDirProblem(join(l.data, 'backups'), l.data)).toMatch(/inside the data directory/);
    expect(backupDirProblem(join(l.elsewhere, 'to-data', 'backups'), l.data)).toMatch(/inside the data directory/);
    expect(backupDirProblem(l.root, l.data)).toMatch(/holds the data directory/);
    expect(backupDirProblem(join(l.elsewhere, 'ba\0ckups'), l.data)).toMatch(/NUL byte/);
    expect(backupDirProblem(join(l.elsewhere, 'backups'), l.data)).toBeNull();
  });
});
