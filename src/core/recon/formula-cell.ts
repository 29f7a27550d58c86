// Which text cell of a CSV-family statement a spreadsheet would run as a formula (issue #17): exports get opened in
// spreadsheets, and a statement is no place for code. One copy for the CSV template reader and the bills' checks.

/** Text that starts a formula: `=` (after blanks), or `+ - @` unless the cell is a plain number (`-1.234,56`) or a lone `-` (an empty value). */
const formulaStart = /^\s*=/;
const signStart = /^[+\-@]/;
const plainNumber = /^[+-]?[0-9][0-9.,' \u00a0]*$/;

/** Whether a cell's first character could start a formula: `=`, `+`, `-`, `@`, or a blank before `=`. */
function mayStartFormula(code: number): boolean {
  return code === 61 || code === 43 || code === 45 || code === 64 || code <= 32 || code === 0xa0 || code === 0x1680 || code === 0xfeff || (code >= 0x2000 && code <= 0x3000);
}

export function isFormulaLike(cell: string): boolean {
  // Most cells (every id, amount and name) start with none of those: answered without a regular expression.
  if (cell.length === 0 || !mayStartFormula(cell.charCodeAt(0))) return false;
  return formulaStart.test(cell) || (signStart.test(cell) && cell !== '-' && !plainNumber.test(cell));
}
