// The differential run of issue #14: one random workload sent, request by request, to one shard
// (LedgerHarness) and to four (ClusterHarness, the relay settled after every request), the replies
// and everything a caller can read after each request compared. A caller cannot see shards, so any
// difference is a defect of placement.
//
// Known differences (docs/design/issue-14-one-answer.md §1) are switches of the generator: off, it
// sends a bait of that kind only where both accounts it names live on one shard of the four, so the
// two runs must agree; on, it sends it anywhere. Each switch stays on record until #14 removes the
// difference behind it.

import { AccountFlags, DirectoryMarks, TransferFlags, transferKindFlags, type AccountHistoryEntry, type AccountState, type TransferState } from '../../src/core/types.js';
import { encodeTransfers, type AccountInput, type AccountOperationInput, type TransferInput } from '../../src/core/wire/records.js';
import { stageStartsOf, type AccountFlagsSource } from '../../src/core/wire/request-stages.js';
import { readU128 } from '../../src/core/u128.js';
import { shardOfId } from '../../src/core/routing.js';
import { amountMax, creditBigFrom } from '../../src/core/limits.js';
import { ClusterHarness } from './cluster-harness.js';
import { LedgerHarness, type Outcome } from './ledger-harness.js';
import { block, close, codeDefault, freeze, ledgerMain, ledgerOther, linked, unblock, unfreeze } from './ledger-fixtures.js';
import { mulberry32 } from './prng.js';

export const shardsCompared = 4;

/** What the generator may send across shards, though the replies then differ today. */
export interface Divergences {
  /** One request touching again an account it credited across shards: order and balances after differ (#10, #11). */
  requestOrder: boolean;
}

export const noDivergences: Divergences = { requestOrder: false };

export class DivergenceError extends Error {
  constructor(
    readonly seed: number,
    readonly step: number,
    readonly what: string,
  ) {
    super(`seed ${seed}, request ${step}: ${what}`);
  }
}

interface World {
  random: () => number;
  /** Every id of the seed is base + a small number: seeds can share a ledger (the real servers). */
  bank: bigint;
  bankOther: bigint;
  divergences: Divergences;
  accounts: AccountInput[];
  /** Ids never created: a payee among them is unknown. */
  unknownIds: bigint[];
  /** What the one-shard run said so far: which transfers posted, which holds are open, which freezes exist. */
  posted: TransferInput[];
  holdsOpen: TransferInput[];
  sent: TransferInput[];
  /** Account operations sent so far, to send again (ids are unique ledger-wide: another account is another operation). */
  operationsSent: AccountOperationInput[];
  freezes: { id: bigint; accountId: bigint }[];
  nextId: bigint;
}

const accountCount = 14;
const stepsPerSeed = 40;

/**
 * One side of the comparison: where requests go and reads come from. Reads answer each account, transfer and
 * history as text without timestamps (each side keeps its own clock).
 */
export interface PlacementTarget {
  apply(request: Request): Promise<Outcome[]> | Outcome[];
  accounts(ids: readonly bigint[]): Promise<Map<bigint, string>> | Map<bigint, string>;
  transfers(ids: readonly bigint[]): Promise<Map<bigint, string>> | Map<bigint, string>;
  history(id: bigint): Promise<string> | string;
}

export interface PlacementRun {
  one: PlacementTarget;
  four: PlacementTarget;
  /** After each request is compared and before its reads (in-process: settle, restart a shard now and then). */
  afterApply?: (random: () => number) => Promise<void> | void;
  /** After the reads, before the next request (the real servers: wait for credits to land). */
  afterReads?: () => Promise<void>;
  steps?: number;
  /** Added to every id of the seed. */
  idBase?: bigint;
}

/** Runs one seed over two targets; throws DivergenceError at the first reply or read that differs. Returns the requests sent. */
export async function runPlacement(seed: number, divergences: Divergences, run: PlacementRun): Promise<number> {
  const world = makeWorld(seed, divergences, run.idBase ?? 0n);
  const steps = run.steps ?? stepsPerSeed;
  let step = 0;
  const send = async (request: Request): Promise<void> => {
    const expected = await run.one.apply(request);
    const actual = await run.four.apply(request);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      throw new DivergenceError(seed, step, `${describe(request)}: one shard ${expected.join(',')}, four shards ${actual.join(',')}`);
    }
    learn(world, request, expected);
    await run.afterApply?.(world.random);
    await compareReads(run.one, run.four, world, seed, step);
    await run.afterReads?.();
    step++;
  };
  await send({ kind: 'accounts', accounts: world.accounts });
  // Funding: money from the bank, and a debit first for the capped (credits ≤ debits) accounts so they can take credits.
  const bankOf = (a: AccountInput): bigint => (a.ledger === ledgerMain ? world.bank : world.bankOther);
  const isCapped = (a: AccountInput): boolean => ((a.flags ?? 0) & AccountFlags.credits_must_not_exceed_debits) !== 0;
  const customers = world.accounts.filter((a) => a.id !== world.bank && a.id !== world.bankOther);
  // One request each for the capped ones: several credits to one bank from other shards in one request land in another order.
  for (const a of customers.filter(isCapped)) await send({ kind: 'transfers', transfers: [payment(world, a.id, bankOf(a), 1000n)] });
  await send({ kind: 'transfers', transfers: customers.filter((a) => !isCapped(a)).map((a) => payment(world, bankOf(a), a.id, 1000n)) });
  while (step < steps) await send(nextRequest(world));
  return step;
}

/** One seed in process: a LedgerHarness against a ClusterHarness of four (settled after each request, shards restarted now and then). */
export function runDifferential(seed: number, divergences: Divergences = noDivergences, steps = stepsPerSeed): Promise<number> {
  const one = new LedgerHarness({ verifyEachWrite: false });
  const four = new ClusterHarness(shardsCompared, { verifyEachWrite: false, directory: true });
  return runPlacement(seed, divergences, {
    one: harnessTarget(one, () => [one]),
    four: harnessTarget(four, () => four.shards),
    // A shard of the four crashes and replays its journal (from a checkpoint, sometimes): the harness asserts
    // every result and read comes back the same (the payee checks included, remote-payee.ts).
    afterApply: (random) => {
      four.settle();
      if (random() < 0.05) four.shards[Math.floor(random() * shardsCompared)]!.checkpoint();
      if (random() < 0.08) four.restart(Math.floor(random() * shardsCompared));
    },
    steps,
  });
}

function harnessTarget(h: LedgerHarness | ClusterHarness, shards: () => readonly LedgerHarness[]): PlacementTarget {
  const count = () => shards().length;
  return {
    apply: (request) => (request.kind === 'accounts' ? h.createAccounts(request.accounts) : request.kind === 'transfers' ? h.createTransfers(request.transfers) : h.accountOperations(request.operations)),
    accounts: (ids) => new Map(shards().flatMap((shard) => shard.lookupAccounts(ids)).map((a) => [a.id, withoutTimes(a)])),
    // As the gateway answers a lookup: every shard asked, the lowest shard that has the id answers.
    transfers: (ids) => {
      const found = new Map<bigint, string>();
      for (const shard of shards()) for (const t of shard.lookupTransfers(ids)) if (!found.has(t.id)) found.set(t.id, withoutTimes(t));
      return found;
    },
    history: (id) => shards()[shardOfId(id, count())]!.history({ accountId: id, limit: 1000 }).map(historyLine).join('\n'),
  };
}

export type Request = { kind: 'accounts'; accounts: AccountInput[] } | { kind: 'transfers'; transfers: TransferInput[] } | { kind: 'operations'; operations: AccountOperationInput[] };

function describe(request: Request): string {
  const events = request.kind === 'accounts' ? request.accounts : request.kind === 'transfers' ? request.transfers : request.operations;
  return `${request.kind} ${JSON.stringify(events, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`;
}

function makeWorld(seed: number, divergences: Divergences, base: bigint): World {
  const random = mulberry32(seed);
  const accounts: AccountInput[] = [
    { id: base + 1n, ledger: ledgerMain, code: codeDefault },
    { id: base + 2n, ledger: ledgerOther, code: codeDefault },
  ];
  for (let id = base + 3n; id < base + 3n + BigInt(accountCount); id++) {
    const roll = random();
    const flags = roll < 0.55 ? AccountFlags.debits_must_not_exceed_credits : roll < 0.65 ? AccountFlags.credits_must_not_exceed_debits : 0;
    accounts.push({ id, ledger: random() < 0.2 ? ledgerOther : ledgerMain, code: codeDefault, flags });
  }
  return {
    random,
    bank: base + 1n,
    bankOther: base + 2n,
    divergences,
    accounts,
    unknownIds: [900n, 901n, 902n, 903n, 904n, 905n].map((id) => base + id),
    posted: [],
    holdsOpen: [],
    sent: [],
    operationsSent: [],
    freezes: [],
    nextId: base + 10_000n,
  };
}

function pick<T>(world: World, items: readonly T[]): T {
  return items[Math.floor(world.random() * items.length)]!;
}

/** Whether the router would run `event` in a new stage after `events` (its answers then agree with one shard's). */
function startsStage(world: World, events: readonly TransferInput[], event: TransferInput): boolean {
  let any = 0;
  for (const account of world.accounts) any |= account.flags ?? 0;
  // The payees the router marks before it stages the request (judged-payee-fences.ts markBigCredits): credits of
  // 2^36 or more. Marks from balances already high are left out: a cut the router makes and this does not expect
  // only means an event left out here.
  const big = new Set([...events, event].filter((t) => t.amount >= creditBigFrom && (t.flags ?? 0) !== TransferFlags.void_pending).map((t) => t.creditAccountId));
  if (big.size > 0) any |= DirectoryMarks.creditsBig;
  const accounts: AccountFlagsSource = {
    flagsAt: (view, at) => {
      const id = readU128(view, at);
      const flags = world.accounts.find((a) => a.id === id)?.flags ?? -1;
      return flags >= 0 && big.has(id) ? flags | DirectoryMarks.creditsBig : flags;
    },
    holdsAnyWith: (flags) => (any & flags) !== 0,
    mayHoldWith: (_view, _at, flags) => (any & flags) !== 0,
  };
  return stageStartsOf(encodeTransfers([...events, event]), shardsCompared, accounts).at(-1) === events.length;
}

/** Whether a chain group carries the event's credit half to its payee's shard (core/chains/prepared-chains.ts). */
function carriesCredit(event: TransferInput): boolean {
  return ((event.flags ?? 0) & transferKindFlags) !== TransferFlags.void_pending && event.amount > 0n;
}

function sameShard(a: bigint, b: bigint): boolean {
  return shardOfId(a, shardsCompared) === shardOfId(b, shardsCompared);
}

function payment(world: World, debitAccountId: bigint, creditAccountId: bigint, amount: bigint, flags = 0): TransferInput {
  const ledger = world.accounts.find((a) => a.id === debitAccountId)?.ledger ?? ledgerMain;
  return { id: world.nextId++, debitAccountId, creditAccountId, amount, ledger, code: codeDefault, flags };
}

function ledgerOf(world: World, id: bigint): number | undefined {
  return world.accounts.find((a) => a.id === id)?.ledger;
}

function nextRequest(world: World): Request {
  const roll = world.random();
  if (roll < 0.12) return { kind: 'operations', operations: [world.operationsSent.length > 0 && world.random() < 0.25 ? resentOperation(world) : accountOperation(world)] };
  if (roll < 0.2) return resentRequest(world);
  const events: TransferInput[] = [];
  /**
   * Accounts this request's current stage credited across shards: untouched by its later events unless requestOrder,
   * or unless the event starts a new stage (core/wire/request-stages.ts: the router then runs it after the credits).
   */
  const creditedAcross = new Set<bigint>();
  const count = 1 + Math.floor(world.random() * 5);
  const chain = world.random() < 0.15;
  for (let k = 0; k < count * 4 && events.length < count; k++) {
    const event = transferEvent(world, events);
    if (event === null) continue;
    const touched = [event.debitAccountId, event.creditAccountId];
    if (!world.divergences.requestOrder && touched.some((id) => creditedAcross.has(id))) {
      if (chain || !startsStage(world, events, event)) continue;
      creditedAcross.clear();
    }
    // A chain's credits across shards land with its commit (their payees' shards carry them in the group), except
    // those whose amount only the payer's shard knows (a whole post or freeze payment) and voids: by instruction, after.
    const carried = chain && carriesCredit(event);
    if (!sameShard(event.debitAccountId, event.creditAccountId) && !carried) creditedAcross.add(event.creditAccountId);
    events.push(event);
  }
  if (events.length === 0) return { kind: 'operations', operations: [accountOperation(world)] };
  const transfers = chain && events.length > 1 ? events.map((e, i) => (i < events.length - 1 ? linked(e) : e)) : events;
  return { kind: 'transfers', transfers };
}

/** A payment, hold, post, void or reversal; null when the draw would send a difference the switches keep out. */
function transferEvent(world: World, earlier: readonly TransferInput[]): TransferInput | null {
  const roll = world.random();
  const payer = pick(world, world.accounts).id;
  if (roll < 0.12) {
    // A payee that may refuse: unknown, another ledger, closed, blocked or capped.
    const payee = world.random() < 0.5 ? pick(world, world.unknownIds) : pick(world, world.accounts).id;
    // Across shards too: the payer's shard refuses from the directory, or as the capped payee's shard answers.
    return payment(world, payer, payee, amountFor(world));
  }
  if (roll < 0.3 && world.holdsOpen.length > 0) {
    const hold = pick(world, world.holdsOpen);
    if (earlier.some((e) => e.pendingId === hold.id)) return null;
    const post = world.random() < 0.6;
    const amount = post && world.random() < 0.5 ? 0n : post ? 1n + BigInt(Math.floor(world.random() * Number(hold.amount))) : 0n;
    // Now and then named with another payer, whose shard may not hold the hold (accounts_mismatch wherever it lives).
    const payer = world.random() < 0.15 ? pick(world, world.accounts).id : hold.debitAccountId;
    if (payer === hold.creditAccountId) return null;
    return { ...payment(world, payer, hold.creditAccountId, amount, post ? TransferFlags.post_pending : TransferFlags.void_pending), pendingId: hold.id };
  }
  if (roll < 0.38 && world.posted.length > 0) {
    const original = pick(world, world.posted);
    // Now and then named with another payer than the original's payee (accounts_mismatch wherever the original lives).
    const payer = world.random() < 0.15 ? pick(world, world.accounts).id : original.creditAccountId;
    if (payer === original.debitAccountId) return null;
    return { ...payment(world, payer, original.debitAccountId, 1n + BigInt(Math.floor(world.random() * 20)), TransferFlags.reversal), ledger: original.ledger, pendingId: original.id };
  }
  const sameLedger = world.accounts.filter((a) => a.ledger === ledgerOf(world, payer) && a.id !== payer);
  if (sameLedger.length === 0) return null;
  const payee = pick(world, sameLedger).id;
  // A hold across shards shows on its payee as on one shard (InstructionKind.hold).
  const hold = roll < 0.55;
  return payment(world, payer, payee, amountFor(world), hold ? TransferFlags.pending : 0);
}

function amountFor(world: World): bigint {
  const roll = world.random();
  // Now and then a hostile amount: a payee's credits (or a payer's debits) pass 2^64 after a few (balance_overflow).
  if (roll < 0.01) return amountMax - BigInt(Math.floor(world.random() * 3));
  if (roll < 0.02) return (1n << 62n) + BigInt(Math.floor(world.random() * 1000));
  return roll < 0.12 ? 5000n : 1n + BigInt(Math.floor(world.random() * 300));
}

/** A transfer sent before, again: as it was, with another amount, or with another debit account. */
function resentRequest(world: World): Request {
  if (world.sent.length === 0) return { kind: 'transfers', transfers: [payment(world, world.bank, world.bank + 2n, 1n)] };
  const before = pick(world, world.sent);
  const roll = world.random();
  if (roll < 0.5) return { kind: 'transfers', transfers: [before] };
  if (roll < 0.75) return { kind: 'transfers', transfers: [{ ...before, amount: before.amount + 1n }] };
  const others = world.accounts.filter((a) => a.id !== before.debitAccountId && a.ledger === before.ledger);
  // A payer on any shard: ids are unique ledger-wide (core/wire/ids-elsewhere.ts). Where the id was never taken (the
  // first one failed with a code no id is remembered for) the transfer is new: a reference (post, void, reversal)
  // named from another shard, or a capped payee across shards, answers as on one shard (core/wire/verdicts-elsewhere.ts).
  if (others.length === 0) return { kind: 'transfers', transfers: [before] }; // its ledger has no other account
  return { kind: 'transfers', transfers: [{ ...before, debitAccountId: pick(world, others).id }] };
}

/** An account operation sent before, again: as it was, or naming another account (its shard may be any). */
function resentOperation(world: World): AccountOperationInput {
  const before = pick(world, world.operationsSent);
  if (world.random() < 0.5) return before;
  const others = world.accounts.filter((a) => a.id !== before.accountId && a.id !== world.bank && a.id !== world.bankOther);
  return { ...before, accountId: pick(world, others).id };
}

function accountOperation(world: World): AccountOperationInput {
  const accountId = pick(world, world.accounts.filter((a) => a.id !== world.bank && a.id !== world.bankOther)).id;
  const id = world.nextId++;
  const roll = world.random();
  if (roll < 0.3) return freeze(id, accountId, 1n + BigInt(Math.floor(world.random() * 200)));
  if (roll < 0.45 && world.freezes.length > 0) {
    const frozen = pick(world, world.freezes);
    // Now and then naming another account than the freeze's (accounts_mismatch wherever the freeze lives).
    return unfreeze(id, world.random() < 0.2 ? accountId : frozen.accountId, frozen.id);
  }
  // Blocking credits or closing makes the account a payee that refuses: the payer's shard knows it from the directory.
  if (roll < 0.6) return block(id, accountId, pick(world, ['debits', 'credits', 'both'] as const));
  if (roll < 0.8) return unblock(id, accountId, pick(world, ['debits', 'credits', 'both'] as const));
  return close(id, accountId);
}

/** Updates what the generator knows from the one-shard replies (the reference). */
function learn(world: World, request: Request, outcomes: readonly Outcome[]): void {
  if (request.kind === 'operations') {
    request.operations.forEach((operation, i) => {
      if (!world.operationsSent.some((o) => o.id === operation.id)) world.operationsSent.push(operation);
      if (outcomes[i] === 'ok' && operation.kind === 'freeze') world.freezes.push({ id: operation.id, accountId: operation.accountId });
    });
    return;
  }
  if (request.kind !== 'transfers') return;
  request.transfers.forEach((t, i) => {
    if (!world.sent.some((s) => s.id === t.id)) world.sent.push(t);
    if (outcomes[i] !== 'ok') return;
    const flags = t.flags ?? 0;
    if ((flags & TransferFlags.pending) !== 0) world.holdsOpen.push(t);
    else if ((flags & (TransferFlags.post_pending | TransferFlags.void_pending)) !== 0) world.holdsOpen = world.holdsOpen.filter((h) => h.id !== t.pendingId);
    else if ((flags & TransferFlags.reversal) === 0) world.posted.push(t);
  });
}

/** Every account, transfer and history a caller could read now. */
async function compareReads(one: PlacementTarget, four: PlacementTarget, world: World, seed: number, step: number): Promise<void> {
  const accountIds = [...world.accounts.map((a) => a.id), ...world.unknownIds];
  const accountsOne = await one.accounts(accountIds);
  const accountsFour = await four.accounts(accountIds);
  for (const id of accountIds) {
    if (accountsOne.get(id) !== accountsFour.get(id)) throw new DivergenceError(seed, step, `account ${id}: one shard ${accountsOne.get(id)}, four shards ${accountsFour.get(id)}`);
  }
  for (const id of accountsOne.keys()) {
    const historyOne = await one.history(id);
    const historyFour = await four.history(id);
    if (historyOne !== historyFour) throw new DivergenceError(seed, step, `history of account ${id}:\none shard:\n${historyOne}\nfour shards:\n${historyFour}`);
  }
  const transferIds = world.sent.map((t) => t.id);
  if (transferIds.length === 0) return;
  const transfersOne = await one.transfers(transferIds);
  const transfersFour = await four.transfers(transferIds);
  for (const id of transferIds) {
    if (transfersOne.get(id) !== transfersFour.get(id)) throw new DivergenceError(seed, step, `transfer ${id}: one shard ${transfersOne.get(id)}, four shards ${transfersFour.get(id)}`);
  }
}

export function withoutTimes(state: AccountState | TransferState): string {
  return JSON.stringify(state, (key, value: unknown) => (key === 'timestamp' ? undefined : typeof value === 'bigint' ? value.toString() : value));
}

export function historyLine(entry: AccountHistoryEntry): string {
  const { timestamp: _, ...transfer } = entry.transfer;
  return JSON.stringify({ transfer, after: entry.balanceAfter }, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}
