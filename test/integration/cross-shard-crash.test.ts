// Cross-shard transfers on real worker threads and LMDB stores while shard threads are killed in the
// middle of traffic (run `npm run build` first: the workers load dist/). 4 shards, every transfer from a
// funded payer on one shard to a payee on another, in linked chains and alone; threads of random shards
// crashed (crash-orders.ts) while batches and credits are in flight; then everything settles.
//
// Invariants checked afterwards:
//  1. Every acknowledged transfer is present exactly once on its debit shard, and its credit landed
//     exactly once (the payee's history holds it once) — none is returned: every payee is open.
//  2. Transit nets to zero for every shard pair; per-account balances equal the acknowledged transfers
//     plus those whose outcome was unknown (shard_unavailable) and that did land — never half of one.
//  3. Total debits = total credits over every account, transit included (conservation across shards).
//  4. A restart of the whole shard set answers every balance identically (journals replay to the same state).

import { describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeHistoryEntries, decodeResults, decodeTransferStates, encodeAccounts, encodeHistoryFilter, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { TransferFlags } from '../../src/core/types.js';
import { crashThread } from '../../src/shards/shard/crash-orders.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';

const shardCount = 4;
const ledger = 1;
const { start } = useShardSets('tally-xshard-', { shardCount, transit: fastTransit });
const idsOn = (shard: number, count: number, from: bigint): bigint[] => idsOnShard(shard, count, from, shardCount);

async function balancesOf(set: ShardSet, ids: readonly bigint[]): Promise<Map<bigint, { debits: bigint; credits: bigint }>> {
  const states = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds(ids)));
  return new Map(states.map((a) => [a.id, { debits: a.debitsPosted, credits: a.creditsPosted }]));
}

describe('cross-shard transfers while shard threads are killed', () => {
  it('deliver every acknowledged credit exactly once and conserve money, transit included', async () => {
    const set = await start();
    const payers = Array.from({ length: shardCount }, (_, s) => idsOn(s, 2, 1n)).flat();
    const payees = Array.from({ length: shardCount }, (_, s) => idsOn(s, 2, 10_000n)).flat();
    const funders = Array.from({ length: shardCount }, (_, s) => idsOn(s, 1, 50_000n)[0]!);
    const accounts = [...payers, ...payees, ...funders];
    const created = decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 })))));
    expect(created.every((r) => r.result === 'ok')).toBe(true);
    // Fund payers from a funder on their own shard (no transit involved).
    const funding = payers.map((p, i) => ({ id: 900_000n + BigInt(i), debitAccountId: funders[shardOfId(p, shardCount)]!, creditAccountId: p, amount: 1_000_000n, ledger, code: 1 }));
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(funding))).every((r) => r.result === 'ok')).toBe(true);

    let nextId = 1_000_000n;
    let kills = 0;
    const sent: { transfers: TransferInput[]; outcome: Promise<string[]> }[] = [];
    const crossPayee = (payer: bigint, k: number): bigint => {
      const others = payees.filter((p) => shardOfId(p, shardCount) !== shardOfId(payer, shardCount));
      return others[k % others.length]!;
    };
    for (let round = 0; round < 30; round++) {
      for (const [k, payer] of payers.entries()) {
        // Alone, or a linked chain of two credits to two other shards from the same payer.
        const chain = round % 3 === 0;
        const transfers: TransferInput[] = chain
          ? [
              { id: nextId++, debitAccountId: payer, creditAccountId: crossPayee(payer, k + round), amount: 3n, ledger, code: 1, flags: TransferFlags.linked },
              { id: nextId++, debitAccountId: payer, creditAccountId: crossPayee(payer, k + round + 1), amount: 4n, ledger, code: 1 },
            ]
          : [{ id: nextId++, debitAccountId: payer, creditAccountId: crossPayee(payer, k + round), amount: BigInt(1 + ((k + round) % 7)), ledger, code: 1 }];
        const outcome = set.execute(Operation.create_transfers, encodeTransfers(transfers)).then(
          (reply) => decodeResults(reply).map((r) => r.result as string),
          (error: { code?: string }) => transfers.map(() => error.code ?? 'error'),
        );
        sent.push({ transfers, outcome });
      }
      if (round % 5 === 2) {
        const victim = set.hosts[round % shardCount]!.threads[0];
        if (victim !== undefined) {
          await crashThread(victim);
          kills++;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const outcomes = await Promise.all(sent.map((s) => s.outcome));
    expect(kills).toBeGreaterThanOrEqual(4);
    const allowed = new Set(['ok', 'shard_unavailable', 'overloaded']);
    expect(outcomes.flat().every((o) => allowed.has(o))).toBe(true);
    // A chain is all or nothing on its debit shard.
    for (const results of outcomes) expect(new Set(results).size).toBe(1);

    await set.transit.idle(30_000);
    // Which transfers exist: acknowledged ones must; unknown ones may (but then wholly).
    const transfers = sent.flatMap((s) => s.transfers);
    const found = new Map(decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds(transfers.map((t) => t.id)))).map((t) => [t.id, t]));
    sent.forEach((s, i) => {
      const present = s.transfers.map((t) => found.has(t.id));
      if (outcomes[i]![0] === 'ok') expect(present.every(Boolean)).toBe(true);
      expect(new Set(present).size).toBe(1); // a chain never half present
    });
    const landed = transfers.filter((t) => found.has(t.id));
    expect(landed.every((t) => found.get(t.id)!.status === 'posted')).toBe(true);

    // Balances equal exactly the transfers that exist; every credit landed once.
    const expected = new Map<bigint, { debits: bigint; credits: bigint }>(accounts.map((id) => [id, { debits: 0n, credits: 0n }]));
    for (const t of [...funding, ...landed]) {
      expected.get(t.debitAccountId)!.debits += t.amount;
      expected.get(t.creditAccountId)!.credits += t.amount;
    }
    expect(await balancesOf(set, accounts)).toEqual(expected);
    for (const payee of payees) {
      const lines = decodeHistoryEntries(await set.execute(Operation.get_account_transfers, encodeHistoryFilter({ accountId: payee, limit: 8190 })));
      const ids = lines.map((l) => l.transfer.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(landed.filter((t) => t.creditAccountId === payee).map((t) => t.id).sort());
    }

    // Transit nets to zero for every pair; debits = credits over everything.
    const transitIds: bigint[] = [];
    for (let from = 0; from < shardCount; from++) {
      for (let to = 0; to < shardCount; to++) {
        if (from === to) continue;
        transitIds.push(systemAccountId(SystemAccountKind.transitOut, ledger, from, to, shardCount), systemAccountId(SystemAccountKind.transitIn, ledger, from, to, shardCount));
      }
    }
    const transit = await balancesOf(set, transitIds);
    for (let i = 0; i < transitIds.length; i += 2) {
      const out = transit.get(transitIds[i]!) ?? { debits: 0n, credits: 0n };
      const into = transit.get(transitIds[i + 1]!) ?? { debits: 0n, credits: 0n };
      expect(out.credits - out.debits).toBe(into.debits - into.credits);
    }
    const everything = [...(await balancesOf(set, accounts)).values(), ...transit.values()];
    expect(everything.reduce((s, b) => s + b.debits, 0n)).toBe(everything.reduce((s, b) => s + b.credits, 0n));

    // The journals replay to the same state.
    const before = await balancesOf(set, [...accounts, ...transitIds]);
    await set.close();
    const again = await start();
    expect(await balancesOf(again, [...accounts, ...transitIds])).toEqual(before);
  });
});
