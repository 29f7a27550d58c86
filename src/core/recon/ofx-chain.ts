// The one balance check an OFX statement allows (issue #17): OFX states no opening balance, so nothing adds up
// inside a file; what adds up is the chain across imports. A statement whose period starts where the previous
// accepted statement of its account ended (the same day, or the next) must close at that statement's LEDGERBAL plus
// its own transactions; one that does not is refused like any statement that does not add up. A statement with no
// previous one of its account, or one not adjacent to it (a gap, an overlap, the first import), is not chained: the
// link it leaves is the next import's starting point.

import { currencyOfCode } from '../currencies.js';
import { parseOfxDate, readOfxAmount, type OfxStatement } from './ofx.js';
import { formatStatementAmount } from './statement-amount.js';
import type { StatementProblem } from './statement-report.js';

/** What an OFX statement brings to the chain of its account: its period, its transactions' sum and its LEDGERBAL. */
export interface OfxChainLink {
  file: string;
  /** BANKID/ACCTID. */
  account: string;
  currency: string;
  /** DTSTART and DTEND as yyyymmdd. */
  startDate: number;
  endDate: number;
  /** Σ TRNAMT, signed minor units. */
  entriesMinor: bigint;
  /** LEDGERBAL's BALAMT, signed minor units. */
  closingMinor: bigint;
  /** Where its LEDGERBAL is (`file:line LEDGERBAL`). */
  locator: string;
}

/** The link an accepted import left for an account: the next statement of the account chains to it. */
export interface OfxChainEnd {
  closingMinor: bigint;
  endDate: number;
  currency: string;
  /** The batch that accepted it. */
  batch: string;
}

/**
 * The links of statements that can be chained: a known currency, a readable period and LEDGERBAL, every TRNAMT read.
 * (A statement missing any of these is refused by checkOfxStatements or, without a LEDGERBAL, warned about there.)
 */
export function ofxChainLinks(statements: readonly OfxStatement[], file: string): OfxChainLink[] {
  const links: OfxChainLink[] = [];
  for (const statement of statements) {
    const scale = currencyOfCode(statement.currency)?.scale;
    const start = parseOfxDate(statement.start);
    const end = parseOfxDate(statement.end);
    const balance = statement.ledgerBalance;
    if (scale === undefined || start === null || end === null || balance === null) continue;
    const closing = readOfxAmount(balance.amount, scale);
    if ('refused' in closing) continue;
    let entries = 0n;
    let readable = true;
    for (const transaction of statement.transactions) {
      const amount = readOfxAmount(transaction.amount, scale);
      if ('refused' in amount) readable = false;
      else entries += amount.minor;
    }
    if (!readable) continue;
    links.push({
      file, account: `${statement.bankId}/${statement.accountId}`, currency: statement.currency, startDate: start.date, endDate: end.date,
      entriesMinor: entries, closingMinor: closing.minor, locator: `${file}:${balance.line} LEDGERBAL`,
    });
  }
  return links;
}

/** Whether a statement starting on `startDate` follows one that ended on `endDate`: the same day or the next. */
export function isAdjacent(endDate: number, startDate: number): boolean {
  return startDate === endDate || startDate === nextDate(endDate);
}

/** The problem of `link` against the previous end of its account's chain, or null (it adds up, or is not chained). */
export function ofxChainProblem(link: OfxChainLink, previous: OfxChainEnd | undefined): StatementProblem | null {
  if (previous === undefined || previous.currency !== link.currency || !isAdjacent(previous.endDate, link.startDate)) return null;
  const expected = previous.closingMinor + link.entriesMinor;
  if (expected === link.closingMinor) return null;
  const scale = currencyOfCode(link.currency)!.scale;
  const text = (minor: bigint): string => (minor < 0n ? '-' : '') + formatStatementAmount(minor < 0n ? -minor : minor, scale);
  return {
    code: 'balance', locator: link.locator,
    message: `LEDGERBAL ${text(link.closingMinor)} ≠ ${text(expected)}: the previous statement's ${text(previous.closingMinor)} (to ${previous.endDate}, batch ${previous.batch}) + this one's transactions ${text(link.entriesMinor)} ${link.currency}`,
    expected, found: link.closingMinor, difference: link.closingMinor - expected, currency: link.currency,
  };
}

/** The yyyymmdd after `date`. */
function nextDate(date: number): number {
  const next = new Date(Date.UTC(Math.floor(date / 10_000), (Math.floor(date / 100) % 100) - 1, (date % 100) + 1));
  return next.getUTCFullYear() * 10_000 + (next.getUTCMonth() + 1) * 100 + next.getUTCDate();
}
