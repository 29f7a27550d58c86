// `tally recon check FILE…` (issue #17): a channel's statement files read and checked offline, before anything of
// them is reconciled — opening + entries = closing, page and statement chains, summaries and floors — each file
// accepted or refused with where it breaks and by how much. The first step of reconciliation (对账); importing
// and matching against the ledger come next (docs/design/issue-17-reconciliation.md).

import { readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { currencyOfCode } from '../core/currencies.js';
import { checkCamtStatements, type BalanceBasis } from '../core/recon/camt.js';
import { checkSwiftStatements } from '../core/recon/mt940.js';
import { checkBai2 } from '../core/recon/bai2.js';
import { checkAlipayBill } from '../core/recon/alipay-bill.js';
import { AlipayBillReadError, readAlipayBill } from '../recon/alipay-bill-reader.js';
import { ArchiveError, readZipEntries } from '../recon/zip-archive.js';
import { checkOfxStatements } from '../core/recon/ofx.js';
import { OfxReadError, readOfx, readOfxHeader } from '../recon/ofx-reader.js';
import { CamtReadError, readCamt } from '../recon/camt-reader.js';
import { checkWechatBill } from '../core/recon/wechat-bill.js';
import { BillReadError, readWechatBill } from '../recon/wechat-bill-reader.js';
import { formatStatementAmount } from '../core/recon/statement-amount.js';
import type { StatementProblem, StatementReport } from '../core/recon/statement-report.js';
import { reconBatchesCommand } from './recon-batches.js';
import { reconMatchCommand } from './recon-match.js';
import { UsageError } from './serve-options.js';

export const reconUsage = `usage: tally recon check FILE… [--format mt940|mt942|camt|bai2|ofx|wechat-bill|alipay-bill] [--encoding utf-8|latin1]
                        [--balance-basis booking|value] [--json]
       tally recon match --channels FILE --channel NAME [--day D] STATEMENT… (tally recon match --help)
       tally recon import --channel NAME FILE… | batches | show BATCH | exceptions BATCH | resolve BATCH (tally recon import --help)

Reads statement files (SWIFT MT940/MT942, ISO 20022 camt.052/053/054, BAI2, OFX/QFX, WeChat Pay and Alipay trade
bills) and checks them before any reconciliation: opening + entries = closing per statement, pages (:62M:/:60M:) and
statements chained, summary lines, transaction summaries, BAI2 control totals and record counts, unique OFX FITIDs, a
bill's summary rows and footer totals, (MT942) stated sums and floors, every amount in the statement's currency. Amounts are exact
(integer minor units of the statement's currency; an amount with more decimals than the currency is refused).
  --format F      mt940, mt942, camt, bai2, ofx, wechat-bill or alipay-bill (default: alipay-bill for a zip, bai2
                  for a file opening with 01, ofx for an OFX header, camt for XML, wechat-bill for a CSV whose
                  header names 微信订单号, mt942 when a file has :34F: or :90D:/:90C:, else mt940)
  --encoding E    utf-8 (default; invalid bytes refuse the file) or latin1 (Windows-1252)
  --balance-basis B  camt: booking (default: the closing booked balance holds every booked entry) or value (it
                  leaves out entries value-dated after it, and CLBD + those = FWAV is checked; e.g. PostFinance)
  --json          one JSON report per file
  -h, --help      print this help

Exit status 0 when every file is accepted, 1 when one is refused, 2 usage error.`;

/** Files larger than this are refused unread (a statement of a day is megabytes; this is no statement). */
const fileBytesMax = 256 * 1024 * 1024;

export function reconCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number | Promise<number> {
  const refuse = (message: string) => new UsageError(message, reconUsage);
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    console.log(reconUsage);
    return 0;
  }
  if (sub === 'match') return reconMatchCommand(rest, env);
  if (sub === 'import' || sub === 'batches' || sub === 'show' || sub === 'exceptions' || sub === 'resolve') return reconBatchesCommand(sub, rest, env);
  if (sub !== 'check') throw refuse(sub === undefined ? 'tally recon takes a subcommand: check, match, import, batches, show, exceptions or resolve' : `unknown subcommand ${JSON.stringify(sub)} (known: check, match, import, batches, show, exceptions, resolve)`);
  let parsed;
  try {
    const options = { format: { type: 'string' }, encoding: { type: 'string' }, 'balance-basis': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
    parsed = parseArgs({ args: [...rest], strict: true, allowPositionals: true, options });
  } catch (error) {
    throw refuse((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(reconUsage);
    return 0;
  }
  if (values.format !== undefined && !formats.includes(values.format)) throw refuse(`--format is ${formats.join(', ')}, got ${JSON.stringify(values.format)}`);
  const encoding = values.encoding ?? 'utf-8';
  if (encoding !== 'utf-8' && encoding !== 'latin1') throw refuse(`--encoding is utf-8 or latin1, got ${JSON.stringify(encoding)}`);
  const basis = values['balance-basis'] ?? 'booking';
  if (basis !== 'booking' && basis !== 'value') throw refuse(`--balance-basis is booking or value, got ${JSON.stringify(basis)}`);
  if (positionals.length === 0) throw refuse('name at least one statement file');
  return checkFiles(positionals, values.format as Format | undefined, encoding, basis, values.json === true);
}

async function checkFiles(files: readonly string[], format: Format | undefined, encoding: 'utf-8' | 'latin1', basis: BalanceBasis, json: boolean): Promise<number> {
  let refused = 0;
  for (const file of files) {
    const report = await checkFile(file, format, encoding, basis);
    if (report.problems.length > 0) refused++;
    console.log(json ? JSON.stringify(report, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) : describe(report));
  }
  if (!json) console.error(`${files.length - refused} of ${files.length} file(s) accepted`);
  return refused === 0 ? 0 : 1;
}

const formats: readonly string[] = ['mt940', 'mt942', 'camt', 'bai2', 'ofx', 'wechat-bill', 'alipay-bill'];
type Format = 'mt940' | 'mt942' | 'camt' | 'bai2' | 'ofx' | 'wechat-bill' | 'alipay-bill';

async function checkFile(file: string, format: Format | undefined, encoding: 'utf-8' | 'latin1', basis: BalanceBasis): Promise<StatementReport> {
  const unreadable = (message: string): StatementReport => ({ format: format ?? 'unknown', file, entries: 0, problems: [{ code: 'format', locator: file, message }], warnings: [] });
  let bytes: Buffer;
  try {
    if (statSync(file).size > fileBytesMax) return unreadable(`larger than ${fileBytesMax} bytes: no statement file`);
    bytes = readFileSync(file);
  } catch (error) {
    return unreadable(`cannot be read: ${(error as Error).message}`);
  }
  // An Alipay bill is a zip of GB18030 CSVs (or its details CSV alone): read from its bytes, not as text.
  if (format === 'alipay-bill' || (format === undefined && bytes[0] === 0x50 && bytes[1] === 0x4b)) {
    try {
      const entries = bytes[0] === 0x50 && bytes[1] === 0x4b ? await readZipEntries(bytes) : [{ name: file, bytes }];
      return checkAlipayBill(readAlipayBill(entries), file);
    } catch (error) {
      if (error instanceof ArchiveError || error instanceof AlipayBillReadError) return unreadable(`is no readable Alipay bill: ${error.message}`);
      throw error;
    }
  }
  let text: string;
  // OFX names its own encoding in its header (CHARSET:1252, ENCODING:UTF-8).
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 4096));
  const ofxLabel = format === 'ofx' || /^\uFEFF?\s*OFXHEADER:/.test(head) ? readOfxEncoding(head) : null;
  try {
    text = new TextDecoder(ofxLabel ?? (encoding === 'utf-8' ? 'utf-8' : 'windows-1252'), { fatal: true }).decode(bytes);
  } catch {
    return unreadable(`is not valid ${encoding} (give --encoding latin1 for a Windows-1252 file)`);
  }
  const chosen = format ?? guessFormat(text);
  if (chosen === 'wechat-bill') {
    try {
      return checkWechatBill(readWechatBill(text), file);
    } catch (error) {
      if (error instanceof BillReadError) return unreadable(`is no readable CSV bill: ${error.message}`);
      throw error;
    }
  }
  if (chosen === 'ofx') {
    try {
      return checkOfxStatements(readOfx(text), file);
    } catch (error) {
      if (error instanceof OfxReadError) return unreadable(`is no readable OFX: ${error.message}`);
      throw error;
    }
  }
  if (chosen === 'bai2') {
    const { accounts: _accounts, ...report } = checkBai2(text, file);
    return report;
  }
  if (chosen === 'camt') {
    try {
      return checkCamtStatements(readCamt(text), chosen, file, basis);
    } catch (error) {
      if (error instanceof CamtReadError) return unreadable(`is no readable camt XML: ${error.message}`);
      throw error;
    }
  }
  const { statements: _statements, ...report } = checkSwiftStatements(text, chosen, file);
  return report;
}

function readOfxEncoding(head: string): string | null {
  try {
    return readOfxHeader(head).encoding;
  } catch {
    return null;
  }
}

function guessFormat(text: string): Exclude<Format, 'alipay-bill'> {
  if (/^\uFEFF?\s*01,/.test(text)) return 'bai2';
  if (/^\uFEFF?\s*(OFXHEADER:|<\?xml[^>]*>\s*<\?OFX)/.test(text)) return 'ofx';
  if (/^\uFEFF?\s*</.test(text)) return 'camt';
  if (/^\uFEFF?[^\n]*微信订单号/.test(text)) return 'wechat-bill';
  return /:34F:|:90[DC]:/.test(text) ? 'mt942' : 'mt940';
}

function describe(report: StatementReport): string {
  const lines = [`${report.file}: ${report.problems.length === 0 ? 'accepted' : 'REFUSED'} (${report.format}, ${report.entries} entries)`];
  for (const problem of report.problems) lines.push(`  ${problem.code}: ${problem.locator}: ${problem.message}${figures(problem)}`);
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

function figures(problem: StatementProblem): string {
  if (problem.expected === undefined || problem.found === undefined || problem.difference === undefined) return '';
  const scale = (problem.currency === undefined ? undefined : currencyOfCode(problem.currency)?.scale) ?? 0;
  const unit = problem.currency ?? '(minor units)';
  const amount = (minor: bigint): string => formatStatementAmount(minor, scale);
  return ` — expected ${amount(problem.expected)}, found ${amount(problem.found)}, off by ${amount(problem.difference)} ${unit}`;
}
