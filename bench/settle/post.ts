// `--post`: the runs' postings through a real ledger (a `tally serve` child, 2 shards, fresh data dir), as a
// settlement service would post them: the role accounts opened (per channel 在途, fee income and payout; per
// merchant available and reserve), then each run's linked transfers, run after run, in requests of batchEventsMax
// with each chain whole inside one request (chains within one shard and chains across the shards in requests of
// their own: see requestsOf), several requests in flight. Then the ledger is asked what it holds — each
// channel's payout account credited exactly the payouts, its fee income the fees — and one request is posted
// again, which the ledger must answer `exists` for every transfer: a retried run never pays twice.

import { connect, type AccountInput, type Client, type TransferInput } from '../../src/client/index.js';
import { newId } from '../../src/client/ids.js';
import { assert } from '../../src/core/assert.js';
import { batchEventsMax } from '../../src/core/limits.js';
import { shardOfId } from '../../src/core/routing.js';
import { TransferFlags } from '../../src/core/types.js';
import { requestsOf } from '../../src/core/settle/posting-requests.js';
import { transferOf, type PostingRole, type PostingSpec, type SettlementAccountConfig } from '../../src/core/settle/settlement-postings.js';
import { startServerProcess } from '../../test/support/server-process.js';
import { endProgress, statusLine } from '../load/status-line.js';
import type { Check } from './check.js';
import { channelNames } from './plan.js';

const ledger = 156;
const accountCode = 1;
const transferCodes: Record<PostingRole, number> = { reserve_release: 801, fee: 802, share: 806, reserve_hold: 803, settle: 804, payout: 805 };
const progressEveryMs = 2000;

/** Requests of one kind over all runs: how many transfers they held and the wall time spent posting them. */
export interface KindPosted {
  transfers: number;
  requests: number;
  ms: number;
}

export interface PostResult {
  readonly transfers: number;
  readonly accountsMs: number;
  /** Wall time of all runs' postings. */
  readonly postMs: number;
  /** Chains within one shard; chains across the shards (the coordinator decides those). */
  readonly within: KindPosted;
  readonly across: KindPosted;
  readonly checks: readonly Check[];
}

/** The bench's 分账 receivers (plan.ts: agent-1..20 and the platform). */
export const receiverNames = ['platform', ...Array.from({ length: 20 }, (_, i) => `agent-${i + 1}`)];

function accountConfigOf(merchantIds: readonly string[]): SettlementAccountConfig {
  return {
    receivers: new Map(receiverNames.map((name) => [name, newId()])),
    ledger,
    transferCodes,
    channels: new Map(channelNames.map((channel) => [channel, { inTransitAccountId: newId(), feeIncomeAccountId: newId(), payoutAccountId: newId() }])),
    merchants: new Map(merchantIds.map((merchantId) => [merchantId, { availableAccountId: newId(), reserveAccountId: newId() }])),
  };
}

function accountsOf(config: SettlementAccountConfig): AccountInput[] {
  const ids = [
    ...[...config.channels.values()].flatMap((c) => [c.inTransitAccountId, c.feeIncomeAccountId, c.payoutAccountId]),
    ...[...config.merchants.values()].flatMap((m) => [m.availableAccountId, m.reserveAccountId]),
    ...config.receivers.values(),
  ];
  return ids.map((id) => ({ id, ledger, code: accountCode }));
}

async function openAccounts(client: Client, accounts: readonly AccountInput[]): Promise<void> {
  for (let from = 0; from < accounts.length; from += batchEventsMax) {
    const results = await client.createAccounts(accounts.slice(from, from + batchEventsMax));
    const failed = results.find((r) => r.result !== 'ok');
    if (failed !== undefined) throw new Error(`createAccounts: account ${from + failed.index} answered ${failed.result}`);
  }
}

interface Progress {
  posted: number;
  shownMs: number;
  readonly total: number;
  readonly startedMs: number;
}

/** Posts `requests`, `inFlight` at a time; throws on the first transfer not `ok`. */
async function postRequests(client: Client, requests: readonly TransferInput[][], inFlight: number, progress: Progress): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const results = await client.createTransfers(request);
      const failed = results.find((r) => r.result !== 'ok');
      if (failed !== undefined) throw new Error(`createTransfers: transfer ${failed.index} of a request answered ${failed.result}`);
      progress.posted += request.length;
      if (performance.now() - progress.shownMs >= progressEveryMs) {
        progress.shownMs = performance.now();
        const rate = Math.round(progress.posted / ((progress.shownMs - progress.startedMs) / 1000));
        statusLine(`  posting: ${progress.posted.toLocaleString('en-US')} of ${progress.total.toLocaleString('en-US')} (${rate.toLocaleString('en-US')}/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

async function postKind(client: Client, requests: readonly TransferInput[][], inFlight: number, progress: Progress, kind: KindPosted): Promise<void> {
  const started = performance.now();
  await postRequests(client, requests, inFlight, progress);
  kind.ms += performance.now() - started;
  kind.requests += requests.length;
  kind.transfers += requests.reduce((n, request) => n + request.length, 0);
}

/** What the ledger holds after the postings, against what the runs say. */
async function readBack(client: Client, config: SettlementAccountConfig, postings: readonly PostingSpec[], again: readonly TransferInput[]): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [channel, accounts] of config.channels) {
    const [fees, payout] = await client.lookupAccounts([accounts.feeIncomeAccountId, accounts.payoutAccountId]);
    const mine = postings.filter((p) => p.channel === channel);
    const payouts = mine.filter((p) => p.role === 'payout').reduce((sum, p) => sum + p.amountMinor, 0n);
    const feesNet = mine.filter((p) => p.role === 'fee').reduce((sum, p) => sum + (p.credit.role === 'fee_income' ? p.amountMinor : -p.amountMinor), 0n);
    const heldPayout = payout === undefined ? -1n : payout.creditsPosted - payout.debitsPosted;
    const heldFees = fees === undefined ? -1n : fees.creditsPosted - fees.debitsPosted;
    checks.push({
      name: `ledger: ${channel} payout and fee income accounts hold the runs' amounts`,
      passed: heldPayout === payouts && heldFees === feesNet,
      detail: `payout ${heldPayout} / ${payouts}, fee income ${heldFees} / ${feesNet} (ledger / runs)`,
    });
  }
  const results = await client.createTransfers(again);
  const exists = results.filter((r) => r.result === 'exists').length;
  checks.push({ name: 'ledger: a request posted again is refused as `exists`', passed: exists === again.length, detail: `${exists} of ${again.length} transfers answered exists` });
  return checks;
}

/** Posts each run's postings (`runs`, in run order: a run is posted whole before the next starts). */
export async function postThroughLedger(merchantIds: readonly string[], runs: readonly (readonly PostingSpec[])[], inFlight: number): Promise<PostResult> {
  const server = await startServerProcess({ shardCount: 2, readyTimeoutMs: 600_000 });
  const client = await connect({ url: server.url, timeoutMs: 900_000 });
  try {
    const config = accountConfigOf(merchantIds);
    const accountsStarted = performance.now();
    await openAccounts(client, accountsOf(config));
    const accountsMs = performance.now() - accountsStarted;
    const isLinked = (t: TransferInput) => ((t.flags ?? 0) & TransferFlags.linked) !== 0;
    const spansShards = (chain: readonly TransferInput[]) => new Set(chain.map((t) => shardOfId(t.debitAccountId, server.shardCount))).size > 1;
    const planned = runs.map((postings) => requestsOf(postings.map((posting): TransferInput => transferOf(posting, config)), batchEventsMax, isLinked, spansShards));
    const transfers = runs.reduce((n, postings) => n + postings.length, 0);
    const progress: Progress = { posted: 0, shownMs: 0, total: transfers, startedMs: performance.now() };
    const within: KindPosted = { transfers: 0, requests: 0, ms: 0 };
    const across: KindPosted = { transfers: 0, requests: 0, ms: 0 };
    // Each kind on its own, so that each has its own rate: within one shard first, then across, run after run.
    for (const run of planned) {
      await postKind(client, run.within, inFlight, progress, within);
      await postKind(client, run.across, inFlight, progress, across);
    }
    const postMs = performance.now() - progress.startedMs;
    endProgress();
    const first = planned.flatMap((run) => [...run.within, ...run.across])[0] ?? [];
    const checks = await readBack(client, config, runs.flat(), first);
    return { transfers, accountsMs, postMs, within, across, checks };
  } finally {
    await client.close();
    await server.kill('SIGTERM');
    await server.cleanup();
  }
}
