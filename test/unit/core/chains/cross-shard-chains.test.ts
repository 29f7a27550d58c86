// Linked chains whose events live on several shards (core/chains/prepared-chains.ts): each shard votes with a
// dry run, then every shard commits (re-executes) or aborts; a failed chain is answered as on one shard
// and its failure is remembered; a shard that crashes between its vote and the decision replays into
// "in doubt" and takes the decision afterwards. Driven by the in-process cluster (the harness plays the
// coordinator) and by single ledgers for the journal-level rules.

import { describe, expect, test } from 'vitest';
import { Operation } from '../../../../src/core/operations.js';
import { ChainDecision, ChainEventBits, ChainRounds, decodeDecide, decodePrepare, encodeDecide, encodePrepare } from '../../../../src/core/chains/prepared-chains.js';
import { encodeAccountOperations, encodeAccounts, encodeTransfers } from '../../../../src/core/wire/records.js';
import { ResultCode } from '../../../../src/core/result-codes.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { AccountFlags } from '../../../../src/core/types.js';
import { ClusterHarness } from '../../../support/cluster-harness.js';
import { account, block, freeze, ledgerMain, linked, pending, post, transfer, voidHold } from '../../../support/ledger-fixtures.js';

const shardCount = 3;

function idOnShard(shard: number, from: bigint): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

const bank = [0, 1, 2].map((s) => idOnShard(s, 1n));
const payer = [0, 1, 2].map((s) => idOnShard(s, 100n));
const payee = [0, 1, 2].map((s) => idOnShard(s, 200n));
const noOverdraft = { flags: AccountFlags.debits_must_not_exceed_credits };

/** Three shards; on each a bank, a payer holding 100 (no overdraft) and a payee. */
function world(): ClusterHarness {
  const c = new ClusterHarness(shardCount, { verifyEachWrite: true });
  const accounts = [0, 1, 2].flatMap((s) => [account(bank[s]!), account(payer[s]!, noOverdraft), account(payee[s]!)]);
  expect(c.createAccounts(accounts).every((r) => r === 'ok')).toBe(true);
  expect(c.createTransfers([0, 1, 2].map((s) => transfer(BigInt(1 + s), bank[s]!, payer[s]!, 100n)))).toEqual(['ok', 'ok', 'ok']);
  return c;
}

function available(c: ClusterHarness, id: bigint): bigint {
  const a = c.account(id);
  return a.creditsPosted - a.debitsPosted - a.debitsPending - a.frozen;
}

/** Whether the transfer exists on its debit shard. */
function exists(c: ClusterHarness, id: bigint, debitAccountId: bigint): boolean {
  return c.shards[shardOfId(debitAccountId, shardCount)]!.lookupTransfers([id]).length === 1;
}

describe('linked chains across shards', () => {
  test('a chain debiting three shards posts whole; its credits land with the commit, nothing is left in flight', () => {
    const c = world();
    const chain = [linked(transfer(10n, payer[0]!, payee[1]!, 30n)), linked(transfer(11n, payer[1]!, payee[2]!, 40n)), transfer(12n, payer[2]!, payee[0]!, 50n)];
    expect(c.createTransfers(chain)).toEqual(['ok', 'ok', 'ok']);
    expect([available(c, payer[0]!), available(c, payer[1]!), available(c, payer[2]!)]).toEqual([70n, 60n, 50n]);
    expect(c.chainRounds).toBe(1);
    // Each payee's shard carried its credit half in the group: no instruction was staged.
    expect(c.queued).toBe(0);
    expect([available(c, payee[0]!), available(c, payee[1]!), available(c, payee[2]!)]).toEqual([50n, 30n, 40n]);
    // A resend: every payer half answers exists, so no credit half may apply (the group is prepared again without them).
    expect(c.createTransfers(chain)).toEqual(['exists', 'exists', 'exists']);
    c.settle();
    expect([available(c, payee[0]!), available(c, payee[1]!), available(c, payee[2]!)]).toEqual([50n, 30n, 40n]);
    for (const s of [0, 1, 2]) c.restart(s);
    expect([available(c, payee[0]!), available(c, payee[1]!), available(c, payee[2]!)]).toEqual([50n, 30n, 40n]);
  });

  test('a later event of a chain spends an earlier event\'s credit from another shard (issue #14, item 14)', () => {
    const c = world();
    // payee[1] pays on at once what payer[0] pays it; a no-overdraft middle account shows the order matters.
    const middle = idOnShard(1, 600n);
    expect(c.createAccounts([account(middle, noOverdraft)])).toEqual(['ok']);
    const chain = [linked(transfer(10n, payer[0]!, middle, 60n)), linked(transfer(11n, middle, payee[2]!, 60n)), transfer(12n, payer[2]!, payee[0]!, 5n)];
    expect(c.createTransfers(chain)).toEqual(['ok', 'ok', 'ok']);
    expect([available(c, payer[0]!), available(c, middle), available(c, payee[2]!)]).toEqual([40n, 0n, 60n]);
    // Its history: the credit, then the payment, with the balances one shard shows.
    const history = c.shards[1]!.history({ accountId: middle });
    expect(history.map((h) => [h.transfer.id, h.balanceAfter.creditsPosted, h.balanceAfter.debitsPosted])).toEqual([
      [10n, 60n, 0n],
      [11n, 60n, 60n],
    ]);
    // More than the credit: refused as on one shard, nothing moved anywhere.
    const tooMuch = [linked(transfer(20n, payer[0]!, middle, 10n)), transfer(21n, middle, payee[2]!, 11n)];
    expect(c.createTransfers(tooMuch)).toEqual(['linked_event_failed', 'insufficient_funds']);
    expect([available(c, payer[0]!), available(c, middle)]).toEqual([40n, 0n]);
    expect(c.createTransfers(tooMuch)).toEqual(['linked_event_failed', 'insufficient_funds']);
  });

  test('a hold across shards in a chain shows on its payee with the commit, and a capped payee judges the chain\'s credits', () => {
    const c = world();
    expect(c.createTransfers([linked(pending(10n, payer[0]!, payee[1]!, 30n)), transfer(11n, payer[1]!, payee[0]!, 1n)])).toEqual(['ok', 'ok']);
    expect(c.account(payee[1]!).creditsPending).toBe(30n);
    // A payee that may not hold more credits than debits: 25 of debits, two credits of 20 in one chain.
    const capped = idOnShard(1, 700n);
    expect(c.createAccounts([account(capped, { flags: AccountFlags.credits_must_not_exceed_debits })])).toEqual(['ok']);
    expect(c.createTransfers([transfer(12n, capped, payee[1]!, 25n)])).toEqual(['ok']);
    const twice = [linked(transfer(13n, payer[0]!, capped, 20n)), linked(transfer(14n, payer[2]!, capped, 20n)), transfer(15n, payer[1]!, payee[0]!, 1n)];
    expect(c.createTransfers(twice)).toEqual(['linked_event_failed', 'credits_exceed_debits', 'linked_event_failed']);
    expect(c.createTransfers(twice)).toEqual(['linked_event_failed', 'credits_exceed_debits', 'linked_event_failed']);
    expect(c.account(capped).creditsPosted).toBe(0n);
    c.settle();
    expect(c.account(capped).creditsPosted).toBe(0n);
  });

  test('one leg failing on its shard fails the chain on every shard, naming only that leg', () => {
    const c = world();
    const chain = [linked(transfer(10n, payer[0]!, payee[1]!, 30n)), linked(transfer(11n, payer[1]!, payee[2]!, 101n)), transfer(12n, payer[2]!, payee[0]!, 50n)];
    expect(c.createTransfers(chain)).toEqual(['linked_event_failed', 'insufficient_funds', 'linked_event_failed']);
    expect(chain.map((t) => exists(c, t.id, t.debitAccountId))).toEqual([false, false, false]);
    expect([available(c, payer[0]!), available(c, payer[1]!), available(c, payer[2]!)]).toEqual([100n, 100n, 100n]);
    // The failure is remembered by id: a resend fails the same way even once funds would cover it.
    expect(c.createTransfers([transfer(20n, bank[1]!, payer[1]!, 500n)])).toEqual(['ok']);
    expect(c.createTransfers(chain)).toEqual(['linked_event_failed', 'insufficient_funds', 'linked_event_failed']);
  });

  test('the first failing chain is set aside and the chains after it are decided without it', () => {
    const c = world();
    // Chain 1 holds 60 on shard 0 then fails on shard 1; chain 2 needs 60 on shard 0 too: it must not see
    // chain 1's hold (as on one shard, where chain 1 is undone before chain 2 runs).
    const events = [
      linked(pending(10n, payer[0]!, payee[1]!, 60n)),
      transfer(11n, payer[1]!, payee[2]!, 500n),
      linked(transfer(12n, payer[0]!, payee[2]!, 60n)),
      transfer(13n, payer[2]!, payee[1]!, 10n),
    ];
    expect(c.createTransfers(events)).toEqual(['linked_event_failed', 'insufficient_funds', 'ok', 'ok']);
    expect([c.chainRounds, c.chainRoundsAborted]).toEqual([2, 1]);
    expect(available(c, payer[0]!)).toBe(40n);
  });

  test('a chain that is a hold on one shard and a payment on another, then one posting and voiding across shards', () => {
    const c = world();
    const holdA = pending(10n, payer[0]!, payee[1]!, 30n);
    const holdB = pending(11n, payer[1]!, payee[0]!, 20n);
    expect(c.createTransfers([linked(holdA), linked(holdB), transfer(12n, payer[2]!, payee[2]!, 5n)])).toEqual(['ok', 'ok', 'ok']);
    expect([available(c, payer[0]!), available(c, payer[1]!)]).toEqual([70n, 80n]);
    expect(c.createTransfers([linked(post(13n, holdA)), voidHold(14n, holdB)])).toEqual(['ok', 'ok']);
    expect(c.transfer(10n, payer[0]!).status).toBe('pending_posted');
    expect(c.transfer(11n, payer[1]!).status).toBe('pending_voided');
    c.settle();
    expect([available(c, payer[0]!), available(c, payer[1]!), available(c, payee[1]!)]).toEqual([70n, 100n, 30n]);
  });

  test('accounts and account operations chain across shards too', () => {
    const c = world();
    const fresh = [0, 1].map((s) => idOnShard(s, 300n));
    expect(c.createAccounts([linked(account(fresh[0]!)), account(fresh[1]!, { ledger: 0 })])).toEqual(['linked_event_failed', 'ledger_invalid']);
    expect(c.shards[0]!.lookupAccounts([fresh[0]!])).toEqual([]);
    // The refused id is remembered with its fields, as on one shard.
    expect(c.createAccounts([linked(account(fresh[0]!)), account(fresh[1]!)])).toEqual(['linked_event_failed', 'exists_with_different_fields']);
    const other = idOnShard(1, fresh[1]! + 1n);
    expect(c.createAccounts([linked(account(fresh[0]!)), account(other)])).toEqual(['ok', 'ok']);
    expect(c.accountOperations([linked(freeze(400n, payer[0]!, 10n)), block(401n, payer[1]!, 'debits')])).toEqual(['ok', 'ok']);
    expect(available(c, payer[0]!)).toBe(90n);
    expect(c.account(payer[1]!).status).toBe('debit_blocked');
  });

  test('a voter that crashes between its vote and the decision replays into doubt, then commits', () => {
    const c = world();
    c.betweenPhases = (voters) => c.restart(voters[1]!);
    expect(c.createTransfers([linked(transfer(10n, payer[0]!, payee[1]!, 30n)), transfer(11n, payer[1]!, payee[0]!, 40n)])).toEqual(['ok', 'ok']);
    c.betweenPhases = null;
    expect([available(c, payer[0]!), available(c, payer[1]!)]).toEqual([70n, 60n]);
    // The journals replay to the same state, decisions included.
    for (const s of [0, 1, 2]) c.restart(s);
    expect([available(c, payer[0]!), available(c, payer[1]!)]).toEqual([70n, 60n]);
  });

  test('a voter that crashes before an abort replays into doubt, then aborts', () => {
    const c = world();
    c.betweenPhases = (voters) => c.restart(voters[0]!);
    expect(c.createTransfers([linked(transfer(10n, payer[0]!, payee[1]!, 30n)), transfer(11n, payer[1]!, payee[0]!, 400n)])).toEqual([
      'linked_event_failed',
      'insufficient_funds',
    ]);
    c.betweenPhases = null;
    expect(exists(c, 10n, payer[0]!)).toBe(false);
    expect(c.createTransfers([transfer(12n, payer[0]!, payee[0]!, 100n)])).toEqual(['ok']);
  });
});

describe('the vote and the decision in the journal', () => {
  const c = (): ClusterHarness => world();

  test('a prepared shard refuses every other entry until the decision (a programmer error, never an answer)', () => {
    const cluster = c();
    const shard = cluster.shards[0]!;
    const events = encodeTransfers([transfer(10n, payer[0]!, payee[1]!, 30n)]);
    expect(Array.from(shard.prepareChains(Operation.create_transfers, events, Uint8Array.of(1), 77n))).toEqual([ResultCode.ok]);
    expect(shard.ledger.chainGroupInDoubt).toBe(77n);
    expect(() => shard.createTransfers([transfer(11n, payer[0]!, payee[0]!, 1n)])).toThrow(/prepared group/);
    expect(shard.expireDue()).toBe(false);
    shard.restart();
    expect(shard.ledger.chainGroupInDoubt).toBe(77n);
    expect(shard.commitPrepared()).toEqual(['ok']);
    expect(shard.ledger.chainGroupInDoubt).toBeNull();
    expect(available(cluster, payer[0]!)).toBe(70n);
  });

  test('the dry run changes nothing: lookups, history and balances are as before the vote', () => {
    const cluster = c();
    const shard = cluster.shards[0]!;
    shard.remember([payer[0]!, payee[0]!], [10n, 11n]);
    const before = shard.snapshot();
    const events = encodeTransfers([linked(transfer(10n, payer[0]!, payee[0]!, 30n)), pending(11n, payer[0]!, payee[1]!, 20n)]);
    shard.prepareChains(Operation.create_transfers, events, Uint8Array.of(0, 1), 5n);
    const during = shard.snapshot();
    for (const [what, bytes] of before) expect(Buffer.from(during.get(what)!).equals(Buffer.from(bytes)), what).toBe(true);
    shard.abortPrepared();
    expect(available(cluster, payer[0]!)).toBe(100n);
  });

  test('an abort keeps the named failures by id; other events of the part stay unknown', () => {
    const cluster = c();
    const shard = cluster.shards[0]!;
    const events = encodeTransfers([linked(transfer(10n, payer[0]!, payee[0]!, 30n)), transfer(11n, payer[0]!, payee[0]!, 500n)]);
    const votes = shard.prepareChains(Operation.create_transfers, events, Uint8Array.of(0, 1), 6n);
    expect(Array.from(votes, (r) => r & 0xffff)).toEqual([ResultCode.linked_event_failed, ResultCode.insufficient_funds]);
    shard.abortPrepared([{ position: 1, result: ResultCode.insufficient_funds }]);
    expect(shard.createTransfers([transfer(11n, payer[0]!, payee[0]!, 500n)])).toEqual(['insufficient_funds']);
    expect(shard.createTransfers([transfer(10n, payer[0]!, payee[0]!, 30n)])).toEqual(['ok']);
    shard.restart();
  });

  test('account creation and operations vote and commit like transfers', () => {
    const cluster = c();
    const shard = cluster.shards[0]!;
    const fresh = idOnShard(0, 500n);
    shard.remember([fresh], []);
    shard.prepareChains(Operation.create_accounts, encodeAccounts([account(fresh)]), Uint8Array.of(1), 8n);
    expect(shard.lookupAccounts([fresh])).toEqual([]);
    expect(shard.commitPrepared()).toEqual(['ok']);
    shard.prepareChains(Operation.account_operations, encodeAccountOperations([block(501n, fresh, 'credits')]), Uint8Array.of(1), 9n);
    shard.restart();
    expect(shard.commitPrepared()).toEqual(['ok']);
    expect(shard.account(fresh).status).toBe('credit_blocked');
  });
});

describe('prepared-chains layouts and rounds', () => {
  test('prepare and decide bodies round-trip, and malformed ones are refused', () => {
    const events = new Uint8Array(2 * 128).fill(7);
    const body = encodePrepare({ operation: Operation.create_transfers, group: 1n << 40n, events, chainEnds: Uint8Array.of(0, 1) });
    const decoded = decodePrepare(body)!;
    expect([decoded.operation, decoded.group, Array.from(decoded.chainEnds)]).toEqual([Operation.create_transfers, 1n << 40n, [0, 1]]);
    expect(decodePrepare(body.subarray(0, body.byteLength - 1))).toBeUndefined();
    const openEnd = body.slice();
    openEnd[openEnd.byteLength - 1] = 0; // the part's last sub-chain must end
    expect(decodePrepare(openEnd)).toBeUndefined();
    const remember = [
      { position: 4, result: ResultCode.insufficient_funds },
      { position: 9, result: ResultCode.credits_exceed_debits },
    ];
    expect(decodeDecide(encodeDecide({ group: 3n, decision: ChainDecision.abort, remember }))).toEqual({ group: 3n, decision: ChainDecision.abort, remember });
    expect(decodeDecide(encodeDecide({ group: 3n, decision: ChainDecision.commit, remember: remember.slice(1) }))).toBeUndefined();
    expect(decodeDecide(encodeDecide({ group: 3n, decision: 9, remember: [] }))).toBeUndefined();
  });

  test('rounds: parts per shard in request order with their chain ends; examine, set aside, commit', () => {
    // Events 0..4: chain A = 0..2 on shards 0,1,0; chain B = 3..4 on shards 1,2.
    const body = new Uint8Array(5 * 128);
    const rounds = new ChainRounds(body, [{ first: 0, last: 2 }, { first: 3, last: 4 }], Uint8Array.of(0, 1, 0, 1, 2), 3, Operation.create_transfers);
    const parts = rounds.parts();
    expect(parts.map((p) => [p.shard, Array.from(p.indexes), Array.from(p.chainEnds)])).toEqual([
      [0, [0, 2], [0, 1]],
      [1, [1, 3], [1, 1]],
      [2, [4], [1]],
    ]);
    const F = ResultCode.linked_event_failed;
    expect(rounds.examine([Uint32Array.of(0, 0), Uint32Array.of(ResultCode.insufficient_funds, 0), Uint32Array.of(0)])).toBe(true);
    expect(rounds.failingEvent).toBe(1);
    rounds.setAside();
    const second = rounds.parts();
    expect(second.map((p) => p.shard)).toEqual([1, 2]);
    expect(rounds.examine([Uint32Array.of(ResultCode.exists), Uint32Array.of(0)])).toBe(false);
    expect(rounds.commit()).toBe(1);
    expect(rounds.pending).toBe(false);
    const out = new Uint8Array(5 * 4);
    rounds.writeResults(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([F, ResultCode.insufficient_funds, F, ResultCode.exists, 0]);
  });

  test('rounds: credit halves go to their payees\' shards; a half\'s failure is the event\'s, even where its payer\'s shard stopped at it', () => {
    // One chain: 0 = shard 2 → shard 1, 1 = shard 1 → shard 2, 2 = shard 1 → shard 0 (every credit crosses shards).
    const body = encodeTransfers([
      linked(transfer(10n, payer[2]!, payee[1]!, 5n)),
      linked(transfer(11n, payer[1]!, payee[2]!, 5n)),
      transfer(12n, payer[1]!, payee[0]!, 5n),
    ]);
    const rounds = new ChainRounds(body, [{ first: 0, last: 2 }], Uint8Array.of(2, 1, 1), 3, Operation.create_transfers);
    const { chainEnd: end, creditCarried: carried, creditHalf: half } = ChainEventBits;
    expect(rounds.parts().map((p) => [p.shard, Array.from(p.indexes), Array.from(p.chainEnds)])).toEqual([
      [0, [2], [half | end]],
      [1, [0, 1, 2], [half, carried, carried | end]],
      [2, [0, 1], [carried, half | end]],
    ]);
    // Shard 1's half of event 0 refuses (its payee is unknown): its sub-chain stops there, and so does shard 2's at the
    // half of event 1; the payer of event 0 (shard 2) says linked_event_failed. The chain fails at event 0.
    const F = ResultCode.linked_event_failed;
    const okHalf = ResultCode.ok | (2 << 16);
    expect(rounds.examine([Uint32Array.of(okHalf), Uint32Array.of(ResultCode.account_not_found, F, F), Uint32Array.of(F, ResultCode.account_not_found)])).toBe(true);
    expect(rounds.failingEvent).toBe(0);
    // Kept by id on the payer's shard (shard 2, its position 0), never on the half's.
    expect(rounds.failuresToRemember()).toEqual([[], [], [{ position: 0, result: ResultCode.account_not_found }]]);
    expect(rounds.setAside()).toBe(true);
    const out = new Uint8Array(3 * 4);
    rounds.writeResults(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([ResultCode.account_not_found, F, F]);
  });

  test('rounds: a payer answering exists sends the round again without that credit half', () => {
    const body = encodeTransfers([linked(transfer(10n, payer[0]!, payee[1]!, 5n)), transfer(11n, payer[1]!, payee[0]!, 5n)]);
    const rounds = new ChainRounds(body, [{ first: 0, last: 1 }], Uint8Array.of(0, 1), 3, Operation.create_transfers);
    expect(rounds.parts().map((p) => Array.from(p.indexes))).toEqual([[0, 1], [0, 1]]);
    const okHalf = ResultCode.ok | (2 << 16);
    const okCarried = ResultCode.ok | (1 << 16);
    expect(rounds.examine([Uint32Array.of(ResultCode.exists, okHalf), Uint32Array.of(okHalf, okCarried)])).toBe(true);
    expect(rounds.failingEvent).toBe(-1);
    expect(rounds.setAside()).toBe(false);
    // Event 0's credit now goes by instruction: shard 1 holds no half of it.
    expect(rounds.parts().map((p) => [p.shard, Array.from(p.indexes)])).toEqual([
      [0, [0, 1]],
      [1, [1]],
    ]);
    expect(rounds.examine([Uint32Array.of(ResultCode.exists, okHalf), Uint32Array.of(okCarried)])).toBe(false);
    expect(rounds.commit()).toBe(1);
    const out = new Uint8Array(2 * 4);
    rounds.writeResults(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([ResultCode.exists, ResultCode.ok]);
  });

  test('rounds: a chain left open is voted on without its last event and never commits', () => {
    // Events 0..3, one open chain on shards 0,1,0,2: event 3 (shard 2) is never sent.
    const body = new Uint8Array(4 * 128);
    const F = ResultCode.linked_event_failed;
    const passing = new ChainRounds(body, [{ first: 0, last: 3, open: true }], Uint8Array.of(0, 1, 0, 2), 3, Operation.create_transfers);
    expect(passing.parts().map((p) => [p.shard, Array.from(p.indexes)])).toEqual([
      [0, [0, 2]],
      [1, [1]],
    ]);
    // Every voted event passes: the round is aborted all the same, no failure kept, the last event says open.
    expect(passing.examine([Uint32Array.of(0, 0), Uint32Array.of(0)])).toBe(true);
    expect(passing.failingEvent).toBe(-1);
    passing.setAside();
    expect(passing.pending).toBe(false);
    const out = new Uint8Array(4 * 4);
    passing.writeResults(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([F, F, F, ResultCode.linked_event_chain_open]);
    // One fails: its code, kept by id, and linked_event_failed on the rest, the last event included.
    const failing = new ChainRounds(body, [{ first: 0, last: 3, open: true }], Uint8Array.of(0, 1, 0, 2), 3, Operation.create_transfers);
    failing.parts();
    expect(failing.examine([Uint32Array.of(0, 0), Uint32Array.of(ResultCode.account_not_found)])).toBe(true);
    expect(failing.failingEvent).toBe(1);
    failing.setAside();
    failing.writeResults(out);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([F, ResultCode.account_not_found, F, F]);
  });
});
