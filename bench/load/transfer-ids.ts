// The load bench's transfer ids, time-ordered like newId() (src/client/ids.ts) because the shards' id index
// relies on the 48-bit millisecond prefix: id = ms << 80 | runTag << 48 | seq. The run tag (32 random bits
// drawn once per source) keeps two runs apart even within one millisecond; seq counts transfers from 1, so
// within a run ids strictly increase as long as ms never goes back (the source holds it monotonic).
// Written straight into the record's four little-endian u32 words: no BigInt per transfer on the hot path.

/** Bits of the sequence number in an id (below the run tag). */
export const seqBits = 48;
/** Largest sequence number an id can hold. */
export const seqMax = 2 ** seqBits - 1;
/** Largest millisecond timestamp an id can hold (48 bits, as newId()). */
const msMax = 2 ** 48 - 1;

/**
 * Writes the id of transfer `seq` of the run tagged `runTag`, made at `ms`, into words at..at+3
 * (word `at` holds the lowest 32 bits).
 */
export function writeTransferId(words: Uint32Array, at: number, ms: number, runTag: number, seq: number): void {
  if (!(seq >= 1 && seq <= seqMax && Number.isInteger(seq))) throw new RangeError(`transfer-ids: sequence number ${seq} outside 1..${seqMax}`);
  if (!(ms >= 0 && ms <= msMax && Number.isInteger(ms))) throw new RangeError(`transfer-ids: millisecond timestamp ${ms} outside 0..${msMax}`);
  const seqHigh = Math.floor(seq / 2 ** 32); // < 2^16
  words[at] = seq >>> 0;
  words[at + 1] = (((runTag & 0xffff) << 16) | seqHigh) >>> 0;
  words[at + 2] = (((ms & 0xffff) << 16) | (runTag >>> 16)) >>> 0;
  words[at + 3] = Math.floor(ms / 2 ** 16);
}

/** The id held in words at..at+3, as a bigint (for the rare transfer the bench must remember). */
export function transferIdOfWords(words: Uint32Array, at: number): bigint {
  return BigInt(words[at]) | (BigInt(words[at + 1]) << 32n) | (BigInt(words[at + 2]) << 64n) | (BigInt(words[at + 3]) << 96n);
}

/** The sequence number of an id (the low 48 bits). */
export function seqOfTransferId(id: bigint): number {
  return Number(id & BigInt(seqMax));
}

/** The millisecond timestamp of an id (the top 48 bits), as newId() lays it out. */
export function msOfTransferId(id: bigint): number {
  return Number(id >> 80n);
}
