// `--server`: the bench's day through a real `tally serve --settle-config` (2 shards, fresh data dir), as a settlement
// team runs it: the fee strategies submitted by one admin key and approved by another; the day's items posted as the
// front door would post them (payments crediting each channel's 在途 account, refunds debiting it; merchant number in
// user_data_32, the channel's cost in user_data_64, the product by transfer code); the day closed; then for every run
// date a settle_preview and a settle_run, timed — the server reads the closed day from the ledger, clears it by the
// approved strategies and posts the linked transfers. Checks: every run balanced and posted, what the runs settled
// equals what the payout accounts were credited, the fees what the fee income accounts were, and the last date run
// again posts nothing. The server's peak RSS (VmHWM) is reported.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Client, type TransferInput } from '../../src/client/index.js';
import { newId } from '../../src/client/ids.js';
import { formatBusinessDay, nextBusinessDay } from '../../src/core/business-day.js';
import { batchEventsMax } from '../../src/core/limits.js';
import type { SettleRunReply } from '../../src/core/wire/settle-bodies.js';
import { hashSecret, newSecret } from '../../src/gateway/auth.js';
import { startServerProcess } from '../../test/support/server-process.js';
import { readPeakBytes } from '../load/server-footprint.js';
import { endProgress, statusLine } from '../load/status-line.js';
import type { Check } from './check.js';
import { receiverNames } from './post.js';
import { calendarSpec, channelNames, productNames, type SettlePlan } from './plan.js';

const ledger = 156;
const transferCodes = { reserve_release: 801, fee: 802, share: 806, reserve_hold: 803, settle: 804, payout: 805 };
/** Payment and refund codes by product: 1101.. and 1201.. */
const paymentCode = (product: string): number => 1101 + productNames.indexOf(product as (typeof productNames)[number]);
const refundCode = (product: string): number => 1201 + productNames.indexOf(product as (typeof productNames)[number]);
/** D0, D1 and T+1 all fall due by the first working day after the trade day: two run dates cover the mix. */
const runDatesAfterTrade = 2;

export interface ServerRunTimes {
  readonly date: string;
  readonly previewMs: number;
  readonly runMs: number;
  readonly status: SettleRunReply['status'];
  readonly transfers: number;
  readonly items: number;
}

export interface ServerResult {
  readonly strategies: number;
  readonly strategiesMs: number;
  readonly items: number;
  readonly postItemsMs: number;
  readonly runs: readonly ServerRunTimes[];
  readonly peakRssBytes: number | null;
  readonly checks: readonly Check[];
}

interface Accounts {
  readonly customers: bigint;
  readonly receivers: Map<string, bigint>;
  readonly channels: Map<string, { inTransit: bigint; feeIncome: bigint; payout: bigint }>;
  readonly merchants: Map<string, { number: number; available: bigint; reserve: bigint }>;
}

function accountsOf(plan: SettlePlan): Accounts {
  return {
    customers: newId(),
    receivers: new Map(receiverNames.map((name) => [name, newId()])),
    channels: new Map(channelNames.map((channel) => [channel, { inTransit: newId(), feeIncome: newId(), payout: newId() }])),
    merchants: new Map(plan.merchants.map((m, i) => [m.merchantId, { number: i + 1, available: newId(), reserve: newId() }])),
  };
}

function configOf(plan: SettlePlan, accounts: Accounts): unknown {
  const codes = (code: (product: string) => number) => Object.fromEntries(productNames.map((product) => [String(code(product)), product]));
  return {
    version: 1,
    ledger,
    transferCodes,
    calendar: calendarSpec,
    receivers: [...accounts.receivers].map(([name, id]) => ({ name, account: String(id) })),
    channels: channelNames.map((name) => {
      const a = accounts.channels.get(name)!;
      return { name, inTransitAccount: String(a.inTransit), feeIncomeAccount: String(a.feeIncome), payoutAccount: String(a.payout), payments: codes(paymentCode), refunds: codes(refundCode) };
    }),
    merchants: plan.merchants.map((m) => {
      const a = accounts.merchants.get(m.merchantId)!;
      return {
        id: m.merchantId, number: a.number, availableAccount: String(a.available), reserveAccount: String(a.reserve), cycle: m.cycle,
        minimumPayoutMinor: String(m.minimumPayoutMinor), reserveBps: m.reserveBps, reserveDays: m.reserveDays,
        ...(m.split === undefined ? {} : { split: m.split.map((r) => ('share' in r ? { receiver: r.receiver, ...r.share } : r)) }),
      };
    }),
  };
}

/** Runs `calls` with `inFlight` at a time, in order of start. */
async function inLanes<T>(calls: readonly (() => Promise<T>)[], inFlight: number, onDone: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const lane = async (): Promise<void> => {
    while (next < calls.length) {
      await calls[next++]!();
      onDone(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, calls.length) }, lane));
}

async function openAccounts(client: Client, accounts: Accounts): Promise<void> {
  const ids = [accounts.customers, ...accounts.receivers.values(), ...[...accounts.channels.values()].flatMap((c) => [c.inTransit, c.feeIncome, c.payout]), ...[...accounts.merchants.values()].flatMap((m) => [m.available, m.reserve])];
  for (let from = 0; from < ids.length; from += batchEventsMax) {
    const results = await client.createAccounts(ids.slice(from, from + batchEventsMax).map((id) => ({ id, ledger, code: 1 })));
    const failed = results.find((r) => r.result !== 'ok');
    if (failed !== undefined) throw new Error(`createAccounts: ${failed.result}`);
  }
}

/** Every version of every strategy: submitted by the maker, approved by the checker. */
async function loadStrategies(plan: SettlePlan, maker: Client, checker: Client, inFlight: number): Promise<number> {
  const versions = plan.strategies.flatMap((source) => source.versions.map((version) => ({ source, version })));
  const effectiveFrom = (ns: bigint) => `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}Z`;
  // Versions of one history in order: a higher version may not be approved before a lower one exists.
  const calls = versions.map(({ source, version }) => async () => {
    const change = await maker.submitSettleStrategy({ merchant: source.merchantId, product: source.product ?? null, effectiveFrom: effectiveFrom(version.effectiveFromNs), strategy: version.document as object, reason: 'bench' });
    await checker.approveSettleStrategy(change.id);
  });
  const firsts = calls.filter((_, i) => versions[i]!.version === versions[i]!.source.versions[0]);
  const laters = calls.filter((_, i) => versions[i]!.version !== versions[i]!.source.versions[0]);
  let done = 0;
  for (const group of [firsts, laters]) await inLanes(group, inFlight, () => statusLine(`  strategies: ${(++done).toLocaleString('en-US')} of ${versions.length.toLocaleString('en-US')} submitted and approved`));
  endProgress();
  return versions.length;
}

/** The day's items as the front door posts them, in requests of batchEventsMax. */
async function postItems(plan: SettlePlan, client: Client, accounts: Accounts, inFlight: number): Promise<number> {
  const transfers: TransferInput[] = [];
  for (const channel of channelNames) {
    const inTransit = accounts.channels.get(channel)!.inTransit;
    for (const item of plan.items.get(channel) ?? []) {
      const number = accounts.merchants.get(item.merchantId)!.number;
      const payment = item.kind === 'payment';
      const cost = item.channelCostMinor < 0n ? -item.channelCostMinor : item.channelCostMinor;
      transfers.push({
        id: newId(), ledger, amount: item.amountMinor, userData32: number, userData64: cost,
        debitAccountId: payment ? accounts.customers : inTransit, creditAccountId: payment ? inTransit : accounts.customers,
        code: payment ? paymentCode(item.product) : refundCode(item.product),
      });
    }
  }
  const requests: TransferInput[][] = [];
  for (let from = 0; from < transfers.length; from += batchEventsMax) requests.push(transfers.slice(from, from + batchEventsMax));
  let posted = 0;
  await inLanes(requests.map((request) => async () => {
    const results = await client.createTransfers(request);
    const failed = results.find((r) => r.result !== 'ok');
    if (failed !== undefined) throw new Error(`createTransfers: ${failed.result}`);
    posted += request.length;
  }), inFlight, () => statusLine(`  items posted: ${posted.toLocaleString('en-US')} of ${transfers.length.toLocaleString('en-US')}`));
  endProgress();
  return transfers.length;
}

async function credits(client: Client, ids: readonly bigint[]): Promise<bigint> {
  const states = await client.lookupAccounts(ids);
  return states.reduce((sum, account) => sum + account.creditsPosted - account.debitsPosted, 0n);
}

/** `serverProfileDir`: run the server under `node --cpu-prof`, its profiles (one per thread) written there. */
export async function settleThroughServer(plan: SettlePlan, inFlight: number, serverProfileDir?: string): Promise<ServerResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tally-settle-bench-'));
  const secrets = { maker: newSecret(), checker: newSecret() };
  const accounts = accountsOf(plan);
  await writeFile(join(dir, 'keys.json'), JSON.stringify({ keys: [
    { id: 'maker', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.maker) },
    { id: 'checker', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.checker) },
  ] }));
  await writeFile(join(dir, 'settle.json'), JSON.stringify(configOf(plan, accounts)));
  const server = await startServerProcess({ shardCount: 2, readyTimeoutMs: 600_000, ...(serverProfileDir === undefined ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${serverProfileDir}`] }), env: { TALLY_DAY_CUT: 'manual', TALLY_KEYS: join(dir, 'keys.json'), TALLY_SETTLE_CONFIG: join(dir, 'settle.json') } });
  const maker = await connect({ url: server.url, apiKey: secrets.maker, timeoutMs: 900_000 });
  const checker = await connect({ url: server.url, apiKey: secrets.checker, timeoutMs: 900_000 });
  try {
    await openAccounts(maker, accounts);
    const strategiesStarted = performance.now();
    const strategies = await loadStrategies(plan, maker, checker, inFlight);
    const strategiesMs = performance.now() - strategiesStarted;
    console.log(`  strategies: ${strategies.toLocaleString('en-US')} versions submitted and approved in ${(strategiesMs / 1000).toFixed(1)} s`);

    const tradeDay = (await maker.closeDay()).dayBegun;
    const postStarted = performance.now();
    const items = await postItems(plan, maker, accounts, inFlight);
    const postItemsMs = performance.now() - postStarted;
    console.log(`  items: ${items.toLocaleString('en-US')} posted in ${(postItemsMs / 1000).toFixed(1)} s; closing day ${formatBusinessDay(tradeDay)}`);
    await maker.closeDay();

    const runs: ServerRunTimes[] = [];
    const replies: SettleRunReply[] = [];
    let date = tradeDay;
    for (let i = 0; i < runDatesAfterTrade; i++, date = nextBusinessDay(date)) {
      const text = formatBusinessDay(date);
      statusLine(`  preview ${text}…`);
      let started = performance.now();
      const preview = await maker.settlePreview(text);
      const previewMs = performance.now() - started;
      statusLine(`  run ${text}…`);
      started = performance.now();
      const run = await maker.settleRun(text);
      const runMs = performance.now() - started;
      endProgress();
      if (preview.postings !== run.postings) throw new Error(`run ${text}: the preview planned ${preview.postings} transfers, the run ${run.postings}`);
      const itemsRead = run.days.reduce((n, day) => n + day.items, 0);
      runs.push({ date: text, previewMs, runMs, status: run.status, transfers: run.postings, items: itemsRead });
      replies.push(run);
      console.log(`  run ${text}: preview ${(previewMs / 1000).toFixed(1)} s, run ${(runMs / 1000).toFixed(1)} s (${run.ms} ms in the server); ${itemsRead.toLocaleString('en-US')} items read, ${run.merchantCount.toLocaleString('en-US')} merchant–channel units, ${run.postings.toLocaleString('en-US')} transfers, ${run.status}`);
    }
    const again = await maker.settleRun(replies[replies.length - 1]!.date);
    const peakRssBytes = readPeakBytes(server.pid);

    const settled = replies.flatMap((r) => r.check.channels).reduce((sum, c) => sum + BigInt(c.settledMinor), 0n);
    const fees = replies.flatMap((r) => r.check.channels).reduce((sum, c) => sum + BigInt(c.feesMinor), 0n);
    const paidOut = await credits(maker, [...accounts.channels.values()].map((c) => c.payout));
    const feeIncome = await credits(maker, [...accounts.channels.values()].map((c) => c.feeIncome));
    const checks: Check[] = [
      { name: 'server: every run balanced and posted', passed: replies.every((r) => r.check.balanced && r.status !== 'failed'), detail: replies.map((r) => `${r.date} ${r.status}`).join(', ') },
      { name: 'server: the payout accounts hold what the runs settled', passed: paidOut === settled, detail: `settled ${settled}, payout accounts ${paidOut}` },
      { name: 'server: the fee income accounts hold the runs\' fees', passed: feeIncome === fees, detail: `fees ${fees}, fee income ${feeIncome}` },
      { name: 'server: the last date run again posts nothing', passed: again.status === 'nothing_due' && again.postings === 0, detail: `${again.status}, ${again.postings} transfers` },
      { name: 'server: every item was read and cleared', passed: runs[0]!.items === items, detail: `${runs[0]!.items} of ${items} items in the first run` },
    ];
    return { strategies, strategiesMs, items, postItemsMs, runs, peakRssBytes, checks };
  } finally {
    await maker.close();
    await checker.close();
    await server.kill('SIGTERM');
    await server.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}
