// What tally verify found wrong, by check, in the order found. Bounded: past verifyProblemsKeptMax only the
// count grows (a badly damaged store must not exhaust memory describing itself).

/** Problems kept with their sentence; the rest are only counted. */
export const verifyProblemsKeptMax = 10_000;

/** The checks of tally verify, as they label their problems. */
export type VerifyCheck = 'journal' | 'replay' | 'entries' | 'state' | 'balances' | 'history' | 'transit' | 'days' | 'bookkeeping' | 'chains' | 'checkpoints';

export interface VerifyProblem {
  check: VerifyCheck;
  message: string;
}

export class Problems {
  readonly kept: VerifyProblem[] = [];
  count = 0;

  add(check: VerifyCheck, message: string): void {
    this.count++;
    if (this.kept.length < verifyProblemsKeptMax) this.kept.push({ check, message });
  }

  addAll(check: VerifyCheck, messages: readonly string[]): void {
    for (const message of messages) this.add(check, message);
  }
}

/** The message of anything thrown (assertions say what failed). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
