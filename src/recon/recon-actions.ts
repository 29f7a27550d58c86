// The automatic actions of a reconciliation batch (issue #17), posted through the ledger's normal path as the
// importing caller: each exception's decision by the channel's strategy table (core/recon/strategies.ts), the
// transfer it becomes, with an id derived from the statement row — the tag 'RCN'+1 in the top 32 bits, then 96 bits of
// SHA-256 over the channel, the action and the row's identity — so that re-running a batch (a crash between posting
// and storing it) answers `exists` and never posts twice. `ok` or `exists` is done; any other answer holds the
// exception with its code (a failed id stays failed: the fix is an adjustment with fresh ids).

import { createHash } from 'node:crypto';
import { batchEventsMax, lookupIdsMax, reconActionsPerBatchMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import type { ChannelConfig, StrategyAction } from '../core/recon/channel-config.js';
import type { StatementRow } from '../core/recon/statement-row.js';
import { actionTransfer, decide, type HoldFields } from '../core/recon/strategies.js';
import { decodeResults, decodeTransferQueryPage, decodeTransferStates, encodeIds, encodeQueryFilter, encodeTransfers, type QueryFilterInput, type TransferInput } from '../core/wire/records.js';
import { TransferFlags, type TransferState } from '../core/types.js';
import type { Caller, LedgerService } from '../gateway/ledger-service.js';
import type { ActionCandidate } from './import-messages.js';

/** Top 32 bits of an action's transfer id: 'RCN' + 1. Recognisable, not exclusive: uniqueness rests on the hash. */
export const reconActionIdTag = 0x52434e01n;

export interface ActionOutcome {
  action: StrategyAction;
  /** The transfer posted (decimal), when the action posts one. */
  transferId?: string;
  /** done (ok or exists), held (the table said hold, or the action could not be built), failed (the ledger refused). */
  state: 'done' | 'held' | 'failed';
  /** The ledger's result code, or why the action holds. */
  detail: string;
}

/** Top 32 bits of a manual resolution's transfer id: 'RCN' + 2 (a resolution of exception n of a batch). */
export const reconResolutionIdTag = 0x52434e02n;

/** The id of the transfer resolving exception `n` of `batch`: submitting the same resolution again names the same ids. */
export function resolutionTransferId(batch: string, n: number): bigint {
  const digest = createHash('sha256').update(`tally.recon.resolve.v1\u0000${batch}\u0000${n}`, 'utf8').digest('hex');
  return (reconResolutionIdTag << 96n) | BigInt(`0x${digest.slice(0, 24)}`);
}

/** The id of the transfer `action` posts for the row: the same for the same row, channel and action, always. */
export function actionTransferId(channel: string, action: StrategyAction, row: StatementRow): bigint {
  const identity = row.channelSerialNo !== '' ? `serial:${row.channelSerialNo}/${row.refundNo}/${row.direction}` : `row:${row.statementKey}#${row.locator}`;
  const digest = createHash('sha256').update(`tally.recon.v1\u0000${channel}\u0000${action}\u0000${identity}`, 'utf8').digest('hex');
  return (reconActionIdTag << 96n) | BigInt(`0x${digest.slice(0, 24)}`);
}

/**
 * Posts the actions of the exceptions the strategy table would act on (the import worker decided which); returns
 * each one's outcome by exception number. The decision is taken again here: the transfer needs its action.
 */
export async function runActions(candidates: readonly ActionCandidate[], channel: ChannelConfig, service: LedgerService, caller: Caller | undefined): Promise<Map<number, ActionOutcome>> {
  const outcomes = new Map<number, ActionOutcome>();
  const wanted: { candidate: ActionCandidate; action: Exclude<StrategyAction, 'hold'> }[] = [];
  for (const candidate of candidates) {
    const decision = decide(channel.strategies, candidate.record);
    if (decision.action === 'hold') outcomes.set(candidate.n, { action: 'hold', state: 'held', detail: decision.reason });
    else wanted.push({ candidate, action: decision.action });
  }
  if (wanted.length === 0) return outcomes;
  const mayPost = caller === undefined || caller.scopes.has('post');
  const holds = await holdsOf(wanted.filter(({ action }) => action === 'post_pending' || action === 'void_pending').map(({ candidate }) => candidate.record.transferIds[0]!), service, caller);
  const originals = new Map<number, HoldFields>();
  for (const { candidate, action } of wanted) {
    if (action !== 'post_refund') continue;
    const original = await refundedPayment(candidate.record.key128, channel, service, caller);
    if (original !== null) originals.set(candidate.n, original);
  }

  const posting: { n: number; action: StrategyAction; transfer: TransferInput }[] = [];
  for (const { candidate, action } of wanted) {
    const hold = (reason: string) => outcomes.set(candidate.n, { action, state: 'held', detail: reason });
    if (!mayPost) {
      hold('the importing key lacks the post scope');
      continue;
    }
    if (posting.length === reconActionsPerBatchMax) {
      hold(`more than ${reconActionsPerBatchMax} actions in one batch`);
      continue;
    }
    const named = action === 'post_refund' ? originals.get(candidate.n) : holds.get(candidate.record.transferIds[0] ?? 0n);
    const built = actionTransfer(action, candidate.record, channel, named ?? null);
    if ('reason' in built) {
      hold(built.reason);
      continue;
    }
    posting.push({ n: candidate.n, action, transfer: { id: actionTransferId(channel.name, action, candidate.row), ...built } });
  }
  for (let i = 0; i < posting.length; i += batchEventsMax) {
    const chunk = posting.slice(i, i + batchEventsMax);
    const results = decodeResults(await service.execute(Operation.create_transfers, encodeTransfers(chunk.map(({ transfer }) => transfer)), caller));
    chunk.forEach(({ n, action, transfer }, index) => {
      const result = results[index]?.result ?? 'no_result';
      const done = result === 'ok' || result === 'exists';
      outcomes.set(n, { action, transferId: String(transfer.id), state: done ? 'done' : 'failed', detail: result });
    });
  }
  return outcomes;
}

/**
 * The one posted payment into the channel carrying the refund's key — the transfer the refund reverses — found by the
 * key's field through the transfer index (query_transfers), or null when there is none or more than one.
 */
async function refundedPayment(key: bigint, channel: ChannelConfig, service: LedgerService, caller: Caller | undefined): Promise<HoldFields | null> {
  if (key === 0n) return null;
  const field = channel.keys[0]!.ledger;
  let found: TransferState[];
  if (field === 'id') found = decodeTransferStates(await service.execute(Operation.lookup_transfers, encodeIds([key]), caller));
  else {
    const filter: QueryFilterInput = field === 'user_data_128' ? { userData128: key } : field === 'user_data_64' ? { userData64: key } : { userData32: Number(key) };
    found = decodeTransferQueryPage(await service.execute(Operation.query_transfers, encodeQueryFilter({ ...filter, ledger: channel.ledger, limit: 16 }, 'transfers'), caller)).rows;
  }
  const paidIn = (transfer: TransferState): boolean =>
    (channel.direction === 'asset' ? transfer.debitAccountId : transfer.creditAccountId) === channel.accounts.clearing;
  const payments = found.filter((transfer) => transfer.status === 'posted' && (transfer.flags & TransferFlags.reversal) === 0 && paidIn(transfer) && !channel.ledgerCodes.fee.includes(transfer.code) && !channel.ledgerCodes.refund.includes(transfer.code));
  return payments.length === 1 ? payments[0]! : null;
}

async function holdsOf(ids: readonly bigint[], service: LedgerService, caller: Caller | undefined): Promise<Map<bigint, HoldFields>> {
  const holds = new Map<bigint, HoldFields>();
  for (let i = 0; i < ids.length; i += lookupIdsMax) {
    const states = decodeTransferStates(await service.execute(Operation.lookup_transfers, encodeIds(ids.slice(i, i + lookupIdsMax)), caller));
    for (const state of states) if (state.status === 'pending') holds.set(state.id, state);
  }
  return holds;
}
