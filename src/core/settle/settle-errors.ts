// The refusals of settlement's allocation, strategy versions, working calendar, clearing and settlement runs: one error class with a stable
// `code` from this catalog, matched on `.code` (as core/errors.ts does for operating errors). A strategy document's
// own refusals are StrategyError (rules.ts), which also names the instruction and JSON path.

export const SettleErrorCode = {
  // allocation.ts
  parts_invalid: 'parts_invalid',
  amount_negative: 'amount_negative',
  share_invalid: 'share_invalid',
  shares_over_whole: 'shares_over_whole',
  shares_under_whole: 'shares_under_whole',
  fixed_over_total: 'fixed_over_total',
  floor_over_cap: 'floor_over_cap',
  fee_over_amount: 'fee_over_amount',
  // strategy-versions.ts
  history_empty: 'history_empty',
  history_too_long: 'history_too_long',
  mixed_strategies: 'mixed_strategies',
  duplicate_effective_time: 'duplicate_effective_time',
  duplicate_version: 'duplicate_version',
  version_order: 'version_order',
  no_version_in_force: 'no_version_in_force',
  // working-calendar.ts
  calendar_invalid: 'calendar_invalid',
  date_invalid: 'date_invalid',
  date_not_covered: 'date_not_covered',
  cycle_invalid: 'cycle_invalid',
  // fee-schedule.ts
  fee_strategy_invalid: 'fee_strategy_invalid',
  fee_strategy_missing: 'fee_strategy_missing',
  fee_evaluation_failed: 'fee_evaluation_failed',
  fee_out_of_range: 'fee_out_of_range',
  // clearing.ts
  item_invalid: 'item_invalid',
  item_duplicate: 'item_duplicate',
  clearing_too_large: 'clearing_too_large',
  // settlement-terms.ts
  terms_invalid: 'terms_invalid',
  terms_missing: 'terms_missing',
  // settlement-run.ts
  clearing_duplicate: 'clearing_duplicate',
  settled_day_changed: 'settled_day_changed',
  run_date_order: 'run_date_order',
  run_too_large: 'run_too_large',
  state_invalid: 'state_invalid',
  // settlement-ids.ts
  posting_id_collision: 'posting_id_collision',
  // settlement-postings.ts
  account_missing: 'account_missing',
  // settlement-balance.ts
  run_unbalanced: 'run_unbalanced',
  // settle-config.ts
  config_invalid: 'config_invalid',
  // run-strategies.ts
  run_strategy_invalid: 'run_strategy_invalid',
  run_strategy_failed: 'run_strategy_failed',
  run_strategy_out_of_range: 'run_strategy_out_of_range',
} as const;
export type SettleErrorCodeName = keyof typeof SettleErrorCode;

export class SettleError extends Error {
  override name = 'SettleError';
  constructor(
    readonly code: SettleErrorCodeName,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
