// The admin operations as a wrapper around the ledger service: adjustments under maker–checker (40–42),
// their list (43) and the audit log (44) are answered here from the admin store; everything else goes to
// the inner service. The one place that records admin-scope operations: actions (10, 40–42, 45) whatever
// their outcome, each before its reply; reads (43, 44, 46) only when refused.

import { randomBytes } from 'node:crypto';
import { integerField, onlyFields, parseAdminJson, stringField, type JsonObject } from '../core/wire/admin-bodies.js';
import {
  adjustmentErrors,
  adjustmentIdPattern,
  adjustmentStatuses,
  readSubmission,
  summarizeResults,
  type Adjustment,
  type AdjustmentResult,
  type AdjustmentStatus,
} from '../core/admin/adjustments.js';
import { assert } from '../core/assert.js';
import { cut, type AuditEntry } from '../core/admin/audit-log.js';
import { ErrorCode, TallyError, errors } from '../core/errors.js';
import { adjustmentReasonCharsMax, adjustmentsPageMax, auditPageMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import { decodeResults } from '../core/wire/records.js';
import { errorReason } from '../core/wire/wire.js';
import type { AdminStore, StoredAdjustment } from './admin-store.js';
import { anonymousCaller } from '../gateway/auth.js';
import { LedgerServiceWrapper } from '../gateway/ledger-service-wrapper.js';
import type { Caller, LedgerService } from '../gateway/ledger-service.js';


/** Characters of an adjustment's reason quoted in its audit record (the adjustment keeps all of it). */
const reasonQuotedChars = 200;

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

export class AdminService extends LedgerServiceWrapper {
  readonly #store: AdminStore;
  readonly #log: (line: string) => void;
  /** Adjustments an approval or rejection is working on: a second decision waits its turn by being refused. */
  readonly #deciding = new Set<string>();
  #idLast = 0n;


  constructor(inner: LedgerService, store: AdminStore, log: (line: string) => void = (line) => console.error(line)) {
    super(inner);
    this.#store = store;
    this.#log = log;
  }


  execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array> {
    // No caller: recorded as the gateway's open caller (one key: nothing it submits can be approved).
    const keyId = caller?.keyId ?? anonymousCaller.keyId;
    switch (operation) {
      case Operation.submit_adjustment:
        return this.#audited(operation, keyId, '', () => this.#submit(body, keyId));
      case Operation.approve_adjustment:
        return this.#audited(operation, keyId, idIn(body), () => this.#approve(body, keyId, caller));
      case Operation.reject_adjustment:
        return this.#audited(operation, keyId, idIn(body), () => this.#reject(body, keyId));
      case Operation.get_adjustments:
        return this.#refusalsAudited(operation, keyId, Promise.resolve().then(() => this.#getAdjustments(body)));
      case Operation.get_audit_log:
        return this.#refusalsAudited(operation, keyId, Promise.resolve().then(() => this.#getAuditLog(body)));
      case Operation.get_snapshot_status:
      case Operation.lookup_ledger_accounts:
        return this.#refusalsAudited(operation, keyId, this.inner.execute(operation, body, caller));
      case Operation.close_day:
      case Operation.start_snapshot:
        return this.#audited(operation, keyId, subjectOf(operation, body), () => this.#passAudited(operation, body, caller, keyId));
      default:
        return this.inner.execute(operation, body, caller);
    }
  }


  // ---- the operations ----------------------------------------------------------------------------

  /** 40: stores a pending adjustment (and its audit record); the ledger is not touched. */
  async #submit(body: Uint8Array, maker: string): Promise<Uint8Array> {
    const submission = readSubmission(body);
    const id = this.#newId();
    const detail = `${id}: submitted ${submission.count} transfers for approval, reason ${JSON.stringify(cut(submission.reason, reasonQuotedChars))}`;
    const { adjustment } = await this.#store.submitAdjustment({ id, maker, reason: submission.reason, records: submission.records }, this.#entry(Operation.submit_adjustment, maker, 'ok', detail));
    return json(summary(adjustment));
  }

  /**
   * 41: a key other than the maker posts the transfers as one create_transfers request, then the decision is
   * stored with the results. The start is stored (and audited) before posting: a crash in between leaves it
   * pending and marked, a second approval re-posts (the ids answer `exists`) and stores the decision.
   */
  async #approve(body: Uint8Array, checker: string, caller: Caller | undefined): Promise<Uint8Array> {
    const fields = parseAdminJson(body, 'approve_adjustment');
    onlyFields(fields, ['id'], 'approve_adjustment');
    const id = idField(fields, 'approve_adjustment');
    return this.#decide(id, async (current) => {
      if (current.maker === checker) throw adjustmentErrors.selfApproval(id, checker);
      const started = `${id}: approval by ${JSON.stringify(checker)} started, posting ${current.transferCount} transfers submitted by ${JSON.stringify(current.maker)}`;
      await this.#store.startApproval(id, checker, this.#entry(Operation.approve_adjustment, checker, 'ok', started));
      const records = new Uint8Array(Buffer.from(current.transfers, 'base64'));
      const reply = await (this.inner.postAdjustment?.(records) ?? this.inner.execute(Operation.create_transfers, records, caller));
      const results: AdjustmentResult[] = decodeResults(reply).map(({ index, result }) => ({ index, result }));
      assert(results.length === current.transferCount, 'one result per transfer of the adjustment');
      const detail = `${id}: approved by ${JSON.stringify(checker)}; posted as one request: ${summarizeResults(results)}`;
      const decided = await this.#store.decideAdjustment(id, { status: 'approved', checker, results }, this.#entry(Operation.approve_adjustment, checker, 'ok', detail));
      return json({ ...summary(decided), results });
    });
  }

  /** 42: a pending adjustment is rejected (by a checker) or withdrawn (by its maker); nothing posts. */
  async #reject(body: Uint8Array, checker: string): Promise<Uint8Array> {
    const fields = parseAdminJson(body, 'reject_adjustment');
    onlyFields(fields, ['id', 'reason'], 'reject_adjustment');
    const id = idField(fields, 'reject_adjustment');
    const rejectReason = stringField(fields, 'reason', adjustmentReasonCharsMax, false, 'reject_adjustment');
    return this.#decide(id, async (current) => {
      if (current.approvalStartedBy !== undefined) throw adjustmentErrors.rejectAfterApprovalStarted(id, current.approvalStartedBy);
      const how = current.maker === checker ? 'withdrawn by its maker' : `rejected by ${JSON.stringify(checker)}`;
      const detail = `${id}: ${how}${rejectReason === undefined ? '' : `, reason ${JSON.stringify(cut(rejectReason, reasonQuotedChars))}`}`;
      const decision = rejectReason === undefined ? { status: 'rejected' as const, checker } : { status: 'rejected' as const, checker, rejectReason };
      const decided = await this.#store.decideAdjustment(id, decision, this.#entry(Operation.reject_adjustment, checker, 'ok', detail));
      return json(summary(decided));
    });
  }

  /** 43: by id (with records and results), or a page newest first, optionally of one status. */
  #getAdjustments(body: Uint8Array): Uint8Array {
    const fields = parseAdminJson(body, 'get_adjustments');
    onlyFields(fields, ['id', 'status', 'limit', 'before'], 'get_adjustments');
    if (fields.id !== undefined) {
      if (fields.status !== undefined || fields.limit !== undefined || fields.before !== undefined) throw errors.bodyInvalid('get_adjustments: id reads one adjustment and takes no other field');
      const found = this.#store.adjustment(idField(fields, 'get_adjustments'));
      return json(found === undefined ? [] : [found]);
    }
    const status = fields.status;
    if (status !== undefined && !adjustmentStatuses.includes(status as AdjustmentStatus)) {
      throw errors.bodyInvalid(`get_adjustments: field status must be one of ${adjustmentStatuses.join(', ')}, got ${JSON.stringify(status)}`);
    }
    const limit = integerField(fields, 'limit', 1, adjustmentsPageMax, adjustmentsPageMax, 'get_adjustments');
    const before = fields.before === undefined ? undefined : idField(fields, 'get_adjustments', 'before');
    return json(this.#store.adjustments({ status: status as AdjustmentStatus | undefined, before, limit }).map(summary));
  }

  /** 44: audit records after `after` (default 0), oldest first. */
  #getAuditLog(body: Uint8Array): Uint8Array {
    const fields = parseAdminJson(body, 'get_audit_log');
    onlyFields(fields, ['after', 'limit'], 'get_audit_log');
    const after = integerField(fields, 'after', 0, Number.MAX_SAFE_INTEGER, 0, 'get_audit_log');
    const limit = integerField(fields, 'limit', 1, auditPageMax, auditPageMax, 'get_audit_log');
    return json(this.#store.auditAfter(after, limit));
  }

  /** 10 and 45: the inner service runs them; here only their audit record (written after they answer). */
  async #passAudited(operation: number, body: Uint8Array, caller: Caller | undefined, keyId: string): Promise<Uint8Array> {
    const reply = await this.inner.execute(operation, body, caller);
    await this.#store.record(this.#entry(operation, keyId, 'ok', outcomeOf(operation, body, reply)));
    return reply;
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** Runs a decision on a pending adjustment, one at a time per adjustment. */
  async #decide(id: string, decide: (current: StoredAdjustment) => Promise<Uint8Array>): Promise<Uint8Array> {
    const current = this.#store.adjustment(id);
    if (current === undefined) throw adjustmentErrors.notFound(id);
    if (current.status !== 'pending') throw adjustmentErrors.notPending(id, current.status);
    if (this.#deciding.has(id)) throw adjustmentErrors.beingDecided(id);
    this.#deciding.add(id);
    try {
      return await decide(current);
    } finally {
      this.#deciding.delete(id);
    }
  }

  /**
   * Runs an admin action; a failure is recorded (code = its error code, detail = `subject: message`) before
   * it is passed on. Successes record themselves, in the same commit as their change where they make one.
   */
  async #audited(operation: number, keyId: string, subject: string, action: () => Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await action();
    } catch (error) {
      const code = codeOf(error);
      const detail = `${subject === '' ? '' : `${subject}: `}${messageOf(error)}`;
      await this.#store.record(this.#entry(operation, keyId, code, detail)).catch((failure: unknown) => {
        this.#log(`tally admin: could not record a failed ${operation} of ${keyId} in the audit log: ${String(failure)}`);
      });
      throw error;
    }
  }

  /**
   * An admin read (43, 44, 46) is not an action: only its refusal is recorded (kind `refused`, as the gateway
   * records refusals of other operations), without holding the reply back. Failures whose outcome is
   * unknown (`shard_unavailable`, `storage_failed`) are not refusals.
   */
  async #refusalsAudited(operation: number, keyId: string, reply: Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await reply;
    } catch (error) {
      const code = codeOf(error);
      if (code !== 'shard_unavailable' && code !== 'storage_failed') {
        const event: AuditEntry = { kind: 'refused', keyId, operation, code, detail: messageOf(error) };
        this.#store.record(event).catch((failure: unknown) => this.#log(`tally admin: could not record a refused ${operation} of ${keyId} in the audit log: ${String(failure)}`));
      }
      throw error;
    }
  }

  #entry(operation: number, keyId: string, code: string, detail: string): AuditEntry {
    return { kind: 'admin', keyId, operation, code, detail };
  }

  /** `adj_` + 12 hex digits of ms + 8 more: increasing within this process, random across processes. */
  #newId(): string {
    let id = (BigInt(Date.now()) << 32n) | BigInt(randomBytes(4).readUInt32BE(0));
    if (id <= this.#idLast) id = this.#idLast + 1n;
    this.#idLast = id;
    const text = `adj_${id.toString(16).padStart(20, '0')}`;
    assert(adjustmentIdPattern.test(text), 'adjustment ids keep their format');
    return text;
  }
}

/** An adjustment without its records and results (what lists and most replies show). */
function summary(adjustment: StoredAdjustment): Adjustment {
  const { transfers: _transfers, results: _results, ...rest } = adjustment;
  return rest;
}

function idField(fields: JsonObject, what: string, name = 'id'): string {
  const id = stringField(fields, name, 64, true, what);
  if (!adjustmentIdPattern.test(id)) throw errors.bodyInvalid(`${what}: field ${name} must be an adjustment id (adj_ and 20 hex digits), got ${JSON.stringify(id)}`);
  return id;
}

/** The id a decision names, for the audit record of a refused one (empty when the body has none). */
function idIn(body: Uint8Array): string {
  try {
    const id = parseAdminJson(body, 'request').id;
    return typeof id === 'string' ? cut(id, 64) : '';
  } catch {
    return '';
  }
}

/** What a pass-through admin action is about: the day asked to begin, the snapshot's directory. */
function subjectOf(operation: number, body: Uint8Array): string {
  if (operation === Operation.close_day) {
    return body.byteLength === 4 ? `close_day to begin ${new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true)}` : 'close_day';
  }
  try {
    const out = parseAdminJson(body, 'start_snapshot').out;
    return typeof out === 'string' ? `snapshot to ${JSON.stringify(out)}` : 'snapshot';
  } catch {
    return 'snapshot';
  }
}

function outcomeOf(operation: number, body: Uint8Array, reply: Uint8Array): string {
  const subject = subjectOf(operation, body);
  if (operation !== Operation.close_day) return `${subject}: started`;
  try {
    const report = JSON.parse(new TextDecoder().decode(reply)) as { day?: unknown; passed?: unknown };
    return `${subject}: day ${String(report.day)} closed, report ${report.passed === true ? 'passed' : 'FAILED'}`;
  } catch {
    return `${subject}: closed`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof TallyError ? errorReason(error) : String((error as Error | null)?.message ?? error);
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ErrorCode, code) ? code : 'defect';
}

