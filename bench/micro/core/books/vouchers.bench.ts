// The bookkeeping shard's hot step: subjectVoucherOf over full journal entries of shard 0 of two (payers
// on shard 0, payees anywhere: half the credits cross to shard 1 through transit), accounts numbered from 1
// as the load generator numbers them. Entries are made untimed by two core Ledgers; only booking is timed.
// Each task's digest covers every voucher line, so a faster run that books other money shows.

import { Ledger } from '../../../../src/core/posting/ledger.js';
import { batchEventsMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeAccounts, encodeTransfers, type TransferInput } from '../../../../src/core/wire/records.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { AccountCodes, subjectVoucherOf } from '../../../../src/core/books/vouchers.js';
import {
  Digest,
  Prng,
  benchAccountCode as accountCode,
  benchLedgerId as ledgerId,
  clockStartNs,
  nsPerBatch,
  transferIdBase,
  type CoreBenchOptions,
  type MicroTask,
} from '../../bench-kit.js';

/** `calls`: timed entries per task, each one batch of transfers. */
export type VouchersBenchOptions = CoreBenchOptions;

const shardCount = 2;

/** The journal entries of shard 0: its create_accounts entries, then one create_transfers entry per call. */
function shardZeroEntries(accountCount: number, calls: number, events: number): { accounts: Uint8Array[]; transfers: Uint8Array[] } {
  const journal = new Map<number, Uint8Array>();
  const ledger = new Ledger({ shardIndex: 0, shardCount, journal: { entry: (seq) => journal.get(seq) } });
  let nowNs = clockStartNs;
  const execute = (operation: number, body: Uint8Array): Uint8Array => {
    const { seq, entry } = ledger.execute(operation, body, (nowNs += nsPerBatch));
    journal.set(seq, entry);
    return entry;
  };
  const local: bigint[] = [];
  for (let id = 1n; id <= BigInt(accountCount); id++) if (shardOfId(id, shardCount) === 0) local.push(id);
  const accounts: Uint8Array[] = [];
  for (let first = 0; first < local.length; first += batchEventsMax) {
    accounts.push(execute(Operation.create_accounts, encodeAccounts(local.slice(first, first + batchEventsMax).map((id) => ({ id, ledger: ledgerId, code: accountCode })))));
  }
  const prng = new Prng(0xb00c);
  let id = transferIdBase;
  const transfers = Array.from({ length: calls }, () => {
    const batch: TransferInput[] = [];
    for (let i = 0; i < events; i++) {
      const debitAccountId = local[prng.below(local.length)]!;
      const payee = BigInt(1 + prng.below(accountCount));
      const creditAccountId = payee === debitAccountId ? (payee === 1n ? 2n : payee - 1n) : payee;
      batch.push({ id: id++, debitAccountId, creditAccountId, amount: BigInt(1 + prng.below(1000)), ledger: ledgerId, code: accountCode });
    }
    return execute(Operation.create_transfers, encodeTransfers(batch));
  });
  return { accounts, transfers };
}

function bookingTask(accountCount: number, calls: number, events: number): MicroTask {
  let codes = new AccountCodes(shardCount);
  let transfers: Uint8Array[] = [];
  let next = 0;
  const digest = new Digest();
  return {
    name: `subjectVoucherOf ${events} transfers (${accountCount.toLocaleString('en-US')} accounts)`,
    eventsPerCall: events,
    calls,
    setup() {
      const entries = shardZeroEntries(accountCount, calls, events);
      for (const entry of entries.accounts) subjectVoucherOf(entry, 0, shardCount, codes);
      transfers = entries.transfers;
    },
    call() {
      const voucher = subjectVoucherOf(transfers[next++]!, 0, shardCount, codes);
      for (const line of voucher.lines) digest.updateNumber(line.ledger).updateNumber(line.code).updateNumber(line.side === 'debit' ? 0 : 1).updateNumber(line.amount);
    },
    digest: () => digest.hex(),
    teardown() {
      codes = new AccountCodes(shardCount);
      transfers = [];
    },
  };
}

export function vouchersTasks(options: VouchersBenchOptions): MicroTask[] {
  const events = options.batchEvents ?? batchEventsMax;
  return options.accountCounts.map((accountCount) => bookingTask(accountCount, options.calls, events));
}
