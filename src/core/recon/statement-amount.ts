// A statement's amount text to integer minor units, exactly (issue #17): never a float, never a rounding. Bank
// formats write decimals with a comma (SWIFT: `1234,56`, `500,`, `0,7`) or a point; digits past the currency's
// scale are accepted only when they are all zero (`18,155` at scale 2 is refused, `200,0000` is 200.00). An MT940
// amount without its decimal mark (`C500NTRF`, `:34F:PLN0`) is whole units: accepted, and said so (a warning).

export type AmountReading = { minor: bigint; withoutMark: boolean } | { refused: string };

/** Digits a JS number holds exactly: amounts this long (nearly all) are added up as numbers, not parsed as text. */
const safeDigits = 15;

/** `text` (digits, at most one `mark`, nothing else) at `scale` decimal places. */
export function readStatementAmount(text: string, scale: number, mark: ',' | '.'): AmountReading {
  // One pass over the characters (a bill reads millions of amounts): digits, the mark at most once, past the
  // scale zeros only. The messages are those of the rules as written: no amount, or more decimals than the scale.
  const markCode = mark.charCodeAt(0);
  let at = -1;
  let nonZeroPastScale = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === markCode && at < 0) at = i;
    else if (code < 48 || code > 57) return { refused: `${JSON.stringify(text)} is no amount (digits and one "${mark}")` };
    else if (at >= 0 && i - at > scale && code !== 48) nonZeroPastScale = true;
  }
  if (at === 0 || text.length === 0) return { refused: `${JSON.stringify(text)} is no amount (digits and one "${mark}")` };
  if (nonZeroPastScale) return { refused: `${JSON.stringify(text)} has more decimals than the currency's ${scale}: refusing to round money` };
  const wholeEnd = at < 0 ? text.length : at;
  const fractionDigits = at < 0 ? 0 : Math.min(scale, text.length - at - 1);
  if (wholeEnd + scale <= safeDigits) {
    let minor = 0;
    for (let i = 0; i < wholeEnd; i++) minor = minor * 10 + text.charCodeAt(i) - 48;
    for (let i = 0; i < scale; i++) minor = minor * 10 + (i < fractionDigits ? text.charCodeAt(at + 1 + i) - 48 : 0);
    return { minor: BigInt(minor), withoutMark: at < 0 };
  }
  const digits = text.slice(0, wholeEnd) + (at < 0 ? '' : text.slice(at + 1, at + 1 + fractionDigits)).padEnd(scale, '0');
  return { minor: BigInt(digits), withoutMark: at < 0 };
}

/** Minor units as a decimal at `scale`, with `mark` (for reports: "3058,98"). */
export function formatStatementAmount(minor: bigint, scale: number, mark: ',' | '.' = '.'): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}${mark}${digits.slice(digits.length - scale)}`;
  return negative ? `-${text}` : text;
}
