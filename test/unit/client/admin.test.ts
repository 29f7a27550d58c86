// The client's adjustment and audit calls through the real gateway with two API keys (src/gateway/auth.ts),
// an admin service over a scripted ledger and a real admin store: the maker's key is refused `forbidden`,
// the other key's approval posts the transfers once, and the audit log reads back what happened.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type Client, type TransferInput } from '../../../src/client/index.js';
import { Operation } from '../../../src/core/operations.js';
import { encodeResults, encodeTransfers } from '../../../src/core/wire/records.js';
import { AdminService } from '../../../src/admin/admin-service.js';
import { hashSecret, newSecret, type ApiKey } from '../../../src/gateway/auth.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { AdminStore } from '../../../src/admin/admin-store.js';
import { ScriptedService } from '../../support/scripted-service.js';

let dataDir: string;
let store: AdminStore;
let inner: ScriptedService;
let server: RunningServer;
let alice: Client;
let bob: Client;

const secrets = { alice: newSecret(), bob: newSecret() };
const keys: ApiKey[] = [
  { id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.alice), eventsPerSecond: 0 },
  { id: 'ops-bob', scopes: ['read', 'admin'], sha256: hashSecret(secrets.bob), eventsPerSecond: 0 },
];

const transfers: TransferInput[] = [
  { id: 9001n, debitAccountId: 1n, creditAccountId: 2n, amount: 1234n, ledger: 156, code: 3, userData128: 77n },
  { id: 9002n, debitAccountId: 2n, creditAccountId: 1n, amount: 34n, ledger: 156, code: 3 },
];

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tally-client-admin-'));
  store = AdminStore.open(dataDir);
  inner = new ScriptedService();
  inner.replyWith = () => encodeResults([{ result: 'ok' }, { result: 'ok' }]);
  server = await startServer({ host: '127.0.0.1', port: 0, service: new AdminService(inner, store), audit: store, keys });
  const url = `ws://127.0.0.1:${server.port}`;
  alice = await connect({ url, apiKey: secrets.alice });
  bob = await connect({ url, apiKey: secrets.bob });
});

afterEach(async () => {
  await alice.close();
  await bob.close();
  await server.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('client adjustments', () => {
  it('submits, shows the checker the transfers, refuses self-approval, and approves with another key', async () => {
    const submitted = await alice.submitAdjustment({ transfers, reason: '冲正: order 42 paid twice' });
    expect(submitted).toMatchObject({ status: 'pending', maker: 'ops-alice', transferCount: 2, reason: '冲正: order 42 paid twice' });
    expect(inner.calls).toEqual([]);

    const review = await bob.getAdjustment(submitted.id);
    expect(review?.transfers).toEqual([
      expect.objectContaining({ id: 9001n, debitAccountId: 1n, creditAccountId: 2n, amount: 1234n, userData128: 77n }),
      expect.objectContaining({ id: 9002n, amount: 34n }),
    ]);
    expect(await bob.getAdjustment('adj_00000000000000000001')).toBeNull();

    await expect(alice.approveAdjustment(submitted.id)).rejects.toMatchObject({ code: 'forbidden' });
    expect(inner.calls).toEqual([]);

    const approved = await bob.approveAdjustment(submitted.id);
    expect(approved).toMatchObject({ status: 'approved', checker: 'ops-bob', results: [{ index: 0, result: 'ok' }, { index: 1, result: 'ok' }] });
    expect(inner.calledWith(Operation.create_transfers).map((c) => c.body)).toEqual([encodeTransfers(transfers)]);
    expect((await bob.getAdjustments({ status: 'approved' })).map((a) => a.id)).toEqual([submitted.id]);
  });

  it('rejects, lists by status and pages', async () => {
    const first = await alice.submitAdjustment({ transfers, reason: 'one' });
    const second = await alice.submitAdjustment({ transfers, reason: 'two' });
    const rejected = await bob.rejectAdjustment(first.id, 'not needed');
    expect(rejected).toMatchObject({ status: 'rejected', checker: 'ops-bob', rejectReason: 'not needed' });
    expect((await bob.getAdjustments({ status: 'pending' })).map((a) => a.id)).toEqual([second.id]);
    expect((await bob.getAdjustments()).map((a) => a.id)).toEqual([second.id, first.id]);
    expect((await bob.getAdjustments({ limit: 1, before: second.id })).map((a) => a.id)).toEqual([first.id]);
  });

  it('reads the audit log in pages, with who did what', async () => {
    const { id } = await alice.submitAdjustment({ transfers, reason: 'r' });
    await bob.approveAdjustment(id);
    const log = await bob.getAuditLog();
    const mine = log.filter((r) => r.detail.startsWith(id));
    expect(mine.map((r) => [r.keyId, r.operationName, r.code])).toEqual([
      ['ops-alice', 'submit_adjustment', 'ok'],
      ['ops-bob', 'approve_adjustment', 'ok'],
      ['ops-bob', 'approve_adjustment', 'ok'],
    ]);
    const page = await bob.getAuditLog({ after: log[0].seq, limit: 1 });
    expect(page.map((r) => r.seq)).toEqual([log[0].seq + 1]);
  });

  it('refuses bad input before sending', async () => {
    await expect(alice.submitAdjustment({ transfers: [], reason: 'r' })).rejects.toThrow(TypeError);
    await expect(alice.submitAdjustment({ transfers, reason: '' })).rejects.toThrow(TypeError);
    await expect(alice.approveAdjustment('' as string)).rejects.toThrow(TypeError);
  });

  it('passes server refusals through with their code', async () => {
    await expect(bob.approveAdjustment('adj_00000000000000000001')).rejects.toMatchObject({ code: 'body_invalid' });
    await expect(bob.getAdjustments({ status: 'done' as never })).rejects.toMatchObject({ code: 'body_invalid' });
  });
});
