// ISO 4217 currencies the ledger and reconciliation meet: numeric code, alphabetic code, minor units. A ledger
// numbered after its currency (156 CNY, 840 USD) shows its amounts at that scale (the CLI); a statement's amounts
// (reconciliation, issue #17) are converted to integer minor units at their currency's scale, exactly.

/** [numeric, alphabetic, minor units]. DEM (withdrawn 2002) stays: old statements still carry it. */
const table: readonly (readonly [number, string, number])[] = [
  [36, 'AUD', 2], [48, 'BHD', 3], [124, 'CAD', 2], [156, 'CNY', 2], [203, 'CZK', 2], [208, 'DKK', 2], [276, 'DEM', 2],
  [344, 'HKD', 2], [348, 'HUF', 2], [356, 'INR', 2], [360, 'IDR', 2], [376, 'ILS', 2], [392, 'JPY', 0], [400, 'JOD', 3],
  [410, 'KRW', 0], [414, 'KWD', 3], [446, 'MOP', 2], [458, 'MYR', 2], [484, 'MXN', 2], [512, 'OMR', 3], [554, 'NZD', 2],
  [578, 'NOK', 2], [608, 'PHP', 2], [643, 'RUB', 2], [682, 'SAR', 2], [702, 'SGD', 2], [704, 'VND', 0], [710, 'ZAR', 2],
  [752, 'SEK', 2], [756, 'CHF', 2], [764, 'THB', 2], [784, 'AED', 2], [826, 'GBP', 2], [840, 'USD', 2], [901, 'TWD', 2],
  [946, 'RON', 2], [949, 'TRY', 2], [978, 'EUR', 2], [985, 'PLN', 2], [986, 'BRL', 2],
];

export interface Currency {
  code: string;
  numeric: number;
  scale: number;
}

const byNumeric = new Map<number, Currency>(table.map(([numeric, code, scale]) => [numeric, { code, numeric, scale }]));
const byCode = new Map<string, Currency>(table.map(([numeric, code, scale]) => [code, { code, numeric, scale }]));

/** The currency an ISO 4217 numeric code names (a ledger numbered after it), if this table knows it. */
export function currencyOfNumeric(numeric: number): Currency | undefined {
  return byNumeric.get(numeric);
}

/** The currency of an ISO 4217 alphabetic code ("EUR"), if this table knows it. */
export function currencyOfCode(code: string): Currency | undefined {
  return byCode.get(code);
}
