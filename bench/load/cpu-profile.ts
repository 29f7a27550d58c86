// Reads the .cpuprofile files `node --cpu-prof` wrote (one per thread) and lists where self time
// went, per thread: the function, its file and line. This is how the bench points at hot spots.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface HotSpot {
  function: string;
  /** file:line, relative to the repository where possible. */
  location: string;
  selfMs: number;
  /** Share of the thread's sampled time. */
  selfShare: number;
}

export interface ThreadProfile {
  file: string;
  /** Sampled wall time of the thread, ms. */
  sampledMs: number;
  /** Share of samples not idle (program + GC + code). */
  busyShare: number;
  top: HotSpot[];
}

/** The top `limit` self-time entries of every profile in `dir`, busiest thread first. */
export async function summariseProfiles(dir: string, repoRoot: string, limit: number): Promise<ThreadProfile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const threads = await Promise.all(files.map(async (file) => summarise(file, JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile, repoRoot, limit)));
  return threads.sort((a, b) => b.busyShare * b.sampledMs - a.busyShare * a.sampledMs);
}

function summarise(file: string, profile: CpuProfile, repoRoot: string, limit: number): ThreadProfile {
  const sampledMs = (profile.endTime - profile.startTime) / 1000;
  const hits = new Map<number, number>();
  if (profile.samples) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  else for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  let total = 0;
  for (const count of hits.values()) total += count;
  const byFrame = new Map<string, { fn: string; location: string; count: number }>();
  let idle = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idle += count;
    const location = url ? `${shorten(url, repoRoot)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${location}`;
    const entry = byFrame.get(key) ?? { fn: functionName || '(anonymous)', location, count: 0 };
    entry.count += count;
    byFrame.set(key, entry);
  }
  const msPerSample = total === 0 ? 0 : sampledMs / total;
  const top = [...byFrame.values()]
    .filter((e) => e.fn !== '(idle)')
    .sort((a, b) => b.count - a.count)
    .slice(0, limit)
    .map((e) => ({ function: e.fn, location: e.location, selfMs: e.count * msPerSample, selfShare: total === 0 ? 0 : e.count / total }));
  return { file, sampledMs, busyShare: total === 0 ? 0 : 1 - idle / total, top };
}

function shorten(url: string, repoRoot: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  return file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file.replace(/^.*\/node_modules\//, 'node_modules/');
}
