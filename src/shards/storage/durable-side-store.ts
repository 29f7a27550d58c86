// The LMDB environments of the main thread's own stores (admin, recon, settle), opened and written the one way that
// keeps their promise: a write resolves only once its commit is on disk, and a failed write rejects that write
// alone with a clear error, never a silent drop.

import { open, type Database, type RootDatabase } from 'lmdb';
import { AssertionError } from '../../core/assert.js';
import { TallyError } from '../../core/errors.js';
import { storageFailure } from './commit-failures.js';
import { lowSpaceError } from './storage-health.js';

/** Opens the environment at `path` for `maxDbs` named databases (store-catalog.ts lists them for snapshots). */
export function openDurableEnvironment(path: string, maxDbs: number): RootDatabase {
  return open({
    path,
    overlappingSync: false, // a commit is fsync'd before its promise resolves: a reply follows durable data
    noSync: false,
    noMetaSync: false,
    useWritemap: false, // also what childTransaction needs
    // One commit per write: a failed commit (full disk) rejects that write's promise only — with event-turn
    // batching lmdb-js also rejects a batch promise nobody awaits, and on the main thread that ends the process.
    eventTurnBatching: false,
    compression: false,
    cache: false, // childTransaction is unavailable with caching
    maxDbs,
    pageSize: 4096,
    noMemInit: false,
  });
}

/**
 * Opens the environment at `path` with one database per name (string values, `binary` ones raw bytes; ordered keys).
 * The environment is closed again if a database cannot be opened.
 */
export function openDurableStore<Name extends string>(path: string, names: readonly Name[], binary: readonly Name[] = []): { root: RootDatabase; dbs: Record<Name, Database<unknown, string>> } {
  const root = openDurableEnvironment(path, names.length);
  try {
    const dbs = Object.fromEntries(
      names.map((name) => [name, root.openDB({ name, encoding: binary.includes(name) ? 'binary' : 'string', keyEncoding: 'ordered-binary', cache: false, compression: false })]),
    ) as Record<Name, Database<unknown, string>>;
    return { root, dbs };
  } catch (error) {
    void root.close();
    throw error;
  }
}

/**
 * Runs `action` in one durable transaction of `root`. Under the disk's free-space reserve LMDB is not even tried (a
 * write failing in lmdb-js 3.5.6 may abort the process); a commit that fails is storage_failed or the like, naming
 * `what`. The action's own refusals (TallyError, a failed assertion) pass through as they are.
 */
export async function writeDurably<T>(root: RootDatabase, path: string, what: string, action: () => T): Promise<T> {
  const low = lowSpaceError(path, `${what} ${path}`);
  if (low !== null) throw low;
  try {
    return await root.childTransaction(action);
  } catch (error) {
    if (error instanceof TallyError || error instanceof AssertionError) throw error;
    throw await storageFailure(error, `${what} ${path}`);
  }
}

/** Sorts after every key of ASCII text: the open upper end of a reverse range. */
const keyEnd = '\uffff';

/**
 * A page of JSON records, newest first (their keys are ids that increase with time): those below `before` (the last
 * id of the previous page; null: from the newest) that `keep` accepts, at most `limit`.
 */
export function newestFirst<T>(db: Database<string, string>, before: string | null, limit: number, keep: (record: T) => boolean): T[] {
  const found: T[] = [];
  const start = before ?? keyEnd;
  for (const { key, value } of db.getRange({ start, reverse: true })) {
    if (key === start) continue; // `before` itself is on the previous page
    const record = JSON.parse(value) as T;
    if (!keep(record)) continue;
    found.push(record);
    if (found.length === limit) break;
  }
  return found;
}
