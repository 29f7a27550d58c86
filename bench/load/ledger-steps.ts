// Steps on a running server that both the load phases (load.ts) and the sustained mode (sustain.ts) take:
// creating the bench's accounts, funding and marking the hot accounts, reading GET /health transit and
// waiting for cross-shard credits to land, and the end checks of the ledger (verify.ts) once they have.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '../../src/client/index.js';
import { batchEventsMax } from '../../src/core/limits.js';
import type { ServerProcess } from '../../test/support/server-process.js';
import type { ProfileWindow } from './cpu-profile.js';
import { hotOutboundByCreation, markHot, waitCreditsApplied, waitSlicesFunded, type HotMarking } from './hot-accounts.js';
import { sliceIdsOf } from './hot-outbound-group.js';
import { msBetween } from './latency.js';
import type { LoadOptions } from './options.js';
import type { TransitReading, VerificationResult } from './report.js';
import { endProgress, statusLine } from './status-line.js';
import type { TransferSource } from './transfer-source.js';
import { verifyLedger } from './verify.js';
import type { Workload } from './workloads.js';

/** How often GET /health is polled while waiting for cross-shard credits to land. */
const transitPollMs = 20;
/** Longest wait, before the checks, for the hot accounts to apply the credits they buffered. */
const hotCreditsAppliedTimeoutMs = 10_000;
/** Longest wait, after funding the hot-debit account, for the keeper to refill each of its slices once. */
const slicesFundedTimeoutMs = 10_000;

/**
 * Before the first phase of a hot workload, once: hot-credit marks its account hot-inbound (mark_hot,
 * flags credits); hot-debit records that its account is hot-outbound by creation (read back: there is no
 * marking it). Returns whether the account is hot on its side (null: not a hot workload).
 */
export async function markBeforeFirstPhase(client: Client, source: TransferSource, workload: Workload, done: HotMarking[]): Promise<boolean | null> {
  if (workload !== 'hot-credit' && workload !== 'hot-debit') return null;
  let marking = done.find((m) => m.workload === workload);
  if (marking === undefined) {
    marking =
      workload === 'hot-credit'
        ? await markHot(client, workload, source.hotCreditAccountId, 'credits')
        : await hotOutboundByCreation(client, workload, source.hotDebitAccountId, source.hotDebitGroup === null ? 0 : sliceIdsOf(source.hotDebitGroup).length);
    done.push(marking);
  }
  return marking.marked;
}

/** One funding transfer; then, for a hot-outbound account, the wait until the keeper has refilled each slice once. */
export async function fundHotDebit(client: Client, source: TransferSource): Promise<void> {
  const transfer = source.fundingTransfer();
  const [result] = await client.createTransfers([transfer]);
  if (result.result !== 'ok') throw new Error(`funding the hot-debit account ${transfer.creditAccountId} from ${transfer.debitAccountId}: ${result.result}`);
  const kind = source.hotDebitGroup === null ? 'no overdraft' : 'hot-outbound, no overdraft';
  console.log(`hot-debit account ${source.hotDebitAccountId} (${kind}) funded with ${transfer.amount} minor units from account ${source.fundingAccountId}`);
  if (source.hotDebitGroup === null) return;
  const sliceIds = sliceIdsOf(source.hotDebitGroup);
  if (sliceIds.length === 0) return;
  const spread = await waitSlicesFunded(client, source.hotDebitAccountId, sliceIds, slicesFundedTimeoutMs);
  const line = `${spread.funded}/${spread.slices} slices (home shard ${source.hotDebitGroup.home}) refilled by the keeper in ${spread.seconds.toFixed(2)} s; sliceBalances ${spread.sliceBalancesMinor}`;
  console.log(spread.funded === spread.slices ? `  ${line}` : `warning: hot-debit: only ${line} after ${slicesFundedTimeoutMs / 1000} s; the load starts anyway (empty slices refuse)`);
}

/** GET /health `transit`; throws when the server does not report it. */
export async function readTransit(server: ServerProcess): Promise<TransitReading> {
  const { status, body } = await server.health();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(body);
  } catch {
    // reported below
  }
  const t = (parsed as { transit?: Partial<TransitReading> } | null)?.transit;
  const figures = [t?.inFlight, t?.delivered, t?.delayMsP50, t?.delayMsP99];
  if (status !== 200 || t === undefined || t === null || !figures.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new Error(`GET ${server.httpUrl}/health did not report transit figures (status ${status}): ${body.slice(0, 300)}`);
  }
  return { inFlight: t.inFlight!, delivered: t.delivered!, delayMsP50: t.delayMsP50!, delayMsP99: t.delayMsP99! };
}

/** Polls GET /health until transit.inFlight reads 0; throws after `timeoutMs` naming what was still in flight. */
export async function waitTransitIdle(server: ServerProcess, label: string, timeoutMs: number): Promise<{ reading: TransitReading; atNs: bigint }> {
  const startNs = process.hrtime.bigint();
  let first: TransitReading | null = null;
  let lastPrintMs = 0;
  for (;;) {
    const reading = await readTransit(server);
    const nowNs = process.hrtime.bigint();
    const waitedMs = msBetween(startNs, nowNs);
    if (reading.inFlight === 0) {
      if (first !== null) {
        statusLine(`  ${label}: cross-shard credits landed: ${(waitedMs / 1000).toFixed(2)} s, ${reading.delivered - first.delivered} delivered meanwhile`);
        endProgress();
      }
      return { reading, atNs: nowNs };
    }
    first ??= reading;
    if (waitedMs >= timeoutMs) {
      endProgress();
      throw new Error(
        `${label}: cross-shard credits did not all land within ${timeoutMs / 1000} s: GET /health transit.inFlight ${reading.inFlight} ` +
          `(${first.inFlight} when the wait began), delivered ${reading.delivered} (${first.delivered} when the wait began); ` +
          `raise --transit-timeout if the count was still falling`,
      );
    }
    if (waitedMs - lastPrintMs >= 1000 || lastPrintMs === 0) {
      statusLine(`  ${label}: waiting for cross-shard credits: ${reading.inFlight} in flight, ${reading.delivered - first.delivered} delivered, ${(waitedMs / 1000).toFixed(1)} s`);
      lastPrintMs = Math.max(1, waitedMs);
    }
    await sleep(transitPollMs);
  }
}

export async function createAccounts(client: Client, source: TransferSource): Promise<void> {
  const startNs = process.hrtime.bigint();
  for (let first = 0; first < source.accountTotal; first += batchEventsMax) {
    const count = Math.min(batchEventsMax, source.accountTotal - first);
    const results = await client.createAccounts(source.accounts(first, count));
    const refused = results.filter((r) => r.result !== 'ok');
    if (refused.length > 0) throw new Error(`creating accounts: ${refused.length} refused, first ${refused[0].result}`);
  }
  const seconds = msBetween(startNs, process.hrtime.bigint()) / 1000;
  console.log(
    `accounts: ${source.accountTotal} created in ${seconds.toFixed(2)} s (${source.accountCount} regular; funding ${source.fundingAccountId}, ` +
      `hot-credit ${source.hotCreditAccountId}, hot-debit ${source.hotDebitAccountId})`,
  );
}

/**
 * The end checks (load/verify.ts), once every cross-shard credit has landed and the hot accounts have
 * applied what they buffered (or `hotCreditsAppliedTimeoutMs` ran out: the checks then count buffered credits).
 */
export async function verify(
  server: ServerProcess,
  client: Client,
  source: TransferSource,
  /** Transfers acknowledged ok over every phase and day-cut window. */
  transfersOk: number,
  windows: ProfileWindow[],
  options: LoadOptions,
): Promise<VerificationResult> {
  const transitAtVerify = (await waitTransitIdle(server, 'verification', options.transitTimeoutSeconds * 1000)).reading;
  const hotCredits = await waitCreditsApplied(client, [source.hotCreditAccountId, source.hotDebitAccountId], hotCreditsAppliedTimeoutMs);
  const startNs = process.hrtime.bigint();
  const result = await verifyLedger(client, source, { transfersOk, transitAtVerify, hotCredits });
  const endNs = process.hrtime.bigint();
  windows.push({ name: 'verification (lookup of every account, transit accounts, sampled transfers, payee histories)', fromNs: startNs, toNs: endNs });
  return { ...result, seconds: msBetween(startNs, endNs) / 1000 };
}
