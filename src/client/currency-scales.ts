// Decimal places of a ledger's amounts when the ledger is numbered after its currency (ISO 4217 numeric code, as
// the examples do: 156 CNY, 840 USD). For display only (tally account/transfer/history): amounts travel and are
// kept as integer minor units whatever this table says.

/** ISO 4217 numeric code → [alphabetic code, minor units], for the currencies payment systems meet most. */
const currencies: ReadonlyMap<number, readonly [string, number]> = new Map([
  [36, ['AUD', 2]], [48, ['BHD', 3]], [124, ['CAD', 2]], [156, ['CNY', 2]], [208, ['DKK', 2]], [344, ['HKD', 2]],
  [356, ['INR', 2]], [360, ['IDR', 2]], [376, ['ILS', 2]], [392, ['JPY', 0]], [400, ['JOD', 3]], [410, ['KRW', 0]],
  [414, ['KWD', 3]], [446, ['MOP', 2]], [458, ['MYR', 2]], [484, ['MXN', 2]], [512, ['OMR', 3]], [554, ['NZD', 2]],
  [578, ['NOK', 2]], [608, ['PHP', 2]], [643, ['RUB', 2]], [682, ['SAR', 2]], [702, ['SGD', 2]], [704, ['VND', 0]],
  [710, ['ZAR', 2]], [752, ['SEK', 2]], [756, ['CHF', 2]], [764, ['THB', 2]], [784, ['AED', 2]], [826, ['GBP', 2]],
  [840, ['USD', 2]], [901, ['TWD', 2]], [949, ['TRY', 2]], [978, ['EUR', 2]], [986, ['BRL', 2]],
]);

/** The currency a ledger number names, if it is an ISO 4217 numeric code this table knows. */
export function currencyOfLedger(ledger: number): { code: string; scale: number } | undefined {
  const found = currencies.get(ledger);
  return found === undefined ? undefined : { code: found[0], scale: found[1] };
}
