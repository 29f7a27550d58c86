// Runs one action against the server and records what came back: each event's outcome into the model,
// counts into the stats, and a failure for every answer that breaks a rule the action carries (an event's
// expected result, a refusal that did not come, a report that failed, a call that hung). An error a stop
// explains (the server was being killed or restarted) only makes the outcome unknown. Socket-level
// actions (hostile frames, slow and idle clients, the burst) live in socket-actions.ts.

import { TallyError, TransferFlags, type Client, type DayReport, type EventResult, type ResultName } from '../../src/client/index.js';
import { nextBusinessDay } from '../../src/core/business-day.js';
import type { EventPlan, Expectation, Retry } from './events.js';
import type { Action, BooksQuery, KeyName, RefusedCall } from './generator.js';
import type { Clients } from './clients.js';
import type { Model, Outcome } from './model.js';
import type { Stats } from './report.js';
import { failedCall, type RunContext } from './run-context.js';
import { runBurst, runIdleClients, runRaw, runSlowClient } from './socket-actions.js';

export type { RunContext } from './run-context.js';

/** Checks a result against what the event had to answer. */
export function checkExpectation(ctx: RunContext, step: number, label: string, expect: Expectation | null, result: ResultName): void {
  if (expect === null) return;
  const met = expect.is === 'not-ok' ? result !== 'ok' && result !== 'exists' : result === expect.is;
  if (!met) ctx.fail(step, `${label}: ${expect.why}: expected ${expect.is === 'not-ok' ? 'a refusal (nothing applied)' : expect.is}, got ${result}`);
}

/**
 * What a resend must answer, from the first attempt's outcome as known when it goes out: ok → exists, a
 * failure the ledger remembers → that failure again; with other user data → exists_with_different_fields,
 * except that a field check still fails first. Null when the first outcome is unknown.
 */
function retryExpectation<I>(model: Model, retry: Retry<I>): Expectation | null {
  const settled = model.settledOutcome(retry.of);
  if (settled === null) return null;
  const why = `a resend${retry.mutated ? ' with other user data' : ''} of an event first answered ${settled}`;
  if (retry.fieldCheck !== 'ok') return { is: retry.fieldCheck, why };
  if (retry.mutated) return { is: 'exists_with_different_fields', why };
  return { is: settled === 'ok' ? 'exists' : settled, why };
}

export class Executor {
  constructor(private readonly ctx: RunContext) {}

  async run(step: number, action: Action): Promise<void> {
    const ctx = this.ctx;
    switch (action.kind) {
      case 'create_accounts':
        return this.write(step, action.kind, action.key, action.events, (c, inputs) => c.createAccounts(inputs));
      case 'create_transfers':
        // A resend of a hot-outbound payment is left unchecked: a slice's refusal may be answered differently once refilled.
        for (const e of action.events) if (e.retry !== undefined && this.hotPayment(e.attempt.input)) e.retry = undefined;
        return this.write(step, action.kind, action.key, action.events, (c, inputs) => c.createTransfers(inputs));
      case 'account_operations':
        await this.write(step, action.kind, action.key, action.events, (c, inputs) => c.accountOperations(inputs));
        for (const e of action.events) if (e.attempt.input.kind === 'close' && e.attempt.outcome === 'ok') ctx.model.closedAcked.add(e.attempt.input.accountId);
        return;
      case 'lookup_accounts':
      case 'lookup_transfers':
        return this.lookup(step, action.kind, action.ids);
      case 'history':
        return this.history(step, action.accountId, action.limit, action.reversed);
      case 'books':
        return this.books(step, action.query);
      case 'close_day':
        return this.closeDay(step, action.mode, action.ahead);
      case 'snapshot':
      case 'snapshot_status':
        return this.snapshot(step, action.kind === 'snapshot' ? action.out : null);
      case 'adjustment_submit':
        return this.submitAdjustment(step, action);
      case 'adjustment_decide':
        return this.decideAdjustment(step, action);
      case 'adjustment_read':
        return this.readAdjustments(step, action);
      case 'audit_log':
        return this.auditLog(step, action.after, action.limit);
      case 'refused':
        return this.refused(step, action.key, action.call, action.expect);
      case 'raw':
        return runRaw(ctx, step, action.key, action.frames);
      case 'slow_client':
        return runSlowClient(ctx, step, action.requests, action.accountId, action.paceMs, action.holdMs);
      case 'idle_clients':
        return runIdleClients(ctx, step, action.count, action.halfOpen, action.holdMs);
      case 'burst':
        return runBurst(ctx, step, action.frames, action.chain, (events) => this.write(step, 'create_transfers', 'opsA', events, (c, inputs) => c.createTransfers(inputs)));
      case 'restart':
        throw new Error('restarts are the driver’s to run');
    }
  }

  private hotPayment(input: { debitAccountId?: bigint; flags?: number }): boolean {
    return input.debitAccountId !== undefined && this.ctx.model.hotAccounts.includes(input.debitAccountId) && ((input.flags ?? 0) & ~TransferFlags.linked) === 0;
  }

  /** A write batch: results into the model, each checked against its expectation. */
  async write<I>(step: number, label: string, key: KeyName, events: EventPlan<I>[], send: (client: Client, inputs: I[]) => Promise<EventResult[]>): Promise<void> {
    const ctx = this.ctx;
    for (const e of events) if (e.retry !== undefined) e.expect = retryExpectation(ctx.model, e.retry);
    const epoch = ctx.epoch();
    ctx.stats.request(label);
    let results: EventResult[];
    try {
      results = await send(ctx.clients.get(key), events.map((e) => e.attempt.input));
    } catch (error) {
      const outcome = failedCall(ctx, step, epoch, label, error, []);
      for (const e of events) e.attempt.outcome = outcome;
      return;
    }
    results.forEach((r, i) => {
      const event = events[i]!;
      event.attempt.outcome = r.result;
      ctx.stats.result(r.result);
      checkExpectation(ctx, step, `${label} event ${i}`, event.expect, r.result);
    });
  }

  /** Runs a call of `key`; returns its reply, or null after recording the error (refusals listed are not failures). */
  private async call<T>(step: number, label: string, key: KeyName, send: (client: Client) => Promise<T>, refusals: readonly string[] = []): Promise<T | null> {
    const epoch = this.ctx.epoch();
    this.ctx.stats.request(label);
    try {
      return await send(this.ctx.clients.get(key));
    } catch (error) {
      failedCall(this.ctx, step, epoch, label, error, refusals);
      return null;
    }
  }

  private async lookup(step: number, kind: 'lookup_accounts' | 'lookup_transfers', ids: bigint[]): Promise<void> {
    const found = await this.call(step, kind, 'reader', (c): Promise<{ id: bigint }[]> => (kind === 'lookup_accounts' ? c.lookupAccounts(ids) : c.lookupTransfers(ids)));
    if (found === null) return;
    const asked = new Set(ids);
    const stray = found.filter((r) => !asked.has(r.id));
    if (stray.length > 0) this.ctx.fail(step, `${kind}: answered ids nobody asked for: ${stray.map((r) => r.id).join(', ')}`);
  }

  private async history(step: number, accountId: bigint, limit: number, reversed: boolean): Promise<void> {
    const entries = await this.call(step, 'get_account_transfers', 'reader', (c) => c.getAccountTransfers({ accountId, limit, reversed }));
    if (entries === null) return;
    const foreign = entries.filter((e) => e.transfer.debitAccountId !== accountId && e.transfer.creditAccountId !== accountId);
    const ordered = entries.every((e, i) => i === 0 || (reversed ? e.transfer.timestamp < entries[i - 1]!.transfer.timestamp : e.transfer.timestamp > entries[i - 1]!.transfer.timestamp));
    if (entries.length > limit || foreign.length > 0 || !ordered) {
      this.ctx.fail(step, `get_account_transfers of ${accountId} (limit ${limit}${reversed ? ', newest first' : ''}): ${entries.length} entries, ${foreign.length} naming other accounts, ${ordered ? 'in order' : 'out of order'}`);
    }
  }

  private async books(step: number, query: BooksQuery): Promise<void> {
    // A closed-day query on a day not closed yet answers body_invalid by design.
    const refusals = ['body_invalid'];
    const label = query.q;
    const reply = await this.call(step, label, 'reader', (c): Promise<unknown> => {
      switch (query.q) {
        case 'day_report':
          return c.getDayReport(query.day);
        case 'balance_at_day':
          return c.getBalanceAtDay(query.accountId, query.day);
        case 'statement':
          return c.getAccountStatement(query.accountId, query.fromDay, query.toDay, query.limit);
        case 'subject_balances':
          return c.getSubjectBalances(query.ledger, query.day);
        case 'trial_balance':
          return c.getTrialBalance(query.ledger, query.day);
        case 'bookkeeping_status':
          return c.getBookkeepingStatus();
      }
    }, refusals);
    if (query.q === 'bookkeeping_status' && reply !== null && (!Array.isArray(reply) || reply.length !== this.ctx.shardCount)) {
      this.ctx.fail(step, `get_bookkeeping_status: expected one row per shard (${this.ctx.shardCount}), got ${JSON.stringify(reply).slice(0, 200)}`);
    }
  }

  private async closeDay(step: number, mode: 'next' | 'ahead' | 'past', ahead: number): Promise<void> {
    const model = this.ctx.model;
    let day = 0;
    if (mode === 'ahead' && model.begunDay !== 0) for (day = model.begunDay; ahead > 0; ahead--) day = nextBusinessDay(day);
    if (mode === 'past' && model.closedDays.length > 0) day = nextBusinessDay(model.closedDays[step % model.closedDays.length]!);
    // A cut may begin at most the day after the later of the business day and the calendar's today: two or
    // more days ahead of the business day is refused body_invalid (unless the calendar is ahead too).
    // (No day begun yet: the cut asks for the next day, day 0, and nothing is ahead of anything.)
    const refusals = mode === 'ahead' && model.begunDay !== 0 && day > nextBusinessDay(model.begunDay) ? ['body_invalid'] : [];
    const report = await this.call(step, 'close_day', 'opsA', (c) => c.closeDay(day), refusals);
    if (report === null) return;
    this.recordDay(report);
    console.log(`fuzz: step ${step}: close_day(${day || 'next'}) closed ${report.day}, began ${report.dayBegun}, cuts at seqs ${report.shards.map((s) => s.cutSeq).join('/')}`);
    const { detailVsGeneral, trialBalance, transit } = report.checks;
    // The unmapped check fails by design when the fuzzer used account codes the chart does not map.
    if (!detailVsGeneral.passed || !trialBalance.passed || !transit.passed) {
      const failures = report.failures.filter((f) => !/maps to no leaf subject|unmapped|not mapped|does not map/i.test(f));
      // A report rebuilt after a kill cut its close short cannot check the transit at the cut (ARCHITECTURE: limits).
      const transitOnly = failures.length > 0 && failures.every((f) => /was in flight at the cut/.test(f));
      if (transitOnly && model.daysCloseCutShort.has(report.day)) {
        this.ctx.stats.reportsRebuiltUnchecked++;
        console.log(`fuzz: step ${step}: the report of ${report.day}, rebuilt after a kill cut its close short, could not check the transit at the cut (known limit)`);
        return;
      }
      if (failures.length > 0) this.ctx.fail(step, `close_day(${day}): the day report of ${report.day} failed: ${failures.slice(0, 3).join(' | ')}`);
    }
  }

  private recordDay(report: DayReport): void {
    const model = this.ctx.model;
    if (!model.closedDays.includes(report.day)) model.closedDays.push(report.day);
    if (report.dayBegun > model.begunDay) model.begunDay = report.dayBegun;
  }

  private async snapshot(step: number, out: string | null): Promise<void> {
    const model = this.ctx.model;
    if (out !== null) {
      // One snapshot at a time: a second is refused overloaded.
      const status = await this.call(step, 'start_snapshot', 'opsA', (c) => c.startSnapshot(out));
      if (status !== null) model.snapshotRunning = status.out;
      return;
    }
    const status = await this.call(step, 'get_snapshot_status', 'auditor', (c) => c.getSnapshotStatus());
    if (status === null) return;
    if (status.state === 'done' && !model.snapshotsDone.includes(status.out)) model.snapshotsDone.push(status.out);
    if (status.state === 'failed') this.ctx.fail(step, `snapshot into ${status.out} failed: ${status.error}`);
  }

  private async submitAdjustment(step: number, action: Extract<Action, { kind: 'adjustment_submit' }>): Promise<void> {
    const transfers = action.events.map((e) => e.attempt.input);
    const refusals = action.invalid === null ? [] : ['body_invalid'];
    const adjustment = await this.call(step, 'submit_adjustment', action.adjustment.maker, (c) => c.submitAdjustment({ transfers, reason: action.reason }), refusals);
    // Nothing posts before an approval, whatever the submission answered.
    for (const e of action.events) e.attempt.outcome = 'refused';
    if (adjustment === null) return;
    if (action.invalid !== null) this.ctx.fail(step, `submit_adjustment with an invalid ${action.invalid} was accepted as ${adjustment.id}; expected body_invalid`);
    else action.adjustment.id = adjustment.id;
  }

  private async decideAdjustment(step: number, action: Extract<Action, { kind: 'adjustment_decide' }>): Promise<void> {
    const adjustment = action.adjustment;
    const id = adjustment.id;
    if (id === null) return; // its submission never answered
    const checker: KeyName = action.how === 'self-approve' ? adjustment.maker : adjustment.maker === 'opsA' ? 'opsB' : 'opsA';
    const attempts = adjustment.transferIds.map((tid) => this.ctx.model.transfers.get(tid)!.attempts[0]!);
    if (action.how === 'reject') {
      await this.call(step, 'reject_adjustment', checker, (c) => c.rejectAdjustment(id, 'fuzz'), ['body_invalid']);
      return;
    }
    const refusals = action.how === 'self-approve' ? ['forbidden'] : ['body_invalid'];
    const epoch = this.ctx.epoch();
    this.ctx.stats.request('approve_adjustment');
    try {
      const decided = await this.ctx.clients.get(checker).approveAdjustment(id);
      if (action.how === 'self-approve') return this.ctx.fail(step, `approve_adjustment ${id} by its own maker was accepted; expected forbidden`);
      for (const r of decided.results ?? []) attempts[r.index]!.outcome = r.result as Outcome;
      if (decided.status !== 'approved' || (decided.results ?? []).length !== attempts.length) this.ctx.fail(step, `approve_adjustment ${id}: ${JSON.stringify(decided).slice(0, 300)}`);
    } catch (error) {
      const outcome = failedCall(this.ctx, step, epoch, 'approve_adjustment', error, refusals);
      // An approval that did not answer may have posted some transfers.
      if (outcome === 'unknown') for (const a of attempts) a.outcome = 'unknown';
    }
  }

  private async readAdjustments(step: number, action: Extract<Action, { kind: 'adjustment_read' }>): Promise<void> {
    const id = action.adjustment?.id ?? null;
    if (id !== null) {
      const detail = await this.call(step, 'get_adjustments', 'auditor', (c) => c.getAdjustment(id));
      if (detail !== null && (detail?.id !== id || detail.transfers.length !== detail.transferCount)) this.ctx.fail(step, `get_adjustments {id: ${id}}: ${JSON.stringify(detail).slice(0, 300)}`);
      return;
    }
    const page = await this.call(step, 'get_adjustments', 'auditor', (c) => c.getAdjustments({ status: action.status, limit: action.limit }));
    if (page !== null && (page.length > action.limit || page.some((a) => action.status !== undefined && a.status !== action.status))) {
      this.ctx.fail(step, `get_adjustments {status: ${action.status}, limit: ${action.limit}}: ${page.length} adjustments, statuses ${page.map((a) => a.status).join(',')}`);
    }
  }

  private async auditLog(step: number, after: number, limit: number): Promise<void> {
    const records = await this.call(step, 'get_audit_log', 'auditor', (c) => c.getAuditLog({ after, limit }));
    if (records === null) return;
    const gapless = records.every((r, i) => r.seq === after + 1 + i);
    if (records.length > limit || !gapless) this.ctx.fail(step, `get_audit_log {after: ${after}, limit: ${limit}}: ${records.length} records, seqs ${records.map((r) => r.seq).slice(0, 10).join(',')}`);
  }

  /** A call the gateway must refuse whole with `expect`; its events must never be stored. */
  private async refused(step: number, key: KeyName, call: RefusedCall, expect: string): Promise<void> {
    const events: EventPlan<unknown>[] = 'events' in call ? call.events : [];
    const epoch = this.ctx.epoch();
    this.ctx.stats.request(`${call.op} (${key})`);
    try {
      const client = this.ctx.clients.get(key);
      if (call.op === 'create_accounts') await client.createAccounts(call.events.map((e) => e.attempt.input));
      else if (call.op === 'create_transfers') await client.createTransfers(call.events.map((e) => e.attempt.input));
      else if (call.op === 'lookup_accounts') await client.lookupAccounts(call.ids);
      else if (call.op === 'close_day') await client.closeDay();
      else if (call.op === 'get_recon_batches') await client.getReconBatches({});
      else await client.getAuditLog({});
      for (const e of events) e.attempt.outcome = 'unknown';
      this.ctx.fail(step, `${call.op} with key ${key} was answered; expected ${expect}`);
    } catch (error) {
      const outcome = failedCall(this.ctx, step, epoch, `${call.op} (${key})`, error, [expect]);
      for (const e of events) e.attempt.outcome = outcome;
    }
  }
}
