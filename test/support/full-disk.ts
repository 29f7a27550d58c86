// A disk that fills up on demand, for full-disk fault specs. First choice: a small tmpfs mounted for the
// spec and filled by a file written until ENOSPC (space returns when it is deleted): a real full disk.
// Where mounting is refused (no privilege), the fallback lowers a process's file size limit (RLIMIT_FSIZE,
// via prlimit) to the size of its LMDB data files, so that their growth fails (EFBIG; Node ignores
// SIGXFSZ), and raises it again. lmdb-js cannot be given a capped map instead: its LMDB grows the map
// whenever it fills (mdb_page_alloc), so MDB_MAP_FULL never reaches a caller.
// TALLY_DISK_FULL_MECHANISM=tmpfs|fsize picks one. When neither works, prepareFullDisk throws: never a skip.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FullDisk {
  /** How this disk fills, for the log. */
  readonly name: string;
  /** A fresh directory on that disk for the stores under test. */
  readonly dir: string;
  /** Takes every byte left (tmpfs), or caps process `pid`'s files at their present size (fsize). */
  fill(pid: number): void;
  /** tmpfs only (null otherwise): takes all but `freeBytes` of what is left, as statfs counts it. */
  readonly fillLeaving: ((freeBytes: number) => void) | null;
  /** Gives the space back. */
  free(pid: number): void;
  /** Unmounts and removes everything (call once the stores are closed or their process is gone). */
  dispose(): void;
}

/** `tmpfsOnly`: for specs that need statfs to see the space (a file size limit would not do). */
export function prepareFullDisk(tmpfsBytes: number, { tmpfsOnly = false } = {}): FullDisk {
  const wanted = tmpfsOnly ? 'tmpfs' : process.env.TALLY_DISK_FULL_MECHANISM;
  if (wanted !== undefined && wanted !== 'tmpfs' && wanted !== 'fsize') throw new Error(`TALLY_DISK_FULL_MECHANISM must be tmpfs or fsize, got ${wanted}`);
  const refusals: string[] = [];
  if (wanted !== 'fsize') {
    const tmpfs = mountTmpfs(tmpfsBytes, refusals);
    if (tmpfs !== null) return tmpfs;
  }
  if (wanted !== 'tmpfs') {
    const limit = fileSizeLimit(refusals);
    if (limit !== null) return limit;
  }
  throw new Error(`cannot make a disk full here (a full-disk spec never skips):\n- ${refusals.join('\n- ')}`);
}

/** A tmpfs of `bytes` at a fresh directory: a real ENOSPC once a filler file takes what is left. */
function mountTmpfs(bytes: number, refusals: string[]): FullDisk | null {
  const mountPoint = mkdtempSync(join(tmpdir(), 'tally-disk-full-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tally-disk-full', mountPoint], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    rmSync(mountPoint, { recursive: true, force: true });
    refusals.push(`mount -t tmpfs: ${mounted.error?.message ?? mounted.stderr.trim()} (status ${String(mounted.status)})`);
    return null;
  }
  const filler = join(mountPoint, 'filler');
  const dir = join(mountPoint, 'data');
  mkdirSync(dir);
  return {
    name: `a ${bytes} B tmpfs at ${mountPoint}, filled by ${filler}`,
    dir,
    fill() {
      fillUntilFull(filler);
    },
    fillLeaving(freeBytes) {
      const stats = statfsSync(mountPoint);
      const take = stats.bavail * stats.bsize - freeBytes;
      if (take <= 0) throw new Error(`full-disk: only ${stats.bavail * stats.bsize} bytes are free, cannot leave ${freeBytes}`);
      const fd = openSync(filler, 'a');
      try {
        for (let left = take; left > 0; ) left -= writeSync(fd, Buffer.alloc(Math.min(left, 1024 * 1024), 0xee));
      } finally {
        closeSync(fd);
      }
    },
    free() {
      unlinkSync(filler);
    },
    dispose() {
      const unmounted = spawnSync('umount', [mountPoint], { encoding: 'utf8' });
      if (unmounted.status !== 0) spawnSync('umount', ['-l', mountPoint]); // lazily, if something still holds it
      rmSync(mountPoint, { recursive: true, force: true });
    },
  };
}

/** Writes `path` until the file system refuses (ENOSPC), in ever smaller pieces; returns the bytes written. */
function fillUntilFull(path: string): number {
  const fd = openSync(path, 'a');
  let written = 0;
  try {
    for (let piece = 1024 * 1024; piece >= 4096; piece /= 2) {
      const bytes = Buffer.alloc(piece, 0xee);
      for (;;) {
        try {
          const n = writeSync(fd, bytes);
          written += n;
          if (n < piece) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** The fallback: a process's RLIMIT_FSIZE lowered to its data files' size (EFBIG past it), then raised. */
function fileSizeLimit(refusals: string[]): FullDisk | null {
  const probe = spawnSync('prlimit', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    refusals.push(`prlimit (util-linux): ${probe.error?.message ?? probe.stderr.trim()}`);
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tally-disk-full-'));
  const prlimit = (pid: number, limit: string): void => {
    const done = spawnSync('prlimit', ['--pid', String(pid), `--fsize=${limit}`], { encoding: 'utf8' });
    if (done.status !== 0) throw new Error(`prlimit --pid ${pid} --fsize=${limit}: ${done.error?.message ?? done.stderr.trim()}`);
  };
  return {
    name: `a file size limit (RLIMIT_FSIZE) over ${dir}`,
    dir,
    fillLeaving: null,
    fill(pid) {
      const sizes = dataFiles(dir).map((file) => statSync(file).size);
      if (sizes.length === 0) throw new Error(`full-disk: no LMDB data file under ${dir} to cap`);
      prlimit(pid, `${Math.max(...sizes)}:unlimited`);
    },
    free(pid) {
      prlimit(pid, 'unlimited:unlimited');
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every LMDB data file under `dir`. */
function dataFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('data.mdb'))
    .map((name) => join(dir, name));
}
