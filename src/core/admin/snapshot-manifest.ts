// The manifest of a snapshot directory (tally snapshot): what it holds, the cut it was taken at, and a
// SHA-256 per file. Written last, so a snapshot without one is partial. Pure: parsing and checks only.

/** Bumped when the snapshot layout changes meaning. */
export const snapshotFormatVersion = 1;
export const snapshotFormat = 'tally-snapshot';
export const manifestFileName = 'manifest.json';

export interface SnapshotFile {
  /** Relative to the snapshot directory, '/'-separated. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
}

/** One shard's position at the cut: its journal holds exactly entries 1..seq. */
export interface ShardCut {
  readonly shard: number;
  readonly seq: number;
}

export interface SnapshotManifest {
  readonly format: typeof snapshotFormat;
  readonly formatVersion: number;
  /** The tally-ledger version that wrote it. */
  readonly tallyVersion: string;
  readonly shardCount: number;
  /** When every shard was held at the barrier (ISO 8601), and for how long postings stood still. */
  readonly cutAt: string;
  readonly heldMs: number;
  readonly shards: readonly ShardCut[];
  readonly files: readonly SnapshotFile[];
  readonly finishedAt: string;
}

export type SnapshotPhase = 'opening' | 'barrier' | 'copying' | 'checksums' | 'manifest' | 'done';

/** What `get_snapshot_status` answers (JSON). */
export interface SnapshotStatus {
  id: string;
  out: string;
  state: 'running' | 'done' | 'failed';
  phase: SnapshotPhase;
  startedAt: string;
  finishedAt: string | null;
  bytesDone: number;
  bytesTotal: number;
  entriesCopied: number;
  /** Set once the barrier has passed. */
  shards: ShardCut[] | null;
  heldMs: number | null;
  error: string | null;
}

/** Checks a parsed manifest; throws an Error whose message names what is wrong. */
export function parseManifest(value: unknown): SnapshotManifest {
  const manifest = value as Partial<SnapshotManifest> | null;
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new Error('the manifest is not a JSON object');
  if (manifest.format !== snapshotFormat) throw new Error(`format is ${JSON.stringify(manifest.format)}, not ${JSON.stringify(snapshotFormat)}`);
  if (manifest.formatVersion !== snapshotFormatVersion) throw new Error(`formatVersion ${String(manifest.formatVersion)} is not ${snapshotFormatVersion} (written by another version of Tally)`);
  if (!Number.isInteger(manifest.shardCount) || manifest.shardCount! < 1) throw new Error(`shardCount ${String(manifest.shardCount)} is not a positive integer`);
  if (!Array.isArray(manifest.shards) || manifest.shards.length !== manifest.shardCount) throw new Error(`shards lists ${Array.isArray(manifest.shards) ? manifest.shards.length : 'no'} cuts for ${manifest.shardCount} shards`);
  manifest.shards.forEach((cut, i) => {
    if (cut?.shard !== i || !Number.isSafeInteger(cut.seq) || cut.seq < 0) throw new Error(`shards[${i}] is not {shard: ${i}, seq ≥ 0}`);
  });
  if (!Array.isArray(manifest.files) || manifest.files.length === 0) throw new Error('files is empty');
  const seen = new Set<string>();
  for (const file of manifest.files) {
    if (typeof file?.path !== 'string' || !isSafeRelativePath(file.path)) throw new Error(`file path ${JSON.stringify(file?.path)} is not a plain relative path`);
    if (seen.has(file.path)) throw new Error(`file ${file.path} is listed twice`);
    seen.add(file.path);
    if (!Number.isSafeInteger(file.bytes) || file.bytes < 0) throw new Error(`file ${file.path}: bytes ${String(file.bytes)} is not a size`);
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) throw new Error(`file ${file.path}: sha256 is not 64 hex digits`);
  }
  for (let shard = 0; shard < manifest.shardCount!; shard++) {
    if (!seen.has(`shard-${shard}/data.mdb`)) throw new Error(`shard-${shard}/data.mdb is not listed`);
  }
  for (const field of ['tallyVersion', 'cutAt', 'finishedAt'] as const) {
    if (typeof manifest[field] !== 'string') throw new Error(`${field} is missing`);
  }
  if (typeof manifest.heldMs !== 'number' || !(manifest.heldMs >= 0)) throw new Error('heldMs is missing');
  return manifest as SnapshotManifest;
}

/** No absolute paths, no '..', no empty segments: a manifest cannot make restore write outside its target. */
function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\')) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
