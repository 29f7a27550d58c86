// `--cpu-prof DIR`: the bench profiles itself (node:inspector's sampling profiler, the one `node --cpu-prof`
// uses), writes the .cpuprofile to DIR, and tells per phase where the time went — self time per function, and
// the share of samples with a function anywhere on the stack (inclusive), which is what says "fee evaluation
// spends X in building its trace" when the self time is spread over many small callees.

import { Session } from 'node:inspector/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Window {
  readonly name: string;
  /** process.hrtime.bigint() readings: the profile's clock, in ns. */
  readonly fromNs: bigint;
  readonly toNs: bigint;
}

export interface Share {
  readonly frame: string;
  readonly share: number;
}

export interface WindowSummary {
  readonly window: string;
  readonly samples: number;
  readonly self: readonly Share[];
  readonly inclusive: readonly Share[];
}

/** Frames on every stack of a phase (the profiler's own, and the bench's wrappers), left out of the inclusive list. */
function onEveryStack(node: ProfileNode): boolean {
  const { functionName, url } = node.callFrame;
  return url === '' ? functionName.startsWith('(') && functionName !== '(garbage collector)' : /\/dist\/bench\//.test(url);
}

export class SelfProfiler {
  readonly #session = new Session();

  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post('Profiler.enable');
    // 0.5 ms: a finer grain than --cpu-prof's default 1 ms, still cheap next to the phases it samples.
    await this.#session.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.#session.post('Profiler.start');
  }

  /** Stops, writes the profile into `dir` and answers its path and the profile. */
  async stop(dir: string): Promise<{ file: string; profile: CpuProfile }> {
    const { profile } = (await this.#session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
    this.#session.disconnect();
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `CPU.settle.${new Date().toISOString().replace(/[:.]/g, '')}.${process.pid}.0.cpuprofile`);
    await writeFile(file, JSON.stringify(profile));
    return { file, profile };
  }
}

function frameOf(node: ProfileNode, repoRoot: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const where = file === '' ? '' : ` ${file.startsWith(repoRoot) ? path.relative(repoRoot, file) : file.replace(/^.*\/node_modules\//, '')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

/** For each window, the top `limit` frames by self time and by inclusive time. */
export function summariseWindows(profile: CpuProfile, repoRoot: string, windows: readonly Window[], limit: number): WindowSummary[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const frames = new Map(profile.nodes.map((node) => [node.id, frameOf(node, repoRoot)]));
  return windows.map((window) => {
    const fromUs = Number(window.fromNs / 1000n);
    const toUs = Number(window.toNs / 1000n);
    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    let samples = 0;
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i]!;
      if (at < fromUs || at >= toUs) continue;
      samples++;
      const leaf = profile.samples[i]!;
      const leafFrame = frames.get(leaf)!;
      self.set(leafFrame, (self.get(leafFrame) ?? 0) + 1);
      // A recursive function counts once per sample, however deep it recurses.
      const onStack = new Set<string>();
      for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
        if (!onEveryStack(byId.get(id)!)) onStack.add(frames.get(id)!);
      }
      for (const frame of onStack) inclusive.set(frame, (inclusive.get(frame) ?? 0) + 1);
    }
    const top = (counts: Map<string, number>): Share[] =>
      [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([frame, count]) => ({ frame, share: count / Math.max(1, samples) }));
    return { window: window.name, samples, self: top(self), inclusive: top(inclusive) };
  });
}

export function printWindows(summaries: readonly WindowSummary[]): void {
  console.log('\nCPU profile of the bench (main thread), per phase:');
  for (const summary of summaries) {
    console.log(`  ${summary.window} (${summary.samples} samples)`);
    console.log('    self time:');
    for (const share of summary.self) console.log(`      ${(share.share * 100).toFixed(1).padStart(5)}%  ${share.frame}`);
    console.log('    on the stack (inclusive):');
    for (const share of summary.inclusive) console.log(`      ${(share.share * 100).toFixed(1).padStart(5)}%  ${share.frame}`);
  }
}
