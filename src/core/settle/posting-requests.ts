// A settlement run's linked transfers as create_transfers requests: whole chains only (a chain is posted all or
// nothing, so it never straddles two requests), and chains whose debit accounts live on one shard apart from those
// across shards. Used by the settle service and the settlement bench.

import { assert } from '../assert.js';

/** The linked chains of `transfers` in order: a chain ends at its first transfer not linked to the next. */
export function chainsOf<T>(transfers: readonly T[], isLinked: (transfer: T) => boolean): T[][] {
  const chains: T[][] = [];
  let chain: T[] = [];
  for (const transfer of transfers) {
    chain.push(transfer);
    if (isLinked(transfer)) continue;
    chains.push(chain);
    chain = [];
  }
  assert(chain.length === 0, 'the last transfer ends its chain');
  return chains;
}

/** Requests of at most `size` transfers, filled with whole chains in order. */
export function packChains<T>(chains: readonly (readonly T[])[], size: number): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  for (const chain of chains) {
    assert(chain.length <= size, 'a chain fits one request');
    if (current.length + chain.length > size) {
      requests.push(current);
      current = [];
    }
    current.push(...chain);
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** A run's requests of each kind: chains whose debit accounts live on one shard, and chains across the shards. */
export interface RunRequests<T> {
  readonly within: T[][];
  readonly across: T[][];
}

/**
 * A run's requests: chains whose debit accounts live on one shard apart from those that span shards, each kind
 * packed whole into requests of `size`. The ledger runs a request in a new stage wherever the two kinds alternate
 * (core/wire/request-stages.ts: chains across shards are the coordinator's, decided as a group), and refuses a
 * request of more than requestStagesMax stages; a run's chains are independent, so grouping them changes nothing
 * of what is posted and keeps every request in one stage.
 */
export function requestsOf<T>(transfers: readonly T[], size: number, isLinked: (transfer: T) => boolean, spansShards: (chain: readonly T[]) => boolean): RunRequests<T> {
  const chains = chainsOf(transfers, isLinked);
  return { within: packChains(chains.filter((chain) => !spansShards(chain)), size), across: packChains(chains.filter(spansShards), size) };
}
