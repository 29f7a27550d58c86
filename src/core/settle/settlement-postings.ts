// The postings of a settlement run, as linked transfer specs between accounts named by role, and their resolution
// to ledger transfers through an account configuration. One chain per merchant and channel per run: every posting
// but the last carries the linked flag, so the ledger posts all of a merchant's settlement or none of it.
//
// Roles and directions (debit → credit), in chain order; amounts are always positive, zero-amount postings left out:
//   reserve_release  merchant_reserve(merchant)       → settlement_in_transit(channel)  held reserve comes back to 在途
//   fee              settlement_in_transit(channel)   → fee_income(channel)             the merchant fees of the run;
//                    reversed when refunds gave back more fee than the run's payments were charged
//   share            settlement_in_transit(channel)   → receiver(name)                  分账: one per receiver of the
//                    merchant's profit sharing, what its shares of the run's payments come to
//   reserve_hold     settlement_in_transit(channel)   → merchant_reserve(merchant)      the rolling reserve held
//   settle           settlement_in_transit(channel)   → merchant_available(merchant)    the payable amount
//   payout           merchant_available(merchant)     → channel_payout(channel)         the same amount, paid out
// Released reserve passes through 在途 so that one settle posting carries all the merchant is paid, and so that a
// release below the minimum payout stays in 在途 with the rest of what is carried forward. Money held back
// (unresolved items) and carried forward (below the minimum) is not moved at all: it stays in 在途.

import { assert } from '../assert.js';
import { TransferFlags, type Transfer } from '../types.js';
import { PostingIds } from './settlement-ids.js';
import { SettleError } from './settle-errors.js';
import type { BusinessDay } from '../business-day.js';

export type AccountRole = 'settlement_in_transit' | 'fee_income' | 'merchant_reserve' | 'merchant_available' | 'channel_payout' | 'receiver';
export type PostingRole = 'reserve_release' | 'fee' | 'share' | 'reserve_hold' | 'settle' | 'payout';
/** Chain order: each posting has the money it moves by the time it runs (release before settle, settle before payout). */
export const postingRoles: readonly PostingRole[] = ['reserve_release', 'fee', 'share', 'reserve_hold', 'settle', 'payout'];

/**
 * An account by role: `owner` is the channel for settlement_in_transit, fee_income and channel_payout, the receiver's
 * name for receiver, else the merchant.
 */
export interface AccountRef {
  readonly role: AccountRole;
  readonly owner: string;
}

export interface PostingSpec {
  readonly id: bigint;
  readonly role: PostingRole;
  /** A share posting's receiver (分账); absent for every other role. */
  readonly receiver?: string;
  readonly merchantId: string;
  readonly channel: string;
  readonly runDate: BusinessDay;
  readonly batch: number;
  readonly debit: AccountRef;
  readonly credit: AccountRef;
  /** Positive minor units. */
  readonly amountMinor: bigint;
  /** True on every posting of a merchant's chain but the last. */
  readonly linked: boolean;
}

/** The signed amounts of one merchant and channel's run, before they become postings. */
export interface MerchantMovements {
  readonly merchantId: string;
  readonly channel: string;
  readonly cycleText: string;
  readonly runDate: BusinessDay;
  readonly batch: number;
  readonly reserveReleasedMinor: bigint;
  /** May be negative: a net fee given back. */
  readonly feesMinor: bigint;
  readonly reserveHeldMinor: bigint;
  readonly settledMinor: bigint;
  /** 分账: what each receiver's shares of the run's payments come to, positive, in receiver order. */
  readonly shares: readonly ReceiverShare[];
}

export interface ReceiverShare {
  readonly receiver: string;
  readonly amountMinor: bigint;
}

/** The chain of one merchant and channel: postings in role order, ids taken from `ids` (refusing collisions). */
export function merchantPostings(movements: MerchantMovements, ids: PostingIds): PostingSpec[] {
  const { merchantId, channel } = movements;
  const inTransit: AccountRef = { role: 'settlement_in_transit', owner: channel };
  const feeIncome: AccountRef = { role: 'fee_income', owner: channel };
  const reserve: AccountRef = { role: 'merchant_reserve', owner: merchantId };
  const available: AccountRef = { role: 'merchant_available', owner: merchantId };
  const payout: AccountRef = { role: 'channel_payout', owner: channel };
  assert(movements.reserveReleasedMinor >= 0n && movements.reserveHeldMinor >= 0n && movements.settledMinor >= 0n, 'only a fee may be negative');
  assert(movements.shares.every((share) => share.amountMinor >= 0n), 'a share is never negative');
  const planned: [PostingRole, AccountRef, AccountRef, bigint, string | undefined][] = [
    ['reserve_release', reserve, inTransit, movements.reserveReleasedMinor, undefined],
    movements.feesMinor >= 0n ? ['fee', inTransit, feeIncome, movements.feesMinor, undefined] : ['fee', feeIncome, inTransit, -movements.feesMinor, undefined],
    ...movements.shares.map((share): [PostingRole, AccountRef, AccountRef, bigint, string] => ['share', inTransit, { role: 'receiver', owner: share.receiver }, share.amountMinor, share.receiver]),
    ['reserve_hold', inTransit, reserve, movements.reserveHeldMinor, undefined],
    ['settle', inTransit, available, movements.settledMinor, undefined],
    ['payout', available, payout, movements.settledMinor, undefined],
  ];
  const moving = planned.filter(([, , , amountMinor]) => amountMinor > 0n);
  return moving.map(([role, debit, credit, amountMinor, receiver], i): PostingSpec => {
    // A share's key names its receiver: each receiver's posting has an id of its own, the same on every re-run.
    const id = ids.take({ merchantId, channel, cycle: movements.cycleText, runDate: movements.runDate, batch: movements.batch, role: receiver === undefined ? role : `share:${receiver}` });
    const spec: PostingSpec = { id, role, merchantId, channel, runDate: movements.runDate, batch: movements.batch, debit, credit, amountMinor, linked: i < moving.length - 1 };
    return receiver === undefined ? spec : { ...spec, receiver };
  });
}

/** The ledger accounts behind the roles, and the transfer code each posting role is booked with. */
export interface SettlementAccountConfig {
  readonly ledger: number;
  readonly transferCodes: Readonly<Record<PostingRole, number>>;
  readonly channels: ReadonlyMap<string, { readonly inTransitAccountId: bigint; readonly feeIncomeAccountId: bigint; readonly payoutAccountId: bigint }>;
  readonly merchants: ReadonlyMap<string, { readonly availableAccountId: bigint; readonly reserveAccountId: bigint }>;
  /** 分账 receivers' accounts by name. */
  readonly receivers: ReadonlyMap<string, bigint>;
}

export function accountIdOf(config: SettlementAccountConfig, ref: AccountRef): bigint {
  if (ref.role === 'receiver') {
    const receiver = config.receivers.get(ref.owner);
    if (receiver === undefined) throw new SettleError('account_missing', `no account is configured for receiver ${ref.owner}`);
    return receiver;
  }
  const isChannelRole = ref.role === 'settlement_in_transit' || ref.role === 'fee_income' || ref.role === 'channel_payout';
  const channel = isChannelRole ? config.channels.get(ref.owner) : undefined;
  const merchant = isChannelRole ? undefined : config.merchants.get(ref.owner);
  const ids: Record<Exclude<AccountRole, 'receiver'>, bigint | undefined> = {
    settlement_in_transit: channel?.inTransitAccountId,
    fee_income: channel?.feeIncomeAccountId,
    channel_payout: channel?.payoutAccountId,
    merchant_available: merchant?.availableAccountId,
    merchant_reserve: merchant?.reserveAccountId,
  };
  const id = ids[ref.role];
  if (id === undefined) throw new SettleError('account_missing', `no ${ref.role} account is configured for ${isChannelRole ? 'channel' : 'merchant'} ${ref.owner}`);
  return id;
}

/**
 * The ledger transfer of a posting spec. user_data_64 carries the run date and user_data_32 the batch, so a
 * statement can group a run's transfers; the ledger assigns the timestamp.
 */
export function transferOf(spec: PostingSpec, config: SettlementAccountConfig): Transfer {
  return {
    id: spec.id,
    debitAccountId: accountIdOf(config, spec.debit),
    creditAccountId: accountIdOf(config, spec.credit),
    amount: spec.amountMinor,
    pendingId: 0n,
    userData128: 0n,
    userData64: BigInt(spec.runDate),
    userData32: spec.batch,
    timeoutSeconds: 0,
    ledger: config.ledger,
    code: config.transferCodes[spec.role],
    flags: spec.linked ? TransferFlags.linked : 0,
    timestamp: 0n,
  };
}
