// Spec of the admin store: an audit log numbered 1, 2, 3… without gaps that only grows (no method changes
// or removes a record, and it survives reopening), and adjustments that move only pending → approved |
// rejected, each change committed with its audit record.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AssertionError } from '../../../src/core/assert.js';
import type { AuditEntry } from '../../../src/core/admin/audit-log.js';
import { auditDetailCharsMax, auditPageMax } from '../../../src/core/limits.js';
import { Operation } from '../../../src/core/operations.js';
import { encodeTransfers } from '../../../src/core/wire/records.js';
import { AdminStore } from '../../../src/admin/admin-store.js';

let dataDir: string;
const opened: AdminStore[] = [];

function openStore(): AdminStore {
  const store = AdminStore.open(dataDir);
  opened.push(store);
  return store;
}

function entry(detail: string, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return { kind: 'admin', keyId: 'alice', operation: Operation.submit_adjustment, code: 'ok', detail, ...overrides };
}

const records = encodeTransfers([
  { id: 11n, debitAccountId: 1n, creditAccountId: 2n, amount: 5n, ledger: 156, code: 1 },
  { id: 12n, debitAccountId: 2n, creditAccountId: 1n, amount: 3n, ledger: 156, code: 1 },
]);

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tally-admin-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('AdminStore audit log', () => {
  it('numbers records 1, 2, 3… in call order, durable when the promise resolves', async () => {
    const store = openStore();
    const appended = await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendAudit(entry(`event ${i}`))));
    expect(appended.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(appended.map((r) => r.detail)).toEqual(Array.from({ length: 50 }, (_, i) => `event ${i}`));
    expect(store.auditSeqLast()).toBe(50);
    expect(store.auditAfter(0, 100).map((r) => r.seq)).toEqual(appended.map((r) => r.seq));
  });

  it('stores the record shape: time, kind, key, operation and its name, code, detail, peer', async () => {
    const store = openStore();
    await store.record({ kind: 'refused', keyId: null, operation: 0, code: 'unauthenticated', detail: 'no key', remote: '127.0.0.1' });
    await store.record(entry('adj_1: submitted'));
    const [refused, admin] = store.auditAfter(0, 10);
    expect(refused).toEqual({ seq: 1, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), kind: 'refused', keyId: null, operation: 0, operationName: null, code: 'unauthenticated', detail: 'no key', remote: '127.0.0.1' });
    expect(admin).toMatchObject({ seq: 2, kind: 'admin', keyId: 'alice', operation: 40, operationName: 'submit_adjustment', code: 'ok' });
    expect(admin).not.toHaveProperty('remote');
  });

  it('cuts an overlong detail instead of refusing the record', async () => {
    const store = openStore();
    const record = await store.appendAudit(entry('x'.repeat(auditDetailCharsMax + 50)));
    expect([...record.detail]).toHaveLength(auditDetailCharsMax);
    expect(record.detail.endsWith('…')).toBe(true);
  });

  it('pages after a record number, bounded by the limit', async () => {
    const store = openStore();
    for (let i = 0; i < 7; i++) await store.record(entry(`e${i}`));
    expect(store.auditAfter(2, 3).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(store.auditAfter(5, 10).map((r) => r.seq)).toEqual([6, 7]);
    expect(store.auditAfter(7, 10)).toEqual([]);
    expect(() => store.auditAfter(0, auditPageMax + 1)).toThrow(AssertionError);
  });

  it('keeps every record across close and reopen and continues the numbering', async () => {
    const first = openStore();
    for (let i = 0; i < 3; i++) await first.record(entry(`before ${i}`));
    await first.close();
    const second = openStore();
    expect(second.auditAfter(0, 10).map((r) => r.detail)).toEqual(['before 0', 'before 1', 'before 2']);
    expect((await second.appendAudit(entry('after'))).seq).toBe(4);
  });

  it('has no way to change or remove a record', () => {
    const methods = Object.getOwnPropertyNames(AdminStore.prototype);
    expect(methods.filter((name) => /remove|delete|drop|clear|truncate|update|overwrite|put|set/i.test(name))).toEqual([]);
  });

  it('refuses writes after close', async () => {
    const store = openStore();
    await store.close();
    await expect(store.record(entry('late'))).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('rejects a malformed event as a defect, writing nothing', async () => {
    const store = openStore();
    await expect(store.record({ ...entry('bad'), kind: 'other' as 'admin' })).rejects.toThrow(AssertionError);
    await store.record(entry('good'));
    expect(store.auditAfter(0, 10).map((r) => [r.seq, r.detail])).toEqual([[1, 'good']]);
  });
});

describe('AdminStore adjustments', () => {
  const id = 'adj_0000000000010000000a';

  it('stores a pending adjustment with its records and its audit record in one commit', async () => {
    const store = openStore();
    const { adjustment, audit } = await store.submitAdjustment({ id, maker: 'alice', reason: 'fix 42', records }, entry(`${id}: submitted`));
    expect(adjustment).toMatchObject({ id, status: 'pending', maker: 'alice', reason: 'fix 42', transferCount: 2, submittedAt: audit.at });
    expect(Buffer.from(adjustment.transfers, 'base64')).toEqual(Buffer.from(records));
    expect(store.adjustment(id)).toEqual(adjustment);
    expect(store.auditAfter(0, 10)).toEqual([audit]);
  });

  it('moves pending → approved with results, once, and indexes it by status', async () => {
    const store = openStore();
    await store.submitAdjustment({ id, maker: 'alice', reason: 'r', records }, entry('submitted'));
    const started = await store.startApproval(id, 'bob', entry('posting', { keyId: 'bob', operation: Operation.approve_adjustment }));
    expect(started).toMatchObject({ status: 'pending', approvalStartedBy: 'bob' });
    const results = [{ index: 0, result: 'ok' as const }, { index: 1, result: 'insufficient_funds' as const }];
    const approved = await store.decideAdjustment(id, { status: 'approved', checker: 'bob', results }, entry('approved', { keyId: 'bob' }));
    expect(approved).toMatchObject({ status: 'approved', checker: 'bob', results, decidedAt: expect.any(String) });
    expect(store.adjustments({ status: 'pending', limit: 10 })).toEqual([]);
    expect(store.adjustments({ status: 'approved', limit: 10 }).map((a) => a.id)).toEqual([id]);
    await expect(store.decideAdjustment(id, { status: 'rejected', checker: 'carol' }, entry('again'))).rejects.toThrow(AssertionError);
    expect(store.adjustment(id)?.status).toBe('approved');
    expect(store.auditAfter(0, 10).map((r) => r.detail)).toEqual(['submitted', 'posting', 'approved']); // the refused change wrote no record
  });

  it('moves pending → rejected with a reason', async () => {
    const store = openStore();
    await store.submitAdjustment({ id, maker: 'alice', reason: 'r', records }, entry('submitted'));
    const rejected = await store.decideAdjustment(id, { status: 'rejected', checker: 'bob', rejectReason: 'wrong account' }, entry('rejected'));
    expect(rejected).toMatchObject({ status: 'rejected', checker: 'bob', rejectReason: 'wrong account' });
    expect(store.adjustments({ status: 'rejected', limit: 10 }).map((a) => a.id)).toEqual([id]);
  });

  it('refuses a second adjustment with the same id', async () => {
    const store = openStore();
    await store.submitAdjustment({ id, maker: 'alice', reason: 'r', records }, entry('first'));
    await expect(store.submitAdjustment({ id, maker: 'mallory', reason: 'r2', records }, entry('second'))).rejects.toThrow(AssertionError);
    expect(store.adjustment(id)?.maker).toBe('alice');
    expect(store.auditAfter(0, 10).map((r) => r.detail)).toEqual(['first']);
  });

  it('lists newest first, by status, in pages', async () => {
    const store = openStore();
    const ids = Array.from({ length: 5 }, (_, i) => `adj_00000000000${i}0000000a`.slice(0, 24));
    for (const each of ids) await store.submitAdjustment({ id: each, maker: 'alice', reason: 'r', records }, entry(each));
    await store.decideAdjustment(ids[1], { status: 'rejected', checker: 'bob' }, entry('rejected'));
    expect(store.adjustments({ limit: 10 }).map((a) => a.id)).toEqual([...ids].reverse());
    expect(store.adjustments({ limit: 2 }).map((a) => a.id)).toEqual([ids[4], ids[3]]);
    expect(store.adjustments({ limit: 2, before: ids[3] }).map((a) => a.id)).toEqual([ids[2], ids[1]]);
    expect(store.adjustments({ status: 'pending', limit: 10 }).map((a) => a.id)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    expect(store.adjustments({ status: 'pending', limit: 10, before: ids[2] }).map((a) => a.id)).toEqual([ids[0]]);
  });

  it('keeps adjustments across close and reopen', async () => {
    const first = openStore();
    await first.submitAdjustment({ id, maker: 'alice', reason: 'r', records }, entry('submitted'));
    await first.close();
    const second = openStore();
    expect(second.adjustment(id)).toMatchObject({ status: 'pending', maker: 'alice' });
    expect(second.auditSeqLast()).toBe(1);
  });
});
