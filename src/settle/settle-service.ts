// Clearing and settlement on the server (issue #18), as a wrapper around the ledger service like the recon service:
// the settle operations (56–62, admin scope) are answered here; everything else goes to the inner service.
//  - Fee strategies change only under maker–checker: a submitted change is checked and stored pending; another key
//    approves it (then it is a version in force from its effective time) or rejects it; the maker may withdraw it.
//  - A preview or a run for a run date reads the channel days that may hold something due from the ledger's closed
//    days (channel-days.ts: the 在途 account's postings), clears them by the approved fee schedule, and plans the
//    run with core/settle/settlement-run.ts from the state the last run left. A preview stops there.
//  - A run posts its linked transfers through create_transfers (ids derived from merchant, channel, cycle, run date,
//    batch and role: a run retried after a crash or a refusal answers `exists` for what it posted, never pays
//    twice), then stores the run, each merchant's statement and — only if every transfer answered ok or exists —
//    the state the next run starts from, in one transaction.
// Runs and approvals go one at a time. Every change and run is an audit record (admin store).

import { formatBusinessDay, nextBusinessDay, previousBusinessDay, type BusinessDay } from '../core/business-day.js';
import { errors, TallyError } from '../core/errors.js';
import { batchEventsMax, historyPageMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import { shardOfId } from '../core/routing.js';
import { clearChannelDay, type ChannelDayClearing, type ClearedLine, type ReconciliationState } from '../core/settle/clearing.js';
import type { FeeSchedule } from '../core/settle/fee-schedule.js';
import { StrategyError, strategyLabel } from '../core/settle/rules.js';
import type { StrategyHistory } from '../core/settle/strategy-versions.js';
import { calendarCovers, type SettleChannel, type SettleConfig } from '../core/settle/settle-config.js';
import { SettleError } from '../core/settle/settle-errors.js';
import { nonWorkingRunDaysMax } from '../core/settle/settle-limits.js';
import type { BalanceCheck } from '../core/settle/settlement-balance.js';
import { requestsOf } from '../core/settle/posting-requests.js';
import { transferOf, type PostingSpec } from '../core/settle/settlement-postings.js';
import {
  dayKeyOf,
  noEarlierRuns,
  previewSettlementRun,
  releaseKeyOf,
  settleRun,
  type EarlierRuns,
  type MerchantSettlement,
  type SettlementRun,
  type SettlementRunInput,
  unitKeyOf,
} from '../core/settle/settlement-run.js';
import { TransferFlags, type Transfer } from '../core/types.js';
import { decodeResults, encodeTransfers } from '../core/wire/records.js';
import {
  formatInstantNs,
  readSettleChangeId,
  readSettleRunQuery,
  readSettleStatementQuery,
  settleReplyDaysMax,
  settleReplyFailuresMax,
  readSettleStrategiesQuery,
  readSettleStrategySubmission,
  type SettleBalanceCheck,
  type SettleChannelDay,
  type SettleMerchantSummary,
  type SettlePreviewReply,
  type SettleRunFailure,
  type SettleRunReply,
  type SettleRunQuery,
  type SettleStatementLine,
  type SettleStatementRunSummary,
  type SettleStatementPage,
  type SettleStrategyChange,
} from '../core/wire/settle-bodies.js';
import { anonymousCaller } from '../gateway/auth.js';
import { LedgerServiceWrapper, type ServiceAudit } from '../gateway/ledger-service-wrapper.js';
import type { Caller, LedgerService } from '../gateway/ledger-service.js';
import { ledgerReadsOf, type LedgerReads } from '../recon/ledger-reads.js';
import { resolutionTransferId } from '../recon/recon-actions.js';
import type { ReconStore } from '../recon/recon-store.js';
import { readChannelDay, SettleConfigMismatch, type ChannelDayRead, type ReconView } from './channel-days.js';
import { feeScheduleOf, runStrategiesOf } from './fee-strategies.js';
import type { SettleDays, SettleRetries, SettleStore, StoredStatement } from './settle-store.js';

/** Where audit records go (the admin store). */
export type SettleAudit = ServiceAudit;

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
/** Requests of a run in flight at once: enough to keep both shards busy, few enough to leave room for callers. */
const runRequestsInFlight = 4;
/** Exceptions read per page from the recon store. */
const reconExceptionsPage = 1000;

/** A run planned: what was read and cleared, and the core's plan. */
interface Planned {
  readonly runDate: BusinessDay;
  readonly reads: readonly ChannelDayRead[];
  readonly clearings: readonly ChannelDayClearing[];
  readonly input: SettlementRunInput;
  readonly days: SettleDays;
}

export class SettleService extends LedgerServiceWrapper {
  readonly #store: SettleStore;
  readonly #config: SettleConfig | null;
  readonly #recon: ReconStore;
  readonly #audit: SettleAudit;
  /** Runs and decisions go one at a time: each sees the state the one before it stored. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The schedule of the approved changes, built again after each approval; the reserve strategies likewise. */
  #schedule: FeeSchedule | null = null;
  #runStrategiesBuilt: { reserve: Map<string, StrategyHistory>; settlement: Map<string, StrategyHistory> } | null = null;
  /** The approved changes by merchant and product, read from the store once: bounded by strategies, not by runs. */
  #approved: Map<string, SettleStrategyChange[]> | null = null;

  /** `config` null: no --settle-config, the operations answer that settlement is not configured. */
  constructor(inner: LedgerService, store: SettleStore, config: SettleConfig | null, recon: ReconStore, audit: SettleAudit) {
    super(inner);
    this.#store = store;
    this.#config = config;
    this.#recon = recon;
    this.#audit = audit;
  }

  execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array> {
    const keyId = caller?.keyId ?? anonymousCaller.keyId;
    switch (operation) {
      case Operation.submit_settle_strategy:
        return this.#queued(() => this.audited(this.#audit, operation, keyId, () => this.#submit(body, keyId)));
      case Operation.approve_settle_strategy:
        return this.#queued(() => this.audited(this.#audit, operation, keyId, () => this.#decide(body, keyId, 'approved')));
      case Operation.reject_settle_strategy:
        return this.#queued(() => this.audited(this.#audit, operation, keyId, () => this.#decide(body, keyId, 'rejected')));
      case Operation.get_settle_strategies:
        return Promise.resolve().then(() => json(this.#store.changes(readSettleStrategiesQuery(body))));
      case Operation.settle_preview:
        return this.#queued(() => this.#settled(() => this.#preview(readSettleRunQuery(body, 'settle_preview'), caller)));
      case Operation.settle_run:
        return this.#queued(() => this.audited(this.#audit, operation, keyId, () => this.#settled(() => this.#run(readSettleRunQuery(body, 'settle_run'), caller))));
      case Operation.get_settle_statement:
        return Promise.resolve().then(() => {
          const { merchant, date, after, limit } = readSettleStatementQuery(body);
          const runs = this.#store.statements(merchant, date);
          if (runs.length === 0) return json(null);
          const page: SettleStatementPage = { merchant, date: formatBusinessDay(date), runs, ...this.#store.statementLines(merchant, date, after, limit) };
          return json(page);
        });
      default:
        return this.inner.execute(operation, body, caller);
    }
  }

  #queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }



  /** Settlement's own refusals (a rule, a calendar, a run out of order) answer body_invalid with their message. */
  async #settled<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof SettleError || error instanceof StrategyError || error instanceof SettleConfigMismatch) throw errors.bodyInvalid(`settle: ${error.message}`);
      throw error;
    }
  }

  #configured(what: string): SettleConfig {
    if (this.#config === null) throw errors.bodyInvalid(`${what}: settlement is not configured on this server (tally serve --settle-config FILE)`);
    return this.#config;
  }

  // ---- strategy changes (maker–checker) -----------------------------------------------------------------------------

  /** 56: a fee strategy version checked against the approved ones and stored pending; nothing applies yet. */
  async #submit(body: Uint8Array, maker: string): Promise<{ reply: Uint8Array; detail: string }> {
    const config = this.#configured('submit_settle_strategy');
    const submission = readSettleStrategySubmission(body);
    if (!config.merchants.some((m) => m.id === submission.merchant)) throw errors.bodyInvalid(`submit_settle_strategy: merchant ${submission.merchant} is not in the settlement configuration`);
    const change: SettleStrategyChange = {
      id: this.newTimeOrderedId('ssc'),
      kind: submission.kind,
      merchant: submission.merchant,
      product: submission.product,
      strategyId: typeof submission.strategy.id === 'string' ? submission.strategy.id : '',
      version: typeof submission.strategy.version === 'number' ? submission.strategy.version : 0,
      effectiveFrom: formatInstantNs(submission.effectiveFromNs),
      strategy: submission.strategy,
      reason: submission.reason,
      maker,
      createdAt: new Date().toISOString(),
      status: 'pending',
    };
    this.#checkWith(change, 'submit_settle_strategy');
    await this.#store.putChange(change, null);
    const label = strategyLabel({ id: change.strategyId, version: change.version });
    return { reply: json(change), detail: `${change.id}: ${change.kind} strategy ${label} for merchant ${change.merchant} product ${change.product ?? '*'} from ${change.effectiveFrom} submitted for approval` };
  }

  /** 57 and 58: a pending change approved by another key (checked again against what is approved now) or rejected. */
  async #decide(body: Uint8Array, checker: string, status: 'approved' | 'rejected'): Promise<{ reply: Uint8Array; detail: string }> {
    const what = status === 'approved' ? 'approve_settle_strategy' : 'reject_settle_strategy';
    this.#configured(what);
    const request: { id: string; reason?: string | null } = status === 'approved' ? readSettleChangeId(body, 'approve_settle_strategy') : readSettleChangeId(body, 'reject_settle_strategy');
    const current = this.#store.change(request.id);
    if (current === undefined) throw errors.bodyInvalid(`${what}: no strategy change ${request.id}`);
    if (current.status !== 'pending') throw errors.bodyInvalid(`${what}: strategy change ${request.id} is ${current.status} already`);
    if (status === 'approved' && current.maker === checker) throw new TallyError('forbidden', `${what}: key ${JSON.stringify(checker)} submitted strategy change ${request.id}: the maker cannot approve their own change, another admin key must`);
    const decided: SettleStrategyChange = { ...current, status, checker, decidedAt: new Date().toISOString() };
    if (typeof request.reason === 'string') decided.rejectReason = request.reason;
    if (status === 'approved') this.#checkWith(decided, what);
    await this.#store.putChange(decided, 'pending');
    if (status === 'approved') {
      this.#approvedOf(decided).push(decided);
      this.#schedule = null;
      this.#runStrategiesBuilt = null;
    }
    const how = status === 'approved' ? `approved by ${JSON.stringify(checker)}` : current.maker === checker ? 'withdrawn by its maker' : `rejected by ${JSON.stringify(checker)}`;
    return { reply: json(decided), detail: `${decided.id}: ${how}` };
  }

  /** Refuses a change whose document, or the schedule with it among the approved, does not check. */
  #checkWith(change: SettleStrategyChange, what: string): void {
    try {
      // Only the change's own history can break: other merchants' and products' were checked when approved.
      const history = [...this.#approvedOf(change), { ...change, status: 'approved' as const }];
      const kind = change.kind ?? 'fee';
      if (kind === 'fee') feeScheduleOf(history);
      else runStrategiesOf(kind, history);
    } catch (error) {
      if (error instanceof SettleError || error instanceof StrategyError) throw errors.bodyInvalid(`${what}: ${error.message}`);
      throw error;
    }
  }

  #feeSchedule(): FeeSchedule {
    this.#schedule ??= feeScheduleOf([...this.#approvedByUnit().values()].flat());
    return this.#schedule;
  }

  /** Each merchant's approved reserve and settlement strategies. */
  #runStrategies(): { reserve: Map<string, StrategyHistory>; settlement: Map<string, StrategyHistory> } {
    if (this.#runStrategiesBuilt === null) {
      const approved = [...this.#approvedByUnit().values()].flat();
      this.#runStrategiesBuilt = { reserve: runStrategiesOf('reserve', approved), settlement: runStrategiesOf('settlement', approved) };
    }
    return this.#runStrategiesBuilt;
  }

  #approvedByUnit(): Map<string, SettleStrategyChange[]> {
    if (this.#approved === null) {
      this.#approved = new Map();
      for (const change of this.#store.changesWithStatus('approved')) this.#approvedOf(change).push(change);
    }
    return this.#approved;
  }

  /** The approved changes of `change`'s merchant and product (the list itself, to add an approval to). */
  #approvedOf(change: Pick<SettleStrategyChange, 'kind' | 'merchant' | 'product'>): SettleStrategyChange[] {
    const byUnit = this.#approvedByUnit();
    const key = JSON.stringify([change.kind ?? 'fee', change.merchant, change.product]);
    let list = byUnit.get(key);
    if (list === undefined) byUnit.set(key, (list = []));
    return list;
  }

  // ---- runs ---------------------------------------------------------------------------------------------------------

  /** Reads and clears the channel days a run on `runDate` may need, and gathers the core's input. */
  async #plan(runDate: BusinessDay, caller: Caller | undefined, what: string): Promise<Planned> {
    const config = this.#configured(what);
    if (!calendarCovers(config, runDate)) {
      throw errors.bodyInvalid(`${what}: run date ${formatBusinessDay(runDate)} is outside the working calendar ${formatBusinessDay(config.calendar.firstDay)}..${formatBusinessDay(config.calendar.lastDay)}`);
    }
    const stored = this.#store.earlierRuns() ?? noEarlierRuns;
    if (stored.lastRunDate !== undefined && runDate < stored.lastRunDate) {
      throw errors.bodyInvalid(`${what}: run date ${formatBusinessDay(runDate)} is before the last run, ${formatBusinessDay(stored.lastRunDate)}: runs never go back`);
    }
    const earlier = withRetries(stored, this.#store.retries(), runDate);
    const days = this.#store.days();
    const ledger = ledgerReadsOf(this.inner, caller);
    const schedule = this.#feeSchedule();
    const done = new Set(days.done);
    const wanted = new Map<string, { channel: SettleChannel; day: BusinessDay }>();
    const from = windowStart(config, earlier.lastRunDate ?? runDate);
    for (const channel of config.channels) {
      for (let day = from; day <= runDate; day = nextBusinessDay(day)) {
        const key = channelDayKey(channel.name, day);
        if (!done.has(key)) wanted.set(key, { channel, day });
      }
    }
    for (const key of days.held) {
      const [name, day] = JSON.parse(key) as [string, number];
      const channel = config.channels.find((c) => c.name === name);
      if (channel !== undefined) wanted.set(key, { channel, day });
    }
    const read: ChannelDayRead[] = [];
    const recon = (channel: SettleChannel, day: number) => this.#reconView(channel, day, ledger);
    for (const { channel, day } of [...wanted.values()].sort((a, b) => a.day - b.day || (a.channel.name < b.channel.name ? -1 : 1))) {
      read.push(await readChannelDay(ledger, config, channel, day, recon));
    }
    // A day the ledger never closed while a later one is closed was skipped by a catch-up close: it holds nothing,
    // and is done.
    const lastClosed = read.reduce((last, day) => (day.closed && day.day > last ? day.day : last), 0);
    const skippedByClose = (day: ChannelDayRead): boolean => !day.closed && day.day < lastClosed;
    const reads = read.filter((day) => !skippedByClose(day));
    const skipped = read.filter(skippedByClose).map((day) => channelDayKey(day.channel, day.day));
    const clearings = reads.filter((day) => day.waiting === null).map((day) => clearChannelDay(day.channel, day.day, day.items, schedule));
    return { runDate, reads, clearings, input: { runDate, clearings, terms: config.terms, earlier, reserveStrategies: this.#runStrategies().reserve, settlementStrategies: this.#runStrategies().settlement }, days: { done: [...days.done, ...skipped], held: days.held } };
  }

  async #preview(query: SettleRunQuery, caller: Caller | undefined): Promise<Uint8Array> {
    const planned = await this.#plan(query.date, caller, 'settle_preview');
    // A balanced day (the rule) is planned once: the run's plan is the preview and its postings' count; only an
    // unbalanced one, which settleRun refuses, is planned again as a preview to show its differences.
    const run = balancedRun(planned.input);
    const preview = run ?? previewSettlementRun(planned.input);
    const reply: SettlePreviewReply = {
      date: formatBusinessDay(query.date),
      ...daysOf(planned),
      ...merchantsPage(preview.merchants, query),
      postings: run === null ? 0 : run.postings.length,
      check: checkOf(preview.check),
    };
    return json(reply);
  }

  async #run(query: SettleRunQuery, caller: Caller | undefined): Promise<{ reply: Uint8Array; detail: string; code: string }> {
    const runDate = query.date;
    const started = performance.now();
    const config = this.#configured('settle_run');
    const planned = await this.#plan(runDate, caller, 'settle_run');
    const run = settleRun(planned.input);
    const transfers = run.postings.map((spec) => transferOf(spec, config.accounts));
    const outcome = await this.#post(transfers, run.postings, caller);
    const status = outcome.failures.length > 0 ? 'failed' : transfers.length === 0 ? 'nothing_due' : 'posted';
    const reply: SettleRunReply = {
      id: this.newTimeOrderedId('srn'),
      date: formatBusinessDay(runDate),
      ...daysOf(planned),
      ...merchantsPage(run.merchants, query),
      postings: transfers.length,
      check: checkOf(run.check),
      status,
      transfers: outcome.counts,
      failures: outcome.failures.slice(0, settleReplyFailuresMax),
      ms: 0,
    };
    const statements = status === 'failed' ? [] : statementsOf(reply.id, run.merchants, run.postings, transfers);
    const next = status === 'failed' ? retriesAfter(this.#store.retries(), runDate, run.merchants, outcome.failures) : { earlier: run.next, days: nextDays(config, planned, run.next) };
    reply.ms = Math.round(performance.now() - started);
    await this.#store.putRun(reply, statements, next, runDate);
    const settled = run.merchants.reduce((sum, m) => sum + m.settledMinor, 0n);
    const detail = `${reply.id}: run ${reply.date} ${status}: ${run.merchants.length} merchant-channels, ${transfers.length} transfers (${outcome.counts.ok} ok, ${outcome.counts.exists} exists, ${outcome.counts.failed} failed), settled ${settled}`;
    return { reply: json(reply), detail, code: status === 'failed' ? 'failed' : 'ok' };
  }

  /** Posts a run's transfers, whole chains per request, chains within one shard apart from those across shards. */
  async #post(transfers: readonly Transfer[], specs: readonly PostingSpec[], caller: Caller | undefined): Promise<{ counts: SettleRunReply['transfers']; failures: SettleRunFailure[] }> {
    const shards = this.shardCount;
    const indexes = transfers.map((_, i) => i);
    const spans = (chain: readonly number[]) => new Set(chain.map((i) => shardOfId(transfers[i]!.debitAccountId, shards))).size > 1;
    const { within, across } = requestsOf(indexes, batchEventsMax, (i) => (transfers[i]!.flags & TransferFlags.linked) !== 0, spans);
    const requests = [...within, ...across];
    const counts = { ok: 0, exists: 0, failed: 0 };
    const failures: SettleRunFailure[] = [];
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++]!;
        const reply = await this.inner.execute(Operation.create_transfers, encodeTransfers(request.map((i) => transfers[i]!)), caller);
        for (const { index, result } of decodeResults(reply)) {
          if (result === 'ok') counts.ok++;
          else if (result === 'exists') counts.exists++;
          else {
            counts.failed++;
            const spec = specs[request[index]!]!;
            failures.push({ transferId: spec.id.toString(16).padStart(32, '0'), merchant: spec.merchantId, channel: spec.channel, role: spec.role, result });
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(runRequestsInFlight, requests.length) }, lane));
    return { counts, failures };
  }

  /**
   * What reconciliation says of a channel day: for a channel without recon, nothing (every item matched); else not
   * yet, until a matched batch of that day is stored; then the items its exceptions name are unresolved, or
   * resolved where the strategy table's action was done or the exception's manual resolution is posted.
   */
  async #reconView(channel: SettleChannel, day: number, ledger: Pick<LedgerReads, 'lookupTransfers'>): Promise<ReconView> {
    if (channel.recon === null) return { states: new Map() };
    const dayText = formatBusinessDay(day);
    const batches = [];
    for (let before: string | null = null; ; ) {
      const page = this.#recon.batches({ channel: channel.recon, before, limit: 100 });
      for (const batch of page) if (batch.day === dayText && batch.status === 'matched') batches.push(batch);
      const last = page[page.length - 1];
      // Batches are newest first; none made before the day began can be of it.
      if (last === undefined || page.length < 100 || last.createdAt.slice(0, 10) < dayText) break;
      before = last.id;
    }
    if (batches.length === 0) return { waiting: `reconciliation channel ${channel.recon} has no matched batch of ${dayText} yet (tally recon import)` };
    const states = new Map<bigint, Exclude<ReconciliationState, 'matched'>>();
    const open: { ids: bigint[]; resolution: bigint }[] = [];
    for (const batch of batches) {
      for (let after = 0; ; ) {
        const page = this.#recon.exceptions({ batch: batch.id, outcome: null, after, limit: reconExceptionsPage });
        for (const exception of page.exceptions) {
          const ids = exception.transferIds.map((id) => BigInt(id));
          if (exception.action?.state === 'done') for (const id of ids) states.set(id, 'resolved');
          else open.push({ ids, resolution: resolutionTransferId(batch.id, exception.n) });
        }
        if (page.next === null) break;
        after = page.next;
      }
    }
    for (let i = 0; i < open.length; i += historyPageMax) {
      const chunk = open.slice(i, i + historyPageMax);
      const found = new Set((await ledger.lookupTransfers(chunk.map((o) => o.resolution))).filter((t) => t.status === 'posted').map((t) => t.id));
      for (const o of chunk) for (const id of o.ids) if (states.get(id) !== 'resolved') states.set(id, found.has(o.resolution) ? 'resolved' : 'unresolved');
    }
    return { states };
  }


}

/** The run of `input`, or null when it does not balance (settleRun refuses it: run_unbalanced). */
function balancedRun(input: SettlementRunInput): SettlementRun | null {
  try {
    return settleRun(input);
  } catch (error) {
    if (error instanceof SettleError && error.code === 'run_unbalanced') return null;
    throw error;
  }
}

/**
 * The state a run starts from, with the batches a failed run's refused chains take next (settle-store.ts
 * SettleRetries): as if an earlier run that date had posted them.
 */
function withRetries(earlier: EarlierRuns, retries: SettleRetries | undefined, runDate: BusinessDay): EarlierRuns {
  if (retries === undefined || retries.runDate !== runDate) return earlier;
  const lastRunBatches = new Map(earlier.lastRunDate === runDate ? earlier.lastRunBatches : []);
  for (const [unit, batch] of retries.batches) lastRunBatches.set(unit, Math.max(batch, lastRunBatches.get(unit) ?? 0));
  return { ...earlier, lastRunDate: runDate, lastRunBatches };
}

/** The retries after a failed run: each unit with a refused chain, at the batch it was refused in. */
function retriesAfter(earlier: SettleRetries | undefined, runDate: BusinessDay, merchants: readonly MerchantSettlement[], failures: readonly SettleRunFailure[]): SettleRetries {
  const batches = new Map(earlier?.runDate === runDate ? earlier.batches : []);
  // By unit key, not a search per failure: a run whose every chain is refused has tens of thousands of each.
  const batchOf = new Map(merchants.map((m) => [unitKeyOf(m.merchantId, m.channel), m.batch]));
  for (const failure of failures) {
    const unit = unitKeyOf(failure.merchant, failure.channel);
    const batch = batchOf.get(unit);
    if (batch !== undefined) batches.set(unit, batch);
  }
  return { runDate, batches: [...batches] };
}

function channelDayKey(channel: string, day: number): string {
  return JSON.stringify([channel, day]);
}

/**
 * The first trade day a run may find something due in: the last run's date less the longest any cycle can take
 * (Dn: n calendar days; T+n: n working days, each at most nonWorkingRunDaysMax + 1 calendar days away).
 */
function windowStart(config: SettleConfig, from: BusinessDay): BusinessDay {
  let span = 0;
  for (const merchant of config.merchants) {
    const { kind, days } = merchant.terms.parsedCycle;
    span = Math.max(span, kind === 'D' ? days : (days + 1) * (nonWorkingRunDaysMax + 1));
  }
  let day = from;
  for (let i = 0; i < span && day > config.calendar.firstDay; i++) day = previousBusinessDay(day);
  return day;
}

/** Channel days after a posted run: done (never read again), held (read until released), or neither (read again). */
function nextDays(config: SettleConfig, planned: Planned, next: EarlierRuns): SettleDays {
  const done = new Set(planned.days.done);
  const held = new Set<string>();
  for (const clearing of planned.clearings) {
    const key = channelDayKey(clearing.channel, clearing.businessDay);
    const merchants = new Set(clearing.lines.map((line) => line.item.merchantId));
    const allSettled = [...merchants].every((merchant) => next.settledDays.has(dayKeyOf(merchant, clearing.channel, clearing.businessDay)));
    if (!allSettled) continue;
    const open = clearing.lines.some((line) => line.item.reconciliation !== 'matched' && !next.releasedItems.has(releaseKeyOf(line)));
    if (open) held.add(key);
    else done.add(key);
  }
  // Keys older than the next run's window are never read again, unless a held day is theirs.
  const from = windowStart(config, planned.runDate);
  const keep = (key: string): boolean => {
    const [channel, day] = JSON.parse(key) as [string, number];
    return day >= from || held.has(channelDayKey(channel, day));
  };
  pruneEarlier(next, from, held);
  return { done: [...done].filter(keep), held: [...held] };
}

/** Drops settledDays and releasedItems of trade days before `from` that no held day needs (they are never given again). */
function pruneEarlier(next: EarlierRuns, from: BusinessDay, held: ReadonlySet<string>): void {
  const settledDays = next.settledDays as Map<string, bigint>;
  for (const key of [...settledDays.keys()]) {
    const [, channel, day] = JSON.parse(key) as [string, string, number];
    if (day < from && !held.has(channelDayKey(channel, day))) settledDays.delete(key);
  }
  const releasedItems = next.releasedItems as Set<string>;
  for (const key of [...releasedItems]) {
    const [, channel, day] = JSON.parse(key) as [string, string, number];
    if (day < from && !held.has(channelDayKey(channel, day))) releasedItems.delete(key);
  }
}

/** One page of a run's merchant–channel units: whole merchants after `after`, until `limit` units are reached. */
function merchantsPage(merchants: readonly MerchantSettlement[], query: SettleRunQuery): { merchantCount: number; merchants: SettleMerchantSummary[]; next: string | null } {
  const page: SettleMerchantSummary[] = [];
  let at = query.after === null ? 0 : merchants.findIndex((m) => m.merchantId > query.after!);
  if (at < 0) at = merchants.length;
  for (; at < merchants.length; at++) {
    const merchant = merchants[at]!;
    if (page.length >= query.limit && merchant.merchantId !== page[page.length - 1]!.merchant) break;
    page.push(summaryOf(merchant));
  }
  return { merchantCount: merchants.length, merchants: page, next: at < merchants.length ? page[page.length - 1]!.merchant : null };
}

/** The channel days read (the first settleReplyDaysMax of them), and how many more there were. */
function daysOf(planned: Planned): { days: SettleChannelDay[]; daysOmitted: number } {
  const totalsOf = new Map(planned.clearings.map((c) => [channelDayKey(c.channel, c.businessDay), c.totals]));
  const days = planned.reads.slice(0, settleReplyDaysMax).map((read): SettleChannelDay => {
    const totals = totalsOf.get(channelDayKey(read.channel, read.day));
    return {
      channel: read.channel,
      day: formatBusinessDay(read.day),
      state: read.waiting === null ? 'cleared' : 'waiting',
      ...(read.waiting === null ? {} : { why: read.waiting }),
      items: read.items.length,
      ignored: read.ignored,
      totals: totals === undefined ? null : {
        clearedMinor: String(totals.clearedMinor),
        paymentsMinor: String(totals.paymentsMinor),
        refundsMinor: String(totals.refundsMinor),
        merchantFeesMinor: String(totals.merchantFeesMinor),
        channelCostMinor: String(totals.channelCostMinor),
        marginMinor: String(totals.marginMinor),
        heldMinor: String(totals.heldMinor),
      },
    };
  });
  return { days, daysOmitted: planned.reads.length - days.length };
}

function summaryOf(m: MerchantSettlement): SettleMerchantSummary {
  return {
    merchant: m.merchantId,
    channel: m.channel,
    cycle: m.cycle,
    batch: m.batch,
    daysDue: m.daysDue.map(formatBusinessDay),
    paidItems: m.paid.length,
    heldBackItems: m.heldBack.length,
    releasedItems: m.released.length,
    clearedMinor: String(m.clearedMinor),
    heldBackMinor: String(m.heldBackMinor),
    releasedFromHoldMinor: String(m.releasedFromHoldMinor),
    grossMinor: String(m.grossMinor),
    feesMinor: String(m.feesMinor),
    netMinor: String(m.netMinor),
    shares: m.shares.map((share) => ({ receiver: share.receiver, amountMinor: String(share.amountMinor) })),
    sharesMinor: String(m.sharesMinor),
    reserveHeldMinor: String(m.reserveHeldMinor),
    reserveReleaseOn: m.reserveReleaseOn === undefined ? null : formatBusinessDay(m.reserveReleaseOn),
    reserveReleasedMinor: String(m.reserveReleasedMinor),
    carriedInMinor: String(m.carriedInMinor),
    carriedOutMinor: String(m.carriedOutMinor),
    payableMinor: String(m.payableMinor),
    settledMinor: String(m.settledMinor),
    explanation: [...m.explanation],
  };
}

function checkOf(check: BalanceCheck): SettleBalanceCheck {
  return {
    balanced: check.balanced,
    channels: check.channels.map((c) => ({
      channel: c.channel,
      clearedMinor: String(c.clearedMinor),
      settledMinor: String(c.settledMinor),
      feesMinor: String(c.feesMinor),
      sharesMinor: String(c.sharesMinor),
      reservesHeldMinor: String(c.reservesHeldMinor),
      reservesReleasedMinor: String(c.reservesReleasedMinor),
      heldBackChangeMinor: String(c.heldBackChangeMinor),
      carriedForwardChangeMinor: String(c.carriedForwardChangeMinor),
      payoutsMinor: String(c.payoutsMinor),
      differenceMinor: String(c.differenceMinor),
      payoutDifferenceMinor: String(c.payoutDifferenceMinor),
    })),
  };
}

function lineOf(line: ClearedLine, state: SettleStatementLine['state']): SettleStatementLine {
  const { item, fee } = line;
  return {
    orderId: item.orderId,
    kind: item.kind,
    product: item.product,
    tradeDay: formatBusinessDay(item.tradeDay),
    amountMinor: String(item.amountMinor),
    feeMinor: String(fee.feeMinor),
    strategy: strategyLabel({ id: fee.strategyId, version: fee.strategyVersion }),
    reconciliation: item.reconciliation,
    state,
  };
}

function statementsOf(runId: string, merchants: readonly MerchantSettlement[], specs: readonly PostingSpec[], transfers: readonly Transfer[]): StoredStatement[] {
  const postingsOf = new Map<string, SettleStatementRunSummary['postings']>();
  specs.forEach((spec, i) => {
    const key = JSON.stringify([spec.merchantId, spec.channel]);
    const list = postingsOf.get(key) ?? [];
    const transfer = transfers[i]!;
    list.push({
      transferId: spec.id.toString(16).padStart(32, '0'), role: spec.role, ...(spec.receiver === undefined ? {} : { receiver: spec.receiver }),
      amountMinor: String(spec.amountMinor), debitAccountId: String(transfer.debitAccountId), creditAccountId: String(transfer.creditAccountId),
    });
    postingsOf.set(key, list);
  });
  return merchants.map((m) => {
    const lines = [...m.paid.map((line) => lineOf(line, 'paid')), ...m.heldBack.map((line) => lineOf(line, 'held_back')), ...m.released.map((line) => lineOf(line, 'released'))];
    return {
      summary: { ...summaryOf(m), runId, lineCount: lines.length, postings: postingsOf.get(JSON.stringify([m.merchantId, m.channel])) ?? [] },
      lines: lines.map((line) => ({ ...line, runId, channel: m.channel })),
    };
  });
}
