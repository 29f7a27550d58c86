// Spec of the day report (日切报告): from every shard's closing, the money in flight at the cut and the
// general ledger, it checks 总分核对 per (ledger, leaf subject), 试算平衡 per ledger, transit netting per
// (ledger, payer shard, payee shard) and unmapped account codes; every failed row gets one sentence naming
// the ledger and the subject, accounts or shards; the report is plain JSON. Hand-built books on two shards
// and two ledgers over the default chart, then the same report driven by a real cluster's vouchers.

import { describe, expect, test } from 'vitest';
import { strictDefaultChart } from '../../../support/strict-chart.js';
import { summarizeClosedDay, type CodeClosing, type ShardDayClose, type SystemAccountClosing } from '../../../../src/core/books/day-close.js';
import { buildDayReport, formatDayReport, type DayReport, type DayReportInput, type GeneralLedgerView, type InFlightAmount } from '../../../../src/core/books/day-report.js';
import { GeneralLedger, unmappedSubject } from '../../../../src/core/books/general-ledger.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId, type SystemAccountKindNumber } from '../../../../src/core/accounts/system-accounts.js';
import { AccountOperationFlags } from '../../../../src/core/types.js';
import { voucherOf } from '../../../../src/core/books/vouchers.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, ledgerMain, ledgerOther, transfer } from '../../../support/ledger-fixtures.js';

// Strict: codes 8 and 9 map nowhere (the default chart's other-codes leaf would book them).
const chart = strictDefaultChart();
const shardCount = 2;
const day = 20260101;
const dayBegun = 20260102;
/** Default-chart account codes: customer basic accounts, bank deposits; 8 and 9 map nowhere. */
const customerCode = 1;
const bankCode = 5;
const leaf = { customers: '22010101', banks: '10020101', transit: '13010101', suspense: '22410101' } as const;

// ---- hand-built closings and a fake general ledger -------------------------------------------------

function codeRow(ledger: number, code: number, accounts: number, debits: bigint, credits: bigint): CodeClosing {
  return { ledger, code, accounts, debitsPosted: debits.toString(), creditsPosted: credits.toString() };
}

function systemRow(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, debits: bigint, credits: bigint): SystemAccountClosing {
  return { id: systemId(kind, ledger, from, to), kind, ledger, from, to, debitsPosted: debits.toString(), creditsPosted: credits.toString() };
}

function systemId(kind: SystemAccountKindNumber, ledger: number, from: number, to: number): string {
  return systemAccountId(kind, ledger, from, to, shardCount).toString();
}

function shardClose(shard: number, codes: CodeClosing[], systemAccounts: SystemAccountClosing[]): ShardDayClose {
  return { shard, day, dayBegun, cutSeq: 10 + shard, cutTimestamp: String(1_767_225_600_000_000_000n + BigInt(shard)), codes, systemAccounts, transitIssued: [0, 0], transitApplied: [0, 0] };
}

/** Per ledger, per leaf subject (or `unmapped`): [debits, credits] through `day`. */
type Books = Record<number, Record<string, [bigint, bigint]>>;

interface FakeAccount {
  id: bigint;
  code: number;
  ledger: number;
  home: number;
}

/** A general ledger that answers from fixed books; it is only ever asked about day T. */
function fakeGeneralLedger(books: Books, unmapped: FakeAccount[] = []): GeneralLedgerView {
  return {
    subjectTotalsThrough(ledger, through) {
      expect(through).toBe(day);
      return new Map(Object.entries(books[ledger] ?? {}).map(([subject, [debits, credits]]) => [subject, { debits, credits }]));
    },
    ledgers: () => Object.keys(books).map(Number),
    unmappedAccounts: () => unmapped.map((a) => a.id),
    detailSnapshot: (shard) => new Map(unmapped.filter((a) => a.home === shard).map((a) => [a.id, { code: a.code, ledger: a.ledger }])),
  };
}

/**
 * Ledger 1: bank (shard 0) funds Alice (shard 0) 1000; Alice pays Bob (shard 1) 300 through transit 0→1.
 * Ledger 2: bank (shard 1) funds Frank (shard 1) 40; Frank pays Erin (shard 0), who refuses it, and
 * Frank has closed meanwhile, so the return lands in shard 1's suspense account. Everything settled.
 */
function settledWorld(): { closes: ShardDayClose[]; books: Books } {
  const closes = [
    shardClose(0, [codeRow(ledgerMain, customerCode, 1, 300n, 1000n), codeRow(ledgerMain, bankCode, 1, 1000n, 0n), codeRow(ledgerOther, customerCode, 1, 0n, 0n)], [
      systemRow(SystemAccountKind.transitOut, ledgerMain, 0, 1, 0n, 300n),
    ]),
    shardClose(1, [codeRow(ledgerMain, customerCode, 1, 0n, 300n), codeRow(ledgerOther, bankCode, 1, 40n, 0n), codeRow(ledgerOther, customerCode, 1, 40n, 40n)], [
      systemRow(SystemAccountKind.transitIn, ledgerMain, 0, 1, 300n, 0n),
      systemRow(SystemAccountKind.transitOut, ledgerOther, 1, 0, 40n, 40n),
      systemRow(SystemAccountKind.suspense, ledgerOther, 1, 0, 0n, 40n),
    ]),
  ];
  const books: Books = {
    [ledgerMain]: { [leaf.customers]: [300n, 1300n], [leaf.banks]: [1000n, 0n], [leaf.transit]: [300n, 300n] },
    [ledgerOther]: { [leaf.banks]: [40n, 0n], [leaf.customers]: [40n, 40n], [leaf.transit]: [40n, 40n], [leaf.suspense]: [0n, 40n] },
  };
  return { closes, books };
}

/** Ledger 1 of the settled world with Bob's 300 not yet applied on shard 1 at the cut: in flight 0→1. */
function inFlightWorld(): { closes: ShardDayClose[]; books: Books } {
  const closes = [
    shardClose(0, [codeRow(ledgerMain, customerCode, 1, 300n, 1000n), codeRow(ledgerMain, bankCode, 1, 1000n, 0n)], [systemRow(SystemAccountKind.transitOut, ledgerMain, 0, 1, 0n, 300n)]),
    shardClose(1, [codeRow(ledgerMain, customerCode, 1, 0n, 0n)], []),
  ];
  const books: Books = { [ledgerMain]: { [leaf.customers]: [300n, 1000n], [leaf.banks]: [1000n, 0n], [leaf.transit]: [0n, 300n] } };
  return { closes, books };
}

function report(closes: ShardDayClose[], generalLedger: GeneralLedgerView, inFlight: InFlightAmount[] = []): DayReport {
  return buildDayReport({ day, dayBegun, closes, inFlight, chart, generalLedger });
}

function failedChecks(r: DayReport): string[] {
  return Object.entries(r.checks)
    .filter(([, check]) => !check.passed)
    .map(([name]) => name);
}

describe('a day whose books agree', () => {
  test('passes every check, with one row per (ledger, subject), ledger and transit pair', () => {
    const { closes, books } = settledWorld();
    const r = report(closes, fakeGeneralLedger(books));
    expect(r.passed, r.failures.join('\n')).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ version: 1, day, dayBegun, shards: [{ shard: 0, cutSeq: 10 }, { shard: 1, cutSeq: 11 }] });
    expect(r.checks.detailVsGeneral.rows.map((row) => [row.ledger, row.subject])).toEqual([
      [ledgerMain, leaf.banks],
      [ledgerMain, leaf.transit],
      [ledgerMain, leaf.customers],
      [ledgerOther, leaf.banks],
      [ledgerOther, leaf.transit],
      [ledgerOther, leaf.customers],
      [ledgerOther, leaf.suspense],
    ]);
    expect(r.checks.detailVsGeneral.rows.find((row) => row.ledger === ledgerMain && row.subject === leaf.customers)).toEqual({
      ledger: ledgerMain,
      subject: leaf.customers,
      detailDebits: '300',
      detailCredits: '1300',
      generalDebits: '300',
      generalCredits: '1300',
      passed: true,
    });
    expect(r.checks.trialBalance.ledgers).toEqual([
      { ledger: ledgerMain, debitsTotal: '1600', creditsTotal: '1600', debitBalancesTotal: '1000', creditBalancesTotal: '1000', passed: true },
      { ledger: ledgerOther, debitsTotal: '120', creditsTotal: '120', debitBalancesTotal: '40', creditBalancesTotal: '40', passed: true },
    ]);
    expect(r.checks.transit.pairs).toEqual([
      {
        ledger: ledgerMain,
        from: 0,
        to: 1,
        outAccountId: systemId(SystemAccountKind.transitOut, ledgerMain, 0, 1),
        inAccountId: systemId(SystemAccountKind.transitIn, ledgerMain, 0, 1),
        outNet: '300',
        inNet: '300',
        inFlightAtCut: '0',
        passed: true,
      },
      // The refused credit came back: transit-out nets to zero and transit-in was never opened.
      { ledger: ledgerOther, from: 1, to: 0, outAccountId: systemId(SystemAccountKind.transitOut, ledgerOther, 1, 0), inAccountId: '', outNet: '0', inNet: '0', inFlightAtCut: '0', passed: true },
    ]);
    expect(r.checks.unmapped).toEqual({ passed: true, accounts: [] });
  });

  test('is plain JSON (no bigint), and its summary marks every check ✓', () => {
    const { closes, books } = settledWorld();
    const r = report(closes, fakeGeneralLedger(books));
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const text = formatDayReport(r);
    expect(text.split('\n')).toHaveLength(5);
    expect(text).toMatch(/^Day report 2026-01-01 .*PASSED/);
    expect(text).not.toContain('✗');
    expect(text.match(/✓/g)).toHaveLength(4);
  });

  test('is the same whenever it is built: a ledger first posted after the cut adds no row', () => {
    // The bookkeeper may have booked past the cut (postings go on; a restart rebuilds through its progress,
    // and tally verify rebuilds through the journal): a ledger with nothing through T is none of T's business.
    const { closes, books } = settledWorld();
    const atCut = report(closes, fakeGeneralLedger(books));
    const pastCut = report(closes, fakeGeneralLedger({ ...books, 840: {} }));
    expect(pastCut).toEqual(atCut);
    expect(pastCut.checks.trialBalance.ledgers.map((row) => row.ledger)).toEqual([ledgerMain, ledgerOther]);
    // The opening (day 0) of a new store, before anything was posted: no ledger at all, whatever came after.
    const emptyCloses = closes.map((c) => ({ ...c, day: 0, dayBegun: day, codes: [], systemAccounts: [] }));
    const postedLater: GeneralLedgerView = { ...fakeGeneralLedger({ [ledgerMain]: {} }), subjectTotalsThrough: () => new Map() };
    const opening = buildDayReport({ day: 0, dayBegun: day, closes: emptyCloses, inFlight: [], chart, generalLedger: postedLater });
    expect(opening).toMatchObject({ passed: true, checks: { detailVsGeneral: { rows: [] }, trialBalance: { ledgers: [] } } });
  });
});

describe('总分核对: detail against general', () => {
  test('a general ledger that lost a posting fails both subjects it touched, naming them and the shards and codes behind the detail', () => {
    const { closes, books } = settledWorld();
    // A 10 funding of Alice is missing from the books: the trial balance still balances, 总分核对 does not.
    books[ledgerMain]![leaf.customers] = [300n, 1290n];
    books[ledgerMain]![leaf.banks] = [990n, 0n];
    const r = report(closes, fakeGeneralLedger(books));
    expect(r.passed).toBe(false);
    expect(failedChecks(r)).toEqual(['detailVsGeneral']);
    expect(r.checks.detailVsGeneral.rows.filter((row) => !row.passed)).toEqual([
      { ledger: ledgerMain, subject: leaf.banks, detailDebits: '1000', detailCredits: '0', generalDebits: '990', generalCredits: '0', passed: false },
      { ledger: ledgerMain, subject: leaf.customers, detailDebits: '300', detailCredits: '1300', generalDebits: '300', generalCredits: '1290', passed: false },
    ]);
    expect(r.failures).toHaveLength(2);
    expect(r.failures[0]).toMatch(/^Ledger 1, subject 10020101 Bank and payment channel deposits .*general − detail: debits -10, credits 0.*shard 0 code 5/);
    expect(r.failures[1]).toMatch(/^Ledger 1, subject 22010101 Customer basic accounts .*debits 0, credits -10.*shard 0 code 1, shard 1 code 1\.$/);
    expect(formatDayReport(r)).toMatch(/✗ detail vs general .*2 failed[\s\S]*Failures:\n- Ledger 1, subject 10020101/);
  });

  test('names a general ledger that has not booked every shard through its cut as the likely cause', () => {
    const { closes, books } = settledWorld();
    books[ledgerOther]![leaf.suspense] = [0n, 0n];
    const lagging = { ...fakeGeneralLedger(books), seqLast: (shard: number) => (shard === 1 ? 7 : 10) };
    const r = report(closes, lagging);
    expect(r.failures.filter((f) => f.includes(leaf.suspense))).toEqual([expect.stringMatching(/shard 1 suspense \d+.*shard 1 through seq 7 of 11\.$/)]);
  });

  test('a subject the shards never reported is compared against zero', () => {
    const { closes, books } = settledWorld();
    books[ledgerMain]![leaf.suspense] = [0n, 5n];
    books[ledgerMain]![leaf.customers] = [305n, 1300n];
    const r = report(closes, fakeGeneralLedger(books));
    const row = r.checks.detailVsGeneral.rows.find((x) => x.ledger === ledgerMain && x.subject === leaf.suspense);
    expect(row).toMatchObject({ detailDebits: '0', detailCredits: '0', generalCredits: '5', passed: false });
    expect(r.failures.join('\n')).toMatch(/subject 22410101 .*no shard reports an account of this subject/);
  });
});

describe('试算平衡: the trial balance', () => {
  test('shards and general ledger that agree on unbalanced books pass 总分核对 and fail the trial balance of that ledger only', () => {
    const { closes, books } = settledWorld();
    closes[0]!.codes[0] = codeRow(ledgerMain, customerCode, 1, 300n, 1010n);
    books[ledgerMain]![leaf.customers] = [300n, 1310n];
    const r = report(closes, fakeGeneralLedger(books));
    expect(failedChecks(r)).toEqual(['trialBalance']);
    expect(r.checks.trialBalance.ledgers).toEqual([
      { ledger: ledgerMain, debitsTotal: '1600', creditsTotal: '1610', debitBalancesTotal: '1000', creditBalancesTotal: '1010', passed: false },
      { ledger: ledgerOther, debitsTotal: '120', creditsTotal: '120', debitBalancesTotal: '40', creditBalancesTotal: '40', passed: true },
    ]);
    expect(r.failures).toEqual([
      'Ledger 1: the trial balance through 2026-01-01 does not balance: debits 1600 against credits 1610, debit balances 1000 against credit balances 1010.',
    ]);
  });
});

describe('transit netting at the cut (在途)', () => {
  test('a credit issued but not applied at the cut fails without an in-flight amount, naming both transit accounts', () => {
    const { closes, books } = inFlightWorld();
    const r = report(closes, fakeGeneralLedger(books));
    expect(failedChecks(r)).toEqual(['transit']);
    const outId = systemId(SystemAccountKind.transitOut, ledgerMain, 0, 1);
    expect(r.checks.transit.pairs).toEqual([{ ledger: ledgerMain, from: 0, to: 1, outAccountId: outId, inAccountId: '', outNet: '300', inNet: '0', inFlightAtCut: '0', passed: false }]);
    expect(r.failures).toEqual([
      `Ledger 1, transit 0→1: transit-out ${outId} (shard 0) nets 300 and no transit-in account on shard 1, leaving 300 between them, but 0 was in flight at the cut (transit − in flight: 300).`,
    ]);
  });

  test('passes once the money in flight explains it exactly, and fails by the difference when it does not', () => {
    const { closes, books } = inFlightWorld();
    const explained = report(closes, fakeGeneralLedger(books), [{ ledger: ledgerMain, from: 0, to: 1, amount: 300n }]);
    expect(explained.passed, explained.failures.join('\n')).toBe(true);
    expect(explained.checks.transit.pairs[0]).toMatchObject({ outNet: '300', inNet: '0', inFlightAtCut: '300', passed: true });
    expect(formatDayReport(explained)).toContain('✓ transit (在途): 1 pair(s), 300 in flight at the cut, 0 failed');

    const partly = report(closes, fakeGeneralLedger(books), [{ ledger: ledgerMain, from: 0, to: 1, amount: 200n }]);
    expect(partly.failures).toEqual([expect.stringMatching(/but 200 was in flight at the cut \(transit − in flight: 100\)\.$/)]);
  });

  test('both halves present and netting wrong names both account ids', () => {
    const { closes, books } = settledWorld();
    closes[1]!.systemAccounts[0] = systemRow(SystemAccountKind.transitIn, ledgerMain, 0, 1, 290n, 0n);
    closes[1]!.codes[0] = codeRow(ledgerMain, customerCode, 1, 0n, 290n);
    books[ledgerMain]![leaf.customers] = [300n, 1290n];
    books[ledgerMain]![leaf.transit] = [290n, 300n];
    const r = report(closes, fakeGeneralLedger(books));
    expect(failedChecks(r)).toEqual(['transit']);
    const [outId, inId] = [systemId(SystemAccountKind.transitOut, ledgerMain, 0, 1), systemId(SystemAccountKind.transitIn, ledgerMain, 0, 1)];
    expect(r.failures).toEqual([`Ledger 1, transit 0→1: transit-out ${outId} (shard 0) nets 300 and transit-in ${inId} (shard 1) nets 290, leaving 10 between them, but 0 was in flight at the cut (transit − in flight: 10).`]);
  });

  test('money in flight on a pair with no transit account fails: it cannot have left without one', () => {
    const { closes, books } = settledWorld();
    const r = report(closes, fakeGeneralLedger(books), [{ ledger: ledgerOther, from: 0, to: 1, amount: 3n }]);
    expect(failedChecks(r)).toEqual(['transit']);
    expect(r.failures).toEqual([expect.stringMatching(/^Ledger 2, transit 0→1: no transit-out account on shard 0 and no transit-in account on shard 1, .*transit − in flight: -3/)]);
  });
});

describe('unmapped account codes', () => {
  test('lists the general ledger’s unmapped accounts with code and shards, and codes the shards hold without postings', () => {
    const { closes, books } = settledWorld();
    // Shard 1's bank pays 25 into an account of code 8; shard 0 opened an account of code 9 that has not posted.
    const odd = 1_000_001n;
    closes[1]!.codes.push(codeRow(ledgerMain, bankCode, 1, 25n, 0n), codeRow(ledgerMain, 8, 1, 0n, 25n));
    closes[0]!.codes.push(codeRow(ledgerMain, 9, 1, 0n, 0n));
    books[ledgerMain]![leaf.banks] = [1025n, 0n];
    books[ledgerMain]![unmappedSubject] = [0n, 25n];
    const r = report(closes, fakeGeneralLedger(books, [{ id: odd, code: 8, ledger: ledgerMain, home: 1 }]));
    expect(r.checks.unmapped).toEqual({
      passed: false,
      accounts: [
        { accountId: String(odd), code: 8, ledger: ledgerMain, shards: [1] },
        { accountId: '', code: 9, ledger: ledgerMain, shards: [0] },
      ],
    });
    // The unmapped money still agrees between the two sides; the trial balance, which leaves it out, does not balance.
    expect(r.checks.detailVsGeneral.rows.find((row) => row.subject === unmappedSubject)).toMatchObject({ ledger: ledgerMain, detailCredits: '25', generalCredits: '25', passed: true });
    expect(failedChecks(r)).toEqual(['trialBalance', 'unmapped']);
    expect(r.failures).toEqual([
      expect.stringMatching(/^Ledger 1: the trial balance .* Postings on unmapped account codes, left out of it: debits 0, credits 25\.$/),
      `Ledger 1: account ${odd} has code 8, which the chart maps to no leaf subject (on shard(s) 1).`,
      'Ledger 1: account code 9 maps to no leaf subject of the chart (1 account(s) on shard(s) 0).',
    ]);
    expect(formatDayReport(r)).toContain('✗ unmapped account codes: 2');
  });
});

describe('inputs that do not describe one cut of one shard set are refused (a programmer error)', () => {
  test.each([
    { what: 'a shard that closed another day', change: (i: DayReportInput) => (i.closes[1]!.day = 20251231), message: /shard 1 closed day 20251231/ },
    { what: 'a shard reported twice', change: (i: DayReportInput) => (i.closes[1]!.shard = 0), message: /closes name shards 0..n-1, once each/ },
    { what: 'dayBegun not after day', change: (i: DayReportInput) => (i.dayBegun = day), message: /dayBegun 20260101 is a business day after/ },
    { what: 'an in-flight pair given twice', change: (i: DayReportInput) => i.inFlight.push({ ledger: 1, from: 0, to: 1, amount: 1n }, { ledger: 1, from: 0, to: 1, amount: 2n }), message: /given once/ },
    { what: 'a system account reported by a shard it does not live on', change: (i: DayReportInput) => i.closes[0]!.systemAccounts.push(systemRow(SystemAccountKind.transitIn, ledgerMain, 0, 1, 0n, 0n)), message: /lives on shard 1, reported by 0/ },
    { what: 'an amount that is not a decimal string', change: (i: DayReportInput) => (i.closes[0]!.codes[0]!.debitsPosted = '1e3'), message: /is a decimal string/ },
  ])('$what', ({ change, message }) => {
    const { closes, books } = settledWorld();
    const input: DayReportInput = { day, dayBegun, closes, inFlight: [], chart, generalLedger: fakeGeneralLedger(books) };
    change(input);
    expect(() => buildDayReport(input)).toThrow(message);
  });
});

// ---- driven by a real cluster: journals → vouchers → general ledger; Ledger.cutDay → day closes ------

function idsOnShards(perShard: number): bigint[][] {
  const lists: bigint[][] = Array.from({ length: shardCount }, () => []);
  for (let id = 1n; lists.some((l) => l.length < perShard); id++) {
    const list = lists[shardOfId(id, shardCount)]!;
    if (list.length < perShard) list.push(id);
  }
  return lists;
}

/** Every shard cuts (as the shard set does) and summarizes the day that ended. */
function cutAll(c: ClusterHarness, begins: number): ShardDayClose[] {
  return c.shards.map((h) => {
    const { seq, entry } = h.ledger.cutDay(begins, h.nowNs);
    h.journal.set(seq, entry);
    const closed = h.ledger.takeClosedDays();
    expect(closed).toHaveLength(1);
    return summarizeClosedDay(h.ledger.state, closed[0]!);
  });
}

/** Books every voucher each shard journaled since the general ledger last read it. */
function catchUp(c: ClusterHarness, gl: GeneralLedger): void {
  for (let shard = 0; shard < shardCount; shard++) {
    const journal = c.shards[shard]!.journal;
    for (let seq = gl.seqLast(shard) + 1; journal.has(seq); seq++) gl.applyVoucher(shard, voucherOf(journal.get(seq)!, shard, shardCount));
  }
}

describe('a real cluster’s day', () => {
  test('closes and vouchers agree; transit passes exactly when the credits and the return still in flight are given', () => {
    const [s0, s1] = idsOnShards(3);
    const [bank0, alice, carol] = s0!;
    const [bank1, bob, dave] = s1!;
    const c = new ClusterHarness(shardCount);
    const opened = c.createAccounts([
      account(bank0!, { code: bankCode }),
      account(alice!, { code: customerCode }),
      account(bob!, { code: customerCode }),
      account(dave!, { code: customerCode }),
      account(bank1!, { code: bankCode, ledger: ledgerOther }),
      account(carol!, { code: customerCode, ledger: ledgerOther }),
    ]);
    expect(opened.every((o) => o === 'ok')).toBe(true);
    expect(c.createTransfers([transfer(1n, bank0!, alice!, 100n), transfer(2n, bank1!, carol!, 50n, { ledger: ledgerOther })])).toEqual(['ok', 'ok']);
    c.settle();
    const gl = new GeneralLedger(chart);
    const opening = cutAll(c, day); // closes the opening (day 0)
    catchUp(c, gl);
    const openingReport = buildDayReport({ day: 0, dayBegun: day, closes: opening, inFlight: [], chart, generalLedger: gl });
    expect(openingReport.passed, openingReport.failures.join('\n')).toBe(true);

    // Day T: 30 to Bob lands; 7 to Dave (credit-blocked) is refused and its return is still on its way
    // back at the cut; 5 more to Bob is issued and never delivered before the cut.
    expect(c.accountOperations([{ id: 500n, accountId: dave!, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, alice!, bob!, 30n), transfer(11n, alice!, dave!, 7n)])).toEqual(['ok', 'ok']);
    expect(c.deliver()).toBe(2);
    expect(c.createTransfers([transfer(12n, alice!, bob!, 5n)])).toEqual(['ok']);
    const closes = cutAll(c, dayBegun);
    // Day T+1 goes on before the bookkeeper reads: the report of T must not see it.
    c.settle();
    expect(c.createTransfers([transfer(13n, alice!, bob!, 1n)])).toEqual(['ok']);
    catchUp(c, gl);

    const generalLedger: GeneralLedgerView = gl;
    const withoutInFlight = buildDayReport({ day, dayBegun, closes, inFlight: [], chart, generalLedger });
    expect(failedChecks(withoutInFlight)).toEqual(['transit']);
    const outId = systemAccountId(SystemAccountKind.transitOut, ledgerMain, 0, 1, shardCount).toString();
    expect(withoutInFlight.failures).toEqual([expect.stringMatching(new RegExp(`^Ledger 1, transit 0→1: transit-out ${outId} \\(shard 0\\) nets 42 and transit-in \\d+ \\(shard 1\\) nets 30, .*transit − in flight: 12\\)\\.$`))]);

    const inFlight: InFlightAmount[] = [{ ledger: ledgerMain, from: 0, to: 1, amount: 5n + 7n }];
    const r = buildDayReport({ day, dayBegun, closes, inFlight, chart, generalLedger });
    expect(r.passed, r.failures.join('\n')).toBe(true);
    expect(r.checks.detailVsGeneral.rows.find((row) => row.ledger === ledgerMain && row.subject === leaf.customers)).toMatchObject({ detailDebits: '42', detailCredits: '130' });
    expect(r.checks.transit.pairs.map((p) => [p.ledger, p.from, p.to, p.outNet, p.inNet, p.inFlightAtCut])).toEqual([
      [ledgerMain, 0, 1, '42', '30', '12'],
      [ledgerOther, 1, 0, '50', '50', '0'],
    ]);
    expect(r.shards.map((s) => s.cutSeq)).toEqual(closes.map((close) => close.cutSeq));
  });
});
