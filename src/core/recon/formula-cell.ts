// Which text cell of a CSV-family statement a spreadsheet would run as a formula (issue #17): exports get opened in
// spreadsheets, and a statement is no place for code. One copy for the CSV template reader and the bills' checks.

/** Text that starts a formula: `=` (after blanks), or `+ - @` unless the cell is a plain number (`-1.234,56`) or a lone `-` (an empty value). */
const formulaStart = /^\s*=/;
const signStart = /^[+\-@]/;
const plainNumber = /^[+-]?[0-9][0-9.,' \u00a0]*$/;

export function isFormulaLike(cell: string): boolean {
  return formulaStart.test(cell) || (signStart.test(cell) && cell !== '-' && !plainNumber.test(cell));
}
