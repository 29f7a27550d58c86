// A shard's checkpoint files: DATA/checkpoints/shard-<i>/<seq>.ckpt, each a header (magic, format, shard,
// shardCount, seq, body length, SHA-256 of the body, SHA-256 of the journal entry at seq) and a ledger
// checkpoint body (core/posting/ledger-checkpoint.ts). Written tmp → fsync → rename → fsync dir, and renamed
// only once the journal is durable through seq, so a published checkpoint never runs ahead of the journal.
// Reading trusts nothing: a file whose checksum, identity or journal entry does not match is skipped (the
// previous one is used), never restored. The newest `keep` files stay; older ones are deleted.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../../core/assert.js';
import { checkpointIdentity, ledgerCheckpointFormat } from '../../core/posting/ledger-checkpoint.js';
import { fsyncPath } from '../storage/fsync-path.js';

/** "TALLYCKP" */
const magic = Uint8Array.from([0x54, 0x41, 0x4c, 0x4c, 0x59, 0x43, 0x4b, 0x50]);
export const CheckpointHeader = {
  magic: 0, // 8 bytes
  format: 8, // u32: ledgerCheckpointFormat
  shardIndex: 12, // u32
  shardCount: 16, // u32
  seq: 24, // f64
  bodyBytes: 32, // f64
  bodySha256: 40, // 32 bytes
  entrySha256: 72, // 32 bytes: the journal entry at seq, so a checkpoint of another history is never taken
  bytes: 104,
} as const;
const H = CheckpointHeader;

/** Checkpoints kept per shard: the newest, and two to fall back on if it is damaged. */
export const checkpointsKeptDefault = 3;

export function checkpointDirOf(dataDir: string, shardIndex: number): string {
  return join(dataDir, 'checkpoints', `shard-${shardIndex}`);
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest();
}

/** What a shard's checkpoints are checked against. */
export interface CheckpointJournal {
  readonly seqLast: number;
  entry(seq: number): Uint8Array | undefined;
}

export interface CheckpointFound {
  seq: number;
  body: Uint8Array;
  path: string;
}

export interface CheckpointScan {
  /** The newest valid checkpoint, or null. */
  found: CheckpointFound | null;
  /** Files skipped, newest first, with why (each is logged: a damaged checkpoint is worth an operator's look). */
  rejected: { path: string; reason: string }[];
}

export class CheckpointFiles {
  readonly dir: string;

  constructor(
    dataDir: string,
    readonly shardIndex: number,
    readonly shardCount: number,
    readonly keep = checkpointsKeptDefault,
  ) {
    assert(Number.isInteger(keep) && keep >= 1, 'at least one checkpoint is kept');
    this.dir = checkpointDirOf(dataDir, shardIndex);
  }

  /** Seqs of the published checkpoints, newest first. */
  seqs(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const seqs: number[] = [];
    for (const name of names) {
      const match = /^(\d+)\.ckpt$/.exec(name);
      if (match !== null) seqs.push(Number(match[1]));
    }
    return seqs.sort((a, b) => b - a);
  }

  pathOf(seq: number): string {
    return join(this.dir, `${seq}.ckpt`);
  }

  /** The newest checkpoint that passes every check against `journal`, and the ones skipped before it. */
  newestValid(journal: CheckpointJournal): CheckpointScan {
    const rejected: { path: string; reason: string }[] = [];
    for (const seq of this.seqs()) {
      const path = this.pathOf(seq);
      const checked = this.read(path, seq, journal);
      if (typeof checked !== 'string') return { found: { seq, body: checked, path }, rejected };
      rejected.push({ path, reason: checked });
    }
    return { found: null, rejected };
  }

  /** The checkpoint at `path`'s body, or why it may not be used. */
  read(path: string, seq: number, journal: CheckpointJournal): Uint8Array | string {
    let file: Uint8Array;
    try {
      file = readFileSync(path);
    } catch (error) {
      return `unreadable: ${(error as Error).message}`;
    }
    return checkFile(file, { seq, shardIndex: this.shardIndex, shardCount: this.shardCount }, journal);
  }

  /**
   * Writes the checkpoint of `body` at `seq` (the ledger's state right after entry seq, `entry` its bytes):
   * tmp, fsync, then — once `durable` resolves (the journal is durable through seq) — rename, fsync the dir,
   * and delete all but the newest `keep`. Resolves with the path, or null when `mayPublish` said no (the tmp
   * file is removed then). A crash at any point leaves at most a tmp file, which the next start removes.
   */
  async write(seq: number, body: Uint8Array, entry: Uint8Array, durable: Promise<void>, mayPublish: () => boolean = () => true): Promise<string | null> {
    const entrySha256 = sha256(entry); // now: the entry may be a view the store reuses later
    // The body's hash in slices, a tick apart: a large body's SHA-256 (≈1 ms per MB) would stall posting.
    const bodySha256 = await sha256InSlices(body);
    mkdirSync(this.dir, { recursive: true });
    const tmp = join(this.dir, `${seq}.ckpt.tmp`);
    const handle = await open(tmp, 'w');
    try {
      await handle.write(encodeHeader(seq, this.shardIndex, this.shardCount, body, entrySha256, bodySha256));
      await handle.write(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await durable;
    if (!mayPublish()) {
      await rm(tmp, { force: true });
      return null;
    }
    const path = this.pathOf(seq);
    await rename(tmp, path);
    fsyncPath(this.dir);
    this.prune();
    return path;
  }

  /** Deletes leftover tmp files (a write a crash interrupted) and checkpoints past the newest `keep`. */
  prune(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true });
    for (const seq of this.seqs().slice(this.keep)) rmSync(this.pathOf(seq), { force: true });
  }
}

/** Bytes hashed per tick by sha256InSlices. */
const hashSliceBytes = 4 << 20;

async function sha256InSlices(bytes: Uint8Array): Promise<Uint8Array> {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.byteLength; at += hashSliceBytes) {
    hash.update(bytes.subarray(at, at + hashSliceBytes));
    if (at + hashSliceBytes < bytes.byteLength) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return hash.digest();
}

export function encodeHeader(seq: number, shardIndex: number, shardCount: number, body: Uint8Array, entrySha256: Uint8Array, bodySha256: Uint8Array): Uint8Array {
  const header = new Uint8Array(H.bytes);
  const view = new DataView(header.buffer);
  header.set(magic, H.magic);
  view.setUint32(H.format, ledgerCheckpointFormat, true);
  view.setUint32(H.shardIndex, shardIndex, true);
  view.setUint32(H.shardCount, shardCount, true);
  view.setFloat64(H.seq, seq, true);
  view.setFloat64(H.bodyBytes, body.byteLength, true);
  header.set(bodySha256, H.bodySha256);
  header.set(entrySha256, H.entrySha256);
  return header;
}

/** The body of a checkpoint file, or why it may not be used: every field checked, the body's hash last but one. */
export function checkFile(file: Uint8Array, expected: { seq: number; shardIndex: number; shardCount: number }, journal: CheckpointJournal): Uint8Array | string {
  if (file.byteLength < H.bytes) return `too short (${file.byteLength} bytes)`;
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (!bytesEqual(file.subarray(H.magic, H.magic + magic.byteLength), magic)) return 'not a checkpoint file (bad magic)';
  const format = view.getUint32(H.format, true);
  if (format !== ledgerCheckpointFormat) return `format ${format}, this build reads ${ledgerCheckpointFormat}`;
  const shardIndex = view.getUint32(H.shardIndex, true);
  const shardCount = view.getUint32(H.shardCount, true);
  if (shardIndex !== expected.shardIndex || shardCount !== expected.shardCount) return `of shard ${shardIndex}/${shardCount}, not ${expected.shardIndex}/${expected.shardCount}`;
  const seq = view.getFloat64(H.seq, true);
  if (seq !== expected.seq) return `header seq ${seq} differs from its name's ${expected.seq}`;
  const bodyBytes = view.getFloat64(H.bodyBytes, true);
  if (bodyBytes !== file.byteLength - H.bytes) return `body is ${file.byteLength - H.bytes} bytes, its header says ${bodyBytes}`;
  const body = file.subarray(H.bytes);
  if (!bytesEqual(sha256(body), file.subarray(H.bodySha256, H.bodySha256 + 32))) return 'checksum mismatch (damaged)';
  if (seq > journal.seqLast) return `seq ${seq} is past the journal's last (${journal.seqLast})`;
  const entry = journal.entry(seq);
  if (entry === undefined) return `the journal has no entry ${seq}`;
  if (!bytesEqual(sha256(entry), file.subarray(H.entrySha256, H.entrySha256 + 32))) return `journal entry ${seq} is not the one this checkpoint followed`;
  const identity = checkpointIdentity(body);
  if (identity.seq !== seq || identity.shardIndex !== shardIndex || identity.shardCount !== shardCount) return 'body and header disagree';
  return body;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
