// `tally settle strategy submit | approve | reject | list` (issue #18): merchants' fee strategies under maker–checker.
// A version is submitted by one key and applies from its instant once another key approves it; the server checks the
// document and the keys. Here: the strategy file read and parsed before anything connects, the calls, their lines.

import { readFileSync, statSync } from 'node:fs';
import type { Client } from '../client/client.js';
import { assert } from '../core/assert.js';
import { settleStrategyBytesMax, type SettleStrategyChange } from '../core/wire/settle-bodies.js';
import type { SettleCommandLine } from './settle-args.js';
import { settleStrategyUsage } from './settle-args.js';
import { describeChange } from './settle-describe.js';
import { UsageError } from './serve-options.js';

type StrategyLine = Extract<SettleCommandLine, { kind: 'strategy-submit' | 'strategy-approve' | 'strategy-reject' | 'strategy-list' }>;

/**
 * Bytes of a strategy file read at most. The server bounds the document's compact JSON (settleStrategyBytesMax); a
 * file may be pretty-printed, so it is allowed a multiple of that, and anything larger is no strategy document.
 */
const strategyFileBytesMax = 16 * settleStrategyBytesMax;

/** The strategy document of `file`: a JSON object, or a usage error saying what is wrong with the file. */
export function readStrategyDocument(file: string): object {
  const refuse = (why: string) => new UsageError(`--file ${file}: ${why}`, settleStrategyUsage);
  let text: string;
  try {
    if (statSync(file).size > strategyFileBytesMax) throw refuse(`larger than ${strategyFileBytesMax} bytes: no strategy document`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw refuse(`cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw refuse(`is no JSON: ${(error as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw refuse('must hold a JSON object (the strategy document)');
  return document;
}

/** Runs one strategy action; `strategy` is the document readStrategyDocument read for a submit (null otherwise). */
export async function settleStrategyCommand(client: Client, line: StrategyLine, strategy: object | null): Promise<number> {
  if (line.kind === 'strategy-list') {
    const changes = await client.getSettleStrategies({
      ...(line.merchant === null ? {} : { merchant: line.merchant }),
      ...(line.status === null ? {} : { status: line.status }),
      ...(line.limit === null ? {} : { limit: line.limit }),
    });
    console.log(line.json ? JSON.stringify(changes, null, 1) : changes.length === 0 ? 'no strategy changes' : changes.map(describeChange).join('\n'));
    return 0;
  }
  const change = await decide(client, line, strategy);
  console.log(line.json ? JSON.stringify(change, null, 1) : `${headline(line.kind, change)}\n${describeChange(change)}`);
  return 0;
}

function decide(client: Client, line: Exclude<StrategyLine, { kind: 'strategy-list' }>, strategy: object | null): Promise<SettleStrategyChange> {
  if (line.kind === 'strategy-approve') return client.approveSettleStrategy(line.id);
  if (line.kind === 'strategy-reject') return client.rejectSettleStrategy(line.id, line.reason ?? undefined);
  assert(strategy !== null, 'strategy submit without a strategy document (settleCommand reads it before connecting)');
  return client.submitSettleStrategy({ kind: line.strategyKind, merchant: line.merchant, ...(line.product === null ? {} : { product: line.product }), effectiveFrom: line.effectiveFrom, strategy, reason: line.reason });
}

function headline(kind: 'strategy-submit' | 'strategy-approve' | 'strategy-reject', change: SettleStrategyChange): string {
  if (kind === 'strategy-submit') return `submitted ${change.id}: pending until another key approves it (tally settle strategy approve ${change.id})`;
  if (kind === 'strategy-approve') return `approved ${change.id}: it applies from ${change.effectiveFrom}`;
  return `rejected ${change.id}: it never applies`;
}
