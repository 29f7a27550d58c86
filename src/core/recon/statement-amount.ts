// A statement's amount text to integer minor units, exactly (issue #17): never a float, never a rounding. Bank
// formats write decimals with a comma (SWIFT: `1234,56`, `500,`, `0,7`) or a point; digits past the currency's
// scale are accepted only when they are all zero (`18,155` at scale 2 is refused, `200,0000` is 200.00). An MT940
// amount without its decimal mark (`C500NTRF`, `:34F:PLN0`) is whole units: accepted, and said so (a warning).

export type AmountReading = { minor: bigint; withoutMark: boolean } | { refused: string };

/** `text` (digits, at most one `mark`, nothing else) at `scale` decimal places. */
export function readStatementAmount(text: string, scale: number, mark: ',' | '.'): AmountReading {
  const at = text.indexOf(mark);
  const whole = at < 0 ? text : text.slice(0, at);
  const fraction = at < 0 ? '' : text.slice(at + 1);
  if (!/^[0-9]+$/.test(whole) || !/^[0-9]*$/.test(fraction)) return { refused: `${JSON.stringify(text)} is no amount (digits and one "${mark}")` };
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) {
    return { refused: `${JSON.stringify(text)} has more decimals than the currency's ${scale}: refusing to round money` };
  }
  const digits = whole + fraction.slice(0, scale).padEnd(scale, '0');
  return { minor: BigInt(digits), withoutMark: at < 0 };
}

/** Minor units as a decimal at `scale`, with `mark` (for reports: "3058,98"). */
export function formatStatementAmount(minor: bigint, scale: number, mark: ',' | '.' = '.'): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}${mark}${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}
