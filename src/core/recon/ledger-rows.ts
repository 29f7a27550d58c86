// Our side of reconciliation (issue #17): the clearing account's history entries of a business day turned into the
// rows the matcher compares with the channel's statement. A hold (pending) is one row whose status its post or void
// decides when that is in the entries read; a post or void of a hold made before the entries read stands on its
// own as posted (a void of an earlier hold moved nothing today and is left out). The direction is the channel's:
// for a clearing account the channel holds for us (an asset), our debit is money in at the channel, their credit.

import type { ChannelConfig, MatchKey } from './channel-config.js';
import type { LedgerCodeClass, LedgerRow } from './matcher.js';
import { TransferFlags, type Transfer } from '../types.js';

export interface LedgerSide {
  clearing: bigint;
  direction: ChannelConfig['direction'];
  keyField: MatchKey['ledger'];
  ledgerCodes: ChannelConfig['ledgerCodes'];
}

export function ledgerSideOf(channel: ChannelConfig): LedgerSide {
  return { clearing: channel.accounts.clearing, direction: channel.direction, keyField: channel.keys[0]!.ledger, ledgerCodes: channel.ledgerCodes };
}

const nsPerMs = 1_000_000n;

export function ledgerKeyOf(transfer: Transfer, field: MatchKey['ledger']): bigint {
  switch (field) {
    case 'user_data_128':
      return transfer.userData128;
    case 'user_data_64':
      return transfer.userData64;
    case 'user_data_32':
      return BigInt(transfer.userData32);
    case 'id':
      return transfer.id;
  }
}

function codeClassOf(code: number, codes: LedgerSide['ledgerCodes']): LedgerCodeClass {
  if (codes.fee.includes(code)) return 'fee';
  if (codes.refund.includes(code)) return 'refund';
  if (codes.payment.includes(code)) return 'payment';
  return 'other';
}

/**
 * Rows of the clearing account's transfers, oldest first as history answers them. `businessDayOf` says which day a
 * transfer's timestamp belongs to (the day cut of the account's shard).
 */
export function ledgerRowsOf(transfers: readonly Transfer[], side: LedgerSide, businessDayOf: (timestamp: bigint) => number): LedgerRow[] {
  const rows: LedgerRow[] = [];
  const holds = new Map<bigint, LedgerRow>();
  for (const transfer of transfers) {
    const debited = transfer.debitAccountId === side.clearing;
    if (!debited && transfer.creditAccountId !== side.clearing) continue;
    const theirCredit = side.direction === 'asset' ? debited : !debited;
    if ((transfer.flags & (TransferFlags.post_pending | TransferFlags.void_pending)) !== 0) {
      const hold = holds.get(transfer.pendingId);
      const voids = (transfer.flags & TransferFlags.void_pending) !== 0;
      if (hold !== undefined) {
        hold.status = voids ? 'voided' : 'posted';
        if (!voids && transfer.amount !== 0n) hold.amountMinor = transfer.amount;
        continue;
      }
      if (voids) continue;
    }
    const row: LedgerRow = {
      transferId: transfer.id,
      key128: ledgerKeyOf(transfer, side.keyField),
      amountMinor: transfer.amount,
      direction: theirCredit ? 'credit' : 'debit',
      codeClass: codeClassOf(transfer.code, side.ledgerCodes),
      timestampMs: Number(transfer.timestamp / nsPerMs),
      businessDay: businessDayOf(transfer.timestamp),
      status: (transfer.flags & TransferFlags.pending) !== 0 ? 'pending' : 'posted',
    };
    if ((transfer.flags & TransferFlags.pending) !== 0) holds.set(transfer.id, row);
    rows.push(row);
  }
  return rows;
}
