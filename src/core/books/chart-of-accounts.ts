// Chart of accounts (科目表): the tree of subjects that ledger account codes roll up into, and the
// trial balance over it. Invariants: a child keeps its parent's category and extends its parent's
// code; each account code maps to at most one leaf. Pure: it never reads files (the caller does).
//
// File format (config/chart-of-accounts.default.json holds the default chart):
//   { "version": 1, "subjects": [
//     { "code": "2201", "name": "Customer deposits", "category": "liability", "side": "credit", "children": [
//       { "code": "220101", "name": "…", "children": [
//         { "code": "22010101", "name": "Customer basic accounts", "accountCodes": [1] } ] } ] } ] }
// `category` and `side` are required on top-level subjects and inherited when omitted below.
// `accountCodes` are ledger account codes (u16, 1..65535) and belong on leaves only. One leaf may say
// `"otherAccountCodes": true`: every account code no leaf names rolls up there, so an account created with a code
// the chart has not been told of yet is booked (and listed under that leaf) instead of failing every day report.
// A chart without one keeps the strict rule: postings of unmapped codes fail the day report's check.

import { assert } from '../assert.js';

export type SubjectCategory = 'asset' | 'liability' | 'equity' | 'income' | 'expense';
export type BalanceSide = 'debit' | 'credit';

const categories: readonly unknown[] = ['asset', 'liability', 'equity', 'income', 'expense'] satisfies SubjectCategory[];
const sides: readonly unknown[] = ['debit', 'credit'] satisfies BalanceSide[];

/** Levels the chart must reach somewhere: top subject → sub-subject → leaf is the least that
 * statements group by, so a flatter chart is a mistake in the file rather than a design. */
export const chartLevelsMin = 3;

/** Deepest level accepted: national charts use 4 to 6 levels, and the bound also caps the parser's
 * recursion and the per-posting ancestor walk in rollUp. */
export const chartLevelsMax = 8;

/** Subjects in one chart: real charts hold hundreds, and the bound keeps parsing and every rollUp
 * (one entry per subject) small whatever file is handed in. */
export const chartSubjectsMax = 10_000;

/** Characters of a subject code: room for 8 levels of numbering without letting a file carry blobs. */
const subjectCodeCharsMax = 32;
const subjectCodePattern = new RegExp(`^[0-9A-Za-z._-]{1,${subjectCodeCharsMax}}$`);
const accountCodeMax = 0xffff;

/** Account codes the ledger itself gives to the accounts it opens: per-shard-pair transit (在途)
 * accounts and suspense (挂账) accounts. Every chart should map them to leaves, or those balances
 * fall outside the reports. */
export const reservedAccountCodes = { transit: 9100, suspense: 9200 } as const;

export interface Subject {
  code: string;
  name: string;
  category: SubjectCategory;
  side: BalanceSide;
  parent: string | null;
  /** 1 for a top-level subject. */
  level: number;
  children: string[];
  /** Ledger account codes mapped here; always empty on a subject with children. */
  accountCodes: number[];
  /** True on the one leaf (if any) that takes every account code no leaf names. */
  otherAccountCodes: boolean;
}

export interface SubjectTotals {
  debits: bigint;
  credits: bigint;
}

export interface SubjectBalance extends SubjectTotals {
  code: string;
  level: number;
  side: BalanceSide;
  /** Signed on the subject's normal side: debits − credits for a debit subject, credits − debits otherwise. */
  balance: bigint;
}

export interface TrialBalance {
  debitsTotal: bigint;
  creditsTotal: bigint;
  /** Sum of leaves' debits − credits where positive, whatever each leaf's normal side. */
  debitBalancesTotal: bigint;
  /** Sum of leaves' credits − debits where positive, whatever each leaf's normal side. */
  creditBalancesTotal: bigint;
  balanced: boolean;
  /** One row per leaf, sorted by code. */
  rows: SubjectBalance[];
}

/** The file's shape, for charts written in code (defaultChartJson). parseChart accepts `unknown`. */
export interface SubjectJson {
  code: string;
  name: string;
  category?: SubjectCategory;
  side?: BalanceSide;
  children?: SubjectJson[];
  accountCodes?: number[];
  otherAccountCodes?: boolean;
}

export interface ChartJson {
  version: 1;
  subjects: SubjectJson[];
}

export interface ChartOfAccounts {
  /** By code, in file order (parents before their children). */
  readonly subjects: ReadonlyMap<string, Subject>;
  /** The deepest level of any subject. */
  readonly levelsMax: number;
  /** The leaf an account code rolls up into: the one naming it, else the chart's other-codes leaf, if any. */
  leafOfAccountCode(accountCode: number): Subject | undefined;
  /** Whether a leaf names the code itself (not through the other-codes leaf). */
  namesAccountCode(accountCode: number): boolean;
  /** Leaf codes in file order. */
  leafCodes(): string[];
  /** The subject itself, then each parent up to its top-level subject. */
  ancestors(subjectCode: string): string[];
  /** Balances of every subject; a parent sums all its descendant leaves. Totals are keyed by leaf code. */
  rollUp(leafTotals: ReadonlyMap<string, SubjectTotals>): Map<string, SubjectBalance>;
}

/** A chart file that breaks a rule. `path` is the offending subject's code, or a JSON path when
 * the subject has no valid code to name it by. */
export class ChartError extends Error {
  override name = 'ChartError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

class Chart implements ChartOfAccounts {
  readonly levelsMax: number;
  readonly #leafByAccountCode: ReadonlyMap<number, Subject>;
  readonly #otherLeaf: Subject | undefined;

  /** Only parseChart builds one, after checking every rule the methods rely on. */
  constructor(
    readonly subjects: ReadonlyMap<string, Subject>,
    leafByAccountCode: ReadonlyMap<number, Subject>,
    otherLeaf: Subject | undefined,
  ) {
    assert(subjects.size > 0 && subjects.size <= chartSubjectsMax, 'chart subjects within bounds');
    this.levelsMax = Math.max(...Array.from(subjects.values(), (s) => s.level));
    assert(this.levelsMax <= chartLevelsMax, 'chart depth within bounds');
    this.#leafByAccountCode = leafByAccountCode;
    this.#otherLeaf = otherLeaf;
  }

  leafOfAccountCode(accountCode: number): Subject | undefined {
    return this.#leafByAccountCode.get(accountCode) ?? this.#otherLeaf;
  }

  namesAccountCode(accountCode: number): boolean {
    return this.#leafByAccountCode.has(accountCode);
  }

  leafCodes(): string[] {
    return [...this.subjects.values()].filter((s) => s.children.length === 0).map((s) => s.code);
  }

  ancestors(subjectCode: string): string[] {
    const codes: string[] = [];
    for (let s = this.subjects.get(subjectCode); s !== undefined; s = s.parent === null ? undefined : this.subjects.get(s.parent)) {
      codes.push(s.code);
    }
    assert(codes.length > 0, `ancestors of unknown subject ${subjectCode}`);
    assert(codes.length === this.subjects.get(subjectCode)!.level, `subject ${subjectCode} has a broken parent chain`);
    return codes;
  }

  rollUp(leafTotals: ReadonlyMap<string, SubjectTotals>): Map<string, SubjectBalance> {
    const balances = new Map<string, SubjectBalance>();
    for (const s of this.subjects.values()) balances.set(s.code, { code: s.code, level: s.level, side: s.side, debits: 0n, credits: 0n, balance: 0n });
    let debitsTotal = 0n;
    for (const [leafCode, totals] of leafTotals) {
      assert(this.subjects.get(leafCode)?.children.length === 0, `rollUp: ${leafCode} is not a leaf subject`);
      assert(totals.debits >= 0n && totals.credits >= 0n, `rollUp: negative totals for ${leafCode}`);
      debitsTotal += totals.debits;
      for (const code of this.ancestors(leafCode)) {
        const balance = balances.get(code)!;
        balance.debits += totals.debits;
        balance.credits += totals.credits;
      }
    }
    let topDebitsTotal = 0n;
    for (const b of balances.values()) {
      b.balance = b.side === 'debit' ? b.debits - b.credits : b.credits - b.debits;
      if (b.level === 1) topDebitsTotal += b.debits;
    }
    // Each leaf counts once in exactly one top-level subject, so the tops together hold every posting.
    assert(topDebitsTotal === debitsTotal, 'rollUp: top-level debits equal the leaves');
    return balances;
  }
}

/** Totals over the leaves of one ledger (one currency); the caller runs it per ledger. */
export function trialBalance(chart: ChartOfAccounts, leafTotals: ReadonlyMap<string, SubjectTotals>): TrialBalance {
  const balances = chart.rollUp(leafTotals);
  const rows = chart
    .leafCodes()
    .sort()
    .map((code) => balances.get(code)!);
  let debitsTotal = 0n;
  let creditsTotal = 0n;
  let debitBalancesTotal = 0n;
  let creditBalancesTotal = 0n;
  for (const row of rows) {
    debitsTotal += row.debits;
    creditsTotal += row.credits;
    const net = row.debits - row.credits;
    if (net > 0n) debitBalancesTotal += net;
    else creditBalancesTotal -= net;
  }
  assert(debitBalancesTotal - creditBalancesTotal === debitsTotal - creditsTotal, 'trial balance nets agree with totals');
  const balanced = debitsTotal === creditsTotal && debitBalancesTotal === creditBalancesTotal;
  return { debitsTotal, creditsTotal, debitBalancesTotal, creditBalancesTotal, balanced, rows };
}

interface ParseState {
  subjects: Map<string, Subject>;
  leafByAccountCode: Map<number, Subject>;
  otherLeaf: Subject | undefined;
}

const chartKeys = new Set(['version', 'subjects']);
const subjectKeys = new Set(['code', 'name', 'category', 'side', 'children', 'accountCodes', 'otherAccountCodes']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a chart file (already read and JSON-parsed) and builds the chart; throws ChartError. */
export function parseChart(json: unknown): ChartOfAccounts {
  if (!isRecord(json)) throw new ChartError('$', 'chart must be a JSON object');
  const unknownKey = Object.keys(json).find((k) => !chartKeys.has(k));
  if (unknownKey !== undefined) throw new ChartError(`$.${unknownKey}`, `unknown chart field "${unknownKey}"`);
  if (json.version !== 1) throw new ChartError('$.version', `unsupported chart version ${JSON.stringify(json.version)}, expected 1`);
  if (!Array.isArray(json.subjects) || json.subjects.length === 0) throw new ChartError('$.subjects', 'subjects must be a non-empty array');
  const state: ParseState = { subjects: new Map(), leafByAccountCode: new Map(), otherLeaf: undefined };
  json.subjects.forEach((node: unknown, i) => parseSubject(state, node, `$.subjects[${i}]`, null));
  const chart = new Chart(state.subjects, state.leafByAccountCode, state.otherLeaf);
  if (chart.levelsMax < chartLevelsMin) {
    throw new ChartError('$.subjects', `chart reaches ${chart.levelsMax} levels, at least ${chartLevelsMin} are required`);
  }
  return chart;
}

/** Checks one subject, adds it, then recurses into its children (depth bounded by chartLevelsMax). */
function parseSubject(state: ParseState, node: unknown, path: string, parent: Subject | null): void {
  if (!isRecord(node)) throw new ChartError(path, 'subject must be a JSON object');
  const code = node.code;
  if (typeof code !== 'string' || !subjectCodePattern.test(code)) {
    throw new ChartError(`${path}.code`, `${path}: subject code ${JSON.stringify(code)} must be 1 to ${subjectCodeCharsMax} characters of [0-9A-Za-z._-]`);
  }
  const fail = (why: string): ChartError => new ChartError(code, `subject ${code}: ${why}`);
  const unknownKey = Object.keys(node).find((k) => !subjectKeys.has(k));
  if (unknownKey !== undefined) throw fail(`unknown field "${unknownKey}"`);
  if (state.subjects.has(code)) throw fail('duplicate subject code');
  if (state.subjects.size >= chartSubjectsMax) throw fail(`more than ${chartSubjectsMax} subjects`);
  if (typeof node.name !== 'string' || node.name.trim() === '') throw fail('name must be a non-empty string');
  const level = parent === null ? 1 : parent.level + 1;
  if (level > chartLevelsMax) throw fail(`level ${level} is deeper than ${chartLevelsMax}`);
  if (parent !== null && !code.startsWith(parent.code)) throw fail(`code must start with its parent's code ${parent.code}`);
  const category = node.category === undefined ? parent?.category : node.category;
  if (category === undefined) throw fail('category is required on a top-level subject');
  if (!categories.includes(category)) throw fail(`unknown category ${JSON.stringify(category)}`);
  if (parent !== null && category !== parent.category) throw fail(`category ${category} differs from its parent ${parent.code}'s ${parent.category}`);
  // A child may change side: contra subjects (e.g. an allowance under assets) sit on the other side.
  const side = node.side === undefined ? parent?.side : node.side;
  if (side === undefined) throw fail('side is required on a top-level subject');
  if (!sides.includes(side)) throw fail(`unknown side ${JSON.stringify(side)}`);
  const children = node.children ?? [];
  const accountCodes = node.accountCodes ?? [];
  if (!Array.isArray(children)) throw fail('children must be an array');
  if (!Array.isArray(accountCodes)) throw fail('accountCodes must be an array');
  if (children.length > 0 && accountCodes.length > 0) throw fail('account codes on a non-leaf subject; map them to a leaf');
  const other = node.otherAccountCodes ?? false;
  if (typeof other !== 'boolean') throw fail('otherAccountCodes must be true or false');
  if (other && children.length > 0) throw fail('otherAccountCodes on a non-leaf subject; put it on a leaf');
  if (other && state.otherLeaf !== undefined) throw fail(`otherAccountCodes is on leaf ${state.otherLeaf.code} already; one leaf takes the other codes`);

  const subject: Subject = {
    code,
    name: node.name,
    category: category as SubjectCategory,
    side: side as BalanceSide,
    parent: parent === null ? null : parent.code,
    level,
    children: [],
    accountCodes: [],
    otherAccountCodes: other,
  };
  if (other) state.otherLeaf = subject;
  state.subjects.set(code, subject);
  parent?.children.push(code);
  for (const accountCode of accountCodes as unknown[]) mapAccountCode(state, subject, accountCode, fail);
  children.forEach((child: unknown, i) => parseSubject(state, child, `${path}.children[${i}]`, subject));
}

function mapAccountCode(state: ParseState, leaf: Subject, accountCode: unknown, fail: (why: string) => ChartError): void {
  const valid = typeof accountCode === 'number' && Number.isInteger(accountCode) && accountCode >= 1 && accountCode <= accountCodeMax;
  if (!valid) throw fail(`account code ${JSON.stringify(accountCode)} is not an integer 1..${accountCodeMax}`);
  const mapped = state.leafByAccountCode.get(accountCode);
  if (mapped !== undefined) throw fail(`account code ${accountCode} is already mapped to leaf ${mapped.code}`);
  state.leafByAccountCode.set(accountCode, leaf);
  leaf.accountCodes.push(accountCode);
}

/** The default chart of a payment company. Numbering follows the Chinese enterprise chart (1 assets,
 * 2 liabilities, 4 equity, 6 income and expense); config/chart-of-accounts.default.json is its copy
 * on disk, kept equal by a test. */
export const defaultChartJson: ChartJson = {
  version: 1,
  subjects: [
    {
      code: '1002',
      name: 'Bank deposits (银行存款)',
      category: 'asset',
      side: 'debit',
      children: [
        {
          code: '100201',
          name: 'Channel deposits (渠道存款)',
          children: [{ code: '10020101', name: 'Bank and payment channel deposits (银行及支付渠道存款)', accountCodes: [5] }],
        },
      ],
    },
    {
      code: '1301',
      name: 'Clearing accounts (清算往来)',
      category: 'asset',
      side: 'debit',
      children: [
        {
          code: '130101',
          name: 'Inter-shard clearing (分片间清算)',
          children: [{ code: '13010101', name: 'Transit clearing (在途资金)', accountCodes: [reservedAccountCodes.transit] }],
        },
      ],
    },
    {
      code: '2201',
      name: 'Customer deposits (客户存款)',
      category: 'liability',
      side: 'credit',
      children: [
        {
          code: '220101',
          name: 'Customer funds (客户资金)',
          children: [
            { code: '22010101', name: 'Customer basic accounts (客户基本户)', accountCodes: [1] },
            { code: '22010102', name: 'Customer settlement accounts (客户结算户)', accountCodes: [2] },
          ],
        },
      ],
    },
    {
      code: '2202',
      name: 'Merchant payables (应付商户款)',
      category: 'liability',
      side: 'credit',
      children: [
        {
          code: '220201',
          name: 'Merchant settlement (商户结算)',
          children: [{ code: '22020101', name: 'Merchant settlement accounts (商户结算户)', accountCodes: [3] }],
        },
      ],
    },
    {
      code: '2241',
      name: 'Other payables (其他应付款)',
      category: 'liability',
      side: 'credit',
      children: [
        {
          code: '224101',
          name: 'Suspense (挂账)',
          children: [{ code: '22410101', name: 'Suspense payable (暂收挂账)', accountCodes: [reservedAccountCodes.suspense] }],
        },
        {
          code: '224199',
          name: 'Other accounts (其他往来)',
          // Account codes this chart does not name: booked here, never a failed day report (map them in your chart).
          children: [{ code: '22419901', name: 'Accounts of codes not mapped elsewhere (未映射科目往来)', otherAccountCodes: true }],
        },
      ],
    },
    {
      code: '4001',
      name: 'Paid-in capital (实收资本)',
      category: 'equity',
      side: 'credit',
      children: [
        {
          code: '400101',
          name: "Owner's equity (所有者权益)",
          children: [{ code: '40010101', name: "Owner's capital (股东投入资本)", accountCodes: [7] }],
        },
      ],
    },
    {
      code: '6001',
      name: 'Operating income (营业收入)',
      category: 'income',
      side: 'credit',
      children: [
        {
          code: '600101',
          name: 'Fee income (手续费收入)',
          children: [{ code: '60010101', name: 'Payment fee income (支付手续费收入)', accountCodes: [4] }],
        },
      ],
    },
    {
      code: '6421',
      name: 'Fee and commission expense (手续费及佣金支出)',
      category: 'expense',
      side: 'debit',
      children: [
        {
          code: '642101',
          name: 'Channel fees (渠道手续费)',
          children: [{ code: '64210101', name: 'Channel fee expense (渠道手续费支出)', accountCodes: [6] }],
        },
      ],
    },
  ],
};

export function defaultChart(): ChartOfAccounts {
  return parseChart(defaultChartJson);
}
