// Decimal places of a ledger's amounts when the ledger is numbered after its currency (ISO 4217 numeric code, as
// the examples do: 156 CNY, 840 USD). For display only (tally account/transfer/history): amounts travel and are
// kept as integer minor units whatever the table (core/currencies.ts) says.

import { currencyOfNumeric } from '../core/currencies.js';

/** The currency a ledger number names, if it is an ISO 4217 numeric code the table knows. */
export function currencyOfLedger(ledger: number): { code: string; scale: number } | undefined {
  const found = currencyOfNumeric(ledger);
  return found === undefined ? undefined : { code: found.code, scale: found.scale };
}
