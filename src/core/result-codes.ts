// Domain outcomes, one per event, returned as data and never thrown.
// Listed in order of descending precedence (the order checks run). Numbers are fixed forever:
// clients and journals store them, so a code is never renumbered or reused.

export const ResultCode = {
  ok: 0,
  linked_event_failed: 1,
  linked_event_chain_open: 2,
  timestamp_must_be_zero: 3,
  reserved_field: 4,
  id_invalid: 5,
  flags_invalid: 6,
  ledger_invalid: 7,
  code_invalid: 8,
  account_id_invalid: 9,
  accounts_must_be_different: 10,
  amount_invalid: 11,
  pending_id_invalid: 12,
  timeout_invalid: 13,
  exists_with_different_fields: 14,
  exists: 15,
  // 16 is retired (issued while linked chains could not span shards); never reused.
  account_not_found: 17,
  ledger_mismatch: 18,
  account_closed: 19,
  account_blocked: 20,
  pending_not_found: 21,
  pending_already_posted: 22,
  pending_already_voided: 23,
  pending_expired: 24,
  original_not_found: 25,
  original_not_reversible: 26,
  freeze_not_found: 27,
  accounts_mismatch: 28,
  exceeds_pending_amount: 29,
  reversal_exceeds_remaining: 30,
  exceeds_frozen_amount: 31,
  insufficient_funds: 32,
  credits_exceed_debits: 33,
  balance_overflow: 34,
  close_refused: 35,
  /**
   * Issued before the ledger sees the event (core/rate-limits/account-rate-limit.ts): one of its accounts passed the
   * server's per-account rate. Numbered last because numbers are never reused; it is not remembered as a
   * failed id, so a later retry can succeed.
   */
  rate_limited: 36,
} as const;

export type ResultName = keyof typeof ResultCode;
export type ResultCodeNumber = (typeof ResultCode)[ResultName];

const namesByCode: ResultName[] = [];
for (const [name, code] of Object.entries(ResultCode) as [ResultName, number][]) namesByCode[code] = name;

/** The name of a result code number, or undefined for a number Tally never issued. */
export function resultName(code: number): ResultName | undefined {
  return namesByCode[code];
}

/**
 * Why `close_refused` was returned: carried in the result's detail field so the caller
 * learns which balance still stands in the way.
 */
export const CloseRefusedReason = {
  none: 0,
  pending_balance: 1,
  frozen_balance: 2,
  nonzero_balance: 3,
} as const;

export type CloseRefusedReasonName = keyof typeof CloseRefusedReason;

export function closeRefusedReasonName(detail: number): CloseRefusedReasonName | undefined {
  return (Object.keys(CloseRefusedReason) as CloseRefusedReasonName[]).find((k) => CloseRefusedReason[k] === detail);
}
