// What checking a statement file found (issue #17): every reason it may not be reconciled, each with where it
// breaks and by how much, and what was odd but acceptable. A file with any problem is refused whole: nothing of
// it is matched.

/** Why a statement file is refused. */
export type StatementProblemCode =
  /** A line the format does not allow. */
  | 'format'
  /** An amount that is no exact amount at the currency's scale. */
  | 'amount'
  /** A currency unknown, or other than the statement's. */
  | 'currency'
  /** Opening + entries ≠ closing. */
  | 'balance'
  /** A statement that does not open where the one before it closed. */
  | 'chain'
  /** A page closed (:62M:) that no page continues. */
  | 'incomplete'
  /** Counts or sums stated in the file that its entries do not make. */
  | 'summary'
  /** An entry under the report's floor (MT942 :34F:). */
  | 'floor';

export interface StatementProblem {
  code: StatementProblemCode;
  /** File, line and field or statement. */
  locator: string;
  message: string;
  /** Minor units, where the problem is a sum that does not match. */
  expected?: bigint;
  found?: bigint;
  difference?: bigint;
  /** The ISO 4217 code those amounts are in. */
  currency?: string;
}

export interface StatementReport {
  format: string;
  file: string;
  /** Entries read (rows that would be matched). */
  entries: number;
  problems: StatementProblem[];
  warnings: string[];
}
