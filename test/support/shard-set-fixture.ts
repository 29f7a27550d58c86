// Shard sets on real worker threads for integration specs: a fresh temp data directory per test, and
// every set a test started closed (and the directory removed) after it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeResults, encodeAccounts, encodeTransfers, type AccountInput, type TransferInput } from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { startShards, type ShardSet, type StartShardsOptions } from '../../src/shards/set/shard-set.js';

/** Relay intervals short enough that cross-shard credits land within a test's patience. */
export const fastTransit = { tickMs: 5, reconcileMs: 100, retryMs: 20 } as const;

export interface ShardSetFixture {
  /** Starts a set on this test's data directory (closed after the test). */
  start(): Promise<ShardSet>;
  /** Closes `set` and starts a new one on the same data directory. */
  restart(set: ShardSet): Promise<ShardSet>;
  /** Closes `set` (the test works on the directory before starting again). */
  close(set: ShardSet): Promise<void>;
  /** This test's data directory. */
  readonly dataDir: string;
}

/** Registers the per-test hooks; call at module level. `options`: everything but the data directory. */
export function useShardSets(prefix: string, options: Omit<StartShardsOptions, 'dataDir'>): ShardSetFixture {
  let dataDir = '';
  const started: ShardSet[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const set of started.splice(0)) await set.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const start = async (): Promise<ShardSet> => {
    const set = await startShards({ ...options, dataDir });
    started.push(set);
    return set;
  };
  const close = async (set: ShardSet): Promise<void> => {
    await set.close();
    started.splice(started.indexOf(set), 1);
  };
  return {
    start,
    close,
    async restart(set) {
      await close(set);
      return start();
    },
    get dataDir() {
      return dataDir;
    },
  };
}

/** `count` account ids from `from` on that route to `shard` of `shardCount`. */
export function idsOnShard(shard: number, count: number, from: bigint, shardCount: number): bigint[] {
  const ids: bigint[] = [];
  for (let id = from; ids.length < count; id++) if (shardOfId(id, shardCount) === shard) ids.push(id);
  return ids;
}

/** Creates `accounts` on `set`, every one expected `ok`. */
export async function openAccounts(set: ShardSet, accounts: readonly AccountInput[]): Promise<void> {
  const created = decodeResults(await set.execute(Operation.create_accounts, encodeAccounts([...accounts])));
  expect(created.map((r) => r.result)).toEqual(accounts.map(() => 'ok'));
}

/** A transfer in specs' short form, on `ledger` with code 1. */
export function transferOn(ledger: number) {
  return (id: bigint, debitAccountId: bigint, creditAccountId: bigint, amount = 10n, flags = 0, pendingId = 0n): TransferInput => ({
    id,
    debitAccountId,
    creditAccountId,
    amount,
    ledger,
    code: 1,
    flags,
    pendingId,
  });
}

/** The result codes of one create_transfers request. */
export async function transferResults(set: ShardSet, transfers: TransferInput[]): Promise<string[]> {
  return decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(transfers))).map((r) => r.result as string);
}

/**
 * Runs `steps` on a set of one shard, then on a set of two: every answer must be equal (issue #14: one answer
 * wherever accounts live), and is returned for the spec to write out.
 */
export function onOneAndTwo(one: ShardSetFixture, two: ShardSetFixture) {
  return async <T>(steps: (set: ShardSet, restart: (set: ShardSet) => Promise<ShardSet>) => Promise<T[]>): Promise<T[]> => {
    const single = await steps(await one.start(), (set) => one.restart(set));
    const split = await steps(await two.start(), (set) => two.restart(set));
    expect(split).toEqual(single);
    return split;
  };
}
