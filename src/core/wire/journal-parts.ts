// A shard's journal entries as messages of its JetStream stream (issue #15): the headers each message carries, and
// the reassembly of an entry larger than the server's max_payload from its parts. Shared by the shard that
// publishes and follows (shards/replication) and by the client's change stream (client/changes.ts).

import { errors } from '../errors.js';

/** Message headers: the entry's journal seq, which part of how many, and who wrote it (node/run). */
export const StreamHeader = { seq: 'Tally-Seq', part: 'Tally-Part', writer: 'Tally-Writer' } as const;

/** The stream and subject of shard `shardIndex` of ledger cluster `cluster`. */
export function streamNames(cluster: string, shardIndex: number): { stream: string; subject: string } {
  return { stream: `TALLY_${cluster}_SHARD_${shardIndex}`, subject: `tally.${cluster}.shard.${shardIndex}` };
}

/**
 * The first stream sequence in first..last whose message belongs to journal entry `from` or later (last + 1 when
 * none does): a binary search, since entry seqs never decrease along a stream. `entrySeqAt` reads one message's
 * entry seq (null: no such message).
 */
export async function firstMessageFrom(from: number, first: number, last: number, entrySeqAt: (streamSeq: number) => Promise<number | null>): Promise<number> {
  let low = first;
  let high = last + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const seq = await entrySeqAt(middle);
    if (seq === null || seq < from) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A message's `Tally-Part` header ("k/n"), checked. */
export function parsePart(text: string, streamSeq: number): [part: number, count: number] {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const part = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || part < 1 || part > count) throw errors.storageFailed(`stream message ${streamSeq} has no valid ${StreamHeader.part}`);
  return [part, count];
}

/**
 * Reassembles entries from their messages in stream order: the last complete run of parts 1..n of an entry wins
 * (a publish that failed part-way is sent again from part 1).
 */
export class EntryParts {
  #parts: Uint8Array[] = [];
  #seq = 0;

  /** The whole entry when this message completes it, else null. */
  add(seq: number, part: number, count: number, data: Uint8Array): Uint8Array | null {
    if (!Number.isSafeInteger(seq) || seq < 1) throw errors.storageFailed(`a stream message names no journal entry (${StreamHeader.seq})`);
    if (part === 1 || seq !== this.#seq) {
      this.#parts = [];
      this.#seq = seq;
    }
    if (part !== this.#parts.length + 1) return null; // a run broken off by a failure; its resend starts at part 1
    this.#parts.push(data);
    if (part !== count) return null;
    const whole = joined(this.#parts);
    this.#parts = [];
    return whole;
  }
}

function joined(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
