// What the server holds, read from outside it: its memory from /proc/<pid>/status (Linux; RssAnon is the
// heap and other private memory, VmRSS adds the LMDB map pages resident in the page cache) and its
// data dir's size on disk (allocated blocks, as `du` counts them: LMDB files are sparse).

import { readFileSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface ProcessMemory {
  rssAnonBytes: number;
  vmRssBytes: number;
}

/** Bytes per block of st_blocks (POSIX: 512 whatever the file system's block size). */
const statBlockBytes = 512;

/**
 * RssAnon and VmRSS from the text of /proc/<pid>/status ("RssAnon:\t  123456 kB" lines); null when
 * either is missing (not Linux, or a kernel older than 4.5 without RssAnon).
 */
export function parseProcStatus(text: string): ProcessMemory | null {
  const rssAnonBytes = statusBytes(text, 'RssAnon');
  const vmRssBytes = statusBytes(text, 'VmRSS');
  return rssAnonBytes === null || vmRssBytes === null ? null : { rssAnonBytes, vmRssBytes };
}

/** One "Field:\t  123 kB" line of /proc/<pid>/status in bytes; null when the field is not there. */
function statusBytes(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  return match === null ? null : Number(match[1]) * 1024;
}

/** VmHWM (the peak resident set since the start or the last resetPeakMemory) from /proc/<pid>/status text. */
export function parsePeakBytes(text: string): number | null {
  return statusBytes(text, 'VmHWM');
}

/** The process's VmHWM now, or null when /proc cannot tell. */
export function readPeakBytes(pid: number): number | null {
  try {
    return parsePeakBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Starts a new peak for VmHWM (5 to /proc/<pid>/clear_refs, Linux ≥ 4.0, a process of the same user), so that a
 * phase's peak is not an earlier phase's. False when it cannot (then VmHWM is the peak since the start).
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The process's memory now, or null when /proc cannot tell (the process is gone, or not Linux). */
export function readProcessMemory(pid: number): ProcessMemory | null {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Bytes allocated on disk under `at`, every file and subdirectory included (symlinks not followed). A file
 * the server deletes while this walks (an old checkpoint, a temp file) counts as 0.
 */
export async function diskBytes(at: string): Promise<number> {
  try {
    const info = await stat(at);
    let total = info.blocks * statBlockBytes;
    if (!info.isDirectory()) return total;
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (!entry.isSymbolicLink()) total += await diskBytes(path.join(at, entry.name));
    }
    return total;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}
