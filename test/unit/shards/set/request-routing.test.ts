// Spec of the gateway's admission of transfer requests against cross-shard instructions waiting for receivers:
// a request is refused whole (`overloaded`, no part run) when one of its shards could fill its outbox before its
// part runs, counting what the relay holds from that shard and the events of its parts admitted and unanswered.

import { ShardControl } from '../../../../src/shards/shard/shard-messages.js';
import { describe, expect, it, vi } from 'vitest';
import { resultBytes } from '../../../../src/core/layout.js';
import { transitInstructionsAdmittedMax } from '../../../../src/core/limits.js';
import { WireOperation } from '../../../../src/core/operations.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { encodeAccountOperations, encodeAccounts, encodeTransfers } from '../../../../src/core/wire/records.js';
import { AccountDirectory } from '../../../../src/core/accounts/account-directory.js';
import { TallyError } from '../../../../src/core/errors.js';
import type { ShardHost } from '../../../../src/shards/shard/shard-host.js';
import { RequestRouting } from '../../../../src/shards/set/request-routing.js';
import { account, block, close, transfer } from '../../../support/ledger-fixtures.js';

/** A shard host that answers ok to every event once `release` is called (or at once when open). */
class FakeHost {
  runs = 0;
  readonly #waiting: (() => void)[] = [];
  open = true;
  tasksOutstanding = 0;

  constructor(readonly shardIndex: number) {}

  hasCapacity(): boolean {
    return true;
  }

  /** What directoryEntries answers (the shard's accounts), and whether the next run fails as a dead worker's would. */
  entries = new Uint8Array(0);
  failNext = false;
  /** The code the next run fails with (failNext). */
  failCode = 'shard_unavailable';
  entriesRead = 0;

  runInternal(): Promise<Uint8Array> {
    this.entriesRead++;
    return Promise.resolve(this.entries);
  }

  run(operation: number, body: Uint8Array): Promise<Uint8Array> {
    // The router's question about ids (ids-elsewhere-check.ts): none taken here; not a part of the request.
    if (operation === ShardControl.transferIdsTaken || operation === ShardControl.operationIdsTaken) return Promise.resolve(new Uint8Array(body.byteLength / 16));
    if (operation === ShardControl.eventVerdicts) return Promise.resolve(new Uint8Array((body.byteLength / 128) * 12));
    this.runs++;
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new TallyError(this.failCode as 'shard_unavailable', 'failed'));
    }
    const reply = new Uint8Array((body.byteLength / 128) * resultBytes);
    if (this.open) return Promise.resolve(reply);
    return new Promise((resolve) => this.#waiting.push(() => resolve(reply)));
  }

  releaseAll(): void {
    for (const answer of this.#waiting.splice(0)) answer();
  }
}

const idsOn = (shard: number, count: number): bigint[] => {
  const ids: bigint[] = [];
  for (let id = 1n; ids.length < count; id++) if (shardOfId(id, 2) === shard) ids.push(id);
  return ids;
};

function setUp(queuedFromShard1: number) {
  const hosts = [new FakeHost(0), new FakeHost(1)];
  const transit = { onOutbound: () => {}, outboundQueued: (from: number) => (from === 1 ? queuedFromShard1 : 0), landedOn: async () => true };
  const routing = new RequestRouting(hosts as unknown as ShardHost[], transit, { run: async () => {} }, { begun: false });
  const [payer0, payee0] = idsOn(0, 2);
  const [payer1] = idsOn(1, 1);
  /** `n0` transfers debiting a shard-0 account and `n1` debiting a shard-1 account (to shard 0: cross-shard). */
  const request = (n0: number, n1: number, first = 1n) =>
    encodeTransfers([
      ...Array.from({ length: n0 }, (_, i) => transfer(first + BigInt(i), payer0!, payee0!, 1n)),
      ...Array.from({ length: n1 }, (_, i) => transfer(first + 100_000n + BigInt(i), payer1!, payee0!, 1n)),
    ]);
  return { hosts, routing, request };
}

const codeOf = (error: unknown) => (error instanceof TallyError ? error.code : String(error));

describe('admission of transfer requests against instructions waiting for receivers', () => {
  it('refuses the whole request, no part run, when one shard is at the limit', async () => {
    const { hosts, routing, request } = setUp(transitInstructionsAdmittedMax - 5);
    await expect(routing.execute(WireOperation.create_transfers, request(3, 10)).catch(codeOf)).resolves.toBe('overloaded');
    expect(hosts.map((h) => h.runs)).toEqual([0, 0]);
    // Within the limit, and on the other shard alone, requests run.
    await expect(routing.execute(WireOperation.create_transfers, request(3, 5))).resolves.toBeInstanceOf(Uint8Array);
    await expect(routing.execute(WireOperation.create_transfers, request(50, 0, 500n))).resolves.toBeInstanceOf(Uint8Array);
    expect(hosts.map((h) => h.runs)).toEqual([2, 1]);
  });

  it('counts the events of parts admitted and not answered yet, and frees them with the answer', async () => {
    const { hosts, routing, request } = setUp(transitInstructionsAdmittedMax - 30);
    hosts[1]!.open = false;
    const first = routing.execute(WireOperation.create_transfers, request(0, 20));
    await expect(routing.execute(WireOperation.create_transfers, request(0, 20, 1000n)).catch(codeOf)).resolves.toBe('overloaded');
    hosts[1]!.releaseAll();
    await first;
    hosts[1]!.open = true;
    await expect(routing.execute(WireOperation.create_transfers, request(0, 20, 2000n))).resolves.toBeInstanceOf(Uint8Array);
  });

  it('leaves other writes alone', async () => {
    const { routing } = setUp(transitInstructionsAdmittedMax + 1);
    await expect(routing.execute(WireOperation.create_accounts, encodeAccounts([account(7n), account(8n)]))).resolves.toBeInstanceOf(Uint8Array);
  });
});

describe('a close or credit block, fenced against credits on their way (issue #14)', () => {
  function fenceSetUp() {
    const hosts = [new FakeHost(0), new FakeHost(1)];
    const landings: (() => void)[] = [];
    const transit = {
      onOutbound: () => {},
      outboundQueued: () => 0,
      landedOn: (shard: number) => new Promise<boolean>((resolve) => landings.push(() => resolve(shard === 0))),
    };
    const routing = new RequestRouting(hosts as unknown as ShardHost[], transit, { run: async () => {} }, { begun: false }, AccountDirectory.create(4, 64));
    const [payer, blocked] = idsOn(1, 2);
    const [payee, other] = idsOn(0, 2);
    const created = () => routing.execute(WireOperation.create_accounts, encodeAccounts([payer!, blocked!, payee!, other!].map((id) => account(id))));
    return { hosts, routing, landings, payer: payer!, payee: payee!, other: other!, blocked: blocked!, created };
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it('runs after the transfers answered before it and their credits landed, and holds transfers that pay the account', async () => {
    const { hosts, routing, landings, payer, payee, other, created } = fenceSetUp();
    await created();
    hosts.forEach((h) => (h.runs = 0));
    hosts[1]!.open = false;
    const before = routing.execute(WireOperation.create_transfers, encodeTransfers([transfer(1n, payer, payee, 5n)]));
    const closing = routing.execute(WireOperation.account_operations, encodeAccountOperations([close(9n, payee)]));
    await tick();
    expect(hosts[0]!.runs).toBe(0); // the close waits for the transfer in flight
    const paysIt = routing.execute(WireOperation.create_transfers, encodeTransfers([transfer(2n, payer, payee, 5n)]));
    const paysAnother = routing.execute(WireOperation.create_transfers, encodeTransfers([transfer(3n, payer, other, 5n)]));
    hosts[1]!.releaseAll();
    await before;
    await tick();
    expect(landings).toHaveLength(1); // now it waits for the credits to land on the payee's shard
    expect(hosts[0]!.runs).toBe(0);
    expect(hosts[1]!.runs).toBe(2); // the transfer to another account was not held; the one to the payee was
    landings[0]!();
    await closing;
    expect(hosts[0]!.runs).toBe(1);
    hosts[1]!.releaseAll();
    hosts[1]!.open = true;
    await Promise.all([paysIt, paysAnother]);
    expect(hosts[1]!.runs).toBe(3);
  });

  it('is refused overloaded, nothing run, when the credits do not land in time', async () => {
    const { hosts, routing, landings, payer, blocked, created } = fenceSetUp();
    await created();
    hosts.forEach((h) => (h.runs = 0));
    const blocking = routing.execute(WireOperation.account_operations, encodeAccountOperations([block(9n, blocked, 'credits')])).catch(codeOf);
    // The block waits for the credits to land (a busy machine may take more than one tick to get there).
    await vi.waitFor(() => expect(landings[0]).toBeDefined(), { timeout: 2_000, interval: 5 });
    landings[0]!(); // landedOn answers false for shard 1 in this fake: as if the wait ran out
    await expect(blocking).resolves.toBe('overloaded');
    expect(hosts.map((h) => h.runs)).toEqual([0, 0]);
    // The fence is gone: a transfer to the account runs.
    await routing.execute(WireOperation.create_transfers, encodeTransfers([transfer(4n, payer, blocked, 1n)]));
    expect(hosts[1]!.runs).toBe(1);
  });
});

describe('the account directory after a write that got no reply', () => {
  it('takes what the shard holds: an account created by a request that failed is a payee at once', async () => {
    const hosts = [new FakeHost(0), new FakeHost(1)];
    const transit = { onOutbound: () => {}, outboundQueued: () => 0, landedOn: async () => true };
    const directory = AccountDirectory.create(4, 64);
    const routing = new RequestRouting(hosts as unknown as ShardHost[], transit, { run: async () => {} }, { begun: false }, directory);
    const [created] = idsOn(1, 1);
    // The worker committed the account, then died before its reply: the shard now lists it.
    const entry = new Uint8Array(28); // id, ledger, status, flags (directory-updates.ts accountEntries)
    const view = new DataView(entry.buffer);
    view.setBigUint64(0, created! & 0xffff_ffff_ffff_ffffn, true);
    view.setBigUint64(8, created! >> 64n, true);
    view.setUint32(16, 1, true);
    hosts[1]!.entries = entry;
    hosts[1]!.failNext = true;
    await expect(routing.execute(WireOperation.create_accounts, encodeAccounts([account(created!)])).catch(codeOf)).resolves.toBe('shard_unavailable');
    expect(directory.findAt(view, 0)).toEqual({ ledger: 1, status: 0 });
  });

  it('reads nothing back after a refusal, which applied nothing', async () => {
    const hosts = [new FakeHost(0), new FakeHost(1)];
    const transit = { onOutbound: () => {}, outboundQueued: () => 0, landedOn: async () => true };
    const routing = new RequestRouting(hosts as unknown as ShardHost[], transit, { run: async () => {} }, { begun: false }, AccountDirectory.create(4, 64));
    const [created] = idsOn(1, 1);
    hosts[1]!.failNext = true;
    hosts[1]!.failCode = 'overloaded';
    await expect(routing.execute(WireOperation.create_accounts, encodeAccounts([account(created!)])).catch(codeOf)).resolves.toBe('overloaded');
    expect(hosts.map((h) => h.entriesRead)).toEqual([0, 0]);
  });
});

describe('a quiet instant (day cut, snapshot barrier: issue #14)', () => {
  it('waits for the transfer requests in flight, holds new ones, then lets them start in the order they came', async () => {
    const { hosts, routing, request } = setUp(0);
    hosts[0]!.open = false;
    const inFlight = routing.execute(WireOperation.create_transfers, request(1, 0, 1n));
    let quietRan = false;
    let inFlightDone = false;
    void inFlight.then(() => (inFlightDone = true));
    const quiet = routing.quiet(5_000, async (settled) => {
      quietRan = true;
      // Every request that came before is answered; none that came after has reached a shard.
      expect(settled).toBe(true);
      expect(inFlightDone).toBe(true);
      expect(hosts[0]!.runs).toBe(1);
      return 'cut';
    });
    const order: number[] = [];
    const later = [2n, 3n, 4n].map((first) => routing.execute(WireOperation.create_transfers, request(1, 0, first * 10n)).then(() => order.push(Number(first))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(quietRan).toBe(false);
    hosts[0]!.open = true;
    hosts[0]!.releaseAll();
    await expect(quiet).resolves.toBe('cut');
    await Promise.all(later);
    expect(order).toEqual([2, 3, 4]);
    expect(hosts[0]!.runs).toBe(4);
  });

  it('goes ahead, told so, when a request in flight does not end within the wait', async () => {
    const { hosts, routing, request } = setUp(0);
    hosts[0]!.open = false;
    const stuck = routing.execute(WireOperation.create_transfers, request(1, 0, 1n));
    await expect(routing.quiet(30, async (settled) => settled)).resolves.toBe(false);
    hosts[0]!.releaseAll();
    await stuck;
  });
});
