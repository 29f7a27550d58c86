// The reference model of one ledger shard: plain objects, bigint, maps by id, and a whole-state
// clone for linked chains. Written from the rules (docs/PROTOCOL.md) and result-codes.ts, sharing no
// code with src/core beyond types and result-code names, so that the two can be compared.
// Obviously correct beats fast: it re-checks everything from scratch and never caches.

import type { AccountInput, AccountOperationInput, HistoryFilterInput, TransferInput } from '../../src/core/wire/records.js';
import type { AccountHistoryEntry, AccountState, AccountStatusName, Transfer, TransferState, TransferStatusName } from '../../src/core/types.js';
import type { Outcome } from './ledger-harness.js';

// The rules' numbers, written out again on purpose (the model shares no constants with src/core).
const idMax = (1n << 128n) - 1n;
const amountMax = (1n << 63n) - 1n;
const balanceMax = (1n << 64n) - 1n;
const timeoutSecondsMax = 315_360_000;
const nsPerSecond = 1_000_000_000n;

const flag = {
  linked: 1,
  // accounts
  debitsMustNotExceedCredits: 2,
  creditsMustNotExceedDebits: 4,
  // transfers
  pending: 2,
  postPending: 4,
  voidPending: 8,
  reversal: 16,
  unfreezeAndPay: 32,
  // account operations
  debits: 2,
  credits: 4,
} as const;

type Kind = 'single' | 'pending' | 'post' | 'void' | 'reversal' | 'unfreeze_and_pay' | 'several';

function kindOf(flags: number): Kind {
  const kinds: Kind[] = [];
  if (flags & flag.pending) kinds.push('pending');
  if (flags & flag.postPending) kinds.push('post');
  if (flags & flag.voidPending) kinds.push('void');
  if (flags & flag.reversal) kinds.push('reversal');
  if (flags & flag.unfreezeAndPay) kinds.push('unfreeze_and_pay');
  if (kinds.length > 1) return 'several';
  return kinds[0] ?? 'single';
}

interface Balances {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

interface ModelAccount extends Balances {
  input: Required<AccountInput>;
  timestamp: bigint;
  frozen: bigint;
  debitBlocked: boolean;
  creditBlocked: boolean;
  closed: boolean;
  /** Hot-inbound: credits wait in `buffered` until applyHotInbound() (or an un-mark) applies them. */
  hotInbound: boolean;
  buffered: bigint;
  bufferedCount: number;
  history: { transferId: bigint; balanceAfter: Balances }[];
}

interface ModelTransfer {
  input: Required<TransferInput>;
  timestamp: bigint;
  /** What moved (or is held): the resolved amount. */
  amount: bigint;
  status: TransferStatusName;
  amountPosted: bigint;
  amountReversed: bigint;
  /** Pending only; 0 when it never expires. */
  expiresAtNs: bigint;
}

interface ModelFreeze {
  accountId: bigint;
  remaining: bigint;
}

interface Failure {
  fields: string;
  outcome: Outcome;
}

interface State {
  accounts: Map<bigint, ModelAccount>;
  transfers: Map<bigint, ModelTransfer>;
  /** Successful account operations, by id: their caller fields. */
  operations: Map<bigint, string>;
  freezes: Map<bigint, ModelFreeze>;
  accountsFailed: Map<bigint, Failure>;
  transfersFailed: Map<bigint, Failure>;
  operationsFailed: Map<bigint, Failure>;
}

/** Outcomes after which an id is not remembered as failed. */
const notRemembered = new Set<Outcome>(['ok', 'exists', 'exists_with_different_fields', 'id_invalid', 'linked_event_failed', 'linked_event_chain_open']);

function fullAccount(a: AccountInput): Required<AccountInput> {
  return { flags: 0, userData128: 0n, userData64: 0n, userData32: 0, timestamp: 0n, ...a };
}

function fullTransfer(t: TransferInput): Required<TransferInput> {
  return { pendingId: 0n, userData128: 0n, userData64: 0n, userData32: 0, timeoutSeconds: 0, flags: 0, timestamp: 0n, ...t };
}

function fullOperation(o: AccountOperationInput): Required<AccountOperationInput> {
  return { freezeId: 0n, amount: 0n, userData128: 0n, userData64: 0n, userData32: 0, flags: 0, timestamp: 0n, ...o };
}

/** Every field the caller sets, except the timestamp the ledger assigns: equal strings = same event. */
function callerFields(record: object): string {
  return Object.entries(record)
    .filter(([name]) => name !== 'timestamp')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(',');
}

function badId(id: bigint): boolean {
  return id === 0n || id === idMax;
}

function available(a: ModelAccount): bigint {
  return a.creditsPosted - a.debitsPosted - a.debitsPending - a.frozen;
}

function statusOf(a: ModelAccount): AccountStatusName {
  if (a.closed) return 'closed';
  if (a.debitBlocked && a.creditBlocked) return 'blocked';
  if (a.debitBlocked) return 'debit_blocked';
  if (a.creditBlocked) return 'credit_blocked';
  return 'active';
}

export function validateAccount(a: Required<AccountInput>): Outcome {
  const overdraftBoth = flag.debitsMustNotExceedCredits | flag.creditsMustNotExceedDebits;
  if (a.timestamp !== 0n) return 'timestamp_must_be_zero';
  if (badId(a.id)) return 'id_invalid';
  if (a.flags & ~0b1111 || (a.flags & overdraftBoth) === overdraftBoth) return 'flags_invalid';
  if (a.flags & 8 && !(a.flags & 2)) return 'flags_invalid'; // hot_outbound needs no overdraft
  if (a.ledger === 0) return 'ledger_invalid';
  if (a.code === 0) return 'code_invalid';
  return 'ok';
}

export function validateTransfer(t: Required<TransferInput>): Outcome {
  const kind = kindOf(t.flags);
  const wholeAllowed = kind === 'post' || kind === 'void' || kind === 'unfreeze_and_pay';
  const needsReference = kind === 'post' || kind === 'void' || kind === 'reversal' || kind === 'unfreeze_and_pay';
  if (t.timestamp !== 0n) return 'timestamp_must_be_zero';
  if (badId(t.id)) return 'id_invalid';
  if (t.flags & ~0b111111 || kind === 'several') return 'flags_invalid';
  if (t.ledger === 0) return 'ledger_invalid';
  if (t.code === 0) return 'code_invalid';
  if (badId(t.debitAccountId) || badId(t.creditAccountId)) return 'account_id_invalid';
  if (t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
  if (t.amount > amountMax || (t.amount === 0n && !wholeAllowed)) return 'amount_invalid';
  if (needsReference !== (t.pendingId !== 0n)) return 'pending_id_invalid';
  if (needsReference && t.pendingId === t.id) return 'pending_id_invalid';
  if (t.timeoutSeconds !== 0 && (kind !== 'pending' || t.timeoutSeconds > timeoutSecondsMax)) return 'timeout_invalid';
  return 'ok';
}

export function validateOperation(o: Required<AccountOperationInput>): Outcome {
  const sides = o.flags & (flag.debits | flag.credits);
  const isBlock = o.kind === 'block' || o.kind === 'unblock';
  const isHot = o.kind === 'mark_hot' || o.kind === 'unmark_hot';
  if (o.timestamp !== 0n) return 'timestamp_must_be_zero';
  if (badId(o.id)) return 'id_invalid';
  if (o.flags & ~0b111) return 'flags_invalid';
  if (isHot ? sides !== flag.credits : isBlock !== (sides !== 0)) return 'flags_invalid';
  if (badId(o.accountId)) return 'account_id_invalid';
  if (o.kind === 'freeze' && (o.amount === 0n || o.amount > amountMax)) return 'amount_invalid';
  if (o.kind !== 'freeze' && o.kind !== 'unfreeze' && o.amount !== 0n) return 'amount_invalid';
  if (o.amount > amountMax) return 'amount_invalid';
  if ((o.kind === 'unfreeze') !== (o.freezeId !== 0n)) return 'pending_id_invalid';
  if (o.kind === 'unfreeze' && o.freezeId === o.id) return 'pending_id_invalid';
  return 'ok';
}

/** The credit side of a posting: a hot-inbound account's credit waits in its buffer. */
function creditPosted(a: ModelAccount, amount: bigint): void {
  if (!a.hotInbound) {
    a.creditsPosted += amount;
    return;
  }
  a.buffered += amount;
  a.bufferedCount++;
}

function applyBuffer(a: ModelAccount): void {
  a.creditsPosted += a.buffered;
  a.buffered = 0n;
  a.bufferedCount = 0;
}

export class ReferenceLedger {
  private state: State = {
    accounts: new Map(),
    transfers: new Map(),
    operations: new Map(),
    freezes: new Map(),
    accountsFailed: new Map(),
    transfersFailed: new Map(),
    operationsFailed: new Map(),
  };
  private timestampLast = 0n;

  createAccounts(inputs: readonly AccountInput[], nowNs: bigint): Outcome[] {
    const events = inputs.map(fullAccount);
    return this.batch(events, nowNs, validateAccount, (a, timestamp) => this.createAccount(a, timestamp), 'accountsFailed');
  }

  createTransfers(inputs: readonly TransferInput[], nowNs: bigint): Outcome[] {
    const events = inputs.map(fullTransfer);
    return this.batch(events, nowNs, validateTransfer, (t, timestamp) => this.createTransfer(t, timestamp), 'transfersFailed');
  }

  accountOperations(inputs: readonly AccountOperationInput[], nowNs: bigint): Outcome[] {
    const events = inputs.map(fullOperation);
    return this.batch(events, nowNs, validateOperation, (o) => this.applyOperation(o), 'operationsFailed');
  }

  /** Applies every hot-inbound buffer (Ledger.applyHotInbound with automatic marking off); true when one held credits. */
  applyHotInbound(): boolean {
    let applied = false;
    for (const a of this.state.accounts.values()) {
      if (a.bufferedCount === 0) continue;
      applyBuffer(a);
      applied = true;
    }
    return applied;
  }

  /** A history flush (Ledger.flushHistory): an entry without events; it takes the next timestamp and moves nothing. */
  flushHistory(nowNs: bigint): void {
    this.timestampLast = this.nextTimestamp(nowNs);
  }

  /** Expires due holds; true when the ledger had anything due (and so wrote a journal entry). */
  expireDue(nowNs: bigint): boolean {
    const timestamp = this.nextTimestamp(nowNs);
    if (!this.openHolds().some((t) => t.expiresAtNs !== 0n && t.expiresAtNs <= timestamp)) return false;
    this.expireThrough(timestamp);
    this.timestampLast = timestamp;
    return true;
  }

  accountIds(): bigint[] {
    return [...this.state.accounts.keys()];
  }

  transferIds(): bigint[] {
    return [...this.state.transfers.keys()];
  }

  lookupAccounts(ids: readonly bigint[]): AccountState[] {
    return ids.flatMap((id) => {
      const a = this.state.accounts.get(id);
      if (a === undefined) return [];
      const { ledger, code, flags, userData128, userData64, userData32 } = a.input;
      const { debitsPosted, creditsPosted, debitsPending, creditsPending, frozen, timestamp } = a;
      const balances = { debitsPosted, creditsPosted, debitsPending, creditsPending, frozen };
      const hot = { hotInbound: a.hotInbound, hotInboundAuto: false, creditsBuffered: a.buffered, creditsBufferedCount: a.bufferedCount, sliceBalances: 0n };
      return [{ id, ledger, code, flags, userData128, userData64, userData32, timestamp, ...balances, status: statusOf(a), ...hot }];
    });
  }

  lookupTransfers(ids: readonly bigint[]): TransferState[] {
    return ids.flatMap((id) => {
      const t = this.state.transfers.get(id);
      if (t === undefined) return [];
      return [{ ...this.transferRecord(t), status: t.status, amountPosted: t.amountPosted, amountReversed: t.amountReversed }];
    });
  }

  history(filter: HistoryFilterInput): AccountHistoryEntry[] {
    const a = this.state.accounts.get(filter.accountId);
    if (a === undefined) return [];
    const min = filter.timestampMin ?? 0n;
    const max = filter.timestampMax === undefined || filter.timestampMax === 0n ? balanceMax : filter.timestampMax;
    const entries = a.history
      .map((h) => ({ transfer: this.transferRecord(this.state.transfers.get(h.transferId)!), balanceAfter: { ...h.balanceAfter } }))
      .filter((e) => e.transfer.timestamp >= min && e.transfer.timestamp <= max);
    if (filter.reversed === true) entries.reverse();
    return entries.slice(0, filter.limit ?? 8190);
  }

  /** Per ledger: sums of debits and credits, posted and pending (double entry says they match). */
  totals(): Map<number, Balances> {
    const totals = new Map<number, Balances>();
    for (const a of this.state.accounts.values()) {
      const t = totals.get(a.input.ledger) ?? { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n };
      t.debitsPosted += a.debitsPosted;
      t.creditsPosted += a.creditsPosted + a.buffered;
      t.debitsPending += a.debitsPending;
      t.creditsPending += a.creditsPending;
      totals.set(a.input.ledger, t);
    }
    return totals;
  }

  // ------------------------------------------------------------------ batches and chains

  private batch<E extends { id: bigint; flags: number; timestamp: bigint }>(
    events: E[],
    nowNs: bigint,
    validate: (e: E) => Outcome,
    apply: (e: E, timestamp: bigint) => Outcome,
    failedMap: 'accountsFailed' | 'transfersFailed' | 'operationsFailed',
  ): Outcome[] {
    const base = this.nextTimestamp(nowNs);
    const last = base + BigInt(events.length - 1);
    this.expireThrough(last);
    const results: Outcome[] = [];
    const run = (i: number): Outcome => {
      const valid = validate(events[i]!);
      return valid === 'ok' ? apply(events[i]!, base + BigInt(i)) : valid;
    };
    const remember = (i: number) => {
      const outcome = results[i]!;
      const failed = this.state[failedMap];
      if (!notRemembered.has(outcome) && !failed.has(events[i]!.id)) failed.set(events[i]!.id, { fields: callerFields(events[i]!), outcome });
    };
    for (let first = 0; first < events.length; ) {
      let end = first;
      while (end < events.length - 1 && (events[end]!.flags & flag.linked) !== 0) end++;
      const open = (events[end]!.flags & flag.linked) !== 0;
      if (end === first && !open) {
        results[first] = run(first);
        remember(first);
      } else {
        this.chain(first, end, open, run, results);
        for (let i = first; i <= end; i++) remember(i);
      }
      first = end + 1;
    }
    this.timestampLast = last;
    return results;
  }

  /** All or nothing: the first failure undoes the chain; the others say linked_event_failed. */
  private chain(first: number, last: number, open: boolean, run: (i: number) => Outcome, results: Outcome[]): void {
    const saved = structuredClone(this.state);
    let failedAt = -1;
    for (let i = first; i <= (open ? last - 1 : last) && failedAt < 0; i++) {
      results[i] = run(i);
      if (results[i] !== 'ok' && results[i] !== 'exists') failedAt = i;
    }
    if (failedAt < 0 && open) {
      failedAt = last;
      results[last] = 'linked_event_chain_open';
    }
    if (failedAt < 0) return;
    this.state = saved;
    for (let i = first; i <= last; i++) if (i !== failedAt) results[i] = 'linked_event_failed';
  }

  private nextTimestamp(nowNs: bigint): bigint {
    return nowNs > this.timestampLast ? nowNs : this.timestampLast + 1n;
  }

  private openHolds(): ModelTransfer[] {
    return [...this.state.transfers.values()].filter((t) => t.status === 'pending');
  }

  private expireThrough(timestampNs: bigint): void {
    for (const hold of this.openHolds()) {
      if (hold.expiresAtNs === 0n || hold.expiresAtNs > timestampNs) continue;
      const debit = this.state.accounts.get(hold.input.debitAccountId)!;
      const credit = this.state.accounts.get(hold.input.creditAccountId)!;
      debit.debitsPending -= hold.amount;
      credit.creditsPending -= hold.amount;
      hold.status = 'pending_expired';
    }
  }

  // ------------------------------------------------------------------ accounts

  private createAccount(a: Required<AccountInput>, timestamp: bigint): Outcome {
    const existing = this.state.accounts.get(a.id);
    if (existing !== undefined) return callerFields(existing.input) === callerFields(a) ? 'exists' : 'exists_with_different_fields';
    const failed = this.state.accountsFailed.get(a.id);
    if (failed !== undefined) return failed.fields === callerFields(a) ? failed.outcome : 'exists_with_different_fields';
    this.state.accounts.set(a.id, {
      input: a,
      timestamp,
      debitsPosted: 0n,
      creditsPosted: 0n,
      debitsPending: 0n,
      creditsPending: 0n,
      frozen: 0n,
      debitBlocked: false,
      creditBlocked: false,
      closed: false,
      hotInbound: false,
      buffered: 0n,
      bufferedCount: 0,
      history: [],
    });
    return 'ok';
  }

  private applyOperation(o: Required<AccountOperationInput>): Outcome {
    const done = this.state.operations.get(o.id);
    if (done !== undefined) return done === callerFields(o) ? 'exists' : 'exists_with_different_fields';
    const failed = this.state.operationsFailed.get(o.id);
    if (failed !== undefined) return failed.fields === callerFields(o) ? failed.outcome : 'exists_with_different_fields';
    const a = this.state.accounts.get(o.accountId);
    if (a === undefined) return 'account_not_found';
    if (a.closed && o.kind !== 'unfreeze') return 'account_closed';
    const outcome = this.operationOn(a, o);
    if (outcome === 'ok') this.state.operations.set(o.id, callerFields(o));
    return outcome;
  }

  private operationOn(a: ModelAccount, o: Required<AccountOperationInput>): Outcome {
    const debits = (o.flags & flag.debits) !== 0;
    const credits = (o.flags & flag.credits) !== 0;
    switch (o.kind) {
      case 'freeze':
        if (o.amount > available(a)) return 'insufficient_funds';
        a.frozen += o.amount;
        this.state.freezes.set(o.id, { accountId: a.input.id, remaining: o.amount });
        return 'ok';
      case 'unfreeze': {
        const f = this.state.freezes.get(o.freezeId);
        if (f === undefined) return 'freeze_not_found';
        if (f.accountId !== a.input.id) return 'accounts_mismatch';
        if (f.remaining === 0n || o.amount > f.remaining) return 'exceeds_frozen_amount';
        const amount = o.amount === 0n ? f.remaining : o.amount;
        f.remaining -= amount;
        a.frozen -= amount;
        return 'ok';
      }
      case 'block':
        a.debitBlocked ||= debits;
        a.creditBlocked ||= credits;
        return 'ok';
      case 'unblock':
        if (debits) a.debitBlocked = false;
        if (credits) a.creditBlocked = false;
        return 'ok';
      case 'close':
        if (a.debitsPending !== 0n || a.creditsPending !== 0n) return 'close_refused:pending_balance';
        if (a.frozen !== 0n) return 'close_refused:frozen_balance';
        if (a.debitsPosted !== a.creditsPosted + a.buffered) return 'close_refused:nonzero_balance';
        a.closed = true;
        return 'ok';
      case 'mark_hot':
        a.hotInbound = true;
        return 'ok';
      case 'unmark_hot':
        applyBuffer(a);
        a.hotInbound = false;
        return 'ok';
    }
  }

  // ------------------------------------------------------------------ transfers

  private createTransfer(t: Required<TransferInput>, timestamp: bigint): Outcome {
    const existing = this.state.transfers.get(t.id);
    if (existing !== undefined) return callerFields(existing.input) === callerFields(t) ? 'exists' : 'exists_with_different_fields';
    const failed = this.state.transfersFailed.get(t.id);
    if (failed !== undefined) return failed.fields === callerFields(t) ? failed.outcome : 'exists_with_different_fields';
    const debit = this.state.accounts.get(t.debitAccountId);
    const credit = this.state.accounts.get(t.creditAccountId);
    if (debit === undefined || credit === undefined) return 'account_not_found';
    if (debit.input.ledger !== t.ledger || credit.input.ledger !== t.ledger) return 'ledger_mismatch';
    const kind = kindOf(t.flags);
    if (kind !== 'void') {
      if (debit.closed || credit.closed) return 'account_closed';
      // Paying from a freeze is how money leaves an account blocked for debits (by order).
      if (debit.debitBlocked && kind !== 'unfreeze_and_pay') return 'account_blocked';
      if (credit.creditBlocked) return 'account_blocked';
    }
    const resolved = this.resolveAmount(t, kind);
    if (typeof resolved === 'string') return resolved;
    const refused = this.balanceRefusal(debit, credit, kind, resolved);
    if (refused !== undefined) return refused;
    this.post(t, kind, resolved, timestamp, debit, credit);
    return 'ok';
  }

  /** The amount the transfer moves, or why the thing it refers to refuses it. */
  private resolveAmount(t: Required<TransferInput>, kind: Kind): bigint | Outcome {
    if (kind === 'post' || kind === 'void') {
      const hold = this.state.transfers.get(t.pendingId);
      if (hold === undefined || kindOf(hold.input.flags) !== 'pending') return 'pending_not_found';
      if (hold.status === 'pending_posted') return 'pending_already_posted';
      if (hold.status === 'pending_voided') return 'pending_already_voided';
      if (hold.status === 'pending_expired') return 'pending_expired';
      if (hold.input.debitAccountId !== t.debitAccountId || hold.input.creditAccountId !== t.creditAccountId) return 'accounts_mismatch';
      if (t.amount > hold.amount) return 'exceeds_pending_amount';
      if (kind === 'void' && t.amount !== 0n && t.amount !== hold.amount) return 'amount_invalid';
      return t.amount === 0n || kind === 'void' ? hold.amount : t.amount;
    }
    if (kind === 'reversal') {
      const original = this.state.transfers.get(t.pendingId);
      if (original === undefined) return 'original_not_found';
      const originalKind = kindOf(original.input.flags);
      if (originalKind !== 'single' && originalKind !== 'post' && originalKind !== 'unfreeze_and_pay') return 'original_not_reversible';
      if (original.input.debitAccountId !== t.creditAccountId || original.input.creditAccountId !== t.debitAccountId) return 'accounts_mismatch';
      if (t.amount > original.amount - original.amountReversed) return 'reversal_exceeds_remaining';
      return t.amount;
    }
    if (kind === 'unfreeze_and_pay') {
      const f = this.state.freezes.get(t.pendingId);
      if (f === undefined) return 'freeze_not_found';
      if (f.accountId !== t.debitAccountId) return 'accounts_mismatch';
      if (f.remaining === 0n || t.amount > f.remaining) return 'exceeds_frozen_amount';
      return t.amount === 0n ? f.remaining : t.amount;
    }
    return t.amount;
  }

  private balanceRefusal(debit: ModelAccount, credit: ModelAccount, kind: Kind, amount: bigint): Outcome | undefined {
    // Only new money out counts against the debit side: a post or a pay-from-freeze moves
    // money that a hold or a freeze had already set aside.
    const newDebit = kind === 'single' || kind === 'pending' || kind === 'reversal';
    const newCredit = newDebit || kind === 'unfreeze_and_pay';
    if (newDebit && debit.input.flags & flag.debitsMustNotExceedCredits) {
      if (debit.debitsPosted + debit.debitsPending + debit.frozen + amount > debit.creditsPosted) return 'insufficient_funds';
    }
    if (newCredit && credit.input.flags & flag.creditsMustNotExceedDebits) {
      if (credit.creditsPosted + credit.buffered + credit.creditsPending + amount > credit.debitsPosted) return 'credits_exceed_debits';
    }
    if (kind === 'void') return undefined;
    const [debitField, creditField] = kind === 'pending' ? (['debitsPending', 'creditsPending'] as const) : (['debitsPosted', 'creditsPosted'] as const);
    if (debit[debitField] + amount > balanceMax || credit[creditField] + amount > balanceMax) return 'balance_overflow';
    if (kind !== 'pending' && credit.creditsPosted + credit.buffered + amount > balanceMax) return 'balance_overflow';
    return undefined;
  }

  private post(t: Required<TransferInput>, kind: Kind, amount: bigint, timestamp: bigint, debit: ModelAccount, credit: ModelAccount): void {
    const record: ModelTransfer = { input: t, timestamp, amount, status: 'posted', amountPosted: 0n, amountReversed: 0n, expiresAtNs: 0n };
    if (kind === 'pending') {
      debit.debitsPending += amount;
      credit.creditsPending += amount;
      record.status = 'pending';
      record.expiresAtNs = t.timeoutSeconds === 0 ? 0n : timestamp + BigInt(t.timeoutSeconds) * nsPerSecond;
    } else if (kind === 'post' || kind === 'void') {
      const hold = this.state.transfers.get(t.pendingId)!;
      debit.debitsPending -= hold.amount;
      credit.creditsPending -= hold.amount;
      hold.status = kind === 'post' ? 'pending_posted' : 'pending_voided';
      if (kind === 'post') {
        hold.amountPosted = amount;
        debit.debitsPosted += amount;
        creditPosted(credit, amount);
      }
    } else {
      if (kind === 'reversal') this.state.transfers.get(t.pendingId)!.amountReversed += amount;
      if (kind === 'unfreeze_and_pay') {
        this.state.freezes.get(t.pendingId)!.remaining -= amount;
        debit.frozen -= amount;
      }
      debit.debitsPosted += amount;
      creditPosted(credit, amount);
    }
    this.state.transfers.set(t.id, record);
    for (const a of [debit, credit]) {
      const { debitsPosted, creditsPosted, debitsPending, creditsPending } = a;
      a.history.push({ transferId: t.id, balanceAfter: { debitsPosted, creditsPosted, debitsPending, creditsPending } });
    }
  }

  private transferRecord(t: ModelTransfer): Transfer {
    const { id, debitAccountId, creditAccountId, pendingId, userData128, userData64, userData32, timeoutSeconds, ledger, code, flags } = t.input;
    return {
      id,
      debitAccountId,
      creditAccountId,
      amount: t.amount,
      pendingId,
      userData128,
      userData64,
      userData32,
      timeoutSeconds,
      ledger,
      code,
      flags,
      timestamp: t.timestamp,
    };
  }
}
