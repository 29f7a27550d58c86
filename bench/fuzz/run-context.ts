// What an action needs of the run while it executes (the model, the stats, the clients, whether the
// server is up), and how a call that threw is judged: refused, unknown (a stop explains it), or a failure.

import { TallyError } from '../../src/client/index.js';
import type { Clients } from './clients.js';
import type { Model } from './model.js';
import type { Stats } from './report.js';

/** Errors a stop of the server explains: the call's outcome is unknown, nothing more. */
const stopErrors: ReadonlySet<string> = new Set(['connection_closed', 'shard_unavailable', 'shutting_down', 'timeout']);

export interface RunContext {
  readonly model: Model;
  readonly stats: Stats;
  readonly clients: Clients;
  readonly shardCount: number;
  /** Stops so far: an error on a call begun before the latest stop is the stop's doing. */
  epoch(): number;
  /** False from the moment the server is being stopped until it has restarted. */
  up(): boolean;
  fail(step: number, what: string): void;
}

/** The outcome of a call that threw: refused when its code is one of `refusals`, else unknown; fails the run when no stop explains it. */
export function failedCall(ctx: RunContext, step: number, epoch: number, label: string, error: unknown, refusals: readonly string[]): 'refused' | 'unknown' {
  const code = error instanceof TallyError ? error.code : 'exception';
  ctx.stats.error(label, code);
  if (refusals.includes(code)) return 'refused';
  if (code === 'overloaded') return 'unknown';
  if (stopErrors.has(code) && (!ctx.up() || ctx.epoch() !== epoch)) return 'unknown';
  const hint = code === 'timeout' ? ' (no answer while the server ran: a hang?)' : code === 'shard_unavailable' ? ' (a shard worker died)' : '';
  ctx.fail(step, `${label}: ${error instanceof Error ? error.message : String(error)}${hint}`);
  return 'unknown';
}
