// What the fuzzer counts and prints: requests by operation, results and errors by code, restarts, checks,
// failures (each with the step it came at), the progress line every ~10 s and the summary at the end.

import type { Family } from './families.js';

export interface Failure {
  step: number;
  what: string;
  /** Failures of the same shape after this one (numbers aside), counted instead of printed. */
  repeats: number;
}

/** A failure's shape: its text with numbers and paths blanked, so repeats of one fault count once. */
function shapeOf(what: string): string {
  return what.replace(/\/[^\s:]+/g, '…').replace(/\d+/g, '#').slice(0, 160);
}

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function table(map: ReadonlyMap<string, number>): string {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(', ') || '—';
}

export class Stats {
  readonly requests = new Map<string, number>();
  readonly results = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly failures: Failure[] = [];
  /** Per action kind: count, total and slowest wall-clock ms. */
  readonly timings = new Map<string, { count: number; totalMs: number; maxMs: number }>();
  restarts = 0;
  restartsBySigterm = 0;
  /** Day reports rebuilt after a kill cut their close short, whose transit check could not run (a known limit). */
  reportsRebuiltUnchecked = 0;
  checksPassed = 0;
  verifiesPassed = 0;
  healthPolls = 0;
  healthSlowestMs = 0;
  steps = 0;
  readonly startMs = performance.now();

  request(operation: string): void {
    bump(this.requests, operation);
  }

  result(name: string): void {
    bump(this.results, name);
  }

  error(operation: string, code: string): void {
    bump(this.errors, `${operation}:${code}`);
  }

  timing(kind: string, ms: number): void {
    const t = this.timings.get(kind) ?? { count: 0, totalMs: 0, maxMs: 0 };
    t.count++;
    t.totalMs += ms;
    t.maxMs = Math.max(t.maxMs, ms);
    this.timings.set(kind, t);
  }

  fail(step: number, what: string, seed: number): void {
    const shape = shapeOf(what);
    const earlier = this.failures.find((f) => shapeOf(f.what) === shape);
    if (earlier !== undefined) {
      earlier.repeats++;
      return;
    }
    this.failures.push({ step, what, repeats: 0 });
    console.log(`\nFAIL (seed ${seed}, step ${step}): ${what}\n`);
  }

  progress(totalMs: number): void {
    const seconds = (performance.now() - this.startMs) / 1000;
    const requests = [...this.requests.values()].reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: ${seconds.toFixed(0)}/${(totalMs / 1000).toFixed(0)} s, step ${this.steps}, ${requests} requests (${(requests / Math.max(seconds, 1)).toFixed(0)}/s), ` +
        `restarts ${this.restarts}, checks passed ${this.checksPassed}, failures ${this.failures.length}`,
    );
  }

  summary(seed: number, families: ReadonlySet<Family>, command: string): string {
    const seconds = (performance.now() - this.startMs) / 1000;
    const lines = [
      '',
      `fuzz summary (seed ${seed}, ${seconds.toFixed(1)} s, ${this.steps} steps)`,
      `  families: ${[...families].join(', ')}`,
      `  requests by operation: ${table(this.requests)}`,
      `  results by code: ${table(this.results)}`,
      `  errors by operation:code: ${table(this.errors)}`,
      `  slowest actions (kind: count, mean ms, max ms): ${[...this.timings.entries()]
        .sort((a, b) => b[1].maxMs - a[1].maxMs)
        .slice(0, 6)
        .map(([kind, t]) => `${kind} ${t.count}, ${(t.totalMs / t.count).toFixed(0)}, ${t.maxMs.toFixed(0)}`)
        .join('; ')}`,
      `  restarts: ${this.restarts} (${this.restartsBySigterm} by SIGTERM)`,
      `  day reports rebuilt after a close cut short, transit at the cut not checkable (known limit): ${this.reportsRebuiltUnchecked}`,
      `  ledger checks passed: ${this.checksPassed}, tally verify passed: ${this.verifiesPassed}`,
      `  GET /health polls: ${this.healthPolls}, slowest ${this.healthSlowestMs.toFixed(0)} ms`,
    ];
    if (this.failures.length === 0) lines.push('fuzz: PASSED');
    else {
      lines.push(`fuzz: FAILED (${this.failures.length} failure${this.failures.length === 1 ? '' : 's'}, seed ${seed})`);
      for (const f of this.failures) lines.push(`  step ${f.step}: ${f.what}${f.repeats > 0 ? ` (and ${f.repeats} more like it)` : ''}`);
      lines.push(`  replay: ${command}`);
    }
    return lines.join('\n');
  }
}
