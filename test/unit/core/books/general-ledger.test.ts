// Spec of the general ledger kept from vouchers: the detail ledger (明细账) of every account equals the
// posted balances its own shard holds, transit and suspense accounts included; the general ledger (总账)
// rolls into the chart and its trial balance balances; postings land on the business day their shard
// was in; unmapped account codes are named; checkpoints round-trip.
//
// Property (fast-check, three shards): after any run of payments, holds, posts, voids, reversals and
// credit blocks within and across shards, once settled, every ledger's Σ debits = Σ credits in the
// books and every account's detail totals equal its shard's balances. TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run; fast-check prints the seed on failure.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { strictDefaultChart } from '../../../support/strict-chart.js';
import { GeneralLedger, unmappedSubject, type GeneralLedgerJson } from '../../../../src/core/books/general-ledger.js';
import { writeJournalHeader } from '../../../../src/core/posting/journal-entry.js';
import { Operation } from '../../../../src/core/operations.js';
import type { TransferInput } from '../../../../src/core/wire/records.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../../../src/core/accounts/system-accounts.js';
import { AccountFlags, AccountOperationFlags, TransferFlags, type AccountState } from '../../../../src/core/types.js';
import { voucherOf } from '../../../../src/core/books/vouchers.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, ledgerMain, ledgerOther, pending, post, reversal, transfer, voidHold } from '../../../support/ledger-fixtures.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 50);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

// Strict: codes 8 and 9 map nowhere (the default chart's other-codes leaf would book them).
const chart = strictDefaultChart();
/** Default-chart account codes: customer basic accounts (liability) and bank deposits (asset); 8 maps nowhere. */
const customerCode = 1;
const bankCode = 5;
const unmappedCode = 8;
const leaf = { customers: '22010101', banks: '10020101', transit: '13010101', suspense: '22410101' } as const;

function idsOnShards(shardCount: number, perShard: number): bigint[][] {
  const lists: bigint[][] = Array.from({ length: shardCount }, () => []);
  for (let id = 1n; lists.some((l) => l.length < perShard); id++) {
    const list = lists[shardOfId(id, shardCount)]!;
    if (list.length < perShard) list.push(id);
  }
  return lists;
}

/** Every system account a cluster can open on the given ledgers. */
function systemIds(shardCount: number, ledgers: readonly number[]): bigint[] {
  const ids: bigint[] = [];
  for (const ledger of ledgers) {
    for (let from = 0; from < shardCount; from++) {
      ids.push(systemAccountId(SystemAccountKind.suspense, ledger, from, 0, shardCount));
      for (let to = 0; to < shardCount; to++) {
        if (to === from) continue;
        ids.push(systemAccountId(SystemAccountKind.transitOut, ledger, from, to, shardCount));
        ids.push(systemAccountId(SystemAccountKind.transitIn, ledger, from, to, shardCount));
      }
    }
  }
  return ids;
}

/** Books every voucher each shard journaled since the general ledger last read it, shard by shard. */
function catchUp(c: ClusterHarness, gl: GeneralLedger): void {
  for (let shard = 0; shard < c.shardCount; shard++) {
    const journal = c.shards[shard]!.journal;
    for (let seq = gl.seqLast(shard) + 1; journal.has(seq); seq++) gl.applyVoucher(shard, voucherOf(journal.get(seq)!, shard, c.shardCount));
  }
}

function lookup(c: ClusterHarness, id: bigint): AccountState | undefined {
  return c.shards[shardOfId(id, c.shardCount)]!.lookupLedgerAccounts([id])[0];
}

/** The detail ledger against the shards: each booked account, and each id given (booked or not). */
function expectBooksMatchShards(c: ClusterHarness, gl: GeneralLedger, ids: readonly bigint[]): void {
  for (let shard = 0; shard < c.shardCount; shard++) {
    for (const [id, detail] of gl.detailSnapshot(shard)) {
      const held = c.shards[shard]!.lookupLedgerAccounts([id])[0];
      expect(held, `account ${id} on shard ${shard}`).toBeDefined();
      expect([detail.code, detail.ledger, detail.debits, detail.credits], `account ${id}`).toEqual([held!.code, held!.ledger, held!.debitsPosted, held!.creditsPosted]);
    }
  }
  for (const id of ids) {
    const held = lookup(c, id);
    expect(gl.accountTotals(id) ?? { debits: 0n, credits: 0n }, `account ${id}`).toEqual({ debits: held?.debitsPosted ?? 0n, credits: held?.creditsPosted ?? 0n });
  }
}

// ---- a four-shard world on the default chart -----------------------------------------------------

const shardCount = 4;
const [s0, s1, s2, s3] = idsOnShards(shardCount, 6);
const bank = [s0![0]!, s1![0]!, s2![0]!, s3![0]!];
const alice = s0![1]!;
const carol = s0![2]!;
const bob = s1![1]!;
const dave = s2![1]!;
const odd = s3![1]!;
const otherLedger = [s0![3]!, s3![2]!];
const customers = [alice, carol, bob, dave];
const everyId = [...bank, ...customers, odd, ...otherLedger, ...systemIds(shardCount, [ledgerMain, ledgerOther])];

function world(): ClusterHarness {
  const c = new ClusterHarness(shardCount, { verifyEachWrite: true });
  const opened = c.createAccounts([
    ...bank.map((id) => account(id, { code: bankCode })),
    ...customers.map((id) => account(id, { code: customerCode, flags: AccountFlags.debits_must_not_exceed_credits })),
    ...otherLedger.map((id) => account(id, { code: customerCode, ledger: ledgerOther })),
  ]);
  expect(opened.every((r) => r === 'ok')).toBe(true);
  expect(c.createTransfers([transfer(1n, bank[0]!, alice, 100n), transfer(2n, bank[0]!, carol, 100n)])).toEqual(['ok', 'ok']);
  return c;
}

/** Same-shard and cross-shard payments, a return, a return into suspense, a post, a void, a reversal, and ledger 2. */
function busyDay(c: ClusterHarness): void {
  expect(c.accountOperations([{ id: 500n, accountId: dave, kind: 'block', flags: AccountOperationFlags.credits }])).toEqual(['ok']);
  const hold = pending(12n, alice, bob, 20n);
  const voided = pending(13n, carol, bob, 5n);
  expect(c.createTransfers([transfer(10n, alice, carol, 10n), transfer(11n, alice, bob, 30n), transfer(14n, alice, dave, 7n), hold, voided])).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  expect(c.createTransfers([post(15n, hold, 15n), voidHold(16n, voided), transfer(17n, otherLedger[0]!, otherLedger[1]!, 9n, { ledger: ledgerOther, code: customerCode })])).toEqual(['ok', 'ok', 'ok']);
  c.settle();
  const original = transfer(11n, alice, bob, 30n);
  expect(c.createTransfers([reversal(18n, original, 12n), transfer(19n, bob, bank[3]!, 1n)])).toEqual(['ok', 'ok']);
  expect(c.accountOperations([{ id: 501n, accountId: bob, kind: 'close' }])).toEqual(['close_refused:nonzero_balance']);
  // Carol sends everything to a closed-off payee, then closes: the return can only go to suspense.
  expect(c.createTransfers([transfer(20n, carol, dave, 110n)])).toEqual(['ok']);
  expect(c.accountOperations([{ id: 502n, accountId: carol, kind: 'close' }])).toEqual(['ok']);
}

describe('the detail ledger', () => {
  test('equals every shard’s posted balances, transit and suspense accounts included, in flight and settled', () => {
    const c = world();
    const gl = new GeneralLedger(chart);
    busyDay(c);
    catchUp(c, gl);
    expectBooksMatchShards(c, gl, everyId);
    c.settle();
    catchUp(c, gl);
    expectBooksMatchShards(c, gl, everyId);
    const suspense0 = systemAccountId(SystemAccountKind.suspense, ledgerMain, 0, 0, shardCount);
    expect(gl.accountTotals(suspense0)).toEqual({ debits: 0n, credits: 110n });
    expect(gl.detailSnapshot(0).get(suspense0)).toEqual({ code: 9200, ledger: ledgerMain, debits: 0n, credits: 110n });
    expect(gl.accountTotals(123_456_789n)).toBeUndefined();
  });

  test('does not depend on how the shards’ vouchers interleave', () => {
    const c = world();
    busyDay(c);
    c.settle();
    const shardByShard = new GeneralLedger(chart);
    catchUp(c, shardByShard);
    const roundRobin = new GeneralLedger(chart);
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (let shard = shardCount - 1; shard >= 0; shard--) {
        const entry = c.shards[shard]!.journal.get(roundRobin.seqLast(shard) + 1);
        if (entry === undefined) continue;
        roundRobin.applyVoucher(shard, voucherOf(entry, shard, shardCount));
        progressed = true;
      }
    }
    for (const id of everyId) expect(roundRobin.accountTotals(id)).toEqual(shardByShard.accountTotals(id));
    expect(roundRobin.trialBalance(ledgerMain)).toEqual(shardByShard.trialBalance(ledgerMain));
  });
});

describe('the general ledger', () => {
  test('rolls into the default chart; the trial balance balances on each ledger; transit nets to zero once settled', () => {
    const c = world();
    const gl = new GeneralLedger(chart);
    busyDay(c);
    catchUp(c, gl);
    // Before settle, 12 + 1 + 110 are in transit: credited to transit-out halves, not yet debited on arrival.
    expect(gl.subjectBalances(ledgerMain).get(leaf.transit)!.balance).toBe(-123n);
    c.settle();
    catchUp(c, gl);
    expect(gl.ledgers()).toEqual([ledgerMain, ledgerOther]);
    for (const ledger of gl.ledgers()) {
      const tb = gl.trialBalance(ledger);
      expect(tb.balanced, `ledger ${ledger}`).toBe(true);
      expect(tb.debitsTotal).toBe(tb.creditsTotal);
      expect(tb.unmapped).toEqual({ debits: 0n, credits: 0n });
    }
    const balances = gl.subjectBalances(ledgerMain);
    const customersHeld = customers.reduce((sum, id) => sum + lookup(c, id)!.creditsPosted - lookup(c, id)!.debitsPosted, 0n);
    expect(balances.get(leaf.customers)!.balance).toBe(customersHeld);
    expect(balances.get('2201')!.balance).toBe(customersHeld);
    expect(balances.get(leaf.transit)!.balance).toBe(0n);
    expect(balances.get(leaf.suspense)!.balance).toBe(110n);
    expect(balances.get(leaf.banks)!.balance).toBe(199n);
    expect(gl.unmappedAccounts()).toEqual([]);
  });

  test('subject balances and the trial balance read the same at one shard and at four, once settled (issue #14, item 30)', () => {
    // The four-shard world's accounts, on one shard and on four: transit carries the cross-shard transfers twice on
    // four shards and never on one; netted, it reads the same.
    const booksAt = (count: number): GeneralLedger => {
      const c = new ClusterHarness(count, { verifyEachWrite: true });
      const opened = c.createAccounts([...bank.map((id) => account(id, { code: bankCode })), ...customers.map((id) => account(id, { code: customerCode }))]);
      expect(opened.every((r) => r === 'ok')).toBe(true);
      const hold = pending(31n, alice, bob, 20n);
      expect(c.createTransfers([transfer(30n, bank[0]!, alice, 100n), hold, transfer(32n, bank[1]!, carol, 40n), transfer(33n, carol, dave, 15n)])).toEqual(['ok', 'ok', 'ok', 'ok']);
      c.settle();
      expect(c.createTransfers([post(34n, hold, 15n), reversal(35n, transfer(33n, carol, dave, 15n), 5n), transfer(36n, dave, bank[3]!, 3n)])).toEqual(['ok', 'ok', 'ok']);
      c.settle();
      const gl = new GeneralLedger(chart);
      catchUp(c, gl);
      return gl;
    };
    const one = booksAt(1);
    const four = booksAt(shardCount);
    // Four shards did post to transit (gross turnover), one shard did not.
    expect(four.subjectTotalsThrough(ledgerMain, Number.MAX_SAFE_INTEGER).get(leaf.transit)!.debits).toBeGreaterThan(0n);
    expect(one.subjectTotalsThrough(ledgerMain, Number.MAX_SAFE_INTEGER).get(leaf.transit)).toBeUndefined();
    expect(four.subjectBalances(ledgerMain)).toEqual(one.subjectBalances(ledgerMain));
    expect(four.trialBalance(ledgerMain)).toEqual(one.trialBalance(ledgerMain));
    expect(four.trialBalance(ledgerMain).balanced).toBe(true);
  });

  test('puts an account code the chart does not map under `unmapped`, and names the account', () => {
    const c = world();
    expect(c.createAccounts([account(odd, { code: unmappedCode })])).toEqual(['ok']);
    expect(c.createTransfers([transfer(10n, bank[3]!, odd, 25n)])).toEqual(['ok']);
    const gl = new GeneralLedger(chart);
    catchUp(c, gl);
    expect(gl.unmappedAccounts()).toEqual([odd]);
    expect(gl.subjectTotalsThrough(ledgerMain, 0).get(unmappedSubject)).toEqual({ debits: 0n, credits: 25n });
    const tb = gl.trialBalance(ledgerMain);
    expect(tb).toMatchObject({ debitsTotal: 225n, creditsTotal: 200n, balanced: false, unmapped: { debits: 0n, credits: 25n } });
    expect(gl.subjectBalances(ledgerMain).has(unmappedSubject)).toBe(false);
  });
});

/** A day cut written by the shard itself and persisted as the shard worker would. */
function cutDay(c: ClusterHarness, shard: number, day: number): void {
  const { seq, entry } = c.shards[shard]!.ledger.cutDay(day, c.shards[shard]!.nowNs);
  c.shards[shard]!.journal.set(seq, entry);
}

/** A day cut built byte by byte (op 9, no events, the day at header offset 24), applied as a journal entry. */
function cutDayByHand(c: ClusterHarness, shard: number, day: number): void {
  const h = c.shards[shard]!;
  h.advanceSeconds(1); // the cut's timestamp must come after every timestamp the shard assigned
  const entry = new Uint8Array(32);
  const seq = h.ledger.seqLast + 1;
  writeJournalHeader(new DataView(entry.buffer), { operation: Operation.day_cut, count: 0, timestampBase: h.nowNs, seq, businessDay: 0 });
  new DataView(entry.buffer).setUint32(24, day, true);
  h.ledger.replay(seq, entry);
  h.journal.set(seq, entry);
}

describe('business days', () => {
  test('postings belong to the day their shard was in; totals through a day add every earlier day', () => {
    const c = world(); // day 0 (opening): 200 funded
    cutDayByHand(c, 0, 20260102);
    expect(c.createTransfers([transfer(10n, alice, carol, 10n), transfer(11n, alice, bob, 5n)])).toEqual(['ok', 'ok']);
    c.settle(); // shard 1 never cut: Bob's credit is booked on its opening day
    cutDay(c, 0, 20260103);
    expect(c.createTransfers([transfer(12n, carol, bank[0]!, 2n)])).toEqual(['ok']);
    const gl = new GeneralLedger(chart);
    catchUp(c, gl);
    expect([gl.businessDay(0), gl.businessDay(1)]).toEqual([20260103, 0]);
    const through = (day: number) => {
      const totals = gl.subjectTotalsThrough(ledgerMain, day);
      return [leaf.customers, leaf.transit, leaf.banks].map((code) => totals.get(code) ?? { debits: 0n, credits: 0n });
    };
    expect(through(0)).toEqual([
      { debits: 0n, credits: 205n },
      { debits: 5n, credits: 0n },
      { debits: 200n, credits: 0n },
    ]);
    expect(through(20260102)).toEqual([
      { debits: 15n, credits: 215n },
      { debits: 5n, credits: 5n },
      { debits: 200n, credits: 0n },
    ]);
    expect(through(20260103)).toEqual([
      { debits: 17n, credits: 215n },
      { debits: 5n, credits: 5n },
      { debits: 200n, credits: 2n },
    ]);
    expect(gl.trialBalance(ledgerMain, 0).balanced).toBe(true); // each day's vouchers balance on their own
    expect(gl.subjectBalances(ledgerMain, 20260102).get(leaf.banks)!.balance).toBe(200n);
  });

  test('the detail snapshot taken as a day-cut voucher is booked is the closing of the day that ended', () => {
    const c = world();
    expect(c.createTransfers([transfer(10n, alice, bob, 30n), transfer(11n, carol, alice, 4n)])).toEqual(['ok', 'ok']);
    const closing = new Map([...bank, alice, carol].map((id) => [id, lookup(c, id)!]));
    cutDay(c, 0, 20260102);
    expect(c.createTransfers([transfer(12n, alice, carol, 1n)])).toEqual(['ok']);
    const gl = new GeneralLedger(chart);
    const journal = c.shards[0]!.journal;
    let snapshot = new Map<bigint, { debits: bigint; credits: bigint }>();
    for (let seq = 1; journal.has(seq); seq++) {
      const voucher = voucherOf(journal.get(seq)!, 0, shardCount);
      gl.applyVoucher(0, voucher);
      if (voucher.businessDayBegins !== undefined) snapshot = gl.detailSnapshot(0);
    }
    const transitOut = systemAccountId(SystemAccountKind.transitOut, ledgerMain, 0, 1, shardCount);
    expect([...snapshot.keys()].sort()).toEqual([bank[0]!, alice, carol, otherLedger[0]!, transitOut].sort());
    for (const [id, held] of closing) {
      if (shardOfId(id, shardCount) !== 0) continue;
      expect(snapshot.get(id)).toMatchObject({ debits: held.debitsPosted, credits: held.creditsPosted });
    }
    expect(snapshot.get(alice)).toMatchObject({ code: customerCode, debits: 30n, credits: 104n });
    expect(gl.accountTotals(alice)).toEqual({ debits: 31n, credits: 104n });
  });
});

describe('applyVoucher refuses (a programmer error)', () => {
  test.each([
    { what: 'a voucher applied twice', apply: (gl: GeneralLedger, c: ClusterHarness) => [1, 1].forEach((seq) => gl.applyVoucher(0, voucherOf(c.shards[0]!.journal.get(seq)!, 0, shardCount))), message: /voucher 1 follows 1/ },
    { what: 'a skipped voucher', apply: (gl: GeneralLedger, c: ClusterHarness) => gl.applyVoucher(0, voucherOf(c.shards[0]!.journal.get(2)!, 0, shardCount)), message: /voucher 2 follows 0/ },
    {
      what: 'a line on an account its shard never opened',
      apply: (gl: GeneralLedger, c: ClusterHarness) => {
        gl.applyVoucher(1, voucherOf(c.shards[1]!.journal.get(1)!, 1, shardCount));
        gl.applyVoucher(1, voucherOf(c.shards[0]!.journal.get(2)!, 0, shardCount));
      },
      message: /shard 1 posts to account \d+, which it never opened/,
    },
    {
      what: 'a line on an account of another shard',
      apply: (gl: GeneralLedger, c: ClusterHarness) => {
        gl.applyVoucher(0, voucherOf(c.shards[0]!.journal.get(1)!, 0, shardCount));
        const lines = [{ accountId: alice, ledger: ledgerMain, side: 'debit' as const, amount: 1n }, { accountId: carol, ledger: ledgerMain, side: 'credit' as const, amount: 1n }];
        gl.applyVoucher(1, { seq: 1, operation: Operation.create_transfers, businessDay: 0, accountsCreated: [], lines });
      },
      message: /posted by its own shard 0, not 1/,
    },
    {
      what: 'a voucher of another business day than its shard is in',
      apply: (gl: GeneralLedger, c: ClusterHarness) => gl.applyVoucher(0, { ...voucherOf(c.shards[0]!.journal.get(1)!, 0, shardCount), businessDay: 20260101 }),
      message: /belongs to day 0/,
    },
  ])('$what', ({ apply, message }) => {
    const c = world();
    expect(() => apply(new GeneralLedger(chart), c)).toThrow(message);
  });
});

describe('checkpoints', () => {
  test('toJSON → JSON text → fromJSON keeps the books, and both go on alike', () => {
    const c = world();
    busyDay(c);
    const gl = new GeneralLedger(chart);
    catchUp(c, gl);
    const text = JSON.stringify(gl.toJSON());
    const restored = GeneralLedger.fromJSON(chart, JSON.parse(text) as GeneralLedgerJson);
    expect(restored.toJSON()).toEqual(gl.toJSON());
    c.settle();
    catchUp(c, gl);
    catchUp(c, restored);
    expect(restored.toJSON()).toEqual(gl.toJSON());
    expect(restored.trialBalance(ledgerMain)).toEqual(gl.trialBalance(ledgerMain));
    expectBooksMatchShards(c, restored, everyId);
  });

  test('a checkpoint whose detail and general ledgers disagree is refused', () => {
    const c = world();
    const gl = new GeneralLedger(chart);
    catchUp(c, gl);
    const json = gl.toJSON();
    json.accounts.find((a) => a.id === String(alice))!.credits = '99';
    expect(() => GeneralLedger.fromJSON(chart, json)).toThrow(/detail ledger equals general ledger/);
  });
});

// ---- property: random traffic over three shards ------------------------------------------------

const propertyShards = 3;
const propertyIds = idsOnShards(propertyShards, 4);
/** Per shard: a bank (index 0) and customers; customers 3 of each shard are on ledger 2. */
const propertyAccounts = propertyIds.flatMap((ids) =>
  ids.map((id, k) => ({ id, ledger: k === 3 ? ledgerOther : ledgerMain, code: k === 0 ? bankCode : customerCode, flags: k === 1 ? AccountFlags.debits_must_not_exceed_credits : 0 })),
);

type Step =
  | { kind: 'pay' | 'hold'; from: number; to: number; amount: bigint }
  | { kind: 'post' | 'void'; nth: number; amount: bigint }
  | { kind: 'reverse'; nth: number; amount: bigint }
  /** `who` past the last account: the payer of the most recent payment (its return then goes to suspense). */
  | { kind: 'block' | 'unblock'; who: number }
  | { kind: 'settle' };

const party = fc.nat({ max: propertyAccounts.length - 1 });
const amount = fc.bigInt(0n, 400n);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constantFrom('pay' as const, 'hold' as const), from: party, to: party, amount }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('post' as const, 'void' as const, 'reverse' as const), nth: fc.nat({ max: 3 }), amount }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('block' as const, 'unblock' as const), who: fc.nat({ max: propertyAccounts.length }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'settle' as const }) },
);

/**
 * Runs the steps, calling `midway` before step `midwayAt`. Ids count up; posts, voids and reversals
 * refer to the nth most recent hold or payment that succeeded.
 */
function run(c: ClusterHarness, steps: readonly Step[], midwayAt: number, midway: () => void): void {
  let nextId = 10_000n;
  const holds: TransferInput[] = [];
  const payments: TransferInput[] = [];
  for (const [i, s] of steps.entries()) {
    if (i === midwayAt) midway();
    const id = nextId++;
    if (s.kind === 'settle') c.settle();
    else if (s.kind === 'block' || s.kind === 'unblock') {
      const accountId = propertyAccounts[s.who]?.id ?? payments[0]?.debitAccountId ?? propertyAccounts[0]!.id;
      c.accountOperations([{ id, accountId, kind: s.kind, flags: AccountOperationFlags.credits }]);
    }
    else if (s.kind === 'pay' || s.kind === 'hold') {
      const from = propertyAccounts[s.from]!;
      const t = transfer(id, from.id, propertyAccounts[s.to]!.id, s.amount, { ledger: from.ledger, flags: s.kind === 'hold' ? TransferFlags.pending : 0 });
      if (c.createTransfers([t])[0] === 'ok') (s.kind === 'hold' ? holds : payments).unshift(t);
    } else if (s.kind === 'reverse') {
      const original = payments[s.nth];
      if (original !== undefined) c.createTransfers([reversal(id, original, s.amount)]);
    } else if (s.kind === 'post' || s.kind === 'void') {
      const hold = holds[s.nth];
      if (hold !== undefined) c.createTransfers([s.kind === 'post' ? post(id, hold, s.amount) : voidHold(id, hold)]);
    }
  }
}

describe('general ledger of random cross-shard traffic (property)', () => {
  test('Σ debits = Σ credits per ledger, and every account’s detail totals equal its shard’s balances', () => {
    const ids = [...propertyAccounts.map((a) => a.id), ...systemIds(propertyShards, [ledgerMain, ledgerOther])];
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60, size: 'max' }), fc.nat({ max: 60 }), (steps, bookedAfter) => {
        const c = new ClusterHarness(propertyShards);
        expect(c.createAccounts(propertyAccounts).every((r) => r === 'ok')).toBe(true);
        const funding = propertyAccounts.filter((a) => a.code === customerCode && a.ledger === ledgerMain);
        c.createTransfers(funding.map((a, k) => transfer(BigInt(k + 1), propertyIds[shardOfId(a.id, propertyShards)]![0]!, a.id, 500n)));
        const gl = new GeneralLedger(chart);
        run(c, steps, bookedAfter, () => catchUp(c, gl)); // the books read part of the way, then catch up
        c.settle();
        catchUp(c, gl);
        for (const ledger of [ledgerMain, ledgerOther]) {
          const tb = gl.trialBalance(ledger);
          expect(tb.debitsTotal).toBe(tb.creditsTotal);
          expect(tb.balanced).toBe(true);
          expect(gl.subjectBalances(ledger).get(leaf.transit)!.balance).toBe(0n);
        }
        expect(gl.unmappedAccounts()).toEqual([]);
        expectBooksMatchShards(c, gl, ids);
      }),
      { numRuns: runs, seed },
    );
  });
});

// ---- the subject books the bookkeeping shard stores and resumes from ---------------------------

describe('fromSubjectRows', () => {
  /** A summary voucher of `seq` on day 0: `amount` from code 1 to code 3 on `ledger`. */
  const subjectVoucher = (seq: number, ledger: number, amount: bigint) => ({
    seq,
    operation: Operation.create_transfers,
    businessDay: 0,
    lines: [
      { ledger, code: 1, side: 'debit' as const, amount },
      { ledger, code: 3, side: 'credit' as const, amount },
    ],
  });

  test('the stored rows give the same books, which go on alike', () => {
    const gl = new GeneralLedger(chart);
    gl.applySubjectVoucher(0, subjectVoucher(1, ledgerMain, 7n));
    gl.applySubjectVoucher(1, subjectVoucher(1, ledgerOther, 5n));
    gl.applySubjectVoucher(0, { seq: 2, operation: Operation.day_cut, businessDay: 0, businessDayBegins: 20260102, lines: [] });
    gl.applySubjectVoucher(0, { ...subjectVoucher(3, ledgerMain, 11n), businessDay: 20260102 });
    const { shards, days } = gl.toJSON();
    expect([gl.progressRow(0), gl.dayTotalsRow(ledgerMain, 20260102, 1)]).toEqual([
      { shard: 0, seqLast: 3, day: 20260102 },
      { ledger: ledgerMain, day: 20260102, code: 1, debits: '11', credits: '0' },
    ]);
    const restored = GeneralLedger.fromSubjectRows(chart, JSON.parse(JSON.stringify(shards)), JSON.parse(JSON.stringify(days)));
    expect(restored.toJSON()).toEqual(gl.toJSON());
    for (const books of [gl, restored]) books.applySubjectVoucher(1, subjectVoucher(2, ledgerOther, 3n));
    expect(restored.toJSON()).toEqual(gl.toJSON());
    expect(restored.trialBalance(ledgerMain, 0)).toEqual(gl.trialBalance(ledgerMain, 0));
    expect([restored.seqLast(0), restored.businessDay(0)]).toEqual([3, 20260102]);
  });

  test.each([
    { what: 'rows that do not balance', days: [{ ledger: 1, day: 0, code: 1, debits: '5', credits: '0' }], message: /ledger 1 balances/ },
    {
      what: 'a row named twice',
      days: [
        { ledger: 1, day: 0, code: 1, debits: '5', credits: '5' },
        { ledger: 1, day: 0, code: 1, debits: '5', credits: '5' },
      ],
      message: /code 1 once/,
    },
    { what: 'a negative total', days: [{ ledger: 1, day: 0, code: 1, debits: '-5', credits: '-5' }], message: /not negative/ },
  ])('refuses $what', ({ days, message }) => {
    expect(() => GeneralLedger.fromSubjectRows(chart, [{ shard: 0, seqLast: 1, day: 0 }], days)).toThrow(message);
  });
});
