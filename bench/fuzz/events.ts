// The events of write requests: accounts of every role, transfers of every kind, account operations, each
// valid or broken on purpose, retried as sent or with other fields, alone or in linked chains on one shard
// or several. Each event carries what its answer must be where that follows from the event alone: the
// stateless field checks (test/support/reference-ledger.ts's validators are the oracle, plus the transit
// and system-id rules it leaves out), "nothing applied" for a chain holding a broken event or left open,
// and, resolved when the retry is sent, what a retry answers. Everything is drawn from the seed and the
// model's record of what was sent — never from the server's answers.

import { AccountFlags, AccountOperationFlags, TransferFlags, amountMax, idMax, type AccountInput, type AccountOperationInput, type AccountOperationKindName, type ResultName, type TransferInput } from '../../src/client/index.js';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { pendingTimeoutSecondsMax } from '../../src/core/limits.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { validateAccount, validateOperation, validateTransfer } from '../../test/support/reference-ledger.js';
import type { Family } from './families.js';
import { fullAccount, fullOperation, fullTransfer, type Attempt, type Model, type Role, type Tracked } from './model.js';
import type { Random } from './random.js';

/** What an event's result must be: exactly `is`, or anything but ok ('not-ok': nothing of it applied). */
export interface Expectation {
  is: ResultName | 'not-ok';
  why: string;
}

export interface EventPlan<I> {
  attempt: Attempt<I>;
  expect: Expectation | null;
  /** A resend of an earlier event (fields as sent, or with user data changed): its expectation is set when sent. */
  retry?: Retry<I>;
}

/** A resend: of which event, with other user data or not, and what the field checks answer for it ('ok' when they pass). */
export interface Retry<I> {
  of: Tracked<I>;
  mutated: boolean;
  fieldCheck: ResultName;
}

/** A transfer drafted but not yet recorded as sent. */
export interface TransferDraft {
  input: Required<TransferInput>;
  /** Offered to later posts, voids and reversals. */
  pooled: boolean;
  expect: Expectation | null;
  retry?: Retry<Required<TransferInput>>;
}

export interface World {
  shardCount: number;
  ledgers: readonly number[];
  families: ReadonlySet<Family>;
}

/** Account codes the default chart maps (customer, settlement, merchant, fee income, bank, channel fees, equity), and some it does not. */
const mappedCodes = [1, 2, 3, 4, 5, 6, 7] as const;
const unmappedCodes = [8, 77, 4242, 65535] as const;
const roleCodes: Record<Role, readonly number[]> = { bank: [5], customer: [1, 2], merchant: [3], 'debit-normal': [6], hot: [3, 2], doomed: [1], hostile: mappedCodes };
const roleFlags: Record<Role, number> = {
  bank: 0,
  customer: AccountFlags.debits_must_not_exceed_credits,
  merchant: AccountFlags.debits_must_not_exceed_credits,
  'debit-normal': AccountFlags.credits_must_not_exceed_debits,
  hot: AccountFlags.hot_outbound | AccountFlags.debits_must_not_exceed_credits,
  doomed: 0,
  hostile: 0,
};
const payers: readonly Role[] = ['customer', 'merchant', 'bank', 'doomed'];
const payees: readonly Role[] = ['customer', 'merchant', 'doomed', 'debit-normal'];

type TransferMutation = (t: Required<TransferInput>, world: World) => Required<TransferInput>;
const transferMutations: readonly (readonly [string, TransferMutation])[] = [
  ['timestamp set', (t) => ({ ...t, timestamp: 1n })],
  ['id 2^128−1', (t) => ({ ...t, id: idMax })],
  ['unknown flag', (t) => ({ ...t, flags: t.flags | 0x40 })],
  ['two kinds', (t) => ({ ...t, flags: TransferFlags.pending | TransferFlags.post_pending, pendingId: t.id + 1n })],
  ['ledger 0', (t) => ({ ...t, ledger: 0 })],
  ['code 0', (t) => ({ ...t, code: 0 })],
  ['debit account 0', (t) => ({ ...t, debitAccountId: 0n })],
  ['credit account 2^128−1', (t) => ({ ...t, creditAccountId: idMax })],
  ['debit = credit', (t) => ({ ...t, creditAccountId: t.debitAccountId })],
  ['amount 0', (t) => ({ ...t, amount: 0n })],
  ['amount 2^63', (t) => ({ ...t, amount: amountMax + 1n })],
  ['pending id on a payment', (t) => ({ ...t, pendingId: t.id + 7n })],
  ['post without pending id', (t) => ({ ...t, flags: TransferFlags.post_pending, pendingId: 0n })],
  ['reversal of itself', (t) => ({ ...t, flags: TransferFlags.reversal, pendingId: t.id })],
  ['timeout on a payment', (t) => ({ ...t, timeoutSeconds: 5 })],
  ['timeout beyond 10 years', (t) => ({ ...t, flags: TransferFlags.pending, timeoutSeconds: pendingTimeoutSecondsMax + 1 })],
  ['debit a transit account', (t, w) => ({ ...t, debitAccountId: systemAccountId(SystemAccountKind.transitOut, t.ledger, 0, w.shardCount - 1, w.shardCount) })],
  ['credit a transit account', (t, w) => ({ ...t, creditAccountId: systemAccountId(SystemAccountKind.transitIn, t.ledger, w.shardCount - 1, 0, w.shardCount) })],
];

type AccountMutation = (a: Required<AccountInput>) => Required<AccountInput>;
const accountMutations: readonly (readonly [string, AccountMutation])[] = [
  ['timestamp set', (a) => ({ ...a, timestamp: 9n })],
  ['both overdraft rules', (a) => ({ ...a, flags: AccountFlags.debits_must_not_exceed_credits | AccountFlags.credits_must_not_exceed_debits })],
  ['hot_outbound without no-overdraft', (a) => ({ ...a, flags: AccountFlags.hot_outbound })],
  ['unknown flag', (a) => ({ ...a, flags: 0x10 })],
  ['ledger 0', (a) => ({ ...a, ledger: 0 })],
  ['code 0', (a) => ({ ...a, code: 0 })],
  ['a system-range id', (a) => ({ ...a, id: (0xffff_ffffn << 96n) | (a.id & ((1n << 96n) - 1n)) })],
];

type OperationMutation = (o: Required<AccountOperationInput>) => Required<AccountOperationInput>;
const operationMutations: readonly (readonly [string, OperationMutation])[] = [
  ['timestamp set', (o) => ({ ...o, timestamp: 3n })],
  ['mark_hot on the debit side', (o) => ({ ...o, kind: 'mark_hot', flags: AccountOperationFlags.debits, amount: 0n, freezeId: 0n })],
  ['block without a side', (o) => ({ ...o, kind: 'block', flags: 0, amount: 0n, freezeId: 0n })],
  ['a side on a freeze', (o) => ({ ...o, kind: 'freeze', flags: AccountOperationFlags.credits, amount: 5n, freezeId: 0n })],
  ['freeze of 0', (o) => ({ ...o, kind: 'freeze', flags: 0, amount: 0n, freezeId: 0n })],
  ['close with an amount', (o) => ({ ...o, kind: 'close', flags: 0, amount: 4n, freezeId: 0n })],
  ['unfreeze without a freeze id', (o) => ({ ...o, kind: 'unfreeze', flags: 0, amount: 0n, freezeId: 0n })],
  ['account 0', (o) => ({ ...o, accountId: 0n })],
];

/** Whether a transfer names a transit account: the validator refuses that; the reference model does not know transit accounts. */
function namesTransit(t: Required<TransferInput>): boolean {
  const transit = (id: bigint) => id >> 96n === 0xffff_ffffn && [SystemAccountKind.transitOut, SystemAccountKind.transitIn].includes(Number((id >> 48n) & 0xffn) as 1 | 2);
  return transit(t.debitAccountId) || transit(t.creditAccountId);
}

/** What the stateless checks answer for a transfer ('ok' when it passes them). */
export function transferFieldCheck(input: Required<TransferInput>): ResultName {
  const transit = namesTransit(input) && validateTransfer({ ...input, debitAccountId: 1n, creditAccountId: 2n }) === 'ok';
  return transit ? 'account_id_invalid' : (validateTransfer(input) as ResultName);
}

/** What the stateless checks answer for an account ('ok' when it passes them). */
export function accountFieldCheck(input: Required<AccountInput>): ResultName {
  return input.id >> 96n === 0xffff_ffffn ? 'id_invalid' : (validateAccount(input) as ResultName);
}

export class EventDrafter {
  constructor(
    private readonly rng: Random,
    private readonly model: Model,
    private readonly world: World,
  ) {}

  on(family: Family): boolean {
    return this.world.families.has(family);
  }

  /** A ledger: most traffic on the first three, the rest spread over all. */
  ledger(): number {
    const ledgers = this.world.ledgers;
    return this.rng.chance(0.7) ? this.rng.pick(ledgers.slice(0, 3)) : this.rng.pick(ledgers);
  }

  pickAccount(ledger: number, roles: readonly Role[], shard?: number): bigint | null {
    const ids = this.model.accountsOf(ledger, roles, shard);
    return ids.length === 0 ? null : this.rng.pick(ids);
  }

  // ------------------------------------------------------------------ accounts

  /** A valid account of `role`; with many-ledgers, unmapped codes now and then (their day report's unmapped check fails by design). */
  account(role: Role, ledger: number, id = this.rng.id(), pooled = true): EventPlan<Required<AccountInput>> {
    // Codes the chart does not map only with many-ledgers: every (ledger, code) pair adds to the day-close summary (defect 2).
    const code = this.on('many-ledgers') && this.rng.chance(0.05) ? this.rng.pick(unmappedCodes) : this.rng.pick(roleCodes[role]);
    const input = fullAccount({ id, ledger, code, flags: roleFlags[role], userData64: BigInt(this.rng.u32()), userData32: this.rng.u32() });
    return { attempt: this.model.sendAccount(input, role, pooled), expect: null };
  }

  /** A broken account; its id is never stored. */
  brokenAccount(): EventPlan<Required<AccountInput>> {
    const [why, mutate] = this.rng.pick(accountMutations);
    const input = mutate(fullAccount({ id: this.rng.id(), ledger: this.ledger(), code: 1 }));
    return { attempt: this.model.sendAccount(input, 'hostile', false), expect: { is: accountFieldCheck(input), why: `account with ${why}` } };
  }

  /** An account at the id `hotId`'s slice on another shard will have (slice-squat): created before the hot account. */
  squatter(hotId: bigint, ledger: number): EventPlan<Required<AccountInput>> | null {
    if (this.world.shardCount < 2) return null;
    const home = this.model.shardOf(hotId);
    const shard = (home + 1 + this.rng.int(this.world.shardCount - 1)) % this.world.shardCount;
    const id = sliceAccountId(hotId, shard, this.world.shardCount);
    this.model.squattedIds.add(id);
    const input = fullAccount({ id, ledger, code: 3, flags: 0 });
    return { attempt: this.model.sendAccount(input, 'hostile', false), expect: null };
  }

  retryAccount(): EventPlan<Required<AccountInput>> | null {
    if (this.model.accountsRetryable.length === 0) return null;
    const tracked = this.model.accounts.get(this.rng.pick(this.model.accountsRetryable))!;
    const mutated = this.rng.chance(0.3);
    const sent = tracked.attempts[0]!.input;
    const input = mutated ? { ...sent, userData64: sent.userData64 + 1n } : sent;
    return { attempt: this.model.sendAccount(input, tracked.role, false), expect: null, retry: { of: tracked, mutated, fieldCheck: accountFieldCheck(input) } };
  }

  // ------------------------------------------------------------------ transfers

  /** Records a drafted transfer as sent (a broken id, 0 or 2^128−1, is never tracked: it names no record). */
  commit(draft: TransferDraft): EventPlan<Required<TransferInput>> {
    const { input, pooled } = draft;
    if (draft.retry !== undefined) return { attempt: this.model.sendTransfer(input, { retryable: false, pooled: false }), expect: null, retry: draft.retry };
    if (input.id === 0n || input.id === idMax) return { attempt: { input, outcome: 'in-flight' }, expect: draft.expect };
    const retryable = (input.flags & TransferFlags.linked) === 0 && draft.expect?.is !== 'not-ok';
    return { attempt: this.model.sendTransfer(input, { retryable, pooled }), expect: draft.expect };
  }

  private transfer(fields: Omit<TransferInput, 'id' | 'code'> & { code?: number }, pooled = true): TransferDraft {
    return { input: fullTransfer({ id: this.rng.id(), code: this.rng.range(1, 12), userData64: BigInt(this.rng.u32()), ...fields }), pooled, expect: null };
  }

  /** Money from the ledger's bank into an account of any role. */
  fund(): TransferDraft | null {
    const ledger = this.ledger();
    const bank = this.pickAccount(ledger, ['bank']);
    const payee = this.pickAccount(ledger, ['customer', 'merchant', 'hot', 'doomed', 'debit-normal']);
    if (bank === null || payee === null) return null;
    return this.transfer({ debitAccountId: bank, creditAccountId: payee, amount: BigInt(this.rng.range(1_000, 2_000_000)), ledger });
  }

  /** A payment between two accounts of a ledger: on one shard half the time. */
  pay(shard?: number): TransferDraft | null {
    const ledger = this.ledger();
    const payer = this.pickAccount(ledger, payers, shard);
    if (payer === null) return null;
    const payee = this.pickAccount(ledger, payees, this.rng.chance(0.5) ? this.model.shardOf(payer) : undefined);
    if (payee === null || payee === payer) return null;
    return this.transfer({ debitAccountId: payer, creditAccountId: payee, amount: this.rng.amount(5_000n), ledger });
  }

  /** A payment from a hot-outbound account: served by the slice on the payee's shard. */
  hotPay(): TransferDraft | null {
    if (this.model.hotAccounts.length === 0) return null;
    const hot = this.rng.pick(this.model.hotAccounts);
    const ledger = this.model.ledgerOf(hot)!;
    const payee = this.pickAccount(ledger, payees);
    if (payee === null) return null;
    return this.transfer({ debitAccountId: hot, creditAccountId: payee, amount: this.rng.amount(2_000n), ledger });
  }

  hold(): TransferDraft | null {
    const ledger = this.ledger();
    const payer = this.pickAccount(ledger, [...payers, 'hot']);
    const payee = this.pickAccount(ledger, payees);
    if (payer === null || payee === null || payer === payee) return null;
    const timeoutSeconds = this.rng.weighted([[0, 6], [this.rng.range(1, 3), 3], [3_600, 1]] as const);
    return this.transfer({ debitAccountId: payer, creditAccountId: payee, amount: this.rng.amount(3_000n), ledger, flags: TransferFlags.pending, timeoutSeconds });
  }

  /** Posts or voids a hold sent earlier: whole (0), exactly, in part, or beyond it. */
  closeHold(post: boolean): TransferDraft | null {
    if (this.model.holds.length === 0) return null;
    const hold = this.model.transfers.get(this.rng.pick(this.model.holds))!.attempts[0]!.input;
    const amount = this.rng.weighted([[0n, 3], [hold.amount, 2], [hold.amount > 1n ? hold.amount / 2n : 1n, post ? 2 : 1], [hold.amount + 1n, 1]] as const);
    const flags = post ? TransferFlags.post_pending : TransferFlags.void_pending;
    return this.transfer({ debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, amount, ledger: hold.ledger, code: hold.code, flags, pendingId: hold.id });
  }

  /** Reverses a money-moving transfer sent earlier, in part, whole, or beyond it. */
  reverse(): TransferDraft | null {
    if (this.model.moved.length === 0) return null;
    const original = this.model.transfers.get(this.rng.pick(this.model.moved))!.attempts[0]!.input;
    const whole = original.amount === 0n ? 100n : original.amount;
    const amount = this.rng.weighted([[whole, 2], [whole > 1n ? whole / 3n : 1n, 2], [whole + 1n, 1]] as const);
    return this.transfer({ debitAccountId: original.creditAccountId, creditAccountId: original.debitAccountId, amount, ledger: original.ledger, flags: TransferFlags.reversal, pendingId: original.id }, false);
  }

  /** Pays from a freeze sent earlier (unfreeze_and_pay). */
  payFromFreeze(): TransferDraft | null {
    if (this.model.freezes.length === 0) return null;
    const freeze = this.rng.pick(this.model.freezes);
    const payee = this.pickAccount(freeze.ledger, payees);
    if (payee === null || payee === freeze.accountId) return null;
    const amount = this.rng.chance(0.4) ? 0n : this.rng.amount(400n);
    return this.transfer({ debitAccountId: freeze.accountId, creditAccountId: payee, amount, ledger: freeze.ledger, flags: TransferFlags.unfreeze_and_pay, pendingId: freeze.id });
  }

  /** To or from a credits-must-not-exceed-debits account. */
  debitNormal(): TransferDraft | null {
    const ledger = this.ledger();
    const account = this.pickAccount(ledger, ['debit-normal']);
    const other = this.pickAccount(ledger, ['customer', 'merchant', 'bank']);
    if (account === null || other === null) return null;
    const [debit, credit] = this.rng.chance(0.5) ? [account, other] : [other, account];
    return this.transfer({ debitAccountId: debit, creditAccountId: credit, amount: this.rng.amount(10_000n), ledger });
  }

  /** Unusual but well-formed: amounts near 2^63 (overflow), another ledger's payee, an account nobody created. */
  odd(): TransferDraft | null {
    const ledger = this.ledger();
    const payer = this.pickAccount(ledger, ['bank', 'customer']);
    if (payer === null) return null;
    const which = this.rng.int(3);
    if (which === 0) {
      const payee = this.pickAccount(ledger, ['bank', 'merchant', 'doomed']);
      if (payee === null || payee === payer) return null;
      return this.transfer({ debitAccountId: payer, creditAccountId: payee, amount: amountMax - BigInt(this.rng.int(1000)), ledger });
    }
    if (which === 1) {
      const other = this.ledger();
      const payee = other === ledger ? null : this.pickAccount(other, payees);
      if (payee === null) return null;
      return this.transfer({ debitAccountId: payer, creditAccountId: payee, amount: 10n, ledger });
    }
    const [debit, credit] = this.rng.chance(0.5) ? [payer, this.rng.id()] : [this.rng.id(), payer];
    return this.transfer({ debitAccountId: debit, creditAccountId: credit, amount: 10n, ledger }, false);
  }

  /** A valid payment broken by one mutation; the reference validators say what it must answer. */
  brokenTransfer(): TransferDraft | null {
    const base = this.pay();
    if (base === null) return null;
    const [why, mutate] = this.rng.pick(transferMutations);
    const input = mutate(base.input, this.world);
    return { input, pooled: false, expect: { is: transferFieldCheck(input), why: `transfer with ${why}` } };
  }

  retryTransfer(): TransferDraft | null {
    if (this.model.retryable.length === 0) return null;
    const tracked = this.model.transfers.get(this.rng.pick(this.model.retryable))!;
    const mutated = this.rng.chance(0.3);
    const sent = tracked.attempts[0]!.input;
    const input = mutated ? { ...sent, userData64: sent.userData64 + 1n } : sent;
    return { input, pooled: false, expect: null, retry: { of: tracked, mutated, fieldCheck: transferFieldCheck(input) } };
  }

  /**
   * A linked chain of 2..5 payments and holds whose payers are on `shards` (one shard, or several for a
   * chain that spans shards). Sometimes one event is broken or the chain is left open: then nothing of it
   * may apply.
   */
  chain(shards: readonly number[]): TransferDraft[] {
    const length = this.rng.range(2, 5);
    const events: TransferDraft[] = [];
    for (let i = 0; i < length; i++) {
      const event = this.pay(shards[i % shards.length]!);
      if (event === null) continue;
      if (this.rng.chance(0.2)) event.input.flags = TransferFlags.pending;
      events.push(event);
    }
    if (events.length < 2) return [];
    const broken = this.rng.chance(0.25) ? this.rng.int(events.length) : -1;
    const open = this.rng.chance(0.1);
    events.forEach((event, i) => {
      if (i === broken) event.input.code = 0;
      if (i < events.length - 1 || open) event.input.flags |= TransferFlags.linked;
      if (broken >= 0 || open) event.expect = { is: 'not-ok', why: broken >= 0 ? `a linked chain whose event ${broken} has code 0` : 'a linked chain left open' };
    });
    return events;
  }

  // ------------------------------------------------------------------ account operations

  operation(kind: AccountOperationKindName, accountId: bigint, fields: Partial<AccountOperationInput> = {}): EventPlan<Required<AccountOperationInput>> {
    const input = fullOperation({ id: this.rng.id(), accountId, kind, userData32: this.rng.u32(), ...fields });
    return { attempt: this.model.sendOperation(input, this.model.ledgerOf(accountId)), expect: null };
  }

  /** One account operation of any kind, on an account that suits it. */
  anyOperation(): EventPlan<Required<AccountOperationInput>> | null {
    const ledger = this.ledger();
    const sides = () => this.rng.pick([AccountOperationFlags.debits, AccountOperationFlags.credits, AccountOperationFlags.debits | AccountOperationFlags.credits]);
    const kind = this.rng.weighted<string>([
      ['freeze', this.on('account-ops') ? 3 : 0],
      ['unfreeze', this.on('account-ops') ? 2 : 0],
      ['block', this.on('account-ops') ? 1 : 0],
      ['unblock', this.on('account-ops') ? 2.5 : 0],
      ['close', this.on('account-ops') ? 1.5 : 0],
      ['broken', this.on('account-ops') ? 1 : 0],
      ['mark_hot', this.on('hot-inbound') ? 2 : 0],
      ['unmark_hot', this.on('hot-inbound') ? 1.5 : 0],
    ]);
    if (kind === 'unfreeze') {
      if (this.model.freezes.length === 0) return null;
      const freeze = this.rng.pick(this.model.freezes);
      return this.operation('unfreeze', freeze.accountId, { freezeId: freeze.id, amount: this.rng.chance(0.5) ? 0n : this.rng.amount(300n) });
    }
    const account = this.pickAccount(ledger, kind === 'close' && this.rng.chance(0.7) ? ['doomed'] : kind.endsWith('hot') ? ['merchant', 'customer'] : ['customer', 'merchant', 'doomed']);
    if (account === null) return null;
    if (kind === 'freeze') return this.operation('freeze', account, { amount: this.rng.amount(500n) });
    if (kind === 'block' || kind === 'unblock') return this.operation(kind, account, { flags: sides() });
    if (kind === 'close') return this.operation('close', account);
    if (kind === 'mark_hot' || kind === 'unmark_hot') return this.operation(kind, account, { flags: AccountOperationFlags.credits });
    const [why, mutate] = this.rng.pick(operationMutations);
    const input = mutate(fullOperation({ id: this.rng.id(), accountId: account, kind: 'block', flags: AccountOperationFlags.debits }));
    return { attempt: this.model.sendOperation(input, null), expect: { is: validateOperation(input) as ResultName, why: `account operation with ${why}` } };
  }
}
