// The checks after every restart and at the end, with traffic stopped: transit settled (GET /health), every
// acknowledged record present and every refused or failed one absent, stored fields as sent, holds and
// reversals consistent with the transfers that closed them, balances equal to a replay of the stored
// transfers (a hot-outbound account and its slices as one group, since the keeper moves money inside it),
// no-overdraft accounts never below zero, slices really slices, closed accounts closed, and per ledger
// Σ debits = Σ credits over every account (transit, suspense and slices included) with each shard pair's
// transit netting to zero. Reads only; a read that disagrees is taken again (a keeper move or an expiry
// may land between two lookups) before it counts as a failure.

import { setTimeout as sleep } from 'node:timers/promises';
import { AccountFlags, type AccountState, type Client, type TransferInput, type TransferState } from '../../src/client/index.js';
import { SystemAccountKind, systemAccountId, type SystemAccountKindNumber } from '../../src/core/accounts/system-accounts.js';
import { hotOutboundGroup, sliceIdsOf } from '../load/hot-outbound-group.js';
import { presence, transferKind, type Model, type Tracked } from './model.js';
import type { ServerControl } from './server-control.js';

/** Reads of the balances until they agree, and the pause between two. */
const balanceReadsMax = 40;
const balanceReadPauseMs = 250;
/** How long cross-shard credits may take to land after traffic stopped. */
const settleMsMax = 60_000;
/** Examples of one kind of failure named in the report. */
const examplesMax = 5;

export interface CheckOutcome {
  failures: string[];
  /** Reads the balances took to agree. */
  reads: number;
  accounts: number;
  transfers: number;
  ledgers: number;
}

/** Waits until GET /health shows no cross-shard credit in flight (after a restart: once the relay has reconciled). */
export async function settleTransit(control: ServerControl): Promise<string | null> {
  const startMs = performance.now();
  let last = 'no answer';
  while (performance.now() - startMs < settleMsMax) {
    const health = await control.health(1_000);
    const transit = (health.body as { transit?: { inFlight?: number; reconciles?: number } } | null)?.transit;
    if (health.ok && transit?.inFlight === 0 && (transit.reconciles ?? 0) >= 1) return null;
    last = health.ok ? `transit ${JSON.stringify(transit)}` : `GET /health: ${health.error ?? health.status}`;
    await sleep(100);
  }
  return `cross-shard credits still in flight ${settleMsMax / 1000} s after traffic stopped (${last})`;
}

export async function checkLedger(client: Client, model: Model): Promise<CheckOutcome> {
  const failures: string[] = [];
  const transferIds = [...model.transfers.keys()];
  const accountIds = [...model.accounts.keys()].filter((id) => !model.squattedIds.has(id));
  const stored = byId(await client.lookupTransfers(transferIds));
  const ours = byId(await client.lookupAccounts(accountIds));
  failures.push(...presenceFailures('transfer', model.transfers, stored), ...presenceFailures('account', model.accounts, ours, model.squattedIds));
  failures.push(...accountFieldFailures(model, ours), ...transferFieldFailures(model, ours, stored), ...closingFailures(model, stored));
  const ledgers = new Set([...ours.values()].map((a) => a.ledger));
  let reads = 0;
  let balanceFailures: string[] = [];
  for (reads = 1; reads <= balanceReadsMax; reads++) {
    const transfers = byId(await client.lookupTransfers(transferIds));
    const accounts = byId(await client.lookupLedgerAccounts([...accountIds, ...derivedIds(model, ours, ledgers)]));
    balanceFailures = [...replayFailures(model, transfers, accounts, ledgers), ...overdraftFailures(model, accounts), ...ledgerFailures(model, accounts, ledgers)];
    if (balanceFailures.length === 0) break;
    await sleep(balanceReadPauseMs);
  }
  failures.push(...balanceFailures);
  return { failures, reads: Math.min(reads, balanceReadsMax), accounts: ours.size, transfers: stored.size, ledgers: ledgers.size };
}

function byId<T extends { id: bigint }>(records: readonly T[]): Map<bigint, T> {
  return new Map(records.map((r) => [r.id, r]));
}

/** Lines for up to examplesMax examples, and how many more there were. */
function examples(what: string, lines: readonly string[]): string[] {
  if (lines.length === 0) return [];
  const more = lines.length > examplesMax ? ` (and ${lines.length - examplesMax} more)` : '';
  return [`${what}: ${lines.length}${more}\n    ${lines.slice(0, examplesMax).join('\n    ')}`];
}

function outcomes(tracked: Tracked<unknown>): string {
  return tracked.attempts.map((a) => a.outcome).join(', ');
}

function presenceFailures(what: string, tracked: ReadonlyMap<bigint, Tracked<unknown>>, found: ReadonlyMap<bigint, unknown>, skip?: ReadonlySet<bigint>): string[] {
  const missing: string[] = [];
  const unwanted: string[] = [];
  for (const [id, t] of tracked) {
    if (skip?.has(id)) continue;
    const rule = presence(t);
    if (rule === 'must' && !found.has(id)) missing.push(`${what} ${id} (answers: ${outcomes(t)})`);
    if (rule === 'must-not' && found.has(id)) unwanted.push(`${what} ${id} (answers: ${outcomes(t)})`);
  }
  return [...examples(`acknowledged ${what}s missing`, missing), ...examples(`${what}s stored although every attempt was refused or failed`, unwanted)];
}

function accountFieldFailures(model: Model, found: ReadonlyMap<bigint, AccountState>): string[] {
  const wrong: string[] = [];
  for (const [id, a] of found) {
    const sent = model.accounts.get(id)!.attempts.map((attempt) => attempt.input);
    const same = sent.some((s) => s.ledger === a.ledger && s.code === a.code && s.flags === a.flags && s.userData128 === a.userData128 && s.userData64 === a.userData64 && s.userData32 === a.userData32);
    if (!same) wrong.push(`account ${id}: stored ledger ${a.ledger} code ${a.code} flags ${a.flags} user data ${a.userData64}/${a.userData32}, sent ${sent.map((s) => `${s.ledger}/${s.code}/${s.flags}/${s.userData64}/${s.userData32}`).join(' or ')}`);
  }
  return examples('accounts stored with fields nobody sent', wrong);
}

/** Whether `stored` is the transfer `sent`, allowing what the ledger fills in (a whole amount, a slice as payer). */
function storedAsSent(stored: TransferState, sent: Required<TransferInput>, hot: ReadonlySet<bigint>, shardCount: number): boolean {
  const payerSame = stored.debitAccountId === sent.debitAccountId || (hot.has(sent.debitAccountId) && isSliceOf(stored.debitAccountId, sent.debitAccountId, shardCount));
  return (
    payerSame &&
    stored.creditAccountId === sent.creditAccountId &&
    (sent.amount === 0n || stored.amount === sent.amount) &&
    stored.pendingId === sent.pendingId &&
    stored.ledger === sent.ledger &&
    stored.code === sent.code &&
    stored.flags === sent.flags &&
    stored.timeoutSeconds === sent.timeoutSeconds &&
    stored.userData128 === sent.userData128 &&
    stored.userData64 === sent.userData64 &&
    stored.userData32 === sent.userData32
  );
}

function isSliceOf(id: bigint, hotId: bigint, shardCount: number): boolean {
  return sliceIdsOf(hotOutboundGroup(hotId, shardCount)).includes(id);
}

const statusesByKind: Record<ReturnType<typeof transferKind>, readonly string[]> = {
  single: ['posted', 'returned'],
  post: ['posted', 'returned'],
  reversal: ['posted', 'returned'],
  'pay-freeze': ['posted', 'returned'],
  pending: ['pending', 'pending_posted', 'pending_voided', 'pending_expired'],
  // A void's own status is not specified beyond existing.
  void: ['posted', 'pending', 'pending_posted', 'pending_voided', 'pending_expired', 'returned'],
};

function transferFieldFailures(model: Model, accounts: ReadonlyMap<bigint, AccountState>, found: ReadonlyMap<bigint, TransferState>): string[] {
  const hot = new Set([...accounts.values()].filter((a) => (a.flags & AccountFlags.hot_outbound) !== 0).map((a) => a.id));
  const wrong: string[] = [];
  for (const [id, t] of found) {
    const sent = model.transfers.get(id)!.attempts.map((attempt) => attempt.input);
    if (!sent.some((s) => storedAsSent(t, s, hot, model.shardCount))) wrong.push(`transfer ${id}: stored ${describe(t)}; sent ${sent.map(describe).join(' or ')}`);
    else if (!statusesByKind[transferKind(t.flags)].includes(t.status)) wrong.push(`transfer ${id}: a ${transferKind(t.flags)} transfer with status ${t.status}`);
  }
  return examples('transfers stored with fields nobody sent, or an impossible status', wrong);
}

function describe(t: Required<TransferInput> | TransferState): string {
  return `${t.debitAccountId}→${t.creditAccountId} ${t.amount} ledger ${t.ledger} code ${t.code} flags ${t.flags} pending ${t.pendingId}`;
}

/**
 * Holds and originals against the transfers that closed or reversed them: a posted hold has exactly one
 * stored post, of its amount posted; a voided one exactly one void; reversals add up to amount reversed.
 */
function closingFailures(model: Model, found: ReadonlyMap<bigint, TransferState>): string[] {
  const closers = new Map<bigint, TransferState[]>();
  for (const t of found.values()) {
    if (t.pendingId === 0n || transferKind(t.flags) === 'pay-freeze') continue;
    const list = closers.get(t.pendingId) ?? [];
    list.push(t);
    closers.set(t.pendingId, list);
  }
  const wrong: string[] = [];
  for (const t of found.values()) {
    const by = closers.get(t.id) ?? [];
    const posts = by.filter((c) => transferKind(c.flags) === 'post');
    const voids = by.filter((c) => transferKind(c.flags) === 'void');
    const reversed = by.filter((c) => transferKind(c.flags) === 'reversal').reduce((sum, c) => sum + c.amount, 0n);
    if (transferKind(t.flags) === 'pending') {
      const expected = { pending_posted: [1, 0], pending_voided: [0, 1] }[t.status as 'pending_posted' | 'pending_voided'] ?? [0, 0];
      if (posts.length !== expected[0] || voids.length !== expected[1]) wrong.push(`hold ${t.id} is ${t.status} with ${posts.length} posts and ${voids.length} voids stored`);
      else if (posts.length === 1 && posts[0]!.amount !== t.amountPosted) wrong.push(`hold ${t.id}: amount posted ${t.amountPosted}, its post ${posts[0]!.id} moved ${posts[0]!.amount}`);
      if (t.amountPosted > t.amount) wrong.push(`hold ${t.id}: posted ${t.amountPosted} of ${t.amount}`);
    }
    // A reversal runs on the original's payee shard, which keeps the sum reversed: comparable when both sides share a shard.
    const oneShard = model.shardOf(t.debitAccountId) === model.shardOf(t.creditAccountId);
    if ((oneShard && reversed !== t.amountReversed) || t.amountReversed > t.amount) wrong.push(`transfer ${t.id} of ${t.amount}: amount reversed ${t.amountReversed}, its stored reversals ${reversed}`);
  }
  return examples('holds or originals that disagree with the transfers closing or reversing them', wrong);
}

/**
 * Generations of each transit and suspense account read (system-accounts.ts: a full one rolls over to the next).
 * Hostile amounts of a few minutes open a handful; one past these shows as money vanished, never as a silent pass.
 */
const systemGenerationsRead = 8;

/** The ids of every generation read of a system account (oldest first). */
function systemIds(kind: SystemAccountKindNumber, ledger: number, from: number, to: number, shardCount: number): bigint[] {
  return Array.from({ length: systemGenerationsRead }, (_, generation) => systemAccountId(kind, ledger, from, to, shardCount, generation));
}

/** The accounts found among `ids` (a system account's generations). */
function generationsOf(accounts: ReadonlyMap<bigint, AccountState>, ids: readonly bigint[]): AccountState[] {
  return ids.flatMap((id) => accounts.get(id) ?? []);
}

/** Slices of every hot-outbound account found, and every transit and suspense account of the ledgers in use. */
function derivedIds(model: Model, ours: ReadonlyMap<bigint, AccountState>, ledgers: ReadonlySet<number>): bigint[] {
  const n = model.shardCount;
  const ids: bigint[] = [];
  for (const a of ours.values()) {
    if ((a.flags & AccountFlags.hot_outbound) === 0) continue;
    ids.push(...sliceIdsOf(hotOutboundGroup(a.id, n)));
  }
  for (const ledger of ledgers) {
    for (let from = 0; from < n; from++) {
      ids.push(...systemIds(SystemAccountKind.suspense, ledger, from, 0, n));
      for (let to = 0; to < n; to++) {
        if (from === to) continue;
        ids.push(...systemIds(SystemAccountKind.transitOut, ledger, from, to, n), ...systemIds(SystemAccountKind.transitIn, ledger, from, to, n));
      }
    }
  }
  return ids;
}

interface Replayed {
  debitsPosted: bigint;
  /** Credits of transfers that landed (a return is counted apart). */
  credits: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  /** Open holds from other shards to a capped payee (credits ≤ debits), which may have refused to show them on arrival. */
  creditsPendingMaybe: bigint;
  /**
   * Money of this payer's transfers that came back (status returned). It lands on the payer, or, when the
   * payer cannot take it (closed, or its own balance rule refuses it), on its shard's suspense account.
   */
  returned: bigint;
}

const zero = (): Replayed => ({ debitsPosted: 0n, credits: 0n, debitsPending: 0n, creditsPending: 0n, creditsPendingMaybe: 0n, returned: 0n });

/** The balances the stored transfers imply, per account. */
function replay(model: Model, transfers: ReadonlyMap<bigint, TransferState>, accounts: ReadonlyMap<bigint, AccountState>): Map<bigint, Replayed> {
  const replayed = new Map<bigint, Replayed>();
  const of = (id: bigint) => replayed.get(id) ?? replayed.set(id, zero()).get(id)!;
  for (const t of transfers.values()) {
    const kind = transferKind(t.flags);
    if (kind === 'void') continue;
    if (kind === 'pending') {
      if (t.status !== 'pending') continue;
      of(t.debitAccountId).debitsPending += t.amount;
      // A hold shows on its payee at any placement; across shards a capped payee may have refused to show it.
      const capped = ((accounts.get(t.creditAccountId)?.flags ?? 0) & AccountFlags.credits_must_not_exceed_debits) !== 0;
      if (capped && model.shardOf(t.debitAccountId) !== model.shardOf(t.creditAccountId)) of(t.creditAccountId).creditsPendingMaybe += t.amount;
      else of(t.creditAccountId).creditsPending += t.amount;
      continue;
    }
    of(t.debitAccountId).debitsPosted += t.amount;
    if (t.status === 'returned') of(t.debitAccountId).returned += t.amount;
    else of(t.creditAccountId).credits += t.amount;
  }
  return replayed;
}

const credited = (a: AccountState): bigint => a.creditsPosted + (a.creditsBuffered ?? 0n);
const isSystemId = (id: bigint): boolean => id >> 96n === 0xffff_ffffn;

/**
 * Balances against the replay: each account alone, a hot-outbound account with its slices as one group;
 * per ledger and shard, the returns that did not land on their payers are exactly what suspense holds.
 */
function replayFailures(model: Model, transfers: ReadonlyMap<bigint, TransferState>, accounts: ReadonlyMap<bigint, AccountState>, ledgers: ReadonlySet<number>): string[] {
  const replayed = replay(model, transfers, accounts);
  const groupOf = new Map<bigint, bigint>();
  for (const a of accounts.values()) {
    if ((a.flags & AccountFlags.hot_outbound) === 0) continue;
    groupOf.set(a.id, a.id);
    for (const slice of sliceIdsOf(hotOutboundGroup(a.id, model.shardCount))) groupOf.set(slice, a.id);
  }
  const wrong: string[] = [];
  const groups = new Map<bigint, { net: bigint; replayedNet: bigint; returned: bigint }>();
  /** Per `ledger:shard`: returns that did not land on their payer. */
  const toSuspense = new Map<string, bigint>();
  const suspended = (a: AccountState, amount: bigint) => {
    const key = `${a.ledger}:${model.shardOf(a.id)}`;
    toSuspense.set(key, (toSuspense.get(key) ?? 0n) + amount);
  };
  for (const [id, a] of accounts) {
    if (isSystemId(id)) continue; // transit and suspense: checked per ledger
    const r = replayed.get(id) ?? zero();
    const pendingCreditsWrong = a.creditsPending < r.creditsPending || a.creditsPending > r.creditsPending + r.creditsPendingMaybe;
    if (a.debitsPending !== r.debitsPending || pendingCreditsWrong) {
      const maybe = r.creditsPendingMaybe === 0n ? '' : ` (+ up to ${r.creditsPendingMaybe} a capped payee may have refused to show)`;
      wrong.push(`account ${id}: pending ${a.debitsPending}/${a.creditsPending}, the transfers say ${r.debitsPending}/${r.creditsPending}${maybe}`);
    }
    const group = groupOf.get(id);
    if (group !== undefined) {
      const g = groups.get(group) ?? { net: 0n, replayedNet: 0n, returned: 0n };
      g.net += credited(a) - a.debitsPosted;
      g.replayedNet += r.credits - r.debitsPosted;
      g.returned += r.returned;
      groups.set(group, g);
      continue;
    }
    const landed = credited(a) - r.credits;
    if (a.debitsPosted !== r.debitsPosted || landed < 0n || landed > r.returned) {
      wrong.push(
        `account ${id} (${model.accounts.get(id)?.role ?? 'derived'}, shard ${model.shardOf(id)}, flags ${a.flags}, ${a.status}): debits ${a.debitsPosted}, credits ${credited(a)}; ` +
          `the transfers say ${r.debitsPosted}, ${r.credits}${r.returned > 0n ? ` + up to ${r.returned} returned` : ''}; its transfers: ${involving(model, transfers, id)}`,
      );
    } else suspended(a, r.returned - landed);
  }
  for (const [hot, g] of groups) {
    const landed = g.net - g.replayedNet;
    if (landed < 0n || landed > g.returned) wrong.push(`hot-outbound account ${hot} with its slices: net ${g.net}, the transfers say ${g.replayedNet}${g.returned > 0n ? ` + up to ${g.returned} returned` : ''}`);
    else suspended(accounts.get(hot)!, g.returned - landed);
  }
  for (const ledger of ledgers) {
    for (let shard = 0; shard < model.shardCount; shard++) {
      let holds = 0n;
      for (const suspense of generationsOf(accounts, systemIds(SystemAccountKind.suspense, ledger, shard, 0, model.shardCount))) holds += credited(suspense) - suspense.debitsPosted;
      const expected = toSuspense.get(`${ledger}:${shard}`) ?? 0n;
      if (holds !== expected) wrong.push(`ledger ${ledger}, shard ${shard}: suspense holds ${holds}, the returns its payers did not take add up to ${expected}`);
    }
  }
  return examples('balances that differ from a replay of the stored transfers', wrong);
}

/** The stored transfers naming `id`, for a failure message: id, kind, status, amount, payer → payee (with their shards). */
function involving(model: Model, transfers: ReadonlyMap<bigint, TransferState>, id: bigint): string {
  const lines = [...transfers.values()]
    .filter((t) => t.debitAccountId === id || t.creditAccountId === id)
    .map((t) => `${t.id} ${transferKind(t.flags)} ${t.status}${t.returnReason ? `(${t.returnReason})` : ''} ${t.amount} ${t.debitAccountId === id ? 'out to' : 'in from'} shard ${model.shardOf(t.debitAccountId === id ? t.creditAccountId : t.debitAccountId)}`);
  return lines.length <= 12 ? lines.join('; ') : `${lines.slice(0, 12).join('; ')}; … ${lines.length - 12} more`;
}

/** No-overdraft and its mirror hold on every account; slices are the no-overdraft accounts the server opened. */
function overdraftFailures(model: Model, accounts: ReadonlyMap<bigint, AccountState>): string[] {
  const wrong: string[] = [];
  for (const a of accounts.values()) {
    if ((a.flags & AccountFlags.debits_must_not_exceed_credits) !== 0 && a.debitsPosted + a.debitsPending + a.frozen > a.creditsPosted) {
      wrong.push(`account ${a.id} (no overdraft) is below zero: credits ${a.creditsPosted} < debits ${a.debitsPosted} + pending ${a.debitsPending} + frozen ${a.frozen}`);
    }
    if ((a.flags & AccountFlags.credits_must_not_exceed_debits) !== 0 && credited(a) + a.creditsPending > a.debitsPosted) {
      wrong.push(`account ${a.id} (credits must not exceed debits): credits ${credited(a)} + pending ${a.creditsPending} > debits ${a.debitsPosted}`);
    }
    if ((a.flags & AccountFlags.hot_outbound) === 0) continue;
    hotOutboundGroup(a.id, model.shardCount).slices.forEach((sliceId, shard) => {
      if (sliceId === null) return;
      const slice = accounts.get(sliceId);
      if (slice === undefined) wrong.push(`hot-outbound account ${a.id} has no slice ${sliceId} on shard ${shard}`);
      else if ((slice.flags & AccountFlags.debits_must_not_exceed_credits) === 0 || slice.userData128 !== a.id || slice.ledger !== a.ledger) {
        wrong.push(`slice ${sliceId} of hot-outbound account ${a.id} is not its slice: flags ${slice.flags}, user_data_128 ${slice.userData128}, ledger ${slice.ledger} (a caller's account at a derived id pays its debits)`);
      }
    });
  }
  for (const id of model.closedAcked) {
    const a = accounts.get(id);
    if (a !== undefined && a.status !== 'closed') wrong.push(`account ${id} was closed (answered ok) but reads ${a.status}`);
  }
  return examples('accounts breaking their balance rules', wrong);
}

/** Per ledger: Σ debits = Σ credits (posted, and pending) over every account; per shard pair the transit halves net to zero. */
function ledgerFailures(model: Model, accounts: ReadonlyMap<bigint, AccountState>, ledgers: ReadonlySet<number>): string[] {
  const sums = new Map<number, { debits: bigint; credits: bigint; debitsPending: bigint; creditsPending: bigint }>();
  for (const a of accounts.values()) {
    const s = sums.get(a.ledger) ?? { debits: 0n, credits: 0n, debitsPending: 0n, creditsPending: 0n };
    s.debits += a.debitsPosted;
    s.credits += credited(a);
    s.debitsPending += a.debitsPending;
    s.creditsPending += a.creditsPending;
    sums.set(a.ledger, s);
  }
  const wrong: string[] = [];
  for (const [ledger, s] of sums) {
    if (s.debits !== s.credits) wrong.push(`ledger ${ledger}: Σ debits posted ${s.debits} ≠ Σ credits ${s.credits} (money ${s.credits > s.debits ? 'appeared' : 'vanished'}: ${s.credits - s.debits})`);
    if (s.debitsPending !== s.creditsPending) wrong.push(`ledger ${ledger}: Σ debits pending ${s.debitsPending} ≠ Σ credits pending ${s.creditsPending}`);
  }
  const n = model.shardCount;
  for (const ledger of ledgers) {
    for (let from = 0; from < n; from++) {
      for (let to = 0; to < n; to++) {
        if (from === to) continue;
        let inFlight = 0n;
        for (const out of generationsOf(accounts, systemIds(SystemAccountKind.transitOut, ledger, from, to, n))) inFlight += credited(out) - out.debitsPosted;
        for (const into of generationsOf(accounts, systemIds(SystemAccountKind.transitIn, ledger, from, to, n))) inFlight -= into.debitsPosted;
        if (inFlight !== 0n) wrong.push(`ledger ${ledger}, shard ${from} → ${to}: transit nets to ${inFlight} with nothing in flight`);
      }
    }
  }
  return examples('ledgers out of balance', wrong);
}
