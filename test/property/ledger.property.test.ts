// Random command sequences against the Ledger and the reference model (test/support/reference-ledger.ts).
//
// Invariants checked:
//  1. Agreement: for every batch, every event's result (with close reasons) is the same in the Ledger
//     and the model; after every step every account (balances, frozen, status, fields, timestamp) and
//     every transfer (status, effective amount, amount posted, amount reversed, timestamp) read the
//     same; at the end and after each restart, so does every account's history with its balances-after.
//  2. Idempotency: batches are re-sent unchanged, ids are reused with other fields, and accounts come
//     from a tiny id space, so retries, conflicts and retried failures happen inside batches and across
//     them; agreement covers them.
//  3. Linked chains are all or nothing (the model clones its whole state to roll a chain back).
//  4. Recovery: a restart replays the journal into a new Ledger whose every reply is byte-equal to
//     the old one's (the harness asserts it), which passes verify(), and which still agrees with the model.
//     Checkpoints are taken at random points; a restart then starts from the newest one and replays only the
//     tail, and its state (the canonical checkpoint encoding) equals a full replay's byte for byte.
//  5. Double entry: per ledger, Σ debits posted = Σ credits posted and Σ debits pending = Σ credits pending.
//  6. Balance rules: no debits_must_not_exceed_credits account has debits posted + debits pending +
//     frozen > credits posted; no credits_must_not_exceed_debits account has credits posted + credits
//     pending > debits posted.
//  7. Time: the clock goes forwards, stands still and goes backwards; stamps follow
//     base = max(now, last + 1), event i at base + i; holds expire by idle ticks and by later batches.
//  8. Ids on disk: about half the runs bound every id cache to 1..4 ids per generation (test/support/
//     memory-id-index.ts stands for the journal's id index), so retries, holds, reversals and lookups of old
//     ids are answered through the index, before and after restarts; agreement covers them.
//
// Steps are templates: "a fresh id", "the 2nd most recent hold", "the accounts of the transfer it
// names". The runner resolves them against what it has sent so far, so that posts find holds and
// reversals find payments often enough, and shrinking still works on the templates.
// fast-check prints the seed and the shrunk counterexample on failure; TALLY_PROPERTY_SEED and
// TALLY_PROPERTY_RUNS replay or widen a run.

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { amountMax } from '../../src/core/limits.js';
import type { AccountInput, AccountOperationInput, TransferInput } from '../../src/core/wire/records.js';
import { AccountFlags, AccountOperationFlags, TransferFlags, type AccountOperationKindName, type AccountState } from '../../src/core/types.js';
import { LedgerHarness, clockStartNs, nsPerSecond } from '../support/ledger-harness.js';
import { ReferenceLedger } from '../support/reference-ledger.js';

const runs = Number(process.env.TALLY_PROPERTY_RUNS ?? 800);
const seed = process.env.TALLY_PROPERTY_SEED === undefined ? undefined : Number(process.env.TALLY_PROPERTY_SEED);

/** Accounts 1..5 are opened at the start (1 is the bank, without rules); 6 and 7 only if a step creates them. */
const accountIdsAll = [1n, 2n, 3n, 4n, 5n, 6n, 7n];
const openedIds = [1n, 2n, 3n, 4n, 5n];
/** An id nothing ever uses, for references when there is nothing to refer to yet. */
const idNeverUsed = 99n;

/** Which id an event gets: 0 = a fresh one, k > 0 = the k-th most recent id of its kind (a reuse). */
const idChoice = fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) });
/** Which earlier thing a reference names: the k-th most recent (0 = the newest). */
const referenceChoice = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 12 }) });
/** A reversal's reference from here up names a hold instead of a payment. */
const referenceHoldsFrom = 10;
const linked = fc.oneof({ weight: 7, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });
const accountId = fc.constantFrom(...accountIdsAll);
const amount = fc.oneof(
  { weight: 30, arbitrary: fc.bigInt({ min: 1n, max: 60n }) },
  { weight: 3, arbitrary: fc.constant(0n) },
  { weight: 2, arbitrary: fc.constant(amountMax) },
  // Around 2^53, where plain transfers leave the number path for the BigInt one (core/posting/plain-transfer.ts).
  { weight: 2, arbitrary: fc.bigInt({ min: 2n ** 52n, max: 2n ** 53n + 64n }) },
);
/** Mostly right, now and then a field check to fail. */
const code = fc.oneof({ weight: 60, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constant(0) });
const ledger = fc.oneof({ weight: 40, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) });
const timestamp = fc.oneof({ weight: 80, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.constant(1n) });

interface TransferTemplate {
  id: number;
  kind: number;
  linked: number;
  /** null: the accounts follow from what the transfer names (or a fixed pair per id); else as given. */
  accounts: [bigint, bigint] | null;
  amount: bigint;
  reference: number;
  timeoutSeconds: number;
  ledger: number;
  code: number;
  userData64: bigint;
  timestamp: bigint;
}

interface OperationTemplate {
  id: number;
  kind: AccountOperationKindName;
  linked: number;
  /** null: the account the referenced freeze belongs to (unfreeze), or 2..5 by id; else as given. */
  accountId: bigint | null;
  amount: bigint;
  reference: number;
  sides: number;
  timestamp: bigint;
}

type Step =
  /** Sends again, unchanged, the write batch sent `back` writes ago (1 = the last one). */
  | { kind: 'resend'; back: number }
  | { kind: 'accounts'; events: AccountInput[] }
  | { kind: 'transfers'; events: TransferTemplate[] }
  | { kind: 'operations'; events: OperationTemplate[] }
  | { kind: 'clock'; seconds: number }
  /** The shard's idle tick: the clock moves on by `seconds`, then expireDue runs. */
  | { kind: 'expire'; seconds: number }
  /** The shard's hot-inbound tick: every buffer applied. */
  | { kind: 'applyHot' }
  /** The shard's history flush: buffered history moves to stored runs (the model has no such thing). */
  | { kind: 'flush' }
  | { kind: 'checkpoint' }
  | { kind: 'restart' };

const accountEvent: fc.Arbitrary<AccountInput> = fc.record({
  id: accountId,
  ledger,
  code,
  flags: fc
    .tuple(
      fc.constantFrom(
        0,
        AccountFlags.debits_must_not_exceed_credits,
        AccountFlags.credits_must_not_exceed_debits,
        AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits,
      ),
      linked,
    )
    .map(([f, l]) => f | l),
  userData32: fc.constantFrom(0, 1),
  timestamp,
});

const transferKind = fc.oneof(
  { weight: 60, arbitrary: fc.constant(0) },
  { weight: 50, arbitrary: fc.constant(TransferFlags.pending) },
  { weight: 30, arbitrary: fc.constant(TransferFlags.post_pending) },
  { weight: 15, arbitrary: fc.constant(TransferFlags.void_pending) },
  { weight: 25, arbitrary: fc.constant(TransferFlags.reversal) },
  { weight: 15, arbitrary: fc.constant(TransferFlags.unfreeze_and_pay) },
  { weight: 1, arbitrary: fc.constant(TransferFlags.pending | TransferFlags.reversal) },
);

const transferTemplate: fc.Arbitrary<TransferTemplate> = fc.record({
  id: idChoice,
  kind: transferKind,
  linked,
  accounts: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(accountId, accountId) }),
  amount,
  reference: referenceChoice,
  timeoutSeconds: fc.constantFrom(0, 0, 1, 2, 5),
  ledger,
  code,
  userData64: fc.constantFrom(0n, 0n, 1n),
  timestamp,
});

const operationTemplate: fc.Arbitrary<OperationTemplate> = fc.record({
  id: idChoice,
  kind: fc.constantFrom<AccountOperationKindName>('freeze', 'freeze', 'freeze', 'unfreeze', 'unfreeze', 'block', 'unblock', 'close', 'mark_hot', 'mark_hot', 'unmark_hot'),
  linked,
  accountId: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: accountId }),
  amount: fc.oneof({ weight: 5, arbitrary: fc.bigInt({ min: 1n, max: 40n }) }, { weight: 1, arbitrary: fc.constant(0n) }),
  reference: referenceChoice,
  sides: fc.constantFrom(AccountOperationFlags.debits, AccountOperationFlags.credits, AccountOperationFlags.debits | AccountOperationFlags.credits),
  timestamp,
});

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4 }).map((back): Step => ({ kind: 'resend', back })) },
  { weight: 1, arbitrary: fc.array(accountEvent, { minLength: 1, maxLength: 4 }).map((events): Step => ({ kind: 'accounts', events })) },
  { weight: 14, arbitrary: fc.array(transferTemplate, { minLength: 1, maxLength: 8 }).map((events): Step => ({ kind: 'transfers', events })) },
  { weight: 4, arbitrary: fc.array(operationTemplate, { minLength: 1, maxLength: 5 }).map((events): Step => ({ kind: 'operations', events })) },
  { weight: 3, arbitrary: fc.integer({ min: -3, max: 8 }).map((seconds): Step => ({ kind: 'clock', seconds })) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 6 }).map((seconds): Step => ({ kind: 'expire', seconds })) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'applyHot' }) },
  { weight: 2, arbitrary: fc.constant<Step>({ kind: 'flush' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'checkpoint' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'restart' }) },
);

/** Accounts 1..5 with random rules (1 is the bank, without rules) and 100 for each of the others. */
const opening = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.constant(AccountFlags.debits_must_not_exceed_credits) },
      { weight: 1, arbitrary: fc.constant(AccountFlags.credits_must_not_exceed_debits) },
    ),
    { minLength: 4, maxLength: 4 },
  )
  .map((flags): Step[] => [
    { kind: 'accounts', events: openedIds.map((id, i) => ({ id, ledger: 1, code: 1, flags: i === 0 ? 0 : flags[i - 1]! })) },
    { kind: 'transfers', events: flags.map((_, i) => fundingTemplate(i)) },
  ]);

function fundingTemplate(i: number): TransferTemplate {
  const bankTo: [bigint, bigint] = [1n, openedIds[i + 1]!];
  return { id: 0, kind: 0, linked: 0, accounts: bankTo, amount: 100n, reference: 0, timeoutSeconds: 0, ledger: 1, code: 1, userData64: 0n, timestamp: 0n };
}

/** The fixed pair of opened accounts a fresh transfer id moves money between (never one account twice). */
function pairFor(id: bigint): [bigint, bigint] {
  const debit = id % 5n;
  const credit = (debit + 1n + ((id / 5n) % 4n)) % 5n;
  return [debit + 1n, credit + 1n];
}

/** The k-th most recent entry of `list` (0 = newest), or undefined. */
function recent<T>(list: readonly T[], k: number): T | undefined {
  return list[list.length - 1 - k];
}

/** Turns templates into concrete events against what was sent before, and remembers what it sent. */
class Resolver {
  private transferIdNext = 100n;
  private operationIdNext = 700n;
  readonly transfersSent = new Map<bigint, TransferInput>();
  private readonly transferIds: bigint[] = [];
  private readonly holds: bigint[] = [];
  private readonly moving: bigint[] = [];
  private readonly freezes: bigint[] = [];
  private readonly freezeAccounts = new Map<bigint, bigint>();
  private readonly operationIds: bigint[] = [];

  transfer(t: TransferTemplate): TransferInput {
    const id = t.id === 0 ? this.transferIdNext++ : (recent(this.transferIds, t.id - 1) ?? this.transferIdNext++);
    const closesHold = t.kind === TransferFlags.post_pending || t.kind === TransferFlags.void_pending;
    let pendingId = 0n;
    if (closesHold) pendingId = recent(this.holds, t.reference) ?? idNeverUsed;
    // Now and then a reversal names a hold, which is not reversible.
    const reversible = t.reference < referenceHoldsFrom ? recent(this.moving, t.reference) : recent(this.holds, t.reference - referenceHoldsFrom);
    if (t.kind === TransferFlags.reversal) pendingId = reversible ?? idNeverUsed;
    if (t.kind === TransferFlags.unfreeze_and_pay) pendingId = recent(this.freezes, t.reference) ?? idNeverUsed;
    const event: TransferInput = {
      id,
      ...this.accountsOf(t, id, pendingId),
      amount: t.amount,
      pendingId,
      timeoutSeconds: t.kind === TransferFlags.pending ? t.timeoutSeconds : 0,
      ledger: t.ledger,
      code: t.code,
      flags: t.kind | t.linked,
      userData64: t.userData64,
      timestamp: t.timestamp,
    };
    this.sentTransfer(event, t.kind);
    return event;
  }

  private accountsOf(t: TransferTemplate, id: bigint, pendingId: bigint): { debitAccountId: bigint; creditAccountId: bigint } {
    let [debitAccountId, creditAccountId] = t.accounts ?? pairFor(id);
    const named = this.transfersSent.get(pendingId);
    if (t.accounts === null && named !== undefined) {
      [debitAccountId, creditAccountId] = [named.debitAccountId, named.creditAccountId];
      if (t.kind === TransferFlags.reversal) [debitAccountId, creditAccountId] = [creditAccountId, debitAccountId];
    }
    const freezeAccount = this.freezeAccounts.get(pendingId);
    if (t.accounts === null && t.kind === TransferFlags.unfreeze_and_pay && freezeAccount !== undefined) {
      debitAccountId = freezeAccount;
      if (creditAccountId === debitAccountId) creditAccountId = debitAccountId === 1n ? 2n : 1n;
    }
    return { debitAccountId, creditAccountId };
  }

  private sentTransfer(event: TransferInput, kind: number): void {
    if (!this.transfersSent.has(event.id)) this.transferIds.push(event.id);
    this.transfersSent.set(event.id, event);
    if (kind === TransferFlags.pending) this.holds.push(event.id);
    if (kind === 0 || kind === TransferFlags.post_pending || kind === TransferFlags.unfreeze_and_pay) this.moving.push(event.id);
  }

  operation(o: OperationTemplate): AccountOperationInput {
    const id = o.id === 0 ? this.operationIdNext++ : (recent(this.operationIds, o.id - 1) ?? this.operationIdNext++);
    const freezeId = o.kind === 'unfreeze' ? (recent(this.freezes, o.reference) ?? idNeverUsed) : 0n;
    const accountId = o.accountId ?? (o.kind === 'unfreeze' ? this.freezeAccounts.get(freezeId) : undefined) ?? 2n + (id % 4n);
    const event: AccountOperationInput = {
      id,
      accountId,
      kind: o.kind,
      amount: o.kind === 'freeze' || o.kind === 'unfreeze' ? o.amount : 0n,
      freezeId,
      flags: (o.kind === 'block' || o.kind === 'unblock' ? o.sides : 0) | o.linked,
      timestamp: o.timestamp,
    };
    if (!this.operationIds.includes(id)) this.operationIds.push(id);
    if (o.kind === 'freeze') {
      this.freezes.push(id);
      this.freezeAccounts.set(id, accountId);
    }
    return event;
  }
}

type ConcreteWrite = { kind: 'accounts'; events: AccountInput[] } | { kind: 'transfers'; events: TransferInput[] } | { kind: 'operations'; events: AccountOperationInput[] };

class Pair {
  readonly h: LedgerHarness;
  readonly model = new ReferenceLedger();
  private readonly resolver = new Resolver();
  private readonly writes: ConcreteWrite[] = [];

  /** `idCacheIds`: ids per generation of every id cache (tiny: most ids answer from the index beside the journal). */
  constructor(idCacheIds: number | null) {
    this.h = new LedgerHarness({ nowNs: clockStartNs, idCache: idCacheIds === null ? undefined : { transferIds: idCacheIds, idsOther: idCacheIds } });
  }

  run(s: Step): void {
    if (s.kind === 'resend') {
      const again = this.writes[this.writes.length - s.back];
      if (again !== undefined) this.write(again);
    } else if (s.kind === 'accounts') {
      this.write(s);
    } else if (s.kind === 'transfers') {
      this.write({ kind: 'transfers', events: s.events.map((t) => this.resolver.transfer(t)) });
    } else if (s.kind === 'operations') {
      this.write({ kind: 'operations', events: s.events.map((o) => this.resolver.operation(o)) });
    } else if (s.kind === 'clock') {
      this.h.nowNs += BigInt(s.seconds) * nsPerSecond;
    } else if (s.kind === 'expire') {
      this.h.nowNs += BigInt(s.seconds) * nsPerSecond;
      expect(this.h.expireDue()).toBe(this.model.expireDue(this.h.nowNs));
    } else if (s.kind === 'applyHot') {
      expect(this.h.applyHotInbound()).toBe(this.model.applyHotInbound());
    } else if (s.kind === 'flush') {
      expect(this.h.flushHistory()).toBe(true);
      this.model.flushHistory(this.h.nowNs);
      this.compareHistories();
    } else if (s.kind === 'checkpoint') {
      // A checkpoint follows a history flush (the model sees the flush's timestamp); the next restart starts from
      // it and must equal a full replay (the harness checks).
      if (this.h.flushHistory()) this.model.flushHistory(this.h.nowNs);
      this.h.checkpoint();
    } else {
      this.h.restart();
      this.compareHistories();
    }
    this.compareStates();
    this.checkInvariants();
  }

  private write(w: ConcreteWrite): void {
    this.writes.push(w);
    const now = this.h.nowNs;
    if (w.kind === 'accounts') expect(this.h.createAccounts(w.events)).toEqual(this.model.createAccounts(w.events, now));
    if (w.kind === 'transfers') expect(this.h.createTransfers(w.events)).toEqual(this.model.createTransfers(w.events, now));
    if (w.kind === 'operations') expect(this.h.accountOperations(w.events)).toEqual(this.model.accountOperations(w.events, now));
  }

  compareStates(): void {
    const transferIds = [...this.resolver.transfersSent.keys()];
    expect(this.h.lookupAccounts(accountIdsAll)).toEqual(this.model.lookupAccounts(accountIdsAll));
    if (transferIds.length > 0) expect(this.h.lookupTransfers(transferIds)).toEqual(this.model.lookupTransfers(transferIds));
  }

  compareHistories(): void {
    for (const accountId of accountIdsAll) {
      expect(this.h.history({ accountId })).toEqual(this.model.history({ accountId }));
      expect(this.h.history({ accountId, limit: 3, reversed: true })).toEqual(this.model.history({ accountId, limit: 3, reversed: true }));
      // Windows that cut through flushed runs and the buffer (the clock moves by seconds between steps).
      for (const [from, to] of [[2n, 9n], [5n, 30n]] as const) {
        const window = { accountId, timestampMin: clockStartNs + from * nsPerSecond, timestampMax: clockStartNs + to * nsPerSecond, limit: 2 };
        expect(this.h.history(window)).toEqual(this.model.history(window));
        expect(this.h.history({ ...window, reversed: true })).toEqual(this.model.history({ ...window, reversed: true }));
      }
    }
  }

  checkInvariants(): void {
    const totals = new Map<number, bigint[]>();
    for (const a of this.h.lookupAccounts(accountIdsAll)) {
      const t = totals.get(a.ledger) ?? [0n, 0n, 0n, 0n];
      // Buffered credits of hot-inbound accounts are posted money not yet on the balance.
      totals.set(a.ledger, [t[0]! + a.debitsPosted, t[1]! + a.creditsPosted + (a.creditsBuffered ?? 0n), t[2]! + a.debitsPending, t[3]! + a.creditsPending]);
      checkBalanceRules(a);
    }
    for (const [, [debitsPosted, creditsPosted, debitsPending, creditsPending]] of totals) {
      expect(debitsPosted).toBe(creditsPosted);
      expect(debitsPending).toBe(creditsPending);
    }
  }
}

function checkBalanceRules(a: AccountState): void {
  if (a.flags & AccountFlags.debits_must_not_exceed_credits) {
    expect(a.debitsPosted + a.debitsPending + a.frozen).toBeLessThanOrEqual(a.creditsPosted);
  }
  if (a.flags & AccountFlags.credits_must_not_exceed_debits) {
    expect(a.creditsPosted + (a.creditsBuffered ?? 0n) + a.creditsPending).toBeLessThanOrEqual(a.debitsPosted);
  }
}

describe('Ledger against the reference model', () => {
  test('random command sequences agree step by step, survive restarts, and keep the invariants', () => {
    fc.assert(
      fc.property(opening, fc.array(step, { minLength: 1, maxLength: 60 }), fc.option(fc.integer({ min: 1, max: 4 }), { nil: null }), (start, steps, idCacheIds) => {
        const pair = new Pair(idCacheIds);
        for (const s of [...start, ...steps]) pair.run(s);
        pair.compareHistories();
        pair.run({ kind: 'restart' });
      }),
      { numRuns: runs, seed },
    );
  });
});
