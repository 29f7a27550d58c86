// Every result code in result-codes.ts, reached through Ledger.execute. The table is typed as
// Record<ResultName, …>, so a code added to result-codes.ts does not compile until it has a
// scenario here. Each scenario is then retried after a restart: a failed id answers with its
// original failure (idempotency survives replay), a success answers `exists`.

import { describe, expect, test } from 'vitest';
import { TransferLayout } from '../../../../src/core/layout.js';
import { amountMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { decodeResults, encodeTransfers } from '../../../../src/core/wire/records.js';
import { planRoute } from '../../../../src/core/wire/route-plan.js';
import { ResultCode, type ResultName } from '../../../../src/core/result-codes.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { TransferFlags } from '../../../../src/core/types.js';
import {
  account,
  block,
  close,
  freeze,
  ids,
  linked,
  pending,
  post,
  reversal,
  standardWorld,
  transfer,
  unfreezeAndPay,
  voidHold,
} from '../../../support/ledger-fixtures.js';
import { LedgerHarness, outcomeOf, type Outcome } from '../../../support/ledger-harness.js';

interface Scenario {
  /** Runs on a harness that already holds the standard world; every event it sends must succeed. */
  setup?: (h: LedgerHarness) => Outcome[];
  act: (h: LedgerHarness) => Outcome[];
  expected: Outcome[];
  /** What the same batch answers when sent again after a restart; defaults to `expected`. */
  retried?: Outcome[];
  shardCount?: number;
}

const { bank, alice, bob, merchant, capped, empty, foreign } = ids;
const hold = pending(200n, alice, bob, 40n);
const expiring = pending(201n, alice, bob, 40n, 1);
const payment = transfer(300n, alice, bob, 30n);

/** A transfer record with a nonzero reserved word, which the codec refuses to write. */
function withAmountEffective(): Uint8Array {
  const body = encodeTransfers([transfer(100n, alice, bob, 1n)]);
  new DataView(body.buffer).setBigUint64(TransferLayout.amountEffective, 1n, true);
  return body;
}

/** The smallest id above `from` that routes to `shard` of `shardCount`. */
function idOnShard(shard: number, shardCount: number, from: bigint): bigint {
  let id = from;
  while (shardOfId(id, shardCount) !== shard) id++;
  return id;
}

/** Issued in front of the ledger (core/rate-limits/account-rate-limit.ts), never by it: its spec is test/unit/core/rate-limits/account-rate-limit.test.ts. */
type FrontDoorResult = 'rate_limited';

const scenarios: Record<Exclude<ResultName, FrontDoorResult>, Scenario> = {
  ok: { act: (h) => h.createTransfers([payment]), expected: ['ok'], retried: ['exists'] },
  linked_event_failed: {
    act: (h) => h.createTransfers([linked(transfer(100n, alice, bob, 10n)), transfer(101n, alice, bob, 1000n)]),
    expected: ['linked_event_failed', 'insufficient_funds'],
  },
  linked_event_chain_open: {
    act: (h) => h.createTransfers([transfer(100n, alice, bob, 10n), linked(transfer(101n, alice, bob, 10n))]),
    expected: ['ok', 'linked_event_chain_open'],
    retried: ['exists', 'linked_event_chain_open'],
  },
  timestamp_must_be_zero: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 1n, { timestamp: 1n })]), expected: ['timestamp_must_be_zero'] },
  reserved_field: { act: (h) => h.write(Operation.create_transfers, withAmountEffective()), expected: ['reserved_field'] },
  id_invalid: { act: (h) => h.createTransfers([transfer(0n, alice, bob, 1n)]), expected: ['id_invalid'] },
  flags_invalid: {
    act: (h) => h.createTransfers([transfer(100n, alice, bob, 1n, { flags: TransferFlags.pending | TransferFlags.reversal, pendingId: 1n })]),
    expected: ['flags_invalid'],
  },
  ledger_invalid: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 1n, { ledger: 0 })]), expected: ['ledger_invalid'] },
  code_invalid: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 1n, { code: 0 })]), expected: ['code_invalid'] },
  account_id_invalid: { act: (h) => h.createTransfers([transfer(100n, 0n, bob, 1n)]), expected: ['account_id_invalid'] },
  accounts_must_be_different: { act: (h) => h.createTransfers([transfer(100n, alice, alice, 1n)]), expected: ['accounts_must_be_different'] },
  amount_invalid: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 0n)]), expected: ['amount_invalid'] },
  pending_id_invalid: {
    act: (h) => h.createTransfers([transfer(100n, alice, bob, 0n, { flags: TransferFlags.post_pending })]),
    expected: ['pending_id_invalid'],
  },
  timeout_invalid: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 1n, { timeoutSeconds: 5 })]), expected: ['timeout_invalid'] },
  exists_with_different_fields: {
    setup: (h) => h.createTransfers([payment]),
    act: (h) => h.createTransfers([{ ...payment, amount: 31n }]),
    expected: ['exists_with_different_fields'],
  },
  exists: { setup: (h) => h.createTransfers([payment]), act: (h) => h.createTransfers([payment]), expected: ['exists'] },
  account_not_found: { act: (h) => h.createTransfers([transfer(100n, alice, 77n, 1n)]), expected: ['account_not_found'] },
  ledger_mismatch: { act: (h) => h.createTransfers([transfer(100n, alice, foreign, 1n)]), expected: ['ledger_mismatch'] },
  account_closed: {
    setup: (h) => h.accountOperations([close(700n, empty)]),
    act: (h) => h.createTransfers([transfer(100n, bank, empty, 1n)]),
    expected: ['account_closed'],
  },
  account_blocked: {
    setup: (h) => h.accountOperations([block(700n, bob, 'credits')]),
    act: (h) => h.createTransfers([payment]),
    expected: ['account_blocked'],
  },
  pending_not_found: { act: (h) => h.createTransfers([post(100n, { ...hold, id: 999n })]), expected: ['pending_not_found'] },
  pending_already_posted: {
    setup: (h) => h.createTransfers([hold, post(100n, hold)]),
    act: (h) => h.createTransfers([post(101n, hold)]),
    expected: ['pending_already_posted'],
  },
  pending_already_voided: {
    setup: (h) => h.createTransfers([hold, voidHold(100n, hold)]),
    act: (h) => h.createTransfers([post(101n, hold)]),
    expected: ['pending_already_voided'],
  },
  pending_expired: {
    setup: (h) => {
      const created = h.createTransfers([expiring]);
      h.advanceSeconds(2);
      return created;
    },
    act: (h) => h.createTransfers([post(100n, expiring)]),
    expected: ['pending_expired'],
  },
  original_not_found: { act: (h) => h.createTransfers([reversal(100n, { ...payment, id: 999n }, 1n)]), expected: ['original_not_found'] },
  original_not_reversible: {
    setup: (h) => h.createTransfers([hold]),
    act: (h) => h.createTransfers([reversal(100n, hold, 1n)]),
    expected: ['original_not_reversible'],
  },
  freeze_not_found: { act: (h) => h.createTransfers([unfreezeAndPay(100n, 999n, alice, merchant)]), expected: ['freeze_not_found'] },
  accounts_mismatch: {
    setup: (h) => h.createTransfers([hold]),
    act: (h) => h.createTransfers([post(100n, { ...hold, creditAccountId: merchant })]),
    expected: ['accounts_mismatch'],
  },
  exceeds_pending_amount: {
    setup: (h) => h.createTransfers([hold]),
    act: (h) => h.createTransfers([post(100n, hold, 41n)]),
    expected: ['exceeds_pending_amount'],
  },
  reversal_exceeds_remaining: {
    setup: (h) => h.createTransfers([payment]),
    act: (h) => h.createTransfers([reversal(100n, payment, 31n)]),
    expected: ['reversal_exceeds_remaining'],
  },
  exceeds_frozen_amount: {
    setup: (h) => h.accountOperations([freeze(700n, alice, 20n)]),
    act: (h) => h.createTransfers([unfreezeAndPay(100n, 700n, alice, merchant, 21n)]),
    expected: ['exceeds_frozen_amount'],
  },
  insufficient_funds: { act: (h) => h.createTransfers([transfer(100n, alice, bob, 101n)]), expected: ['insufficient_funds'] },
  credits_exceed_debits: { act: (h) => h.createTransfers([transfer(100n, bank, capped, 1n)]), expected: ['credits_exceed_debits'] },
  balance_overflow: {
    // The bank has already paid Alice 100: after these two its debits are 2^64 − 102.
    setup: (h) => h.createTransfers([transfer(100n, bank, merchant, amountMax), transfer(101n, bank, merchant, amountMax - 200n)]),
    act: (h) => h.createTransfers([transfer(102n, bank, merchant, 102n)]),
    expected: ['balance_overflow'],
  },
  close_refused: { act: (h) => h.accountOperations([close(700n, alice)]), expected: ['close_refused:nonzero_balance'] },
};

describe('every result code is reachable through Ledger.execute', () => {
  test('the table names every code exactly once', () => {
    expect(Object.keys(scenarios).sort()).toEqual(Object.keys(ResultCode).filter((name) => name !== ('rate_limited' satisfies FrontDoorResult)).sort());
  });

  test.each(Object.entries(scenarios))('%s', (_name, s) => {
    const h = new LedgerHarness({ shardCount: s.shardCount ?? 1 });
    if (s.shardCount === undefined) standardWorld(h);
    for (const outcome of s.setup?.(h) ?? []) expect(outcome).toBe('ok');
    expect(s.act(h)).toEqual(s.expected);
    h.restart();
    h.advanceSeconds(1);
    expect(s.act(h)).toEqual(s.retried ?? s.expected);
  });
});
