// The fuzzer's request stream: at each step one action — a write batch, a read, a books query, a day cut,
// an adjustment, a snapshot, a refused call, hostile frames, slow or idle clients, a burst, or a restart —
// drawn from the seed with weights per family (families.ts), after a fixed setup (banks on every ledger,
// customers, merchants, hot accounts, their funding). Only the model's record of what was sent is read,
// so a seed replays the same actions in the same order; the server's answers never steer it (the two
// exceptions, ids the server assigns — adjustments — and the days it closed, are read when an action
// runs, not here).

import { TransferFlags, type AccountInput, type AccountOperationInput, type TransferInput } from '../../src/client/index.js';
import { Operation } from '../../src/core/operations.js';
import { encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import type { EventPlan, TransferDraft, World } from './events.js';
import { EventDrafter } from './events.js';
import type { KeyRole } from './server-control.js';
import type { AdjustmentSent, Model, Role } from './model.js';
import type { Random } from './random.js';
import { brokenFrames, closingFrames, oversizedBatch, requestBytes, reservedFieldFrames, unknownKindFrame, wideIntegerFrames, type RawFrame } from './wire-frames.js';

export type KeyName = KeyRole | 'nokey' | 'wrongkey';

export type BooksQuery =
  | { q: 'day_report'; day: number }
  | { q: 'balance_at_day'; accountId: bigint; day: number }
  | { q: 'statement'; accountId: bigint; fromDay: number; toDay: number; limit: number }
  | { q: 'subject_balances' | 'trial_balance'; ledger: number; day: number }
  | { q: 'bookkeeping_status' };

/** A call the gateway must refuse whole (auth family): its events must never be stored. */
export type RefusedCall =
  | { op: 'create_accounts'; events: EventPlan<Required<AccountInput>>[] }
  | { op: 'create_transfers'; events: EventPlan<Required<TransferInput>>[] }
  | { op: 'lookup_accounts'; ids: bigint[] }
  | { op: 'close_day' }
  | { op: 'get_audit_log' }
  | { op: 'get_recon_batches' };

export type Action =
  | { kind: 'create_accounts'; key: KeyName; events: EventPlan<Required<AccountInput>>[] }
  | { kind: 'create_transfers'; key: KeyName; events: EventPlan<Required<TransferInput>>[] }
  | { kind: 'account_operations'; key: KeyName; events: EventPlan<Required<AccountOperationInput>>[] }
  | { kind: 'lookup_accounts'; ids: bigint[] }
  | { kind: 'lookup_transfers'; ids: bigint[] }
  | { kind: 'history'; accountId: bigint; limit: number; reversed: boolean }
  | { kind: 'books'; query: BooksQuery }
  /** next: an empty body; ahead: the day `ahead` days after the next; past: a day already closed. */
  | { kind: 'close_day'; mode: 'next' | 'ahead' | 'past'; ahead: number }
  | { kind: 'snapshot'; out: string }
  | { kind: 'snapshot_status' }
  | { kind: 'adjustment_submit'; adjustment: AdjustmentSent; events: EventPlan<Required<TransferInput>>[]; reason: string; invalid: string | null }
  | { kind: 'adjustment_decide'; adjustment: AdjustmentSent; how: 'approve' | 'self-approve' | 'reject' }
  | { kind: 'adjustment_read'; adjustment: AdjustmentSent | null; status: 'pending' | 'approved' | 'rejected' | undefined; limit: number }
  | { kind: 'audit_log'; after: number; limit: number }
  | { kind: 'refused'; key: KeyName; call: RefusedCall; expect: 'forbidden' | 'unauthenticated' | 'rate_limited' }
  /** Frames on a bare socket with `key`, each answered (or the socket closed) as it says. */
  | { kind: 'raw'; key: KeyName; frames: RawFrame[] }
  | { kind: 'slow_client'; requests: number; accountId: bigint; paceMs: number; holdMs: number }
  | { kind: 'idle_clients'; count: number; halfOpen: number; holdMs: number }
  | { kind: 'burst'; frames: RawFrame[]; chain: EventPlan<Required<TransferInput>>[] }
  | { kind: 'restart'; signal: 'SIGKILL' | 'SIGTERM' };

export type ActionKind = Action['kind'];

/** Paths the snapshot actions name. */
export interface SnapshotPaths {
  dataDir: string;
  snapshots: string;
  dataLink: string;
  nonEmptyDir: string;
  plainFile: string;
}

/** Impossible dates a close_day must refuse (body_invalid). */
const impossibleDays = [20261301, 20260230, 20270229, 20260431, 20260000, 20261232, 20260100, 99999999, 1, 0xffff_ffff];

export class Generator {
  private readonly events: EventDrafter;
  private readonly setupQueue: Action[] = [];
  /** Actions due at a later step (a hot account some steps after its squatter). */
  private readonly later: { at: number; make: () => Action | null }[] = [];
  private step = 0;
  private requestId = 1;
  private snapshots = 0;
  private nextRestartAt: number;

  constructor(
    private readonly rng: Random,
    private readonly model: Model,
    private readonly world: World,
    private readonly paths: SnapshotPaths,
    private readonly killEverySteps: number,
  ) {
    this.events = new EventDrafter(rng, model, world);
    this.nextRestartAt = this.restartGap();
    this.planSetup();
  }

  private on(family: Parameters<EventDrafter['on']>[0]): boolean {
    return this.events.on(family);
  }

  /** The action of the next step. */
  next(): Action {
    const step = this.step++;
    const queued = this.setupQueue.shift();
    if (queued !== undefined) return queued;
    const dueAt = this.later.findIndex((l) => l.at <= step);
    if (dueAt >= 0) {
      const action = this.later.splice(dueAt, 1)[0]!.make();
      if (action !== null) return action;
    }
    if (step >= this.nextRestartAt && (this.on('kill') || this.on('sigterm'))) {
      this.nextRestartAt = step + this.restartGap();
      const sigterm = this.on('sigterm') && (!this.on('kill') || this.rng.chance(0.35));
      const restart: Action = { kind: 'restart', signal: sigterm ? 'SIGTERM' : 'SIGKILL' };
      // Half the SIGTERMs come while a snapshot or a day cut has just begun: shutdown must not wait on them forever.
      const busy = sigterm && this.rng.chance(0.5) ? this.rng.weighted<() => Action>([[() => this.snapshot(), 1], [() => ({ kind: 'close_day', mode: 'next', ahead: 1 }), 1]]) : null;
      if (busy === null) return restart;
      this.setupQueue.push(restart);
      return busy();
    }
    for (;;) {
      const action = this.draw();
      if (action !== null) return action;
    }
  }

  private restartGap(): number {
    return this.rng.range(Math.ceil(this.killEverySteps / 2), Math.ceil((this.killEverySteps * 3) / 2));
  }

  // ------------------------------------------------------------------ setup

  /** Banks on every ledger, accounts of every role on the busy ledgers, hot accounts, and money for them. */
  private planSetup(): void {
    const ledgers = this.world.ledgers;
    const banks = ledgers.map((ledger) => this.events.account('bank', ledger));
    for (let at = 0; at < banks.length; at += 100) this.setupQueue.push({ kind: 'create_accounts', key: 'opsA', events: banks.slice(at, at + 100) });
    const roles: [Role, number][] = [['customer', 8], ['merchant', 3], ['debit-normal', 1], ['doomed', 3]];
    if (this.on('hot-outbound')) roles.push(['hot', 2]);
    for (const ledger of ledgers.slice(0, 3)) {
      this.setupQueue.push({ kind: 'create_accounts', key: 'opsA', events: roles.flatMap(([role, count]) => Array.from({ length: count }, () => this.events.account(role, ledger))) });
    }
    for (const ledger of ledgers.slice(3)) this.setupQueue.push({ kind: 'create_accounts', key: 'opsA', events: [this.events.account('customer', ledger)] });
    const funding: EventPlan<Required<TransferInput>>[] = [];
    for (let i = 0; i < 40; i++) {
      const draft = this.events.fund();
      if (draft !== null) funding.push(this.events.commit(draft));
    }
    this.setupQueue.push({ kind: 'create_transfers', key: 'opsA', events: funding });
  }

  // ------------------------------------------------------------------ drawing

  private draw(): Action | null {
    const on = (family: Parameters<EventDrafter['on']>[0], weight: number) => (this.on(family) ? weight : 0);
    const writesTransfers = this.on('transfers') || this.on('chains') || this.on('cross-chains') || this.on('hot-outbound');
    const pick = this.rng.weighted<() => Action | null>([
      [() => this.createAccounts(), on('accounts', 5) + on('slice-squat', 0.3)],
      [() => this.createTransfers(), writesTransfers ? 30 : 0],
      [() => this.accountOperations(), on('account-ops', 4) + on('hot-inbound', 1.5)],
      [() => this.lookup(), on('lookups', 6)],
      [() => this.books(), on('books', 3)],
      [() => ({ kind: 'close_day', mode: this.rng.weighted([['next', 6], ['ahead', 2], ['past', 1]] as const), ahead: this.rng.range(1, 3) }), on('day-cut', 0.4)],
      [() => this.impossibleDay(), on('day-cut-invalid', 0.3)],
      [() => this.snapshot(), on('snapshot', 0.3)],
      [() => ({ kind: 'snapshot_status' }), on('snapshot', 0.6)],
      [() => this.hostileSnapshot('paths'), on('snapshot-hostile', 0.4)],
      [() => this.hostileSnapshot('symlink'), on('snapshot-symlink', 0.3)],
      [() => this.hostileSnapshot('fields'), on('snapshot-fields', 0.2)],
      [() => this.adjustment(), on('adjustments', 2.5)],
      [() => ({ kind: 'audit_log', after: this.rng.int(50), limit: this.rng.range(1, 1000) }), on('audit', 0.7)],
      [() => this.refused(), on('auth', 2)],
      [() => this.wire(), on('wire', 2)],
      [() => this.wideIntegers(), on('wire-int64', 0.6)],
      [() => this.slowClient(), on('slow-clients', 0.12)],
      [() => ({ kind: 'idle_clients', count: this.rng.range(1, 4), halfOpen: this.rng.range(0, 2), holdMs: this.rng.range(1_000, 15_000) }), on('idle-clients', 0.2)],
      [() => this.burst(), on('burst', 0.15)],
    ]);
    return pick();
  }

  private writeKey(): KeyName {
    return this.rng.weighted([['opsA', 6], ['opsB', 2], ['poster', 3]] as const);
  }

  private createAccounts(): Action | null {
    const count = this.rng.range(1, 10);
    const events: EventPlan<Required<AccountInput>>[] = [];
    for (let i = 0; i < count; i++) {
      const what = this.rng.weighted([
        ['account', this.on('accounts') ? 8 : 0],
        ['broken', this.on('accounts') ? 1.5 : 0],
        ['retry', this.on('accounts') ? 1 : 0],
        ['squat', this.on('slice-squat') && this.world.shardCount > 1 ? 0.4 : 0],
      ] as const);
      if (what === 'account') {
        const role = this.rng.weighted<Role>([['customer', 4], ['merchant', 2], ['doomed', 2], ['debit-normal', 1], ['hot', this.on('hot-outbound') ? 0.5 : 0], ['bank', 0.2]]);
        events.push(this.events.account(role, this.events.ledger()));
      } else if (what === 'broken') {
        events.push(this.events.brokenAccount());
      } else if (what === 'retry') {
        const retry = this.events.retryAccount();
        if (retry !== null) events.push(retry);
      } else {
        events.push(...this.squat());
      }
    }
    return events.length === 0 ? null : { kind: 'create_accounts', key: this.writeKey(), events };
  }

  /** An account at a slice id of a hot account created some steps later, then funded and paying (slice-squat). */
  private squat(): EventPlan<Required<AccountInput>>[] {
    const hotId = this.rng.id();
    const ledger = this.world.ledgers[0]!;
    const squatter = this.events.squatter(hotId, ledger);
    if (squatter === null) return [];
    this.later.push({ at: this.step + 15, make: () => ({ kind: 'create_accounts', key: 'opsA', events: [this.events.account('hot', ledger, hotId)] }) });
    return [squatter];
  }

  private createTransfers(): Action | null {
    const target = this.rng.weighted([[1, 3], [this.rng.range(2, 8), 4], [this.rng.range(9, 40), 2]] as const);
    const drafts: TransferDraft[] = [];
    for (let tries = 0; drafts.length < target && tries < target * 3; tries++) {
      drafts.push(...this.transferDrafts());
      // A chain left open must end the batch: events after it would continue it.
      if (drafts.length > 0 && (drafts[drafts.length - 1]!.input.flags & TransferFlags.linked) !== 0) break;
    }
    if (drafts.length === 0) return null;
    return { kind: 'create_transfers', key: this.writeKey(), events: drafts.map((d) => this.events.commit(d)) };
  }

  private transferDrafts(): TransferDraft[] {
    const t = this.on('transfers') ? 1 : 0;
    const e = this.events;
    const shards = this.world.shardCount;
    const kind = this.rng.weighted<() => TransferDraft | TransferDraft[] | null>([
      [() => e.fund(), 5],
      [() => e.pay(), 12 * t],
      [() => e.hotPay(), this.on('hot-outbound') ? 5 : 0],
      [() => e.hold(), 4 * t],
      [() => e.closeHold(true), 3 * t],
      [() => e.closeHold(false), 1.5 * t],
      [() => e.reverse(), 2 * t],
      [() => e.payFromFreeze(), this.on('account-ops') ? 1 * t : 0],
      [() => e.debitNormal(), 1 * t],
      [() => e.odd(), 0.8 * t],
      [() => e.brokenTransfer(), 2 * t],
      [() => e.retryTransfer(), 2 * t],
      [() => e.chain([this.rng.int(shards)]), this.on('chains') ? 1.5 : 0],
      [() => e.chain(Array.from({ length: shards }, (_, i) => i)), this.on('cross-chains') && shards > 1 ? 1 : 0],
    ]);
    const drafts = kind();
    return drafts === null ? [] : Array.isArray(drafts) ? drafts : [drafts];
  }

  private accountOperations(): Action | null {
    const events: EventPlan<Required<AccountOperationInput>>[] = [];
    const count = this.rng.range(1, 6);
    for (let i = 0; i < count; i++) {
      const event = this.events.anyOperation();
      if (event !== null) events.push(event);
    }
    return events.length === 0 ? null : { kind: 'account_operations', key: this.writeKey(), events };
  }

  private lookup(): Action | null {
    const what = this.rng.weighted([['accounts', 3], ['transfers', 3], ['history', 2]] as const);
    const known = (ids: readonly bigint[]) => Array.from({ length: this.rng.range(1, 40) }, () => (ids.length > 0 && this.rng.chance(0.9) ? this.rng.pick(ids) : this.rng.id()));
    if (what === 'accounts') return { kind: 'lookup_accounts', ids: known(this.model.accountsRetryable) };
    if (what === 'transfers') return { kind: 'lookup_transfers', ids: known(this.model.retryable) };
    const accountId = this.events.pickAccount(this.events.ledger(), ['bank', 'customer', 'merchant', 'hot']);
    return accountId === null ? null : { kind: 'history', accountId, limit: this.rng.range(1, 300), reversed: this.rng.chance(0.5) };
  }

  private books(): Action | null {
    // The same draws whatever days the server has closed (its answers must not steer the stream).
    const day = () => {
      const closed = this.rng.chance(0.7);
      const index = this.rng.u32();
      const days = this.model.closedDays;
      return closed && days.length > 0 ? days[index % days.length]! : [20260101, 20991231][index % 2]!;
    };
    const account = () => this.events.pickAccount(this.events.ledger(), ['bank', 'customer', 'merchant']) ?? 1n;
    const query = this.rng.weighted<() => BooksQuery>([
      [() => ({ q: 'day_report', day: day() }), 2],
      [() => ({ q: 'balance_at_day', accountId: account(), day: day() }), 2],
      [() => ({ q: 'statement', accountId: account(), fromDay: day(), toDay: day(), limit: this.rng.range(1, 500) }), 1],
      [() => ({ q: this.rng.chance(0.5) ? 'subject_balances' : 'trial_balance', ledger: this.events.ledger(), day: this.rng.chance(0.7) ? 0 : day() }), 2],
      [() => ({ q: 'bookkeeping_status' }), 1],
    ]);
    return { kind: 'books', query: query() };
  }

  /** close_day with an impossible date, as raw bytes (the client refuses to encode one): body_invalid, and soon. */
  private impossibleDay(): Action {
    const id = this.requestId++;
    const day = this.rng.pick(impossibleDays);
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, day, true);
    return { kind: 'raw', key: 'opsA', frames: [{ bytes: requestBytes(id, Operation.close_day, body), expect: { error: 'body_invalid', requestId: id }, why: `close_day to begin day ${day}`, replyMsMax: 30_000 }] };
  }

  private snapshot(): Action {
    return { kind: 'snapshot', out: `${this.paths.snapshots}/snapshot-${++this.snapshots}` };
  }

  /** start_snapshot targets a server must refuse with body_invalid (raw JSON, so non-strings and extra fields go out too). */
  private hostileSnapshot(kind: 'paths' | 'symlink' | 'fields'): Action {
    const p = this.paths;
    const n = ++this.snapshots;
    const fields: [unknown, string][] = [
      [{ out: `${p.snapshots}/x-${n}`, extra: true }, 'an unknown field'],
      [{ out: `${p.snapshots}/y-${n}`, out2: `${p.dataDir}/y-${n}` }, 'a second, unknown path field'],
    ];
    const targets: [unknown, string][] = kind === 'fields' ? fields : kind === 'symlink'
      ? [
          [{ out: `${p.dataLink}/snapshot-${n}` }, 'a path through a symbolic link into the data directory'],
          [{ out: `${p.snapshots}/nul\u0000-${n}` }, 'a path with a NUL byte'],
        ]
      : [
          [{ out: `relative/snapshot-${n}` }, 'a relative path'],
          [{ out: `${p.dataDir}/snapshot-${n}` }, 'a path inside the data directory'],
          [{ out: p.dataDir }, 'the data directory itself'],
          [{ out: p.nonEmptyDir }, 'a directory that is not empty'],
          [{ out: p.plainFile }, 'a plain file'],
          [{ out: '' }, 'an empty path'],
          [{ out: 42 }, 'a number'],
          [{}, 'no out'],
        ];
    const [body, why] = this.rng.pick(targets);
    const id = this.requestId++;
    return { kind: 'raw', key: 'opsA', frames: [{ bytes: requestBytes(id, Operation.start_snapshot, new TextEncoder().encode(JSON.stringify(body))), expect: { error: 'body_invalid', requestId: id }, why: `start_snapshot to ${why}` }] };
  }

  private adjustment(): Action | null {
    const open = this.model.adjustments.filter((a) => a.decided === null);
    const what = this.rng.weighted([['submit', 3], ['decide', open.length > 0 ? 3 : 0], ['read', 1]] as const);
    if (what === 'decide') {
      const adjustment = this.rng.pick(open);
      const how = this.rng.weighted([['approve', 5], ['self-approve', 1], ['reject', 2]] as const);
      if (how !== 'self-approve') adjustment.decided = how === 'approve' ? 'approved' : 'rejected';
      return { kind: 'adjustment_decide', adjustment, how };
    }
    if (what === 'read') {
      const adjustment = this.model.adjustments.length > 0 && this.rng.chance(0.5) ? this.rng.pick(this.model.adjustments) : null;
      return { kind: 'adjustment_read', adjustment, status: this.rng.pick([undefined, 'pending', 'approved', 'rejected'] as const), limit: this.rng.range(1, 100) };
    }
    const drafts: TransferDraft[] = [];
    for (let i = this.rng.range(1, 4); i > 0; i--) {
      const draft = this.events.fund();
      if (draft !== null) drafts.push(draft);
    }
    if (drafts.length === 0) return null;
    const invalid = this.rng.weighted([[null, 8], ['reason', 1], ['transfer', 1]] as const);
    if (invalid === 'transfer') drafts[0]!.input.code = 0;
    const reason = invalid === 'reason' ? 'x'.repeat(1001) : this.rng.pick(['fix a stuck payment', '调账：冲正', 'manual correction — ticket 42']);
    const adjustment: AdjustmentSent = { maker: this.rng.chance(0.5) ? 'opsA' : 'opsB', id: null, transferIds: [], decided: null };
    const events = drafts.map((d) => ({ attempt: this.model.sendTransfer(d.input, { retryable: false, pooled: false, adjustment: true }), expect: null }));
    adjustment.transferIds = events.map((e) => e.attempt.input.id);
    if (invalid === null) this.model.adjustments.push(adjustment);
    return { kind: 'adjustment_submit', adjustment, events, reason, invalid };
  }

  /** A call outside the key's scopes, without a valid key, or over the limited key's rate. */
  private refused(): Action | null {
    const transfers = (count: number) => {
      const drafts: TransferDraft[] = [];
      for (let i = 0; i < count * 2 && drafts.length < count; i++) {
        const draft = this.events.fund();
        if (draft !== null) drafts.push(draft);
      }
      return drafts.map((d) => ({ attempt: this.model.sendTransfer(d.input, { retryable: false, pooled: false }), expect: null }));
    };
    const accounts = () => [this.events.account('customer', this.events.ledger(), this.rng.id(), false)];
    const which = this.rng.int(7);
    if (which === 0) return { kind: 'refused', key: 'reader', call: { op: 'create_transfers', events: transfers(2) }, expect: 'forbidden' };
    if (which === 1) return { kind: 'refused', key: 'poster', call: { op: 'lookup_accounts', ids: [this.rng.id()] }, expect: 'forbidden' };
    if (which === 2) return { kind: 'refused', key: this.rng.pick(['poster', 'reader'] as const), call: { op: this.rng.pick(['close_day', 'get_audit_log', 'get_recon_batches'] as const) }, expect: 'forbidden' };
    if (which === 3) return { kind: 'refused', key: 'auditor', call: { op: 'create_accounts', events: accounts() }, expect: 'forbidden' };
    if (which === 4) return { kind: 'refused', key: 'nokey', call: { op: 'create_accounts', events: accounts() }, expect: 'unauthenticated' };
    if (which === 5) return { kind: 'refused', key: 'wrongkey', call: { op: 'create_transfers', events: transfers(1) }, expect: 'unauthenticated' };
    // More events than the limited key may take in a second: refused whatever its bucket holds.
    return { kind: 'refused', key: 'limited', call: { op: 'create_transfers', events: transfers(8) }, expect: 'rate_limited' };
  }

  private wire(): Action {
    const id = (this.requestId += 8);
    const anyId = this.model.accountsRetryable.length > 0 ? this.rng.pick(this.model.accountsRetryable) : this.rng.id();
    const what = this.rng.weighted([['broken', 6], ['oversized', 0.5], ['reserved', 1.5], ['closing', 0.6]] as const);
    if (what === 'broken') {
      const all = brokenFrames(id, anyId);
      return { kind: 'raw', key: this.rng.pick(['opsA', 'reader', 'nokey'] as const), frames: Array.from({ length: this.rng.range(1, 5) }, () => this.rng.pick(all)) };
    }
    if (what === 'oversized') return { kind: 'raw', key: 'opsA', frames: [oversizedBatch(id)] };
    if (what === 'closing') return { kind: 'raw', key: 'opsA', frames: [this.rng.pick(closingFrames())] };
    const ledger = this.events.ledger();
    const payer = this.events.pickAccount(ledger, ['bank']) ?? 1n;
    const payee = this.events.pickAccount(ledger, ['customer']) ?? 2n;
    const reserved = reservedFieldFrames(
      id,
      { id: this.rng.id(), ledger, code: 1 },
      { id: this.rng.id(), debitAccountId: payer, creditAccountId: payee, amount: 5n, ledger, code: 1 },
      { id: this.rng.id(), accountId: payee, kind: 'freeze', amount: 1n },
    );
    // The three records must never be stored: tracked so the checker looks for them.
    const [account, transfer, operation] = reserved.inputs;
    reserved.frames[0]!.attempts = [this.model.sendAccount({ ...account, flags: 0, userData128: 0n, userData64: 0n, userData32: 0, timestamp: 0n }, 'hostile', false)];
    reserved.frames[1]!.attempts = [this.model.sendTransfer({ pendingId: 0n, userData128: 0n, userData64: 0n, userData32: 0, timeoutSeconds: 0, flags: 0, timestamp: 0n, ...transfer }, { retryable: false, pooled: false })];
    const unknownKind = unknownKindFrame(id + 3, { ...operation, id: this.rng.id(), kind: 'block', amount: 0n, flags: 2 });
    return { kind: 'raw', key: 'opsA', frames: [...reserved.frames, unknownKind] };
  }

  private wideIntegers(): Action {
    const id = (this.requestId += 8);
    const anyId = this.model.accountsRetryable.length > 0 ? this.rng.pick(this.model.accountsRetryable) : this.rng.id();
    return { kind: 'raw', key: 'opsA', frames: wideIntegerFrames(id, anyId) };
  }

  private slowClient(): Action | null {
    const accountId = this.events.pickAccount(this.world.ledgers[0]!, ['bank']);
    // Pipelined all at once only with the burst family: 64+ queued lookups and a cross-shard chain meet defect 4.
    const paceMs = this.on('burst') && this.rng.chance(0.5) ? 0 : 25;
    return accountId === null ? null : { kind: 'slow_client', requests: this.rng.range(40, 90), accountId, paceMs, holdMs: this.rng.range(2_000, 10_000) };
  }

  /**
   * A linked chain spanning shards sent while 100+ single-event frames (lookups and payments on shard 0)
   * are queued for one shard (issue #20, known defect 4).
   */
  private burst(): Action | null {
    if (this.world.shardCount < 2) return null;
    const chain = this.events.chain(Array.from({ length: this.world.shardCount }, (_, i) => i));
    if (chain.length === 0) return null;
    const frames: RawFrame[] = [];
    for (let i = 0; i < 140; i++) {
      const id = this.requestId++;
      const draft = i % 3 === 0 ? this.events.pay(0) : null;
      if (draft === null) {
        const accountId = this.events.pickAccount(this.world.ledgers[0]!, ['customer', 'merchant'], 0) ?? 1n;
        frames.push({ bytes: requestBytes(id, Operation.lookup_accounts, encodeIds([accountId])), expect: { reply: id }, why: 'a lookup queued behind a chain' });
        continue;
      }
      draft.input.flags &= ~TransferFlags.linked;
      const plan = this.events.commit(draft);
      frames.push({ bytes: requestBytes(id, Operation.create_transfers, encodeTransfers([plan.attempt.input])), expect: { reply: id }, why: 'a payment queued behind a chain', attempts: [plan.attempt] });
    }
    return { kind: 'burst', frames, chain: chain.map((d) => this.events.commit(d)) };
  }
}

/** One line naming an action, for the trace of the steps before a failure. */
export function describeAction(action: Action): string {
  switch (action.kind) {
    case 'create_accounts':
    case 'create_transfers':
    case 'account_operations':
      return `${action.kind} ×${action.events.length} (${action.key})${action.events.some((e) => e.retry) ? ' with resends' : ''}`;
    case 'lookup_accounts':
    case 'lookup_transfers':
      return `${action.kind} ×${action.ids.length}`;
    case 'raw':
      return `hostile frames (${action.key}): ${action.frames.map((f) => f.why).join('; ')}`;
    case 'burst':
      return `burst: ${action.frames.length} frames and a chain of ${action.chain.length}`;
    case 'refused':
      return `${action.call.op} with key ${action.key}, expecting ${action.expect}`;
    case 'books':
      return `books: ${action.query.q}`;
    case 'adjustment_submit':
    case 'adjustment_decide':
    case 'adjustment_read':
      return `${action.kind}${'how' in action ? ` (${action.how})` : ''}`;
    default: {
      const { kind, ...rest } = action;
      return `${kind} ${JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`;
    }
  }
}
