// Issue #19: the shard set joins the transfer requests of one event-loop turn into one shard batch and one journal
// entry (src/shards/set/transfer-coalescer.ts). Property: frames from many callers, sent interleaved and all at
// once (so they join), get exactly the replies and leave exactly the state that the same frames sent one by one,
// each awaited, give on a set that never joins. Frames hold payments that post, payments refused (unknown account,
// a no-overdraft payer short of money), ids sent again by another caller (same fields or not, in the same turn or a
// later one), whole frames retried, and linked chains that post whole or fail whole, or are left open (such a
// frame runs alone, after the frames that arrived before it). Every transfer debits and
// credits accounts of one shard, and every chain debits one shard, so the two runs differ only in how requests
// were joined, not in when credits cross shards or when the coordinator decides a chain across shards.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Operation } from '../../src/core/operations.js';
import { decodeAccountStates, decodeResults, decodeTransferStates, encodeAccounts, encodeIds, encodeTransfers, type TransferInput } from '../../src/core/wire/records.js';
import { AccountFlags, TransferFlags } from '../../src/core/types.js';
import { startShards, type ShardSet } from '../../src/shards/set/shard-set.js';
import { idsOnShard } from '../support/shard-set-fixture.js';

const shardCount = 2;
const ledger = 1;
const code = 1;
/** Per shard: a funding account (may overdraw) and three no-overdraft accounts it funds. */
const accountsByShard = [0, 1].map((shard) => idsOnShard(shard, 4, 1n, shardCount));
const allAccounts = accountsByShard.flat();
/** Routes to shard 0 and was never created: account_not_found. */
const unknownAccount = idsOnShard(0, 1, 1_000_000n, shardCount)[0]!;
const seeded = 1_000n;

const dirs: string[] = [];
const sets: ShardSet[] = [];
afterEach(async () => {
  for (const set of sets.splice(0)) await set.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function startSet(coalesce: boolean): Promise<ShardSet> {
  const dir = mkdtempSync(join(tmpdir(), 'tally-coalescing-'));
  dirs.push(dir);
  const set = await startShards({ dataDir: dir, shardCount, coalesce });
  sets.push(set);
  const created = await set.execute(
    Operation.create_accounts,
    encodeAccounts(accountsByShard.flatMap(([funding, ...rest]) => [
      { id: funding!, ledger, code },
      ...rest.map((id) => ({ id, ledger, code, flags: AccountFlags.debits_must_not_exceed_credits })),
    ])),
  );
  expect(decodeResults(created).every((r) => r.result === 'ok')).toBe(true);
  const funding = accountsByShard.flatMap(([from, ...to], shard) => to.map((id, i) => ({ id: 900_000n + BigInt(shard * 10 + i), debitAccountId: from!, creditAccountId: id, amount: seeded, ledger, code })));
  expect(decodeResults(await set.execute(Operation.create_transfers, encodeTransfers(funding))).every((r) => r.result === 'ok')).toBe(true);
  return set;
}

/** One transfer as the generator draws it; `id` is filled in by the frame builder. */
interface Draw {
  shard: number;
  debit: number;
  credit: number;
  amount: number;
  /** 0: a fresh id; 1: an earlier id, same fields; 2: an earlier id, another amount; 3: to an unknown account. */
  twist: number;
}

const drawArb: fc.Arbitrary<Draw> = fc.record({
  shard: fc.integer({ min: 0, max: shardCount - 1 }),
  debit: fc.integer({ min: 0, max: 3 }),
  credit: fc.integer({ min: 0, max: 3 }),
  amount: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 300, max: 1_500 })),
  twist: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
});

/** A frame: 1–5 transfers, a linked chain over some of them, or a whole earlier frame sent again. */
interface FrameDraw {
  draws: Draw[];
  /** The chain runs from this index to the last transfer (null, or past the end: no chain). */
  chainFrom: number | null;
  /** The chain is left open: its last transfer is linked too (the frame never joins others: it runs alone). */
  open: boolean;
  retry: boolean;
}

interface Scenario {
  /** Per round, per caller, that caller's frames in its order. */
  rounds: FrameDraw[][][];
  interleave: fc.Stream<number>;
}

const frameArb: fc.Arbitrary<FrameDraw> = fc.record({
  draws: fc.array(drawArb, { minLength: 1, maxLength: 5 }),
  chainFrom: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  open: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  retry: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** Callers, each with its frames in its own order, over a few rounds (each round's frames are sent in one turn). */
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  rounds: fc.array(fc.array(fc.array(frameArb, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 8 }), { minLength: 1, maxLength: 3 }),
  interleave: fc.infiniteStream(fc.nat()),
});

/** Builds the frames of every round in one global order: each round interleaves its callers, keeping each one's order. */
function buildFrames(scenario: Scenario): TransferInput[][][] {
  const sent: TransferInput[] = [];
  const frames: TransferInput[][] = [];
  let nextId = 1n;
  const picks = scenario.interleave;
  return scenario.rounds.map((callers) => {
    const queues = callers.map((frameList) => [...frameList]);
    const round: TransferInput[][] = [];
    while (queues.some((q) => q.length > 0)) {
      const open = queues.filter((q) => q.length > 0);
      const frame = open[picks.next().value % open.length]!.shift()!;
      if (frame.retry && frames.length > 0) {
        const again = frames[picks.next().value % frames.length]!;
        round.push(again);
        continue;
      }
      const chainFrom = frame.chainFrom !== null && frame.chainFrom < frame.draws.length - (frame.open ? 0 : 1) ? frame.chainFrom : null;
      const transfers = frame.draws.map((drawn, index): TransferInput => {
        // A chain's events debit one shard: a chain across shards is decided by the coordinator after the other
        // parts of its request, so it has no place in one order with other callers' requests (docs/ARCHITECTURE.md).
        const inChain = chainFrom !== null && index >= chainFrom;
        const draw = inChain ? { ...drawn, shard: frame.draws[chainFrom]!.shard, twist: drawn.twist === 3 ? 3 : 0 } : drawn;
        const accounts = accountsByShard[draw.shard]!;
        const base = { id: 0n, debitAccountId: accounts[draw.debit]!, creditAccountId: accounts[draw.credit === draw.debit ? (draw.credit + 1) % 4 : draw.credit]!, amount: BigInt(draw.amount), ledger, code };
        if (draw.twist === 3) return { ...base, id: nextId++, creditAccountId: unknownAccount };
        // Earlier transfers outside chains only: one with the linked flag would chain into its neighbours, across shards too.
        const reusable = sent.filter((t) => ((t.flags ?? 0) & TransferFlags.linked) === 0);
        if ((draw.twist === 1 || draw.twist === 2) && reusable.length > 0) {
          const earlier = reusable[picks.next().value % reusable.length]!;
          return draw.twist === 1 ? earlier : { ...earlier, amount: earlier.amount + 1n };
        }
        return { ...base, id: nextId++ };
      });
      if (chainFrom !== null) {
        for (let i = chainFrom; i < transfers.length - (frame.open ? 0 : 1); i++) transfers[i] = { ...transfers[i]!, flags: (transfers[i]!.flags ?? 0) | TransferFlags.linked };
      }
      sent.push(...transfers);
      frames.push(transfers);
      round.push(transfers);
    }
    return round;
  });
}

async function stateOf(set: ShardSet, ids: bigint[]): Promise<unknown> {
  const accounts = decodeAccountStates(await set.execute(Operation.lookup_accounts, encodeIds(allAccounts)));
  const transfers = decodeTransferStates(await set.execute(Operation.lookup_transfers, encodeIds(ids)));
  // Timestamps differ between the runs (they were posted at other times); everything else must not.
  const untimed = <T extends { timestamp: bigint }>({ timestamp: _timestamp, ...rest }: T) => rest;
  return { accounts: accounts.map(untimed), transfers: transfers.map(untimed) };
}

describe('coalescing (issue #19)', () => {
  it('frames from many callers sent at once get the replies and leave the state of the same frames sent one by one', async () => {
    let joinedTotal = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (scenario) => {
        const rounds = buildFrames(scenario);
        const joined = await startSet(true);
        const alone = await startSet(false);
        const joinedReplies: string[][] = [];
        for (const round of rounds) {
          // One synchronous loop: every frame of the round is handed over in this turn, so they join.
          const replies = await Promise.all(round.map((frame) => joined.execute(Operation.create_transfers, encodeTransfers(frame))));
          joinedReplies.push(...replies.map((reply) => decodeResults(reply).map((r) => r.result)));
        }
        const aloneReplies: string[][] = [];
        for (const frame of rounds.flat()) aloneReplies.push(decodeResults(await alone.execute(Operation.create_transfers, encodeTransfers(frame))).map((r) => r.result));
        expect(joinedReplies).toEqual(aloneReplies);
        const ids = [...new Set(rounds.flat(2).map((t) => t.id))];
        expect(await stateOf(joined, ids)).toEqual(await stateOf(alone, ids));
        joinedTotal += joined.coalescingStats().joinedRequests;
        for (const set of sets.splice(0)) await set.close();
      }),
      { numRuns: Number(process.env.TALLY_COALESCING_RUNS ?? 12), endOnFailure: true, seed: process.env.TALLY_COALESCING_SEED === undefined ? undefined : Number(process.env.TALLY_COALESCING_SEED) },
    );
    expect(joinedTotal).toBeGreaterThan(0); // the property was about joined requests: some were
  }, 180_000);
});
