// Spec of the chart of accounts: the default chart maps every ledger account code (including the
// reserved transit and suspense codes) to the right leaf; parseChart refuses each broken rule with a
// ChartError naming the subject; rollUp sums every level; the trial balance of balanced postings balances.

import { strictDefaultChart } from '../../../support/strict-chart.js';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import {
  ChartError,
  chartLevelsMax,
  chartLevelsMin,
  chartSubjectsMax,
  defaultChart,
  defaultChartJson,
  parseChart,
  reservedAccountCodes,
  trialBalance,
  type SubjectTotals,
} from '../../../../src/core/books/chart-of-accounts.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 200);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

// Loosely typed so that cases can break the file's shape on purpose.
type Json = any;

/** A small valid chart: two asset leaves under 1001, one liability leaf under 2201. */
function smallChart(): Json {
  return {
    version: 1,
    subjects: [
      {
        code: '1001',
        name: 'Cash',
        category: 'asset',
        side: 'debit',
        children: [
          {
            code: '100101',
            name: 'Banks',
            children: [
              { code: '10010101', name: 'Bank A', accountCodes: [5] },
              { code: '10010102', name: 'Bank B', accountCodes: [6] },
            ],
          },
        ],
      },
      {
        code: '2201',
        name: 'Customer deposits',
        category: 'liability',
        side: 'credit',
        children: [{ code: '220101', name: 'Customer funds', children: [{ code: '22010101', name: 'Customer basic', accountCodes: [1] }] }],
      },
    ],
  };
}

function chartErrorOf(json: unknown): ChartError {
  try {
    parseChart(json);
  } catch (error) {
    expect(error).toBeInstanceOf(ChartError);
    return error as ChartError;
  }
  throw new Error('parseChart accepted an invalid chart');
}

/** A chain of `levels` nested subjects coded 1, 11, 111, … */
function chainOf(levels: number): Json {
  let node: Json = { code: '1'.repeat(levels), name: `level ${levels}`, accountCodes: [1] };
  for (let level = levels - 1; level >= 1; level--) node = { code: '1'.repeat(level), name: `level ${level}`, children: [node] };
  return { version: 1, subjects: [{ ...node, category: 'asset', side: 'debit' }] };
}

function totals(entries: [string, number, number][]): Map<string, SubjectTotals> {
  return new Map(entries.map(([code, debits, credits]) => [code, { debits: BigInt(debits), credits: BigInt(credits) }]));
}

describe('default chart', () => {
  const chart = defaultChart();

  it('parses and reaches at least 3 levels on every branch', () => {
    expect(chart.levelsMax).toBeGreaterThanOrEqual(chartLevelsMin);
    for (const code of chart.leafCodes()) expect(chart.subjects.get(code)!.level, code).toBeGreaterThanOrEqual(chartLevelsMin);
  });

  it('is the same chart as config/chart-of-accounts.default.json', () => {
    const file = JSON.parse(readFileSync(new URL('../../../../config/chart-of-accounts.default.json', import.meta.url), 'utf8'));
    expect(file).toEqual(defaultChartJson);
  });

  test.each([
    { accountCode: 1, category: 'liability', side: 'credit', name: /Customer basic accounts/ },
    { accountCode: 2, category: 'liability', side: 'credit', name: /Customer settlement accounts/ },
    { accountCode: 3, category: 'liability', side: 'credit', name: /Merchant settlement/ },
    { accountCode: 4, category: 'income', side: 'credit', name: /fee income/i },
    { accountCode: 5, category: 'asset', side: 'debit', name: /deposits/ },
    { accountCode: 6, category: 'expense', side: 'debit', name: /Channel fee expense/ },
    { accountCode: 7, category: 'equity', side: 'credit', name: /Owner's capital/ },
    { accountCode: reservedAccountCodes.transit, category: 'asset', side: 'debit', name: /Transit/ },
    { accountCode: reservedAccountCodes.suspense, category: 'liability', side: 'credit', name: /Suspense payable/ },
  ])('account code $accountCode maps to a $category leaf on the $side side', ({ accountCode, category, side, name }) => {
    const leaf = chart.leafOfAccountCode(accountCode)!;
    expect(leaf).toBeDefined();
    expect(leaf.children).toEqual([]);
    expect(leaf).toMatchObject({ category, side });
    expect(leaf.name).toMatch(name);
  });

  it('books every other account code under its other-codes leaf, which names none of them', () => {
    expect(chart.leafOfAccountCode(8)?.code).toBe('22419901');
    expect(chart.leafOfAccountCode(10)?.code).toBe('22419901');
    expect(chart.namesAccountCode(10)).toBe(false);
    expect(chart.namesAccountCode(1)).toBe(true);
    expect(chart.leafOfAccountCode(1)?.code).toBe('22010101');
  });

  it('without an other-codes leaf, maps no other account code', () => {
    expect(strictDefaultChart().leafOfAccountCode(8)).toBeUndefined();
  });

  it('lists ancestors from the leaf up to its top-level subject', () => {
    expect(chart.ancestors('22010101')).toEqual(['22010101', '220101', '2201']);
    expect(chart.subjects.get('2201')!.children).toEqual(['220101']);
    expect(chart.subjects.get('220101')!.parent).toBe('2201');
  });
});

describe('parseChart refuses', () => {
  test.each<{ rule: string; path: string; message: RegExp; change: (c: Json) => void }>([
    { rule: 'an unknown category', path: '2201', message: /subject 2201: unknown category "liabilities"/, change: (c) => (c.subjects[1].category = 'liabilities') },
    { rule: 'an unknown side', path: '220101', message: /subject 220101: unknown side "left"/, change: (c) => (c.subjects[1].children[0].side = 'left') },
    { rule: 'a top-level subject without a category', path: '1001', message: /subject 1001: category is required/, change: (c) => delete c.subjects[0].category },
    { rule: 'a top-level subject without a side', path: '1001', message: /subject 1001: side is required/, change: (c) => delete c.subjects[0].side },
    {
      rule: 'a duplicate subject code',
      path: '10010101',
      message: /subject 10010101: duplicate subject code/,
      change: (c) => (c.subjects[0].children[0].children[1].code = '10010101'),
    },
    {
      rule: 'an account code mapped to two leaves',
      path: '22010101',
      message: /subject 22010101: account code 5 is already mapped to leaf 10010101/,
      change: (c) => c.subjects[1].children[0].children[0].accountCodes.push(5),
    },
    {
      rule: 'two other-codes leaves',
      path: '22010101',
      message: /subject 22010101: otherAccountCodes is on leaf 10010101 already/,
      change: (c) => {
        c.subjects[0].children[0].children[0].otherAccountCodes = true;
        c.subjects[1].children[0].children[0].otherAccountCodes = true;
      },
    },
    { rule: 'other codes on a non-leaf', path: '100101', message: /subject 100101: otherAccountCodes on a non-leaf/, change: (c) => (c.subjects[0].children[0].otherAccountCodes = true) },
    { rule: 'other codes that are not a boolean', path: '10010101', message: /subject 10010101: otherAccountCodes must be true or false/, change: (c) => (c.subjects[0].children[0].children[0].otherAccountCodes = 'yes') },
    { rule: 'account codes on a non-leaf', path: '100101', message: /subject 100101: account codes on a non-leaf/, change: (c) => (c.subjects[0].children[0].accountCodes = [9]) },
    {
      rule: 'an account code outside u16',
      path: '10010101',
      message: /subject 10010101: account code 65536 is not an integer 1\.\.65535/,
      change: (c) => (c.subjects[0].children[0].children[0].accountCodes = [65536]),
    },
    {
      rule: 'a zero account code',
      path: '10010101',
      message: /subject 10010101: account code 0 is not an integer/,
      change: (c) => (c.subjects[0].children[0].children[0].accountCodes = [0]),
    },
    {
      rule: 'a child whose category differs from its parent',
      path: '100101',
      message: /subject 100101: category liability differs from its parent 1001's asset/,
      change: (c) => (c.subjects[0].children[0].category = 'liability'),
    },
    { rule: 'an empty name', path: '220101', message: /subject 220101: name must be a non-empty string/, change: (c) => (c.subjects[1].children[0].name = '  ') },
    { rule: 'a missing name', path: '2201', message: /subject 2201: name must be a non-empty string/, change: (c) => delete c.subjects[1].name },
    {
      rule: 'a code with characters outside [0-9A-Za-z._-]',
      path: '$.subjects[1].code',
      message: /\$\.subjects\[1\]: subject code "22 01" must be 1 to 32 characters/,
      change: (c) => (c.subjects[1].code = '22 01'),
    },
    { rule: 'an empty code', path: '$.subjects[0].code', message: /subject code "" must be/, change: (c) => (c.subjects[0].code = '') },
    {
      rule: 'a code longer than 32 characters',
      path: '$.subjects[1].children[0].code',
      message: /subject code "2201x+" must be 1 to 32/,
      change: (c) => (c.subjects[1].children[0].code = '2201' + 'x'.repeat(29)),
    },
    {
      rule: "a child code that does not start with its parent's code",
      path: '230101',
      message: /subject 230101: code must start with its parent's code 2201/,
      change: (c) => (c.subjects[1].children[0].code = '230101'),
    },
    { rule: 'an unknown subject field', path: '2201', message: /subject 2201: unknown field "acountCodes"/, change: (c) => (c.subjects[1].acountCodes = [1]) },
    { rule: 'an unsupported version', path: '$.version', message: /unsupported chart version 2/, change: (c) => (c.version = 2) },
    { rule: 'an empty subject list', path: '$.subjects', message: /subjects must be a non-empty array/, change: (c) => (c.subjects = []) },
  ])('$rule', ({ path, message, change }) => {
    const json = smallChart();
    change(json);
    const error = chartErrorOf(json);
    expect(error.message).toMatch(message);
    expect(error.path).toBe(path);
  });

  it(`a chart that never reaches ${chartLevelsMin} levels`, () => {
    const error = chartErrorOf(chainOf(chartLevelsMin - 1));
    expect(error.message).toMatch(/chart reaches 2 levels, at least 3 are required/);
    expect(error.path).toBe('$.subjects');
  });

  it('a shallow branch beside a deep one is allowed', () => {
    const json = smallChart();
    json.subjects.push({ code: '4001', name: 'Capital', category: 'equity', side: 'credit', accountCodes: [7] });
    expect(parseChart(json).leafOfAccountCode(7)!.level).toBe(1);
  });

  it(`a chart deeper than ${chartLevelsMax} levels`, () => {
    expect(parseChart(chainOf(chartLevelsMax)).levelsMax).toBe(chartLevelsMax);
    const error = chartErrorOf(chainOf(chartLevelsMax + 1));
    expect(error.message).toMatch(/subject 111111111: level 9 is deeper than 8/);
    expect(error.path).toBe('1'.repeat(chartLevelsMax + 1));
  });

  it(`more than ${chartSubjectsMax} subjects`, () => {
    const json = chainOf(chartLevelsMin);
    const flatCount = chartSubjectsMax + 1 - chartLevelsMin;
    for (let i = 1; i <= flatCount; i++) json.subjects.push({ code: `s${i}`, name: `s${i}`, category: 'asset', side: 'debit' });
    const error = chartErrorOf(json);
    expect(error.message).toMatch(`subject s${flatCount}: more than ${chartSubjectsMax} subjects`);
    expect(error.path).toBe(`s${flatCount}`);
    json.subjects.pop();
    expect(parseChart(json).subjects.size).toBe(chartSubjectsMax);
  });
});

describe('rollUp', () => {
  const chart = parseChart(smallChart());

  it('sums leaves into every level and signs balances on the normal side', () => {
    const balances = chart.rollUp(totals([['10010101', 100, 30], ['10010102', 50, 0], ['22010101', 20, 140]]));
    const rows = Object.fromEntries([...balances].map(([code, b]) => [code, [b.level, b.side, b.debits, b.credits, b.balance]]));
    expect(rows).toEqual({
      '1001': [1, 'debit', 150n, 30n, 120n],
      '100101': [2, 'debit', 150n, 30n, 120n],
      '10010101': [3, 'debit', 100n, 30n, 70n],
      '10010102': [3, 'debit', 50n, 0n, 50n],
      '2201': [1, 'credit', 20n, 140n, 120n],
      '220101': [2, 'credit', 20n, 140n, 120n],
      '22010101': [3, 'credit', 20n, 140n, 120n],
    });
  });

  it('gives every subject a zero balance when nothing is posted', () => {
    const balances = chart.rollUp(new Map());
    expect(balances.size).toBe(chart.subjects.size);
    for (const b of balances.values()) expect([b.debits, b.credits, b.balance]).toEqual([0n, 0n, 0n]);
  });

  it('refuses totals keyed by a parent subject (a programmer error)', () => {
    expect(() => chart.rollUp(totals([['100101', 1, 0]]))).toThrow(/100101 is not a leaf subject/);
  });
});

describe('trialBalance', () => {
  const chart = parseChart(smallChart());

  it('balances when debits equal credits, with rows as leaves sorted by code', () => {
    const tb = trialBalance(chart, totals([['22010101', 20, 140], ['10010102', 50, 0], ['10010101', 100, 30]]));
    expect(tb).toMatchObject({ debitsTotal: 170n, creditsTotal: 170n, debitBalancesTotal: 120n, creditBalancesTotal: 120n, balanced: true });
    expect(tb.rows.map((r) => [r.code, r.balance])).toEqual([
      ['10010101', 70n],
      ['10010102', 50n],
      ['22010101', 120n],
    ]);
  });

  it('counts a net balance by the side it lies on, not the normal side', () => {
    const tb = trialBalance(chart, totals([['10010102', 0, 40], ['22010101', 40, 0]]));
    expect(tb).toMatchObject({ debitBalancesTotal: 40n, creditBalancesTotal: 40n, balanced: true });
    expect(tb.rows.find((r) => r.code === '10010102')!.balance).toBe(-40n);
  });

  it('does not balance when debits and credits differ', () => {
    const tb = trialBalance(chart, totals([['10010101', 100, 0], ['22010101', 0, 99]]));
    expect(tb).toMatchObject({ debitsTotal: 100n, creditsTotal: 99n, debitBalancesTotal: 100n, creditBalancesTotal: 99n, balanced: false });
  });
});

// Property: for any set of balanced postings (each debits one leaf and credits one leaf by the same
// amount), the top-level subjects together hold equal debits and credits, every parent holds the sum
// of its children, and the trial balance balances.
describe('rollUp of balanced postings (property)', () => {
  const chart = defaultChart();
  const leaves = chart.leafCodes();
  const posting = fc.record({ debit: fc.constantFrom(...leaves), credit: fc.constantFrom(...leaves), amount: fc.bigInt(1n, 10n ** 15n) });

  it('keeps Σ debits = Σ credits at the top and balances the trial balance', () => {
    fc.assert(
      fc.property(fc.array(posting, { maxLength: 64 }), (postings) => {
        const leafTotals = new Map<string, SubjectTotals>();
        const at = (code: string): SubjectTotals => leafTotals.get(code) ?? leafTotals.set(code, { debits: 0n, credits: 0n }).get(code)!;
        for (const p of postings) {
          at(p.debit).debits += p.amount;
          at(p.credit).credits += p.amount;
        }
        const balances = chart.rollUp(leafTotals);
        const tops = [...balances.values()].filter((b) => b.level === 1);
        const posted = postings.reduce((sum, p) => sum + p.amount, 0n);
        expect(tops.reduce((sum, b) => sum + b.debits, 0n)).toBe(posted);
        expect(tops.reduce((sum, b) => sum + b.credits, 0n)).toBe(posted);
        for (const subject of chart.subjects.values()) {
          if (subject.children.length === 0) continue;
          const childDebits = subject.children.reduce((sum, c) => sum + balances.get(c)!.debits, 0n);
          expect(balances.get(subject.code)!.debits).toBe(childDebits);
        }
        expect(trialBalance(chart, leafTotals).balanced).toBe(true);
      }),
      { numRuns: runs, seed },
    );
  });
});
