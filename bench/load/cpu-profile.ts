// Reads the .cpuprofile files `node --cpu-prof` wrote (one per thread) and lists where self time
// went in each measured window, per thread: the function, its file and line. This is how the bench
// points at hot spots. Profile timestamps are CLOCK_MONOTONIC µs, the clock of process.hrtime, so
// windows measured in the bench process select the same moments in the server's profiles.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileWindow {
  name: string;
  /** process.hrtime.bigint() readings. */
  fromNs: bigint;
  toNs: bigint;
}

export interface HotSpot {
  function: string;
  /** file:line, relative to the repository where possible. */
  location: string;
  /** Share of the thread's samples in the window. */
  selfShare: number;
}

export interface ThreadProfile {
  /** node numbers threads 0 (main), 1, 2, … in the profile's file name. */
  thread: string;
  samples: number;
  /** Share of samples not idle (program + GC + code). */
  busyShare: number;
  top: HotSpot[];
}

export interface WindowProfile {
  window: string;
  threads: ThreadProfile[];
}

/** For each window, the top `limit` self-time entries of every thread's profile in `dir`. */
export async function summariseProfiles(dir: string, repoRoot: string, limit: number, windows: ProfileWindow[]): Promise<WindowProfile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const profiles = await Promise.all(files.map(async (file) => ({ file, profile: JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile })));
  return windows.map((window) => ({
    window: window.name,
    threads: profiles.map(({ file, profile }) => summarise(threadOf(file), profile, repoRoot, limit, window)).filter((t) => t.samples > 0),
  }));
}

/** `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile` → "main" or "worker <thread>". */
function threadOf(file: string): string {
  const thread = file.split('.')[4];
  return thread === '0' ? 'main thread' : `worker thread ${thread}`;
}

function summarise(thread: string, profile: CpuProfile, repoRoot: string, limit: number, window: ProfileWindow): ThreadProfile {
  const fromUs = Number(window.fromNs / 1000n);
  const toUs = Number(window.toNs / 1000n);
  const hits = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i];
    if (at < fromUs || at >= toUs) continue;
    hits.set(profile.samples[i], (hits.get(profile.samples[i]) ?? 0) + 1);
    total++;
  }
  const byFrame = new Map<string, { fn: string; location: string; count: number }>();
  let idle = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += count;
      continue;
    }
    const location = url ? `${shorten(url, repoRoot)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${location}`;
    const entry = byFrame.get(key) ?? { fn: functionName || '(anonymous)', location, count: 0 };
    entry.count += count;
    byFrame.set(key, entry);
  }
  const top = [...byFrame.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, limit)
    .map((e) => ({ function: e.fn, location: e.location, selfShare: e.count / total }));
  return { thread, samples: total, busyShare: total === 0 ? 0 : 1 - idle / total, top };
}

function shorten(url: string, repoRoot: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file.replace(/^.*\/node_modules\//, 'node_modules/');
}
