// The load bench's end checks, run once every cross-shard credit has landed (transit idle) and the hot
// accounts have applied the credits they buffered (or the wait for that ran out). Every transfer issued
// was acknowledged ok, or (hot-debit only) refused insufficient_funds by a slice and then absent; Σ debits =
// Σ credits = Σ amounts posted + the funding transfer over the bench's accounts, and each account (the
// funding and hot-credit ones included) holds exactly what the bench sent it, a credit counted once
// whether applied or still buffered; per shard pair the two transit halves carried exactly the cross-shard
// amounts sent that way, and nothing came back; sampled transfers read back as sent, and each sample of
// the cross-shard workload shows in its payee's history.
// A hot-outbound hot-debit account is checked as one group with its slices (hot-outbound-group.ts): the
// keeper's refills and returns move money inside the group and across shards, so the group's sum, the
// totals (net of those moves) and the transit pairs (plus those moves) are read together, and read again
// (settledReadsMax × settledReadPauseMs at most) while a move is half done; nothing else here waits.

import { setTimeout as sleep } from 'node:timers/promises';
import type { AccountState, Client, TransferState } from '../../src/client/index.js';
import { historyPageMax } from '../../src/core/limits.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/accounts/system-accounts.js';
import { creditsBuffered, type BufferedWait } from './hot-accounts.js';
import { checkGroup, keeperMovesByPair, sliceIdsOf, type GroupCheck, type HotOutboundGroup } from './hot-outbound-group.js';
import type { HotDebitGroupResult, TransitReading, VerificationResult } from './report.js';
import { benchLedger, benchTransferCode, type SampledTransfer, type TransferSource } from './transfer-source.js';
import { workloadNames } from './workloads.js';

/** History lookups in flight at once when checking that sampled payees were credited. */
const historyChecksInFlight = 8;
/** Mismatching accounts or shard pairs named in the report. */
const mismatchExamplesMax = 5;
/** Reads of the hot-debit group and the transit accounts until they agree (a keeper move may be half done), and the pause between two. */
export const settledReadsMax = 50;
export const settledReadPauseMs = 100;

export interface VerifyInputs {
  /** Transfers acknowledged ok over every phase and day-cut window. */
  transfersOk: number;
  /** GET /health transit, read at 0 in flight just before. */
  transitAtVerify: TransitReading;
  hotCredits: BufferedWait;
}

export async function verifyLedger(client: Client, source: TransferSource, inputs: VerifyInputs): Promise<Omit<VerificationResult, 'seconds'>> {
  const ids = Array.from({ length: source.accountTotal }, (_, i) => source.accountId(i));
  const accounts = await client.lookupAccounts(ids);
  const balances = checkAccounts(accounts, source);
  // The accounts above are untouched by the keeper; the group and the transit accounts are read after them, together.
  const settled = await readSettled(client, source);
  const group = settled.group;
  // The keeper's moves are one debit and one credit each inside the group: out of both totals, so that each
  // equals Σ amounts posted + funding exactly (the group then adds its payments as debits and the funding as credit).
  const debits = balances.debits + (group === null ? 0n : group.check.debitsMinor - group.check.internalMinor);
  const credits = balances.credits + (group === null ? 0n : group.check.creditsMinor - group.check.internalMinor);
  const samples = source.samples;
  const stored = new Map((await client.lookupTransfers(samples.map((s) => s.id))).map((t) => [t.id, t]));
  const samplesMatching = samples.filter((s) => sampleMatches(s, stored.get(s.id))).length;
  const refusedIds = source.hotDebitRefusedIds;
  const refusedFound = refusedIds.length === 0 ? 0 : (await client.lookupTransfers(refusedIds)).length;
  const crossSamples = source.issued['cross-shard'].samples;
  const crossShardPayeesCredited = await countCreditedPayees(client, source, crossSamples);
  const amountIssuedTotal = BigInt(source.amountIssuedTotal);
  const amountFundedTotal = BigInt(source.amountFundedTotal);
  const { mismatched, examples } = balances;
  const transit = settled.transit;
  return {
    transfersIssued: source.transfersIssued,
    transfersOk: inputs.transfersOk,
    hotDebitRefused: source.hotDebitRefused,
    transfersRefusedWhole: source.transfersRefusedWhole,
    refusedIdsChecked: refusedIds.length,
    refusedIdsFound: refusedFound,
    issuedByWorkload: Object.fromEntries(
      workloadNames
        .filter((name) => source.issued[name].transfers > 0)
        .map((name) => [name, { transfers: source.issued[name].transfers, refused: source.issued[name].refused, amount: String(source.issued[name].amount) }]),
    ),
    transitAtVerify: inputs.transitAtVerify,
    hotCredits: inputs.hotCredits,
    accountsChecked: accounts.length,
    creditsPostedTotal: String(credits),
    creditsBufferedTotal: String(balances.buffered),
    debitsPostedTotal: String(debits),
    amountIssuedTotal: String(amountIssuedTotal),
    amountFundedTotal: String(amountFundedTotal),
    debitsEqualCredits: debits === credits,
    accountsMismatched: mismatched,
    accountMismatchExamples: examples,
    hotDebitGroup: group === null ? null : groupResult(source.hotDebitGroup!, group, settled.reads),
    transitPairsChecked: transit.checked,
    transitPairsMatching: transit.matching,
    transitMismatchExamples: transit.examples,
    samplesChecked: samples.length,
    samplesMatching,
    crossShardSamplesChecked: crossSamples.length,
    crossShardPayeesCredited,
    passed:
      inputs.transfersOk + source.hotDebitRefused + source.transfersRefusedWhole === source.transfersIssued &&
      refusedFound === 0 &&
      inputs.transitAtVerify.inFlight === 0 &&
      accounts.length === source.accountTotal &&
      credits === amountIssuedTotal + amountFundedTotal &&
      debits === credits &&
      (mismatched ?? 0) === 0 &&
      (group?.check.matches ?? true) &&
      transit.matching === transit.checked &&
      samplesMatching === samples.length &&
      crossShardPayeesCredited === crossSamples.length,
  };
}

/**
 * A sampled transfer reads back as sent: posted, same payee, amount, ledger, code and flags (none), and the debit
 * account sent — a hot-outbound account's payment too, though a slice served it (the server names the account, as
 * one shard does). A refused sample must not exist.
 */
export function sampleMatches(sample: SampledTransfer, stored: TransferState | undefined): boolean {
  if (sample.refused) return stored === undefined;
  if (stored === undefined) return false;
  return (
    stored.debitAccountId === sample.debitAccountId &&
    stored.creditAccountId === sample.creditAccountId &&
    stored.amount === sample.amount &&
    stored.ledger === benchLedger &&
    stored.code === benchTransferCode &&
    stored.flags === 0 &&
    stored.status === 'posted'
  );
}

/** The group as the report shows it. */
function groupResult(group: HotOutboundGroup, settled: { check: GroupCheck; sliceBalancesMinor: bigint | null }, reads: number): HotDebitGroupResult {
  const c = settled.check;
  return {
    accountId: String(group.hotId),
    homeShard: group.home,
    slices: sliceIdsOf(group).length,
    slicesFound: c.slicesFound,
    netMinor: String(c.netMinor),
    expectedMinor: String(c.expectedMinor),
    slicesNetMinor: String(c.slicesNetMinor),
    sliceBalancesMinor: settled.sliceBalancesMinor === null ? null : String(settled.sliceBalancesMinor),
    keeperInternalMinor: String(c.internalMinor),
    reads,
    readPauseMs: settledReadPauseMs,
    matches: c.matches,
  };
}

interface AccountsCheck {
  debits: bigint;
  /** Posted plus buffered: every credit accepted, applied or not. */
  credits: bigint;
  buffered: bigint;
  /** null: per-account sums not kept (too many accounts). */
  mismatched: number | null;
  examples: string[];
}

/**
 * Σ debits and Σ credits (posted + buffered) over the accounts, and each against what the bench sent it.
 * A hot-outbound hot-debit account is left out: its balance depends on what the keeper moved into its
 * slices, so it is checked with them as a group (readSettled).
 */
function checkAccounts(accounts: readonly AccountState[], source: TransferSource): AccountsCheck {
  const check: AccountsCheck = { debits: 0n, credits: 0n, buffered: 0n, mismatched: source.expectedDebits === null ? null : 0, examples: [] };
  const grouped = source.hotDebitGroup?.hotId ?? null;
  for (const a of accounts) {
    if (a.id === grouped) continue;
    const buffered = creditsBuffered(a);
    const credits = a.creditsPosted + buffered;
    check.debits += a.debitsPosted;
    check.credits += credits;
    check.buffered += buffered;
    if (source.expectedDebits === null || source.expectedCredits === null) continue;
    const expectedDebits = BigInt(source.expectedDebits[Number(a.id) - 1]);
    const expectedCredits = BigInt(source.expectedCredits[Number(a.id) - 1]);
    if (a.debitsPosted === expectedDebits && credits === expectedCredits) continue;
    check.mismatched!++;
    if (check.examples.length < mismatchExamplesMax) {
      check.examples.push(
        `account ${a.id} (shard ${source.shardOfAccountId(a.id)}): debits posted ${a.debitsPosted}, credits posted ${a.creditsPosted} + buffered ${buffered}; sent ${expectedDebits} / ${expectedCredits}`,
      );
    }
  }
  return check;
}

interface TransitPair {
  from: number;
  to: number;
  outId: bigint;
  inId: bigint;
}

interface TransitCheck {
  checked: number;
  matching: number;
  examples: string[];
}

/** The hot-debit group and the transit accounts, from one read in which they agree (or the last of settledReadsMax). */
interface SettledRead {
  group: { check: GroupCheck; sliceBalancesMinor: bigint | null } | null;
  transit: TransitCheck;
  reads: number;
}

/**
 * Reads the hot-debit group (when hot-outbound) and every transit account in one lookupLedgerAccounts call, and
 * again after settledReadPauseMs while either check fails: transit was idle before the checks, but the
 * keeper may still move money (a refill or a timed return debited on one shard and not yet credited on
 * the other). Gives up after settledReadsMax reads and returns the last, failing. Without a hot-outbound
 * account nothing moves once transit is idle: one read.
 */
async function readSettled(client: Client, source: TransferSource): Promise<SettledRead> {
  const group = source.hotDebitGroup;
  const pairs = transitPairs(source);
  const ids = [...(group === null ? [] : [group.hotId, ...sliceIdsOf(group)]), ...pairs.flatMap((p) => [p.outId, p.inId])];
  for (let reads = 1; ; reads++) {
    const states = new Map<bigint, AccountState>();
    if (ids.length > 0) for (const a of await client.lookupLedgerAccounts(ids)) states.set(a.id, a);
    const check = group === null ? null : checkGroup(group, states, BigInt(source.amountFundedTotal), BigInt(source.issued['hot-debit'].amount));
    const keeperMoves = group === null ? null : keeperMovesByPair(group, states, source.hotDebitPaidByShard, source.shardCount);
    const transit = checkTransit(pairs, states, source, keeperMoves);
    const agreed = (check?.matches ?? true) && transit.matching === transit.checked;
    if (agreed || group === null || reads === settledReadsMax) {
      return { group: check === null ? null : { check, sliceBalancesMinor: states.get(group!.hotId)?.sliceBalances ?? null }, transit, reads };
    }
    await sleep(settledReadPauseMs);
  }
}

/** Every ordered pair of different shards, with the ids of its two transit halves. */
function transitPairs(source: TransferSource): TransitPair[] {
  const n = source.shardCount;
  const pairs: TransitPair[] = [];
  for (let from = 0; from < n; from++) {
    for (let to = 0; to < n; to++) {
      if (from === to) continue;
      pairs.push({
        from,
        to,
        outId: systemAccountId(SystemAccountKind.transitOut, benchLedger, from, to, n),
        inId: systemAccountId(SystemAccountKind.transitIn, benchLedger, from, to, n),
      });
    }
  }
  return pairs;
}

/**
 * Per ordered shard pair: the transit-out half (on the debit shard) was credited, and the transit-in
 * half (on the credit shard) debited, exactly Σ cross-shard amounts sent that way plus what the keeper
 * moved that way (`keeperMoves`, null: no hot-outbound account); neither moved the other way (no credit
 * was refused and returned). A pair never used has no transit accounts yet.
 */
function checkTransit(pairs: readonly TransitPair[], found: ReadonlyMap<bigint, AccountState>, source: TransferSource, keeperMoves: readonly bigint[] | null): TransitCheck {
  const n = source.shardCount;
  let matching = 0;
  const examples: string[] = [];
  for (const { from, to, outId, inId } of pairs) {
    const keeper = keeperMoves?.[from * n + to] ?? 0n;
    const sent = BigInt(source.crossAmountByPair[from * n + to]) + keeper;
    const out = found.get(outId);
    const into = found.get(inId);
    const outCredits = out === undefined ? 0n : out.creditsPosted + creditsBuffered(out);
    const outDebits = out?.debitsPosted ?? 0n;
    const inDebits = into?.debitsPosted ?? 0n;
    const inCredits = into === undefined ? 0n : into.creditsPosted + creditsBuffered(into);
    if (outCredits === sent && inDebits === sent && outDebits === 0n && inCredits === 0n) {
      matching++;
      continue;
    }
    if (examples.length < mismatchExamplesMax) {
      examples.push(
        `transit shard ${from} → ${to}: sent ${sent}${keeperMoves === null ? '' : ` (${keeper} of it the keeper's)`}; ` +
          `out-half (shard ${from}) credits ${outCredits} debits ${outDebits}, in-half (shard ${to}) debits ${inDebits} credits ${inCredits}`,
      );
    }
  }
  return { checked: pairs.length, matching, examples };
}

/** Cross-shard samples whose transfer shows in the payee's history, as a credit of the payee: the credit landed on its shard. */
async function countCreditedPayees(client: Client, source: TransferSource, samples: readonly SampledTransfer[]): Promise<number> {
  let credited = 0;
  let next = 0;
  const worker = async () => {
    while (next < samples.length) {
      const sample = samples[next++];
      if (source.shardOfAccountId(sample.creditAccountId) === source.shardOfAccountId(sample.debitAccountId)) continue; // not cross-shard: not counted
      if (await inPayeeHistory(client, sample)) credited++;
    }
  };
  await Promise.all(Array.from({ length: historyChecksInFlight }, worker));
  return credited;
}

async function inPayeeHistory(client: Client, sample: SampledTransfer): Promise<boolean> {
  for (let timestampMin = 0n; ; ) {
    const page = await client.getAccountTransfers({ accountId: sample.creditAccountId, timestampMin, limit: historyPageMax });
    const entry = page.find((e) => e.transfer.id === sample.id);
    if (entry !== undefined) return entry.transfer.creditAccountId === sample.creditAccountId && entry.transfer.amount === sample.amount;
    if (page.length < historyPageMax) return false;
    timestampMin = page[page.length - 1].transfer.timestamp + 1n;
  }
}
