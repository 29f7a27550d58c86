// Spec of the gateway's admission of transfer requests against cross-shard instructions waiting for receivers:
// a request is refused whole (`overloaded`, no part run) when one of its shards could fill its outbox before its
// part runs, counting what the relay holds from that shard and the events of its parts admitted and unanswered.

import { describe, expect, it } from 'vitest';
import { resultBytes } from '../../../../src/core/layout.js';
import { transitInstructionsAdmittedMax } from '../../../../src/core/limits.js';
import { WireOperation } from '../../../../src/core/operations.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { encodeAccounts, encodeTransfers } from '../../../../src/core/wire/records.js';
import { TallyError } from '../../../../src/core/errors.js';
import type { ShardHost } from '../../../../src/shards/shard/shard-host.js';
import { RequestRouting } from '../../../../src/shards/set/request-routing.js';
import { account, transfer } from '../../../support/ledger-fixtures.js';

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

  run(_operation: number, body: Uint8Array): Promise<Uint8Array> {
    this.runs++;
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
  const transit = { onOutbound: () => {}, outboundQueued: (from: number) => (from === 1 ? queuedFromShard1 : 0) };
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
