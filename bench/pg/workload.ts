// Which accounts and amount each baseline transfer uses, per workload. Account ids run 1..accountCount;
// id 1 is the hot account. A transfer never debits and credits the same account.
// Seeded, so every run of a workload sees the same stream of pairs. zipf draws both accounts from the
// load bench's Zipf table (rank k = account id k + 1 on both sides).

import { assert } from '../../src/core/assert.js';
import { zipfExponentDefault, zipfTable, type ZipfTable } from '../load/zipf.js';
import { Prng } from '../micro/bench-kit.js';

/** zipf last: a workload's seeds follow its place here, so the earlier workloads keep their streams. */
export const pgWorkloadNames = ['uniform', 'hot-credit', 'hot-debit', 'zipf'] as const;
export type PgWorkload = (typeof pgWorkloadNames)[number];

/** The account every hot-credit transfer credits and every hot-debit transfer debits. */
export const hotAccountId = 1;
/** Amounts are 1..amountMinorMax minor units: varied, small against every balance. */
export const amountMinorMax = 97;

export interface TransferPick {
  debitId: number;
  creditId: number;
  amountMinor: number;
}

export class TransferPicker {
  private readonly prng: Prng;
  private readonly zipf: ZipfTable | null;

  constructor(
    readonly workload: PgWorkload,
    private readonly accountCount: number,
    seed: number,
    zipfExponent = zipfExponentDefault,
  ) {
    assert(accountCount >= 3, 'the hot workloads need two accounts besides the hot one');
    this.prng = new Prng(seed);
    this.zipf = workload === 'zipf' ? zipfTable(accountCount, zipfExponent) : null;
  }

  next(): TransferPick {
    const amountMinor = 1 + this.prng.below(amountMinorMax);
    if (this.workload === 'hot-credit') return { debitId: this.otherThanHot(), creditId: hotAccountId, amountMinor };
    if (this.workload === 'hot-debit') return { debitId: hotAccountId, creditId: this.otherThanHot(), amountMinor };
    if (this.zipf !== null) return this.zipfPair(this.zipf, amountMinor);
    const debitId = 1 + this.prng.below(this.accountCount);
    let creditId = 1 + this.prng.below(this.accountCount);
    while (creditId === debitId) creditId = 1 + this.prng.below(this.accountCount);
    return { debitId, creditId, amountMinor };
  }

  /** Both ids by Zipf rank (id = rank + 1), drawn again while they are the same account. */
  private zipfPair(zipf: ZipfTable, amountMinor: number): TransferPick {
    const debitId = 1 + zipf.rankAt(this.unit());
    let creditId = 1 + zipf.rankAt(this.unit());
    while (creditId === debitId) creditId = 1 + zipf.rankAt(this.unit());
    return { debitId, creditId, amountMinor };
  }

  /** A draw in (0, 1): the PRNG's whole 32-bit state (never 0) over 2^32. */
  private unit(): number {
    return this.prng.below(2 ** 32) / 2 ** 32;
  }

  /** Uniform over every account but the hot one (ids 2..accountCount). */
  private otherThanHot(): number {
    return 2 + this.prng.below(this.accountCount - 1);
  }
}
