// Spec of the admin service (maker–checker adjustments and the audit log) over a scripted ledger and a real
// admin store: a submission changes nothing, the maker cannot approve, another key posts the transfers once,
// a decided adjustment stays decided, and every step (and every refusal) is in the audit log.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeAdminJson, encodeSubmissionBody } from '../../../src/core/wire/admin-bodies.js';
import type { Adjustment, AdjustmentDetail } from '../../../src/core/admin/adjustments.js';
import type { AuditRecord } from '../../../src/core/admin/audit-log.js';
import { TallyError } from '../../../src/core/errors.js';
import { adjustmentTransfersMax } from '../../../src/core/limits.js';
import { Operation } from '../../../src/core/operations.js';
import { encodeResults, encodeTransfers, type TransferInput } from '../../../src/core/wire/records.js';
import type { ResultName } from '../../../src/core/result-codes.js';
import { TransferFlags } from '../../../src/core/types.js';
import { checkRequestBody } from '../../../src/core/wire/wire.js';
import { AdminService } from '../../../src/admin/admin-service.js';
import type { Caller } from '../../../src/gateway/ledger-service.js';
import { AdminStore } from '../../../src/admin/admin-store.js';
import { ScriptedService } from '../../support/scripted-service.js';

let dataDir: string;
let store: AdminStore;
let inner: ScriptedService;
let service: AdminService;
const logged: string[] = [];

const maker: Caller = { keyId: 'alice', scopes: new Set(['admin']) };
const checker: Caller = { keyId: 'bob', scopes: new Set(['admin']) };

const transfers: TransferInput[] = [
  { id: 101n, debitAccountId: 1n, creditAccountId: 2n, amount: 500n, ledger: 156, code: 7 },
  { id: 102n, debitAccountId: 3n, creditAccountId: 2n, amount: 250n, ledger: 156, code: 7 },
];

/** The ledger's answer to an approval's create_transfers: one result per transfer, as scripted. */
function answerTransfersWith(results: ResultName[]): void {
  inner.replyWith = () => encodeResults(results.map((result) => ({ result })));
}

function submitBody(reason: unknown, list: readonly TransferInput[] = transfers): Uint8Array {
  return encodeSubmissionBody({ reason }, encodeTransfers(list));
}

async function call<T>(operation: number, body: Uint8Array, caller?: Caller): Promise<T> {
  checkRequestBody(operation as never, body); // what the gateway runs first
  const reply = await service.execute(operation, body, caller);
  return JSON.parse(new TextDecoder().decode(reply)) as T;
}

async function refusal(operation: number, body: Uint8Array, caller?: Caller): Promise<TallyError> {
  return service.execute(operation, body, caller).then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: TallyError) => error,
  );
}

const submit = (caller: Caller = maker, reason = 'refund order 42 paid twice') => call<Adjustment>(Operation.submit_adjustment, submitBody(reason), caller);
const approve = (id: string, caller: Caller) => call<Adjustment>(Operation.approve_adjustment, encodeAdminJson({ id }), caller);
const audit = (): AuditRecord[] => store.auditAfter(0, 1000);

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tally-admin-service-'));
  store = AdminStore.open(dataDir);
  inner = new ScriptedService();
  service = new AdminService(inner, store, (line) => logged.push(line));
});

afterEach(async () => {
  await service.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  logged.length = 0;
});

describe('submit_adjustment', () => {
  it('stores a pending adjustment and changes nothing in the ledger', async () => {
    const adjustment = await submit();
    expect(adjustment).toEqual({
      id: expect.stringMatching(/^adj_[0-9a-f]{20}$/),
      status: 'pending',
      maker: 'alice',
      submittedAt: expect.any(String),
      reason: 'refund order 42 paid twice',
      transferCount: 2,
    });
    expect(inner.calls).toEqual([]);
    expect(audit()).toEqual([
      expect.objectContaining({ seq: 1, kind: 'admin', keyId: 'alice', operation: 40, operationName: 'submit_adjustment', code: 'ok', detail: `${adjustment.id}: submitted 2 transfers for approval, reason "refund order 42 paid twice"` }),
    ]);
  });

  it('gives each adjustment a new, increasing id', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await submit()).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });

  it('records a caller-less submission as anonymous', async () => {
    const adjustment = await call<Adjustment>(Operation.submit_adjustment, submitBody('r'));
    expect(adjustment.maker).toBe('anonymous');
  });

  const refused: [string, () => Uint8Array, string][] = [
    ['no reason', () => encodeSubmissionBody({}, encodeTransfers(transfers)), 'field reason is required'],
    ['an empty reason', () => submitBody('   '), 'must not be empty'],
    ['a reason that is not a string', () => submitBody(42), 'must be a string'],
    ['a reason over 1,000 characters', () => submitBody('退'.repeat(1001)), 'at most 1000 characters'],
    ['an unknown header field', () => encodeSubmissionBody({ reason: 'r', amount: 5 }, encodeTransfers(transfers)), 'unknown field "amount"'],
    ['a transfer the ledger refuses on its fields', () => submitBody('r', [{ ...transfers[0], amount: 0n }]), 'transfer 0 would be refused: amount_invalid'],
    ['a transfer with a timestamp', () => submitBody('r', [transfers[0], { ...transfers[1], timestamp: 5n }]), 'transfer 1 would be refused: timestamp_must_be_zero'],
    ['a linked chain left open', () => submitBody('r', [transfers[0], { ...transfers[1], flags: TransferFlags.linked }]), 'linked chain left open'],
  ];
  it.each(refused)('refuses %s with body_invalid, storing nothing but the audit record', async (_, body, message) => {
    const error = await refusal(Operation.submit_adjustment, body(), maker);
    expect(error.code).toBe('body_invalid');
    expect(error.message).toContain(message);
    expect(store.adjustments({ limit: 10 })).toEqual([]);
    expect(audit()).toEqual([expect.objectContaining({ keyId: 'alice', operation: 40, code: 'body_invalid', detail: expect.stringContaining(message) })]);
  });

  const malformed: [string, () => Uint8Array, string][] = [
    ['a body shorter than its length prefix', () => new Uint8Array(3), 'body_invalid'],
    ['a header length past the body', () => new Uint8Array([200, 0, 0, 0, 123, 125]), 'body_invalid'],
    ['a header that is not a JSON object', () => encodeSubmissionBody([] as never, encodeTransfers(transfers)), 'body_invalid'],
    ['no transfers', () => encodeSubmissionBody({ reason: 'r' }, new Uint8Array(0)), 'batch_empty'],
    ['a ragged record', () => encodeSubmissionBody({ reason: 'r' }, new Uint8Array(130)), 'body_invalid'],
    [`more than ${adjustmentTransfersMax} transfers`, () => encodeSubmissionBody({ reason: 'r' }, new Uint8Array((adjustmentTransfersMax + 1) * 128)), 'batch_too_large'],
  ];
  it.each(malformed)('the gateway check refuses %s (%s)', (_, body, code) => {
    expect(() => checkRequestBody(Operation.submit_adjustment, body())).toThrow(expect.objectContaining({ code }));
  });
});

describe('approve_adjustment (maker–checker)', () => {
  it('refuses self-approval with forbidden, posting nothing', async () => {
    const { id } = await submit();
    const error = await refusal(Operation.approve_adjustment, encodeAdminJson({ id }), maker);
    expect(error.code).toBe('forbidden');
    expect(error.message).toContain('the maker cannot approve their own adjustment');
    expect(inner.calls).toEqual([]);
    expect(store.adjustment(id)?.status).toBe('pending');
    expect(audit().at(-1)).toMatchObject({ keyId: 'alice', operation: 41, operationName: 'approve_adjustment', code: 'forbidden', detail: expect.stringContaining(id) });
  });

  it('refuses self-approval by a caller-less gateway too (anonymous is one key)', async () => {
    const { id } = await call<Adjustment>(Operation.submit_adjustment, submitBody('r'));
    expect((await refusal(Operation.approve_adjustment, encodeAdminJson({ id }))).code).toBe('forbidden');
    expect(inner.calls).toEqual([]);
  });

  it('posts the transfers once, as one create_transfers request, when another key approves', async () => {
    const { id } = await submit();
    answerTransfersWith(['ok', 'ok']);
    const approved = await approve(id, checker);
    expect(approved).toMatchObject({ id, status: 'approved', maker: 'alice', checker: 'bob', approvalStartedBy: 'bob', results: [{ index: 0, result: 'ok' }, { index: 1, result: 'ok' }] });
    expect(inner.calls).toHaveLength(1);
    expect(inner.calls[0].operation).toBe(Operation.create_transfers);
    expect(inner.calls[0].body).toEqual(encodeTransfers(transfers));
    const second = await refusal(Operation.approve_adjustment, encodeAdminJson({ id }), { keyId: 'carol', scopes: new Set(['admin']) });
    expect(second.code).toBe('body_invalid');
    expect(second.message).toContain('is approved, not pending');
    expect(inner.calls).toHaveLength(1);
  });

  it('records the approval as approved with the ledger results, refusals included', async () => {
    const { id } = await submit();
    answerTransfersWith(['ok', 'insufficient_funds']);
    const approved = await approve(id, checker);
    expect(approved.status).toBe('approved');
    expect(approved.results).toEqual([{ index: 0, result: 'ok' }, { index: 1, result: 'insufficient_funds' }]);
    const [detail] = await call<AdjustmentDetail[]>(Operation.get_adjustments, encodeAdminJson({ id }), checker);
    expect(detail.results).toEqual(approved.results);
  });

  it('writes the submission, the start and the decision to the audit log, in order', async () => {
    const { id } = await submit();
    answerTransfersWith(['ok', 'insufficient_funds']);
    await approve(id, checker);
    expect(audit().map(({ seq, keyId, operation, code, detail }) => ({ seq, keyId, operation, code, detail }))).toEqual([
      { seq: 1, keyId: 'alice', operation: 40, code: 'ok', detail: expect.stringContaining(`${id}: submitted 2 transfers`) },
      { seq: 2, keyId: 'bob', operation: 41, code: 'ok', detail: `${id}: approval by "bob" started, posting 2 transfers submitted by "alice"` },
      { seq: 3, keyId: 'bob', operation: 41, code: 'ok', detail: `${id}: approved by "bob"; posted as one request: 1 ok, 1 insufficient_funds` },
    ]);
  });

  it('leaves the adjustment pending when the ledger fails, and a second approval settles it', async () => {
    const { id } = await submit();
    inner.failWith = new TallyError('shard_unavailable', 'shard 1: worker died');
    expect((await refusal(Operation.approve_adjustment, encodeAdminJson({ id }), checker)).code).toBe('shard_unavailable');
    expect(store.adjustment(id)).toMatchObject({ status: 'pending', approvalStartedBy: 'bob' });
    expect(audit().at(-1)).toMatchObject({ keyId: 'bob', operation: 41, code: 'shard_unavailable', detail: `${id}: shard 1: worker died` });
    // Some transfers may have posted: rejecting now is refused; approving again re-posts (ids answer exists).
    const reject = await refusal(Operation.reject_adjustment, encodeAdminJson({ id }), checker);
    expect(reject.message).toContain('began to post it');
    inner.failWith = undefined;
    answerTransfersWith(['exists', 'ok']);
    const approved = await approve(id, { keyId: 'carol', scopes: new Set(['admin']) });
    expect(approved).toMatchObject({ status: 'approved', checker: 'carol', approvalStartedBy: 'carol', results: [{ index: 0, result: 'exists' }, { index: 1, result: 'ok' }] });
  });

  it('refuses a second decision while the first is posting', async () => {
    const { id } = await submit();
    inner.hold = true;
    const first = approve(id, checker);
    await inner.waitForCalls(1);
    const second = await refusal(Operation.approve_adjustment, encodeAdminJson({ id }), { keyId: 'carol', scopes: new Set(['admin']) });
    expect(second.message).toContain('is being decided');
    const reject = await refusal(Operation.reject_adjustment, encodeAdminJson({ id }), { keyId: 'carol', scopes: new Set(['admin']) });
    expect(reject.message).toContain('is being decided');
    answerTransfersWith(['ok', 'ok']);
    inner.release();
    expect((await first).status).toBe('approved');
    expect(inner.calls).toHaveLength(1);
  });

  const badBodies: [string, Uint8Array, string][] = [
    ['an unknown id', encodeAdminJson({ id: 'adj_00000000000000000001' }), 'no adjustment adj_00000000000000000001'],
    ['a malformed id', encodeAdminJson({ id: 'adj_x' }), 'must be an adjustment id'],
    ['no id', encodeAdminJson({}), 'field id is required'],
    ['an extra field', encodeAdminJson({ id: 'adj_00000000000000000001', force: true }), 'unknown field "force"'],
  ];
  it.each(badBodies)('refuses %s with body_invalid', async (_, body, message) => {
    const error = await refusal(Operation.approve_adjustment, body, checker);
    expect(error.code).toBe('body_invalid');
    expect(error.message).toContain(message);
    expect(audit().at(-1)).toMatchObject({ keyId: 'bob', operation: 41, code: 'body_invalid' });
  });
});

describe('reject_adjustment', () => {
  it('rejects a pending adjustment with a reason; nothing posts and it cannot be approved after', async () => {
    const { id } = await submit();
    const rejected = await call<Adjustment>(Operation.reject_adjustment, encodeAdminJson({ id, reason: 'wrong payer' }), checker);
    expect(rejected).toMatchObject({ id, status: 'rejected', checker: 'bob', rejectReason: 'wrong payer', decidedAt: expect.any(String) });
    const error = await refusal(Operation.approve_adjustment, encodeAdminJson({ id }), { keyId: 'carol', scopes: new Set(['admin']) });
    expect(error.message).toContain('is rejected, not pending');
    expect(inner.calls).toEqual([]);
    expect(audit().map((r) => [r.operation, r.code, r.detail])).toEqual([
      [40, 'ok', expect.any(String)],
      [42, 'ok', `${id}: rejected by "bob", reason "wrong payer"`],
      [41, 'body_invalid', expect.stringContaining('is rejected, not pending')],
    ]);
  });

  it('lets the maker withdraw their own adjustment', async () => {
    const { id } = await submit();
    const withdrawn = await call<Adjustment>(Operation.reject_adjustment, encodeAdminJson({ id }), maker);
    expect(withdrawn).toMatchObject({ status: 'rejected', checker: 'alice' });
    expect(withdrawn).not.toHaveProperty('rejectReason');
    expect(audit().at(-1)?.detail).toBe(`${id}: withdrawn by its maker`);
  });
});

describe('get_adjustments', () => {
  it('lists newest first without records or results, by status, in pages', async () => {
    const a = await submit();
    const b = await submit();
    const c = await submit();
    answerTransfersWith(['ok', 'ok']);
    await approve(b.id, checker);
    const all = await call<Adjustment[]>(Operation.get_adjustments, encodeAdminJson({}), checker);
    expect(all.map((x) => x.id)).toEqual([c.id, b.id, a.id]);
    expect(all.every((x) => !('transfers' in x) && !('results' in x))).toBe(true);
    const pending = await call<Adjustment[]>(Operation.get_adjustments, encodeAdminJson({ status: 'pending' }), checker);
    expect(pending.map((x) => x.id)).toEqual([c.id, a.id]);
    const page = await call<Adjustment[]>(Operation.get_adjustments, encodeAdminJson({ limit: 1, before: c.id }), checker);
    expect(page.map((x) => x.id)).toEqual([b.id]);
  });

  it('reads one by id with its records, so the checker sees what they approve', async () => {
    const { id } = await submit();
    const [detail] = await call<AdjustmentDetail[]>(Operation.get_adjustments, encodeAdminJson({ id }), checker);
    expect(new Uint8Array(Buffer.from(detail.transfers, 'base64'))).toEqual(encodeTransfers(transfers));
    expect(await call(Operation.get_adjustments, encodeAdminJson({ id: 'adj_00000000000000000001' }), checker)).toEqual([]);
  });

  it.each([
    [{ status: 'done' }, 'status must be one of pending, approved, rejected'],
    [{ limit: 0 }, 'limit must be an integer in 1..100'],
    [{ id: 'adj_00000000000000000001', limit: 5 }, 'takes no other field'],
  ])('refuses %j', async (fields, message) => {
    expect((await refusal(Operation.get_adjustments, encodeAdminJson(fields))).message).toContain(message);
  });

  it('is a read: not in the audit log unless refused, and then as a refusal', async () => {
    await call(Operation.get_adjustments, encodeAdminJson({}), checker);
    expect(audit()).toEqual([]);
    await refusal(Operation.get_adjustments, encodeAdminJson({ status: 'done' }), checker);
    await expect.poll(audit).toEqual([expect.objectContaining({ kind: 'refused', keyId: 'bob', operationName: 'get_adjustments', code: 'body_invalid', detail: expect.stringContaining('status must be one of') })]);
  });
});

describe('get_audit_log', () => {
  it('pages the records after a number', async () => {
    for (let i = 0; i < 3; i++) await submit();
    const page = await call<AuditRecord[]>(Operation.get_audit_log, encodeAdminJson({ after: 1, limit: 1 }), checker);
    expect(page.map((r) => r.seq)).toEqual([2]);
    expect((await call<AuditRecord[]>(Operation.get_audit_log, encodeAdminJson({}), checker)).map((r) => r.seq)).toEqual([1, 2, 3]);
  });

  it('refuses a negative cursor, and records the refusal', async () => {
    expect((await refusal(Operation.get_audit_log, encodeAdminJson({ after: -1 }))).code).toBe('body_invalid');
    await expect.poll(audit).toEqual([expect.objectContaining({ kind: 'refused', keyId: 'anonymous', operationName: 'get_audit_log', code: 'body_invalid' })]);
  });
});

describe('pass-through', () => {
  it('records a refused get_snapshot_status, not a successful one', async () => {
    inner.replyWith = () => new TextEncoder().encode('{"state":"idle"}');
    await service.execute(Operation.get_snapshot_status, new Uint8Array(0), checker);
    inner.failWith = new TallyError('body_invalid', 'no snapshot');
    await expect(service.execute(Operation.get_snapshot_status, new Uint8Array(0), checker)).rejects.toMatchObject({ code: 'body_invalid' });
    inner.failWith = new TallyError('shard_unavailable', 'outcome unknown');
    await expect(service.execute(Operation.get_snapshot_status, new Uint8Array(0), checker)).rejects.toMatchObject({ code: 'shard_unavailable' });
    await expect.poll(() => audit().map((r) => [r.kind, r.operationName, r.code, r.detail])).toEqual([['refused', 'get_snapshot_status', 'body_invalid', 'no snapshot']]);
  });

  it('hands other operations to the inner service with the caller, unaudited', async () => {
    answerTransfersWith(['ok']);
    await service.execute(Operation.create_transfers, encodeTransfers([transfers[0]]), maker);
    expect(inner.calls.map((c) => c.operation)).toEqual([Operation.create_transfers]);
    expect(audit()).toEqual([]);
  });

  it('records close_day and start_snapshot as admin actions, with their outcome', async () => {
    inner.replyWith = (c) => new TextEncoder().encode(c.operation === Operation.close_day ? JSON.stringify({ day: 20261123, passed: true }) : '{"started":true}');
    await service.execute(Operation.close_day, new Uint8Array(0), checker);
    await service.execute(Operation.start_snapshot, encodeAdminJson({ out: '/backups/t1' }), checker);
    inner.failWith = new TallyError('body_invalid', 'out must be an absolute path');
    await expect(service.execute(Operation.start_snapshot, encodeAdminJson({ out: 'rel' }), checker)).rejects.toMatchObject({ code: 'body_invalid' });
    expect(audit().map((r) => [r.keyId, r.operationName, r.code, r.detail])).toEqual([
      ['bob', 'close_day', 'ok', 'close_day: day 20261123 closed, report passed'],
      ['bob', 'start_snapshot', 'ok', 'snapshot to "/backups/t1": started'],
      ['bob', 'start_snapshot', 'body_invalid', 'snapshot to "rel": out must be an absolute path'],
    ]);
  });

  it('forwards the optional members of the inner service', () => {
    expect(service.shardCount).toBe(inner.shardCount);
    expect(service.transitStats).toBeUndefined(); // the scripted service has none
  });

  it('checks the bodies of 41–46 in the gateway: a JSON object, or nothing for 46', () => {
    for (const op of [Operation.approve_adjustment, Operation.reject_adjustment, Operation.get_adjustments, Operation.get_audit_log, Operation.start_snapshot]) {
      expect(() => checkRequestBody(op, new TextEncoder().encode('[1]'))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
      expect(() => checkRequestBody(op, new Uint8Array([0xff, 0xfe]))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
      expect(() => checkRequestBody(op, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
      expect(() => checkRequestBody(op, encodeAdminJson({}))).not.toThrow();
    }
    expect(() => checkRequestBody(Operation.get_snapshot_status, new Uint8Array(0))).not.toThrow();
    expect(() => checkRequestBody(Operation.get_snapshot_status, encodeAdminJson({}))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });
});
