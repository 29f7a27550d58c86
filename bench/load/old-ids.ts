// The sustained mode's old transfers: while open, a uniform reservoir of the transfers offered (one per
// body, by TransferSource.nextBody), so that at the end of a long run the bench can read back transfers
// from its first minutes, the ones a bounded server no longer holds in memory. Offers cost nothing unless open.
// A second reservoir, opened when the first closes, keeps other transfers that are on disk only by the end: the
// reads warm up on those (the reading code, not the old ids' pages).

import { TransferLayout } from '../../src/core/layout.js';
import { seqOfTransferId, transferIdOfWords } from './transfer-ids.js';

const idWord = TransferLayout.id / 4;
const debitWord = TransferLayout.debitAccountId / 4;

export class OldIdReservoir {
  /** Ids of the transfers kept, and at the same index the account each one debits. */
  readonly ids: bigint[] = [];
  readonly debitAccountIds: bigint[] = [];
  /** The sequence number of each id kept (transfer-ids.ts), to forget those of a refused request cheaply. */
  private readonly seqs: number[] = [];
  private offered = 0;
  private state: 'waiting' | 'open' | 'closed';

  /** `below(n)`: a random integer in [0, n). `open`: takes offers from the start, else from start(). */
  constructor(
    readonly capacity: number,
    private readonly below: (bound: number) => number,
    open = true,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`old-ids: capacity must be a positive integer, got ${capacity}`);
    this.state = open ? 'open' : 'waiting';
  }

  get open(): boolean {
    return this.state === 'open';
  }

  /** Takes offers from now on (a reservoir made waiting); once closed it stays closed. */
  start(): void {
    if (this.state === 'waiting') this.state = 'open';
  }

  /** Offers the transfer record at word `at` of `words`; kept with the chance every offer has (reservoir sampling). */
  offer(words: Uint32Array, at: number): void {
    if (this.state !== 'open') return;
    this.offered++;
    const slot = this.ids.length < this.capacity ? this.ids.length : this.below(this.offered);
    if (slot >= this.capacity) return;
    this.ids[slot] = transferIdOfWords(words, at + idWord);
    this.seqs[slot] = seqOfTransferId(this.ids[slot]);
    // The bench's account ids fit the record's lowest word (TransferSource writes them so).
    this.debitAccountIds[slot] = BigInt(words[at + debitWord]);
  }

  /** Drops the ids kept whose sequence numbers lie in [first, last] (a request refused whole: never posted). */
  forgetSeqs(first: number, last: number): void {
    for (let slot = this.ids.length - 1; slot >= 0; slot--) {
      if (this.seqs[slot] < first || this.seqs[slot] > last) continue;
      const end = this.ids.length - 1;
      this.ids[slot] = this.ids[end];
      this.debitAccountIds[slot] = this.debitAccountIds[end];
      this.seqs[slot] = this.seqs[end];
      this.ids.length = end;
      this.debitAccountIds.length = end;
      this.seqs.length = end;
    }
  }

  /** Takes no more offers: what is kept is now the run's old transfers. */
  close(): void {
    this.state = 'closed';
  }
}

/** `count` distinct items of `pool` in random order (all of them, shuffled, when the pool is smaller). */
export function pickDistinct<T>(pool: readonly T[], count: number, below: (bound: number) => number): T[] {
  const copy = [...pool];
  const taken = Math.min(count, copy.length);
  // A partial Fisher–Yates shuffle: the first `taken` places end up a uniform draw without repeats.
  for (let i = 0; i < taken; i++) {
    const j = i + below(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, taken);
}
