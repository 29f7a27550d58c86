// What reconciling a statement row or one of our postings found (issue #17). Numbers are fixed and never reused: they
// are stored with batches and exported. A row with several differences takes the first of duplicate > currency >
// direction > status > amount > fee (the order below) and lists every differing field.

export const ReconOutcome = {
  matched: 1,
  matched_within_tolerance: 2,
  /** Found among earlier days' unmatched postings (the pending pool) or posted on a later day within the window. */
  matched_late: 3,
  /** The channel states the same movement (same serial number) twice. */
  duplicate_at_channel: 4,
  /** We posted one channel movement more than once. */
  duplicate_on_platform: 5,
  currency_mismatch: 6,
  direction_mismatch: 7,
  status_mismatch: 8,
  amount_mismatch: 9,
  fee_mismatch: 10,
  /** The fallback key (amount and value date) fits several rows on either side: a person decides. */
  ambiguous: 11,
  /** Our posting the channel does not state (yet): the pending pool (缓存池), re-checked by later batches. */
  missing_at_channel: 12,
  /** A posting that stayed missing at the channel past the channel's pendingDaysMax: an error. */
  pending_expired: 13,
  /** A channel movement we never posted (漏单): the error pool. */
  missing_on_platform: 14,
} as const;

export type ReconOutcomeName = keyof typeof ReconOutcome;
export type ReconOutcomeCode = (typeof ReconOutcome)[ReconOutcomeName];

const names = new Map<number, ReconOutcomeName>(Object.entries(ReconOutcome).map(([name, code]) => [code, name as ReconOutcomeName]));

export function reconOutcomeName(code: number): ReconOutcomeName | undefined {
  return names.get(code);
}

/** Outcomes that close a row with nothing to do. */
export function isMatchedOutcome(outcome: ReconOutcomeName): boolean {
  return outcome === 'matched' || outcome === 'matched_within_tolerance' || outcome === 'matched_late';
}
