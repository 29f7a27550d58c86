// The hot accounts of the hot-credit and hot-debit workloads. Hot-credit: marked hot-inbound before its
// first phase (account operation mark_hot, flags credits); a server that refuses or does not know mark_hot
// is a warning, never a failed run: the load goes on unmarked. Hot-debit: hot-outbound by creation only
// (the server answers mark_hot with flags debits flags_invalid by design), read back here, and its slices
// waited for once funded. Also waits until credits a hot account accepted but has not yet applied
// (creditsBuffered) are applied.

import { setTimeout as sleep } from 'node:timers/promises';
import { AccountFlags, AccountOperationFlags, AccountOperationKind, newId, type AccountOperationInput, type AccountState, type Client } from '../../src/client/index.js';
import { endProgress, statusLine } from './status-line.js';
import type { Workload } from './workloads.js';

/** The kind's wire number and name, as the account-operations contract fixes them. */
const markHotKindName = 'mark_hot';
const markHotKindNumber = 6;
/** How often lookupAccounts is polled while buffered credits are being applied, or slices funded. */
const bufferedPollMs = 50;
/** What the JSON record says of a hot-debit account created hot-outbound. */
export const createdHotOutboundOutcome = 'created hot_outbound';

export type HotSide = 'credits' | 'debits';

/** What marking one hot account did. */
export interface HotMarking {
  workload: Workload;
  accountId: string;
  side: HotSide;
  marked: boolean;
  /** The result name when the server answered, or the error. */
  outcome: string;
}

/** Credits accepted but not yet applied to the balance; 0 where the server does not report them. */
export function creditsBuffered(account: AccountState): bigint {
  return (account as AccountState & { creditsBuffered?: bigint }).creditsBuffered ?? 0n;
}

/** Marks `accountId` hot on `side`; never throws for a refusal (prints one warning line and reports it). */
export async function markHot(client: Client, workload: Workload, accountId: bigint, side: HotSide): Promise<HotMarking> {
  const record = (marked: boolean, outcome: string): HotMarking => ({ workload, accountId: String(accountId), side, marked, outcome });
  const kinds = AccountOperationKind as Record<string, number>;
  if (kinds[markHotKindName] !== markHotKindNumber) {
    console.log(`warning: ${workload}: this build has no account operation ${markHotKindName} (${markHotKindNumber}); account ${accountId} runs unmarked`);
    return record(false, `${markHotKindName} unknown to this build`);
  }
  const flags = side === 'credits' ? AccountOperationFlags.credits : AccountOperationFlags.debits;
  // The kind is checked above against the table the encoder uses; the cast only spares this file from
  // failing to compile against a build that predates it.
  const operation: AccountOperationInput = { id: newId(), accountId, kind: markHotKindName as string as AccountOperationInput['kind'], flags };
  let outcome: string;
  try {
    [{ result: outcome }] = await client.accountOperations([operation]);
  } catch (error) {
    outcome = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
  const sideName = side === 'credits' ? 'hot-inbound' : 'hot-outbound';
  if (outcome === 'ok') {
    console.log(`${workload}: account ${accountId} marked ${sideName} (${markHotKindName}, flags ${side})`);
    return record(true, outcome);
  }
  console.log(`warning: ${workload}: ${markHotKindName} ${sideName} on account ${accountId} answered ${outcome}; the workload runs unmarked`);
  return record(false, outcome);
}

/**
 * The hot-debit account was created with hot_outbound | debits_must_not_exceed_credits (there is no
 * marking it later): reads it back and records it as marked when the flag held.
 */
export async function hotOutboundByCreation(client: Client, workload: Workload, accountId: bigint, sliceCount: number): Promise<HotMarking> {
  const record = (marked: boolean, outcome: string): HotMarking => ({ workload, accountId: String(accountId), side: 'debits', marked, outcome });
  const [account] = await client.lookupAccounts([accountId]);
  if (account !== undefined && (account.flags & AccountFlags.hot_outbound) !== 0) {
    console.log(`${workload}: account ${accountId} hot-outbound by creation (flags hot_outbound | debits_must_not_exceed_credits; ${sliceCount} slice account(s))`);
    return record(true, createdHotOutboundOutcome);
  }
  const outcome = account === undefined ? 'not found' : `created without hot_outbound (flags ${account.flags})`;
  console.log(`warning: ${workload}: account ${accountId} ${outcome}; the workload runs unmarked`);
  return record(false, outcome);
}

/** Slices funded by the keeper once the account was funded, how long it took, and what they hold. */
export interface SlicesFunded {
  funded: number;
  slices: number;
  seconds: number;
  /** lookupAccounts' sliceBalances of the hot account at the end of the wait. */
  sliceBalancesMinor: bigint;
}

/**
 * After the funding transfer: polls until the keeper has refilled every slice once (credits posted > 0),
 * for at most `timeoutMs`; the phases start either way (a debit an empty slice cannot cover is refused and
 * counted apart), so this only keeps the first phase from meeting slices the keeper has not reached yet.
 */
export async function waitSlicesFunded(client: Client, hotId: bigint, sliceIds: readonly bigint[], timeoutMs: number): Promise<SlicesFunded> {
  const startMs = Date.now();
  for (;;) {
    const found = new Map((await client.lookupLedgerAccounts([hotId, ...sliceIds])).map((a) => [a.id, a]));
    const funded = sliceIds.filter((id) => (found.get(id)?.creditsPosted ?? 0n) > 0n).length;
    const seconds = (Date.now() - startMs) / 1000;
    if (funded === sliceIds.length || seconds * 1000 >= timeoutMs) return { funded, slices: sliceIds.length, seconds, sliceBalancesMinor: found.get(hotId)?.sliceBalances ?? 0n };
    await sleep(bufferedPollMs);
  }
}

export interface BufferedWait {
  /** Every account read 0 credits buffered before the time ran out. */
  drained: boolean;
  seconds: number;
  /** Per account id, what was still buffered at the last reading (decimal strings). */
  bufferedAtEnd: Record<string, string>;
}

/** Polls the accounts until none has credits buffered, for at most `timeoutMs`. */
export async function waitCreditsApplied(client: Client, accountIds: readonly bigint[], timeoutMs: number): Promise<BufferedWait> {
  const startMs = Date.now();
  for (let printed = false; ; ) {
    const accounts = await client.lookupAccounts([...accountIds]);
    const buffered = accounts.filter((a) => creditsBuffered(a) !== 0n);
    const seconds = (Date.now() - startMs) / 1000;
    const bufferedAtEnd = Object.fromEntries(buffered.map((a) => [String(a.id), String(creditsBuffered(a))]));
    if (buffered.length === 0 || seconds * 1000 >= timeoutMs) {
      if (printed) endProgress();
      return { drained: buffered.length === 0, seconds, bufferedAtEnd };
    }
    statusLine(`  hot accounts: waiting for buffered credits to be applied: ${Object.entries(bufferedAtEnd).map(([id, v]) => `${id}: ${v}`).join(', ')} (${seconds.toFixed(1)} s)`);
    printed = true;
    await sleep(bufferedPollMs);
  }
}
