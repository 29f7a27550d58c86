// Every LMDB environment a data directory holds, and the databases inside each: what a snapshot copies
// and a restore expects. One list, next to the stores' own open calls (journal-store.ts, bookkeeping-
// store.ts, chain-log.ts, admin-store.ts, recon-store.ts, settle-store.ts): a new store or database must be added here too.

import { join } from 'node:path';

export interface StoreSpec {
  /** Directory under the data directory (an lmdb-js environment: data.mdb and lock.mdb). */
  readonly dir: string;
  /** Named databases; an empty list means the entries live in the environment's root database. */
  readonly dbs: readonly string[];
  /** Absent in a data directory that never ran that part (e.g. no admin store before the first serve). */
  readonly optional: boolean;
}

/** The stores of a data directory of `shardCount` shards, shards first. */
export function storeCatalog(shardCount: number): StoreSpec[] {
  const stores: StoreSpec[] = [];
  for (let shard = 0; shard < shardCount; shard++) stores.push({ dir: `shard-${shard}`, dbs: ['meta', 'journal', 'entryPieces', 'days', 'history', 'idx', 'idTimes', 'idBuckets', 'idStragglers', 'transferIndex'], optional: false });
  stores.push({ dir: 'bookkeeping', dbs: ['vouchers', 'reports'], optional: true });
  stores.push({ dir: 'chains', dbs: [], optional: true });
  stores.push({ dir: 'admin', dbs: ['audit', 'adjustments'], optional: true });
  // Reconciliation (src/recon/recon-store.ts reconStoreDbs): statement files, batches, exceptions, pools.
  stores.push({ dir: 'recon', dbs: ['files', 'uploads', 'batches', 'identities', 'exceptions', 'pool', 'actions'], optional: true });
  // Settlement (src/settle/settle-store.ts settleStoreDbs): strategy changes, run state, runs, statements.
  stores.push({ dir: 'settle', dbs: ['changes', 'state', 'runs', 'statements', 'statementLines'], optional: true });
  return stores;
}

/** The data file of an environment, relative to the data directory. */
export function dataFileOf(store: StoreSpec): string {
  return join(store.dir, 'data.mdb');
}
