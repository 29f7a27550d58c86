// The hot-debit account as the load bench's end checks see it when hot-outbound: one group with its slices.
// A debit is stored with the payee's shard's slice off the home shard and with the account at home; the
// group's Σ credits − debits is funding − payments whatever the keeper moved inside it, and is off while a
// move is half done; the keeper's moves per shard pair are slice credits (refills) and slice debits less
// payments (returns); a sample reads back as sent under that rule, a refused one not at all.
import { describe, expect, it } from 'vitest';
import { checkGroup, hotOutboundGroup, keeperMovesByPair, sliceIdsOf, type HotOutboundGroup } from '../../../bench/load/hot-outbound-group.js';
import type { SampledTransfer } from '../../../bench/load/transfer-source.js';
import { sampleMatches } from '../../../bench/load/verify.js';
import type { AccountBalances, TransferState } from '../../../src/client/index.js';
import { shardOfId } from '../../../src/core/routing.js';

const shardCount = 3;
const hotId = 20_003n;
const group = hotOutboundGroup(hotId, shardCount);
const home = group.home;
const [first, second] = [0, 1, 2].filter((s) => s !== home);
const sliceOn = (shard: number) => group.slices[shard]!;

const balances = (creditsPosted: bigint, debitsPosted: bigint): AccountBalances => ({ creditsPosted, debitsPosted, debitsPending: 0n, creditsPending: 0n, frozen: 0n });

describe('hotOutboundGroup', () => {
  it('has the account home on its own shard and one slice on every other, each routed to its shard', () => {
    expect(home).toBe(shardOfId(hotId, shardCount));
    expect(group.slices[home]).toBeNull();
    expect(sliceIdsOf(group)).toHaveLength(shardCount - 1);
    for (const shard of [first, second]) expect(shardOfId(sliceOn(shard), shardCount)).toBe(shard);
  });

});

describe('checkGroup', () => {
  const funded = 1_000_000n;
  type Case = [name: string, hot: [bigint, bigint], slices: [bigint, bigint][], paid: bigint, matches: boolean, internal: bigint];
  // Slices as [credits posted, debits posted], on `first` then `second`.
  const cases: Case[] = [
    ['funded, nothing moved', [funded, 0n], [[0n, 0n], [0n, 0n]], 0n, true, 0n],
    ['both slices refilled', [funded, 600_000n], [[300_000n, 0n], [300_000n, 0n]], 0n, true, 600_000n],
    ['payments from home and from a slice', [funded, 300_000n + 70n], [[300_000n, 30n], [0n, 0n]], 100n, true, 300_000n],
    ['a slice returned home', [funded + 299_970n, 300_000n + 70n], [[300_000n, 30n + 299_970n], [0n, 0n]], 100n, true, 300_000n + 299_970n],
    ['a refill half done: home debited, slice not yet credited', [funded, 300_000n], [[0n, 0n], [0n, 0n]], 0n, false, 0n],
    ['a payment the bench did not count', [funded, 300_000n], [[300_000n, 5n], [0n, 0n]], 0n, false, 300_000n],
  ];
  it.each(cases)('%s', (_, [hotCredits, hotDebits], slices, paid, matches, internal) => {
    const states = new Map<bigint, AccountBalances>([
      [hotId, balances(hotCredits, hotDebits)],
      [sliceOn(first), balances(...slices[0]!)],
      [sliceOn(second), balances(...slices[1]!)],
    ]);
    const check = checkGroup(group, states, funded, paid);
    expect(check.matches).toBe(matches);
    expect(check.expectedMinor).toBe(funded - paid);
    expect(check.internalMinor).toBe(internal);
    // Out of the totals, the keeper's moves leave the payments as debits and the funding as credits.
    if (matches) expect([check.debitsMinor - check.internalMinor, check.creditsMinor - check.internalMinor]).toEqual([paid, funded]);
  });

  it('does not match without the account itself', () => {
    expect(checkGroup(group, new Map(), 0n, 0n).matches).toBe(false);
  });
});

describe('keeperMovesByPair', () => {
  it('reads refills home → slice as slice credits and returns slice → home as slice debits less the payments it served', () => {
    const states = new Map<bigint, AccountBalances>([
      [hotId, balances(0n, 0n)],
      [sliceOn(first), balances(500n, 120n)],
      [sliceOn(second), balances(40n, 0n)],
    ]);
    const paid = [0, 0, 0];
    paid[first] = 20;
    const moves = keeperMovesByPair(group, states, paid, shardCount);
    const at = (from: number, to: number) => moves[from * shardCount + to];
    expect(at(home, first)).toBe(500n);
    expect(at(first, home)).toBe(100n);
    expect(at(home, second)).toBe(40n);
    expect(at(second, home)).toBe(0n);
    expect(at(first, second) + at(second, first)).toBe(0n);
  });
});

describe('sampleMatches', () => {
  const payeeOn = (shard: number) => {
    let id = 1n;
    while (shardOfId(id, shardCount) !== shard) id++;
    return id;
  };
  const sample = (debitAccountId: bigint, creditAccountId: bigint, refused = false): SampledTransfer => ({
    id: 7n, seq: 7, debitAccountId, creditAccountId, amount: 42n, workload: debitAccountId === hotId ? 'hot-debit' : 'uniform', refused,
  });
  const stored = (s: SampledTransfer, change: Partial<TransferState> = {}): TransferState => ({
    id: s.id, debitAccountId: s.debitAccountId, creditAccountId: s.creditAccountId, amount: s.amount, pendingId: 0n, userData128: 0n, userData64: 0n, userData32: 0,
    timeoutSeconds: 0, ledger: 1, code: 1, flags: 0, timestamp: 1n, status: 'posted', amountPosted: 0n, amountReversed: 0n, ...change,
  });
  const atHome = sample(hotId, payeeOn(home));
  const offHome = sample(hotId, payeeOn(first));
  const plain = sample(5n, payeeOn(first));
  type Row = [name: string, s: SampledTransfer, read: TransferState | undefined, matches: boolean];
  const rows: Row[] = [
    ['a payment at home, named with the account', atHome, stored(atHome), true],
    ['a payment at home, named with a slice', atHome, stored(atHome, { debitAccountId: sliceOn(first) }), false],
    ["a payment off home (a slice served it), named with the account, as one shard names it", offHome, stored(offHome), true],
    ["a payment off home, named with the payee shard's slice", offHome, stored(offHome, { debitAccountId: sliceOn(first) }), false],
    ['a payment off home, amount wrong', offHome, stored(offHome, { amount: 41n }), false],
    ['a payment off home, not posted', offHome, stored(offHome, { status: 'pending' }), false],
    ['a payment off home, code wrong', offHome, stored(offHome, { code: 2 }), false],
    ['a refused payment, absent', sample(hotId, payeeOn(first), true), undefined, true],
    ['a refused payment, present', sample(hotId, payeeOn(first), true), stored(offHome), false],
    ['a payment never stored', offHome, undefined, false],
    ['another account, stored as sent', plain, stored(plain), true],
  ];
  it.each(rows)('%s', (_, s, read, matches) => {
    expect(sampleMatches(s, read)).toBe(matches);
  });
});
