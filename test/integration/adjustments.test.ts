// Adjustments (调账) on a real shard set (worker threads, LMDB; run `npm run build` first): a pending
// adjustment moves no money, the maker cannot approve it, another key's approval moves it exactly once (also
// across shards, and after a restart of everything), and a rejected one never moves it.

import { afterEach, describe, expect, it } from 'vitest';
import { encodeAdminJson, encodeSubmissionBody } from '../../src/core/wire/admin-bodies.js';
import type { Adjustment } from '../../src/core/admin/adjustments.js';
import type { AuditRecord } from '../../src/core/admin/audit-log.js';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, encodeAccounts, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { AccountFlags } from '../../src/core/types.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { sliceAccountId } from '../../src/core/hot/hot-outbound.js';
import { AdminService } from '../../src/admin/admin-service.js';
import type { Caller } from '../../src/gateway/ledger-service.js';
import { AdminStore } from '../../src/admin/admin-store.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 2;
const fixture = useShardSets('tally-adjustments-', { shardCount, transit: fastTransit });
const stores: AdminStore[] = [];

// Registered after the fixture's hooks, so it runs first: stores close before the directory goes.
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

const maker: Caller = { keyId: 'ops-alice', scopes: new Set(['admin']) };
const checker: Caller = { keyId: 'ops-bob', scopes: new Set(['admin']) };
const CNY = 156;

// Two customers on shard 0, one on shard 1, and an equity account that funds them.
const [equity, payer, payeeNear] = idsOnShard(0, 3, 1n, shardCount);
const [payeeFar] = idsOnShard(1, 1, 1n, shardCount);

async function startAdmin(set: ShardSet): Promise<AdminService> {
  const store = AdminStore.open(fixture.dataDir);
  stores.push(store);
  return new AdminService(set, store);
}

async function openBooks(service: AdminService): Promise<void> {
  const accounts = [
    { id: equity, ledger: CNY, code: 7 },
    { id: payer, ledger: CNY, code: 1, flags: AccountFlags.debits_must_not_exceed_credits },
    { id: payeeNear, ledger: CNY, code: 1 },
    { id: payeeFar, ledger: CNY, code: 1 },
  ];
  expect(decodeResults(await service.execute(Operation.create_accounts, encodeAccounts(accounts))).map((r) => r.result)).toEqual(['ok', 'ok', 'ok', 'ok']);
  const funding = encodeTransfers([{ id: 1n, debitAccountId: equity, creditAccountId: payer, amount: 1_000n, ledger: CNY, code: 1 }]);
  expect(decodeResults(await service.execute(Operation.create_transfers, funding))[0].result).toBe('ok');
}

async function balances(service: AdminService): Promise<Record<string, bigint>> {
  const states = decodeAccountStates(await service.execute(Operation.lookup_accounts, encodeIds([payer, payeeNear, payeeFar])));
  const net = (id: bigint) => {
    const account = states.find((a) => a.id === id)!;
    return account.creditsPosted + (account.creditsBuffered ?? 0n) - account.debitsPosted;
  };
  return { payer: net(payer), payeeNear: net(payeeNear), payeeFar: net(payeeFar) };
}

async function json<T>(service: AdminService, operation: number, body: Uint8Array, caller: Caller): Promise<T> {
  return JSON.parse(new TextDecoder().decode(await service.execute(operation, body, caller))) as T;
}

const adjustmentTransfers: TransferInput[] = [
  { id: 501n, debitAccountId: payer, creditAccountId: payeeNear, amount: 300n, ledger: CNY, code: 9 },
  { id: 502n, debitAccountId: payer, creditAccountId: payeeFar, amount: 200n, ledger: CNY, code: 9 },
];

const submit = (service: AdminService, transfers = adjustmentTransfers) =>
  json<Adjustment>(service, Operation.submit_adjustment, encodeSubmissionBody({ reason: 'merchant refund, ticket 7781' }, encodeTransfers(transfers)), maker);

/** Cross-shard credits land a moment after the reply: wait until the far payee shows `amount`. */
async function settled(service: AdminService, expected: Record<string, bigint>): Promise<void> {
  await expect.poll(() => balances(service), { timeout: 10_000, interval: 20 }).toEqual(expected);
}

describe('adjustments on a real shard set', () => {
  it('a pending adjustment moves nothing; self-approval is forbidden; another key moves the money once', async () => {
    const service = await startAdmin(await fixture.start());
    await openBooks(service);
    const before = { payer: 1_000n, payeeNear: 0n, payeeFar: 0n };
    expect(await balances(service)).toEqual(before);

    const { id, status } = await submit(service);
    expect(status).toBe('pending');
    expect(await balances(service)).toEqual(before);

    await expect(service.execute(Operation.approve_adjustment, encodeAdminJson({ id }), maker)).rejects.toMatchObject({ code: 'forbidden' });
    expect(await balances(service)).toEqual(before);

    const approved = await json<Adjustment>(service, Operation.approve_adjustment, encodeAdminJson({ id }), checker);
    expect(approved).toMatchObject({ status: 'approved', maker: 'ops-alice', checker: 'ops-bob', results: [{ index: 0, result: 'ok' }, { index: 1, result: 'ok' }] });
    await settled(service, { payer: 500n, payeeNear: 300n, payeeFar: 200n });

    await expect(service.execute(Operation.approve_adjustment, encodeAdminJson({ id }), { keyId: 'ops-carol', scopes: new Set(['admin']) })).rejects.toMatchObject({ code: 'body_invalid' });
    expect(await balances(service)).toEqual({ payer: 500n, payeeNear: 300n, payeeFar: 200n });
  });

  it('a rejected adjustment never moves money', async () => {
    const service = await startAdmin(await fixture.start());
    await openBooks(service);
    const { id } = await submit(service);
    await json<Adjustment>(service, Operation.reject_adjustment, encodeAdminJson({ id, reason: 'duplicate of an earlier refund' }), checker);
    await expect(service.execute(Operation.approve_adjustment, encodeAdminJson({ id }), checker)).rejects.toMatchObject({ code: 'body_invalid' });
    expect(await balances(service)).toEqual({ payer: 1_000n, payeeNear: 0n, payeeFar: 0n });
  });

  it('an approval the ledger refuses in part is approved with its results: the checker sees what posted', async () => {
    const service = await startAdmin(await fixture.start());
    await openBooks(service);
    const tooMuch: TransferInput[] = [adjustmentTransfers[0], { ...adjustmentTransfers[1], amount: 5_000n }];
    const { id } = await submit(service, tooMuch);
    const approved = await json<Adjustment>(service, Operation.approve_adjustment, encodeAdminJson({ id }), checker);
    expect(approved.results).toEqual([{ index: 0, result: 'ok' }, { index: 1, result: 'insufficient_funds' }]);
    expect(await balances(service)).toEqual({ payer: 700n, payeeNear: 300n, payeeFar: 0n });
  });

  it('keeps pending adjustments and the audit log across a restart; approving after it moves the money', async () => {
    let set = await fixture.start();
    let service = await startAdmin(set);
    await openBooks(service);
    const { id } = await submit(service);
    await stores.splice(0)[0].close();
    set = await fixture.restart(set);
    service = await startAdmin(set);
    expect(await balances(service)).toEqual({ payer: 1_000n, payeeNear: 0n, payeeFar: 0n });
    await json<Adjustment>(service, Operation.approve_adjustment, encodeAdminJson({ id }), checker);
    await settled(service, { payer: 500n, payeeNear: 300n, payeeFar: 200n });
    const log = await json<AuditRecord[]>(service, Operation.get_audit_log, encodeAdminJson({}), checker);
    expect(log.map((r) => [r.seq, r.keyId, r.operationName, r.code])).toEqual([
      [1, 'ops-alice', 'submit_adjustment', 'ok'],
      [2, 'ops-bob', 'approve_adjustment', 'ok'],
      [3, 'ops-bob', 'approve_adjustment', 'ok'],
    ]);
  });

  it("may name a suspense account, which a caller's transfer may not; never a slice", async () => {
    const service = await startAdmin(await fixture.start());
    await openBooks(service);
    const suspense = systemAccountId(SystemAccountKind.suspense, CNY, 1, 1, shardCount);
    const fromSuspense: TransferInput = { id: 601n, debitAccountId: suspense, creditAccountId: payeeFar, amount: 5n, ledger: CNY, code: 9 };
    const asCaller = decodeResults(await service.execute(Operation.create_transfers, encodeTransfers([fromSuspense])));
    expect(asCaller.map((r) => r.result)).toEqual(['account_id_invalid']);
    // The adjustment reaches the ledger: no return ever went to this suspense account, so it was never opened.
    const { id } = await submit(service, [{ ...fromSuspense, id: 602n }]);
    const approved = await json<Adjustment>(service, Operation.approve_adjustment, encodeAdminJson({ id }), checker);
    expect(approved.results).toEqual([{ index: 0, result: 'account_not_found' }]);
    const slice = sliceAccountId(payer, 1, shardCount);
    await expect(submit(service, [{ ...fromSuspense, id: 603n, debitAccountId: slice }])).rejects.toMatchObject({ code: 'body_invalid', message: expect.stringMatching(/account_id_invalid/) });
  });
});
