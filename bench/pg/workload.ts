// Which accounts and amount each baseline transfer uses, per workload. Account ids run 1..accountCount;
// id 1 is the hot account. A transfer never debits and credits the same account.
// Seeded, so every run of a workload sees the same stream of pairs.

import { assert } from '../../src/core/assert.js';
import { Prng } from '../micro/bench-kit.js';

export const pgWorkloadNames = ['uniform', 'hot-credit', 'hot-debit'] as const;
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

  constructor(
    readonly workload: PgWorkload,
    private readonly accountCount: number,
    seed: number,
  ) {
    assert(accountCount >= 3, 'the hot workloads need two accounts besides the hot one');
    this.prng = new Prng(seed);
  }

  next(): TransferPick {
    const amountMinor = 1 + this.prng.below(amountMinorMax);
    if (this.workload === 'hot-credit') return { debitId: this.otherThanHot(), creditId: hotAccountId, amountMinor };
    if (this.workload === 'hot-debit') return { debitId: hotAccountId, creditId: this.otherThanHot(), amountMinor };
    const debitId = 1 + this.prng.below(this.accountCount);
    let creditId = 1 + this.prng.below(this.accountCount);
    while (creditId === debitId) creditId = 1 + this.prng.below(this.accountCount);
    return { debitId, creditId, amountMinor };
  }

  /** Uniform over every account but the hot one (ids 2..accountCount). */
  private otherThanHot(): number {
    return 2 + this.prng.below(this.accountCount - 1);
  }
}
