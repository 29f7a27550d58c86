// The load bench's end checks, run once every cross-shard credit has landed (transit idle) and the hot
// accounts have applied the credits they buffered (or the wait for that ran out): nothing here waits.
// Every transfer issued was acknowledged ok; Σ debits = Σ credits = Σ amounts issued + the funding
// transfer over the bench's accounts, and each account (the funding and hot ones included) holds exactly
// what the bench sent it, a credit counted once whether applied or still buffered; per shard pair the two
// transit halves carried exactly the cross-shard amounts sent that way, and nothing came back; sampled
// transfers read back as sent, and each sample of the cross-shard workload shows in its payee's history.

import type { AccountState, Client } from '../../src/client/index.js';
import { historyPageMax } from '../../src/core/limits.js';
import { SystemAccountKind, systemAccountId } from '../../src/core/system-accounts.js';
import { creditsBuffered, type BufferedWait } from './hot-accounts.js';
import type { TransitReading, VerificationResult } from './report.js';
import { benchLedger, type SampledTransfer, type TransferSource } from './transfer-source.js';
import { workloadNames } from './workloads.js';

/** History lookups in flight at once when checking that sampled payees were credited. */
const historyChecksInFlight = 8;
/** Mismatching accounts or shard pairs named in the report. */
const mismatchExamplesMax = 5;

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
  const transit = await checkTransitAccounts(client, source);
  const samples = source.samples;
  const stored = new Map((await client.lookupTransfers(samples.map((s) => s.id))).map((t) => [t.id, t]));
  const samplesMatching = samples.filter((s) => {
    const t = stored.get(s.id);
    return t !== undefined && t.debitAccountId === s.debitAccountId && t.creditAccountId === s.creditAccountId && t.amount === s.amount && t.status === 'posted';
  }).length;
  const crossSamples = source.issued['cross-shard'].samples;
  const crossShardPayeesCredited = await countCreditedPayees(client, source, crossSamples);
  const amountIssuedTotal = BigInt(source.amountIssuedTotal);
  const amountFundedTotal = BigInt(source.amountFundedTotal);
  const { debits, credits, mismatched, examples } = balances;
  return {
    transfersIssued: source.transfersIssued,
    transfersOk: inputs.transfersOk,
    issuedByWorkload: Object.fromEntries(
      workloadNames.filter((name) => source.issued[name].transfers > 0).map((name) => [name, { transfers: source.issued[name].transfers, amount: String(source.issued[name].amount) }]),
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
    transitPairsChecked: transit.checked,
    transitPairsMatching: transit.matching,
    transitMismatchExamples: transit.examples,
    samplesChecked: samples.length,
    samplesMatching,
    crossShardSamplesChecked: crossSamples.length,
    crossShardPayeesCredited,
    passed:
      inputs.transfersOk === source.transfersIssued &&
      inputs.transitAtVerify.inFlight === 0 &&
      accounts.length === source.accountTotal &&
      credits === amountIssuedTotal + amountFundedTotal &&
      debits === credits &&
      (mismatched ?? 0) === 0 &&
      transit.matching === transit.checked &&
      samplesMatching === samples.length &&
      crossShardPayeesCredited === crossSamples.length,
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

/** Σ debits and Σ credits (posted + buffered) over the accounts, and each against what the bench sent it. */
function checkAccounts(accounts: readonly AccountState[], source: TransferSource): AccountsCheck {
  const check: AccountsCheck = { debits: 0n, credits: 0n, buffered: 0n, mismatched: source.expectedDebits === null ? null : 0, examples: [] };
  for (const a of accounts) {
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

/**
 * Per ordered shard pair: the transit-out half (on the debit shard) was credited, and the transit-in
 * half (on the credit shard) debited, exactly Σ cross-shard amounts sent that way; neither moved the
 * other way (no credit was refused and returned). A pair never used has no transit accounts yet.
 */
async function checkTransitAccounts(client: Client, source: TransferSource): Promise<{ checked: number; matching: number; examples: string[] }> {
  const n = source.shardCount;
  const pairs: { from: number; to: number; outId: bigint; inId: bigint }[] = [];
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
  const found = new Map<bigint, AccountState>();
  if (pairs.length > 0) for (const a of await client.lookupAccounts(pairs.flatMap((p) => [p.outId, p.inId]))) found.set(a.id, a);
  let matching = 0;
  const examples: string[] = [];
  for (const { from, to, outId, inId } of pairs) {
    const sent = BigInt(source.crossAmountByPair[from * n + to]);
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
        `transit shard ${from} → ${to}: sent ${sent}; out-half (shard ${from}) credits ${outCredits} debits ${outDebits}, in-half (shard ${to}) debits ${inDebits} credits ${inCredits}`,
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
