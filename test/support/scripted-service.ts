// A LedgerService for testing the gateway and client alone: it records every call, answers from the
// request bytes by fixed rules (below), and can hold replies so tests choose when and in what order they go.

import { TallyError } from '../../src/core/errors.js';
import { AccountLayout, AccountOperationLayout, HistoryFilterLayout, TransferLayout } from '../../src/core/layout.js';
import { eventBytes } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import {
  decodeHistoryFilter,
  decodeIds,
  encodeAccountStates,
  encodeHistoryEntries,
  encodeTransferStates,
} from '../../src/core/wire/records.js';
import { ResultCode } from '../../src/core/result-codes.js';
import type { AccountHistoryEntry, AccountState, TransferState } from '../../src/core/types.js';
import type { LedgerService } from '../../src/gateway/ledger-service.js';

export interface ServiceCall {
  operation: number;
  body: Uint8Array;
}

interface Held {
  call: ServiceCall;
  resolve(body: Uint8Array): void;
  reject(error: unknown): void;
}

/** Result code an event gets: its `code` field (user data 32 for account operations) modulo the codes in use. */
const resultCodeCount = Math.max(...Object.values(ResultCode)) + 1; // numbers are never reused, so some are unnamed
const codeOffsets: Record<number, { offset: number; bytes: 2 | 4 }> = {
  [Operation.create_accounts]: { offset: AccountLayout.code, bytes: 2 },
  [Operation.create_transfers]: { offset: TransferLayout.code, bytes: 2 },
  [Operation.account_operations]: { offset: AccountOperationLayout.userData32, bytes: 4 },
};

/** Lookups find odd ids only; found records carry `ledger = id mod 1000`. */
export function accountFor(id: bigint): AccountState {
  return {
    id, ledger: Number(id % 1000n), code: 1, flags: 0, userData128: 0n, userData64: 0n, userData32: 0, timestamp: 1n,
    debitsPosted: id, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, frozen: 0n, status: 'active',
    hotInbound: false, hotInboundAuto: false, creditsBuffered: 0n, creditsBufferedCount: 0, sliceBalances: 0n,
  };
}

export function transferFor(id: bigint): TransferState {
  return {
    id, debitAccountId: 1n, creditAccountId: 2n, amount: id, pendingId: 0n, userData128: 0n, userData64: 0n,
    userData32: 0, timeoutSeconds: 0, ledger: Number(id % 1000n), code: 1, flags: 0, timestamp: 2n,
    status: 'posted', amountPosted: 0n, amountReversed: 0n,
  };
}

export class ScriptedService implements LedgerService {
  readonly shardCount = 3;
  readonly calls: ServiceCall[] = [];
  /** While true, replies wait for release(); otherwise they resolve at once. */
  hold = false;
  /** When set, every call rejects with it (a thrown value, to test how the gateway maps it). */
  failWith: unknown = undefined;
  /** When set, replaces the computed reply body. */
  replyWith: ((call: ServiceCall) => Uint8Array) | undefined = undefined;
  closed = false;
  private held: Held[] = [];
  private waiters: { count: number; resolve(): void }[] = [];

  execute(operation: number, body: Uint8Array): Promise<Uint8Array> {
    const call = { operation, body };
    this.calls.push(call);
    const settled = new Promise<Uint8Array>((resolve, reject) => {
      if (this.hold) this.held.push({ call, resolve, reject });
      else this.answer({ call, resolve, reject });
    });
    this.wake();
    return settled;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Resolves once `count` calls have arrived — the server has received those frames. */
  waitForCalls(count: number): Promise<void> {
    if (this.calls.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Answers the held calls, in arrival order or reversed. */
  release(order: 'arrival' | 'reverse' = 'arrival'): void {
    const held = order === 'reverse' ? this.held.reverse() : this.held;
    this.held = [];
    for (const item of held) this.answer(item);
  }

  calledWith(operation: number): ServiceCall[] {
    return this.calls.filter((call) => call.operation === operation);
  }

  private wake(): void {
    const ready = this.waiters.filter((w) => this.calls.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.calls.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }

  private answer(item: Held): void {
    if (this.failWith !== undefined) return item.reject(this.failWith);
    item.resolve(this.replyWith ? this.replyWith(item.call) : replyFor(item.call));
  }
}

function replyFor({ operation, body }: ServiceCall): Uint8Array {
  switch (operation) {
    case Operation.create_accounts:
    case Operation.create_transfers:
    case Operation.account_operations:
      return writeResults(operation, body);
    case Operation.lookup_accounts:
      return encodeAccountStates(decodeIds(body).filter((id) => id % 2n === 1n).map(accountFor));
    case Operation.lookup_transfers:
      return encodeTransferStates(decodeIds(body).filter((id) => id % 2n === 1n).map(transferFor));
    case Operation.get_account_transfers:
      return historyFor(body);
    default:
      throw new TallyError('operation_unknown', `scripted service has no rule for ${operation}`);
  }
}

function writeResults(operation: number, body: Uint8Array): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const count = body.byteLength / eventBytes;
  const { offset, bytes } = codeOffsets[operation];
  const reply = new DataView(new ArrayBuffer(count * 4));
  for (let i = 0; i < count; i++) {
    const field = bytes === 2 ? view.getUint16(i * eventBytes + offset, true) : view.getUint32(i * eventBytes + offset, true);
    const code = field % resultCodeCount;
    reply.setUint16(i * 4, code, true);
    reply.setUint16(i * 4 + 2, code === ResultCode.close_refused ? 2 : 0, true); // 2 = frozen_balance
  }
  return new Uint8Array(reply.buffer);
}

/** min(limit, 3) entries for transfers accountId+1.., each with debitsPosted = its position. */
function historyFor(body: Uint8Array): Uint8Array {
  if (body.byteLength !== HistoryFilterLayout.bytes) throw new TallyError('body_invalid', 'filter size');
  const filter = decodeHistoryFilter(body);
  const entries: AccountHistoryEntry[] = [];
  for (let i = 0; i < Math.min(filter.limit, 3); i++) {
    const transfer = transferFor(filter.accountId + BigInt(i + 1));
    entries.push({ transfer, balanceAfter: { debitsPosted: BigInt(i), creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n } });
  }
  return encodeHistoryEntries(filter.reversed ? entries.reverse() : entries);
}
