// Restoring a snapshot into an empty data directory (tally restore). Every file is hashed while it is
// copied and must match the manifest; the copy goes to a temporary sibling and is renamed into place only
// when complete, so a refused or interrupted restore leaves no half-restored data directory behind.

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { manifestFileName, parseManifest, type SnapshotManifest } from '../../core/admin/snapshot-manifest.js';
import { fsyncPath } from '../storage/fsync-path.js';
import { checkNewDirectory, pathProblem } from './write-targets.js';

/** A snapshot that must not be restored, or a target that must not be written: the message says which file and why. */
export class SnapshotRefused extends Error {
  override name = 'SnapshotRefused';
}

export interface RestoreProgress {
  bytesDone: number;
  bytesTotal: number;
  file: string;
}

/** Reads and checks `dir`/manifest.json, and that the directory holds exactly the files it lists. */
export function readManifest(dir: string): SnapshotManifest {
  const path = join(dir, manifestFileName);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new SnapshotRefused(`${dir} is not a directory`);
  if (!existsSync(path)) {
    const partial = existsSync(`${path}.partial`) || readdirSync(dir).length > 0;
    throw new SnapshotRefused(partial ? `${path} is missing: a partial snapshot (interrupted before it finished)` : `${dir} is empty: not a snapshot`);
  }
  let manifest: SnapshotManifest;
  try {
    manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  } catch (error) {
    throw new SnapshotRefused(`${path}: ${(error as Error).message}`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const file of filesUnder(dir)) {
    if (file === manifestFileName || file.endsWith('/lock.mdb')) continue;
    if (!listed.has(file)) throw new SnapshotRefused(`${join(dir, file)} is not in the manifest`);
  }
  for (const file of manifest.files) {
    const full = join(dir, file.path);
    if (!existsSync(full)) throw new SnapshotRefused(`${full} is missing`);
    const bytes = statSync(full).size;
    if (bytes !== file.bytes) throw new SnapshotRefused(`${full} has ${bytes} bytes, the manifest says ${file.bytes}: damaged`);
  }
  return manifest;
}

/** Checks every file's SHA-256 without copying (tally restore --check, and verify of a snapshot). */
export async function checkSnapshot(dir: string, onProgress: (p: RestoreProgress) => void = () => {}): Promise<SnapshotManifest> {
  const manifest = readManifest(dir);
  const bytesTotal = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  let bytesDone = 0;
  for (const file of manifest.files) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(join(dir, file.path))) {
      hash.update(chunk as Buffer);
      bytesDone += (chunk as Buffer).byteLength;
      onProgress({ bytesDone, bytesTotal, file: file.path });
    }
    if (hash.digest('hex') !== file.sha256) throw new SnapshotRefused(`${join(dir, file.path)}: checksum mismatch (SHA-256 differs from the manifest): damaged`);
  }
  return manifest;
}

/**
 * Copies the snapshot at `from` into `dataDir` (absent or empty), checking every file against the
 * manifest as it goes. Resolves with the manifest; throws SnapshotRefused and leaves `dataDir` as it was.
 */
export async function restoreSnapshot(from: string, dataDir: string, onProgress: (p: RestoreProgress) => void = () => {}): Promise<SnapshotManifest> {
  const fromProblem = pathProblem(resolve(from), 'the snapshot');
  if (fromProblem !== null) throw new SnapshotRefused(fromProblem);
  const source = resolve(from);
  // Into a fresh directory away from the snapshot: a target inside it (or holding it) would change the
  // snapshot while it is read, and leave it with files its manifest does not list.
  const checked = checkNewDirectory(resolve(dataDir), source, 'the restore target', 'snapshot');
  if (checked.problem !== undefined) throw new SnapshotRefused(`${checked.problem}: restore only into an absent or empty data directory away from the snapshot`);
  const target = checked.path;
  const manifest = readManifest(source);
  const temp = join(dirname(target), `.${basename(target)}.restoring-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  const bytesTotal = manifest.files.reduce((sum, f) => sum + f.bytes, 0);
  let bytesDone = 0;
  try {
    for (const file of manifest.files) {
      const into = join(temp, file.path);
      mkdirSync(dirname(into), { recursive: true });
      const hash = createHash('sha256');
      const hashing = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          bytesDone += chunk.byteLength;
          onProgress({ bytesDone, bytesTotal, file: file.path });
          done(null, chunk);
        },
      });
      await pipeline(createReadStream(join(source, file.path)), hashing, createWriteStream(into));
      if (hash.digest('hex') !== file.sha256) throw new SnapshotRefused(`${join(source, file.path)}: checksum mismatch (SHA-256 differs from the manifest): damaged`);
      fsyncPath(into);
      fsyncPath(dirname(into));
    }
    if (existsSync(target)) rmdirSync(target); // empty, checked above
    renameSync(temp, target);
    fsyncPath(dirname(target));
    return manifest;
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

