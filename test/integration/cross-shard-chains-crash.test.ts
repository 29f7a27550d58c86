// Linked chains whose transfers debit accounts on several shards, on real worker threads and LMDB stores,
// while shard threads are killed in the middle of traffic (run `npm run build` first: the workers load
// dist/). 4 shards, no-overdraft payers on every shard; requests carry chains debiting two or three shards
// (some with a leg over its payer's balance, so rounds abort), two-phase chains (holds on several shards,
// then a chain that posts some and voids others), and plain transfers, from a few clients that each wait
// for their answer (many small groups). Threads of random shards crash meanwhile (crash-orders.ts), so kills land
// before, during and after votes, decisions and commits.
//
// Invariants checked afterwards:
//  1. Atomicity: every chain sent (acknowledged or not) exists wholly or not at all. An acknowledged
//     chain exists iff every result is ok; a failed one has exactly one result other than
//     linked_event_failed. Holds on several shards are posted/voided together or stay pending together.
//  2. Balances (posted and pending) equal exactly the transfers that exist; transit nets to zero for
//     every shard pair once settled; total debits = total credits, posted and pending.
//  3. No shard is stuck: after the kills a cross-shard chain commits, and the coordinator's stats show
//     its groups and aborted rounds.
//  4. A restart of the whole shard set answers every balance and transfer lookup identically.
// And, deterministically: a vote left in doubt by a whole shutdown is aborted at the next start when the
// chain log holds no commit for its group, and committed on every voter when it does.
//
// TALLY_PROPERTY_SEED replays a traffic mix (kill timing stays the scheduler's); the seed is in failures.

import { describe, expect, it } from 'vitest';
import { eventBytes } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import { encodePrepare } from '../../src/core/chains/prepared-chains.js';
import { ResultCode } from '../../src/core/result-codes.js';
import {
  decodeAccountStates,
  decodeResults,
  decodeTransferStates,
  encodeAccounts,
  encodeIds,
  encodeTransfers,
  type TransferInput,
} from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { AccountFlags, TransferFlags, type TransferState } from '../../src/core/types.js';
import { ChainLog } from '../../src/shards/chains/chain-log.js';
import { crashThread } from '../../src/shards/shard/crash-orders.js';
import { ShardControl } from '../../src/shards/shard/shard-messages.js';
import type { ShardSet } from '../../src/shards/set/shard-set.js';
import { fastTransit, idsOnShard, useShardSets } from '../support/shard-set-fixture.js';
import { mulberry32 } from '../support/prng.js';

const shardCount = 4;
const ledger = 1;
const funding = 1_000_000n;
// Days end only on command: a cut at start would queue behind a vote held in doubt and blur the timing.
const sets = useShardSets('tally-xchains-', { shardCount, transit: fastTransit, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false } });
const { start, restart } = sets;
const idsOn = (shard: number, count: number, from: bigint): bigint[] => idsOnShard(shard, count, from, shardCount);

interface Balance {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

const zero = (): Balance => ({ debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n });

async function balancesOf(set: ShardSet, ids: readonly bigint[]): Promise<Map<bigint, Balance>> {
  const states = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds(ids)));
  return new Map(states.map((a) => [a.id, { debitsPosted: a.debitsPosted, creditsPosted: a.creditsPosted, debitsPending: a.debitsPending, creditsPending: a.creditsPending }]));
}

/** Every transfer of `ids` that exists, by id (a transfer lives on its debit shard: the lookup asks all). */
async function transfersOf(set: ShardSet, ids: readonly bigint[]): Promise<Map<bigint, TransferState>> {
  const found = new Map<bigint, TransferState>();
  for (let at = 0; at < ids.length; at += 4096) {
    for (const t of decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds(ids.slice(at, at + 4096))))) found.set(t.id, t);
  }
  return found;
}

/** Both halves of every ordered pair's transit account: [out, in] for (from, to). */
function transitPairs(): [bigint, bigint][] {
  const pairs: [bigint, bigint][] = [];
  for (let from = 0; from < shardCount; from++) {
    for (let to = 0; to < shardCount; to++) {
      if (from !== to) pairs.push([systemAccountId(SystemAccountKind.transitOut, ledger, from, to, shardCount), systemAccountId(SystemAccountKind.transitIn, ledger, from, to, shardCount)]);
    }
  }
  return pairs;
}

/** Links every transfer to the next but the last: one chain. */
function linked(transfers: TransferInput[]): TransferInput[] {
  return transfers.map((t, k) => (k < transfers.length - 1 ? { ...t, flags: (t.flags ?? 0) | TransferFlags.linked } : t));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A chain (a plain transfer is a chain of one) and the outcome of the request that carried it. */
interface SentChain {
  transfers: TransferInput[];
  /** One result name per transfer, or the request's error code for each (outcome unknown). */
  outcome: Promise<string[]>;
}

/** Outcomes a request may reject with while threads die: the caller does not know what happened. */
const unknownOutcome = new Set(['shard_unavailable', 'overloaded']);

describe('cross-shard linked chains while shard threads are killed', () => {
  it('keep every chain all-or-nothing, balances exact and every shard serving', async () => {
    const seed = process.env.TALLY_PROPERTY_SEED === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(process.env.TALLY_PROPERTY_SEED);
    const why = `seed ${seed}`;

    const set = await start();
    const payersOn = Array.from({ length: shardCount }, (_, s) => idsOn(s, 3, 1n));
    const payees = Array.from({ length: shardCount }, (_, s) => idsOn(s, 2, 10_000n)).flat();
    const funders = Array.from({ length: shardCount }, (_, s) => idsOn(s, 1, 50_000n)[0]!);
    const payers = payersOn.flat();
    const accounts = [...payers, ...payees, ...funders];
    // Payers may not overdraw: a leg over the balance fails its chain (insufficient_funds), and its round aborts.
    const accountInputs = [
      ...payers.map((id) => ({ id, ledger, code: 1, flags: AccountFlags.debits_must_not_exceed_credits })),
      ...[...payees, ...funders].map((id) => ({ id, ledger, code: 1 })),
    ];
    expect(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accountInputs))).every((r) => r.result === 'ok')).toBe(true);
    const fund = payers.map((p, i) => ({ id: 900_000n + BigInt(i), debitAccountId: funders[shardOfId(p, shardCount)]!, creditAccountId: p, amount: funding, ledger, code: 1 }));
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(fund))).every((r) => r.result === 'ok')).toBe(true);

    const sent: SentChain[] = [];
    /** Post or void chains, by the hold chain they decide. */
    const decidedBy = new Map<SentChain, SentChain>();
    const send = (chains: TransferInput[][]): SentChain[] => {
      const transfers = chains.flat();
      const outcome = set.execute(Operation.create_transfers, encodeTransfers(transfers)).then(
        (reply) => decodeResults(reply).map((r) => r.result as string),
        (error: { code?: string }) => transfers.map(() => error.code ?? String(error)),
      );
      let at = 0;
      return chains.map((chain) => {
        const from = at;
        at += chain.length;
        const one = { transfers: chain, outcome: outcome.then((results) => results.slice(from, from + chain.length)) };
        sent.push(one);
        return one;
      });
    };

    // A few clients, each waiting for its answer before the next request: many small groups, so kills land
    // at every step of the protocol (prepare, vote durable, commit logged, decision delivered, commit durable).
    const clients = 4;
    const requestsPerClient = 30;
    const client = async (c: number): Promise<void> => {
      const random = mulberry32(seed + c);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      let nextId = 1_000_000n * BigInt(c + 1);
      /** One leg per shard of `shards`, each from a payer of that shard to any payee; one leg over its balance when failing. */
      const legs = (shards: readonly number[], flags: number, failing: boolean): TransferInput[] => {
        const over = failing ? Math.floor(random() * shards.length) : -1;
        return shards.map((shard, k) => {
          const amount = k === over ? funding * 10n : BigInt(1 + Math.floor(random() * 9));
          return { id: nextId++, debitAccountId: pick(payersOn[shard]!), creditAccountId: pick(payees), amount, ledger, code: 1, flags };
        });
      };
      /** Two or three distinct shards, in random order (a chain's events need not follow shard order). */
      const someShards = (): number[] => [0, 1, 2, 3].sort(() => random() - 0.5).slice(0, random() < 0.5 ? 2 : 3);
      for (let k = 0; k < requestsPerClient; k++) {
        if (random() < 0.25) {
          // Two-phase: holds on several shards in one chain; once answered, one chain posts some and voids the rest.
          const holds = linked(legs(someShards(), TransferFlags.pending, random() < 1 / 8));
          const decide = holds.map((hold, h) => {
            const post = h === 0 || (h < holds.length - 1 && random() < 0.5); // at least one post and one void
            const amount = post && random() < 0.5 ? 1n : 0n; // in part, or whole (0)
            const flags = post ? TransferFlags.post_pending : TransferFlags.void_pending;
            return { id: nextId++, debitAccountId: hold.debitAccountId, creditAccountId: hold.creditAccountId, amount, pendingId: hold.id, ledger, code: 1, flags };
          });
          const [held] = send([holds]);
          await held!.outcome;
          const [decided] = send([linked(decide)]);
          decidedBy.set(held!, decided!);
          await decided!.outcome;
        } else {
          // One or two cross-shard chains, one in six with a leg over its balance; sometimes a plain transfer beside them.
          const chains = Array.from({ length: random() < 0.5 ? 1 : 2 }, () => linked(legs(someShards(), 0, random() < 1 / 6)));
          if (random() < 0.3) chains.push(legs([Math.floor(random() * shardCount)], 0, false));
          await Promise.all(send(chains.sort(() => random() - 0.5)).map((one) => one.outcome));
        }
      }
    };

    // Kills run beside the traffic: every 80..240 ms the thread of a random shard crashes (piscina starts a fresh
    // one, which replays its journal; a vote found in doubt waits for the coordinator's decision). At most
    // killsMax: each kill stalls the chains waiting on that shard, so unbounded kills slow the traffic they hit.
    let trafficDone = false;
    let kills = 0;
    const killsMax = 40;
    const killer = (async () => {
      while (!trafficDone && kills < killsMax) {
        await sleep(80 + Math.random() * 160);
        const victim = set.hosts[Math.floor(Math.random() * shardCount)]!.threads[0];
        if (victim === undefined) continue;
        await crashThread(victim);
        kills++;
      }
    })();
    try {
      await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    } finally {
      trafficDone = true;
      await killer;
    }
    expect(kills, why).toBeGreaterThanOrEqual(5);
    const outcomes = await Promise.all(sent.map((s) => s.outcome));

    // 1. Atomicity, acknowledged or not.
    await set.transit.idle(30_000);
    const found = await transfersOf(set, sent.flatMap((s) => s.transfers.map((t) => t.id)));
    let committed = 0;
    let failed = 0;
    sent.forEach((s, i) => {
      const results = outcomes[i]!;
      const present = s.transfers.map((t) => found.has(t.id));
      const detail = `${why}: chain ${s.transfers.map((t) => t.id).join(',')} answered ${results.join(',')}, present ${present.join(',')}`;
      expect(results.every((r) => r in ResultCode || unknownOutcome.has(r)), detail).toBe(true);
      expect(new Set(present).size, detail).toBe(1); // never half a chain
      if (results.every((r) => unknownOutcome.has(r))) return; // outcome unknown: whole or nothing is all that is promised
      if (results.every((r) => r === 'ok')) {
        expect(present[0], detail).toBe(true);
        committed++;
        return;
      }
      expect(present[0], detail).toBe(false);
      const causes = results.filter((r) => r !== 'linked_event_failed');
      expect(causes, detail).toHaveLength(1);
      expect(['insufficient_funds', 'pending_not_found'], detail).toContain(causes[0]);
      failed++;
    });
    expect(committed, why).toBeGreaterThan(0);
    expect(failed, why).toBeGreaterThan(0);
    // Two-phase across shards: a hold chain's holds are decided together, by its post/void chain or not at all.
    for (const [holds, decided] of decidedBy) {
      const after = decided.transfers.map((t) => found.has(t.id));
      const statuses = holds.transfers.map((t) => found.get(t.id)?.status);
      const detail = `${why}: holds ${holds.transfers.map((t) => t.id).join(',')} are ${statuses.join(',')}, decided ${after.join(',')}`;
      if (after[0]) {
        expect(statuses, detail).toEqual(decided.transfers.map((t) => ((t.flags ?? 0) & TransferFlags.post_pending ? 'pending_posted' : 'pending_voided')));
      } else if (found.has(holds.transfers[0]!.id)) {
        expect(statuses.every((status) => status === 'pending'), detail).toBe(true);
      }
      // Holds that committed with an answer, decided with an answer: the decision commits.
      const [holdResults, decideResults] = [await holds.outcome, await decided.outcome];
      if (holdResults.every((r) => r === 'ok') && !decideResults.every((r) => unknownOutcome.has(r))) expect(decideResults.every((r) => r === 'ok'), detail).toBe(true);
    }

    // 2. Balances are exactly the transfers that exist (holds still open count as pending).
    const expected = new Map<bigint, Balance>(accounts.map((id) => [id, zero()]));
    const existing: TransferInput[] = [...fund, ...sent.flatMap((s) => s.transfers).filter((t) => found.has(t.id))];
    for (const input of existing) {
      const t = found.get(input.id);
      const kind = (input.flags ?? 0) & ~TransferFlags.linked;
      const debit = expected.get(input.debitAccountId)!;
      const credit = expected.get(input.creditAccountId)!;
      if (kind === TransferFlags.pending) {
        if (t!.status !== 'pending') continue; // posted or voided: the post carries what moved
        debit.debitsPending += t!.amount;
        // A hold shows on its payee wherever it lives (across shards, once its hold instruction landed: settled here).
        credit.creditsPending += t!.amount;
      } else if (kind !== TransferFlags.void_pending) {
        const amount = t?.amount ?? input.amount; // a post of 0 moved the whole hold
        debit.debitsPosted += amount;
        credit.creditsPosted += amount;
      }
    }
    expect(await balancesOf(set, accounts), why).toEqual(expected);
    const transit = await balancesOf(set, transitPairs().flat());
    for (const [out, into] of transitPairs()) {
      const o = transit.get(out) ?? zero();
      const n = transit.get(into) ?? zero();
      expect(o.creditsPosted - o.debitsPosted, why).toBe(n.debitsPosted - n.creditsPosted);
    }
    const everything = [...expected.values(), ...transit.values()];
    const sum = (field: keyof Balance): bigint => everything.reduce((s, b) => s + b[field], 0n);
    expect(sum('debitsPosted'), why).toBe(sum('creditsPosted'));
    expect(sum('debitsPending'), why).toBe(sum('creditsPending'));

    // 3. Nothing is stuck: a chain over every shard commits; the stats saw groups and aborted rounds.
    const last = linked([0, 1, 2, 3].map((shard, k) => ({ id: 9_000_000n + BigInt(k), debitAccountId: payersOn[shard]![0]!, creditAccountId: payees[k]!, amount: 1n, ledger, code: 1 })));
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(last))).map((r) => r.result), why).toEqual(['ok', 'ok', 'ok', 'ok']);
    const stats = set.chainStats();
    expect(stats.groups, why).toBeGreaterThan(0);
    expect(stats.roundsAborted, why).toBeGreaterThan(0);
    expect(stats.chainsCommitted, why).toBeGreaterThan(0);
    expect(stats.chainsFailed, why).toBeGreaterThan(0);

    // 4. The journals (and the chain log) replay to the same state.
    await set.transit.idle(30_000);
    const ids = [...fund, ...sent.flatMap((s) => s.transfers), ...last].map((t) => t.id);
    const everyAccount = [...accounts, ...transitPairs().flat()];
    const balancesBefore = await balancesOf(set, everyAccount);
    const transfersBefore = await transfersOf(set, ids);
    const again = await restart(set);
    await again.transit.idle(30_000);
    expect(await balancesOf(again, everyAccount), why).toEqual(balancesBefore);
    expect(await transfersOf(again, ids), why).toEqual(transfersBefore);
  });

  it('decides a vote left in doubt by a shutdown from the chain log at the next start: abort without a commit record, commit with one', async () => {
    let set = await start();
    const payer0 = idsOn(0, 1, 1n)[0]!;
    const payer1 = idsOn(1, 1, 1n)[0]!;
    const payee2 = idsOn(2, 1, 1n)[0]!;
    const payee3 = idsOn(3, 1, 1n)[0]!;
    const funder0 = idsOn(0, 1, 100n)[0]!;
    const funder1 = idsOn(1, 1, 100n)[0]!;
    const accounts = [payer0, payer1, payee2, payee3, funder0, funder1];
    expect(decodeResults(await set.execute(Operation.create_accounts, encodeAccounts(accounts.map((id) => ({ id, ledger, code: 1 }))))).every((r) => r.result === 'ok')).toBe(true);
    const fund = [
      { id: 1n, debitAccountId: funder0, creditAccountId: payer0, amount: 1000n, ledger, code: 1 },
      { id: 2n, debitAccountId: funder1, creditAccountId: payer1, amount: 1000n, ledger, code: 1 },
    ];
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(fund))).every((r) => r.result === 'ok')).toBe(true);

    /** One chain over shards 0 and 1 (payees on 2 and 3: the commit issues credits), as the coordinator would split it. */
    const chain = (first: bigint, amount: bigint): TransferInput[] =>
      linked([
        { id: first, debitAccountId: payer0, creditAccountId: payee2, amount, ledger, code: 1 },
        { id: first + 1n, debitAccountId: payer1, creditAccountId: payee3, amount, ledger, code: 1 },
      ]);
    /** Each shard's vote on its part (one event ending its sub-chain), as the coordinator sends it. */
    const vote = async (target: ShardSet, group: bigint, transfers: readonly TransferInput[]): Promise<void> => {
      const events = encodeTransfers(transfers);
      const replies = await Promise.all(
        [0, 1].map((shard) => {
          const body = encodePrepare({ operation: Operation.create_transfers, group, events: events.slice(shard * eventBytes, (shard + 1) * eventBytes), chainEnds: Uint8Array.of(1) });
          return target.hosts[shard]!.run(ShardControl.prepareChains, body, true);
        }),
      );
      for (const reply of replies) expect(decodeResults(reply).map((r) => r.result)).toEqual(['ok']); // durable votes, both yes
    };
    const inDoubt = async (target: ShardSet): Promise<(bigint | null)[]> =>
      Promise.all(
        target.hosts.map(async (host) => {
          const reply = await host.runInternal(ShardControl.chainInDoubt, new Uint8Array(0), false);
          return reply.byteLength === 0 ? null : new DataView(reply.buffer, reply.byteOffset).getBigUint64(0, true);
        }),
      );
    const balances = async (target: ShardSet) => {
      await target.transit.idle(30_000);
      return balancesOf(target, accounts);
    };
    const before = await balances(set);

    // Abort: a group no coordinator ever logged (group numbers of the log are epoch << 32 | n, far below it).
    const aborted = (1n << 60n) | 1n;
    const abortedChain = chain(10n, 7n);
    await vote(set, aborted, abortedChain);
    expect(await inDoubt(set)).toEqual([aborted, aborted, null, null]);
    // A voter holds its turn: a lookup on shard 0 waits for the decision (here: for the shutdown).
    const heldLookup = set.hosts[0]!.run(Operation.lookup_accounts, encodeIds([payer0]), false).then(() => 'answered', () => 'refused');
    expect(await Promise.race([heldLookup, sleep(200).then(() => 'waiting')])).toBe('waiting');
    set = await restart(set); // close leaves both votes on disk; recover() finds no commit record
    expect(await heldLookup).toBe('refused');
    expect(await inDoubt(set)).toEqual([null, null, null, null]);
    expect((await transfersOf(set, abortedChain.map((t) => t.id))).size).toBe(0);
    expect(await balances(set)).toEqual(before);
    // The shards serve; the aborted ids were never taken, so the same chain commits now.
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(abortedChain))).map((r) => r.result)).toEqual(['ok', 'ok']);
    const afterRetry = await balances(set);
    expect(afterRetry.get(payee2)!.creditsPosted - before.get(payee2)!.creditsPosted).toBe(7n);

    // Commit: votes on both shards, shutdown, then the commit logged as a coordinator would before telling anyone.
    const group = (1n << 60n) | 2n;
    const committedChain = chain(20n, 11n);
    await vote(set, group, committedChain);
    await sets.close(set);
    const log = await ChainLog.open(sets.dataDir);
    await log.logCommit(group);
    expect(log.isCommitted(aborted)).toBe(false);
    await log.close();
    set = await start();
    expect(await inDoubt(set)).toEqual([null, null, null, null]);
    const found = await transfersOf(set, committedChain.map((t) => t.id));
    expect([...found.values()].map((t) => [t.id, t.status, t.amount])).toEqual([
      [20n, 'posted', 11n],
      [21n, 'posted', 11n],
    ]);
    // Debits on both voters, and the credits the commit issued reach shards 2 and 3 (fetched from the outboxes).
    const afterCommit = await balances(set);
    for (const [id, delta] of [[payer0, 11n], [payer1, 11n]] as const) expect(afterCommit.get(id)!.debitsPosted - afterRetry.get(id)!.debitsPosted).toBe(delta);
    for (const [id, delta] of [[payee2, 11n], [payee3, 11n]] as const) expect(afterCommit.get(id)!.creditsPosted - afterRetry.get(id)!.creditsPosted).toBe(delta);
    // The shards serve writes, and a later restart replays the decided votes to the same state.
    expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(chain(30n, 3n)))).map((r) => r.result)).toEqual(['ok', 'ok']);
    const settled = await balances(set);
    set = await restart(set);
    expect(await balances(set)).toEqual(settled);
    expect((await transfersOf(set, [10n, 11n, 20n, 21n, 30n, 31n])).size).toBe(6);
  });
});
