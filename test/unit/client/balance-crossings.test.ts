// Balance monitors (issue #15): which change-stream events take a watched account across a threshold, judged from
// the event alone (its balances after and its amount).

import { describe, expect, it } from 'vitest';
import { balanceCrossings } from '../../../src/client/balance-crossings.js';
import type { Balances, ChangeEvent } from '../../../src/client/changes.js';
import { TransferFlags } from '../../../src/core/types.js';
import { shardOfId } from '../../../src/core/routing.js';

const shardCount = 2;
const onShard = (shard: number, from: bigint): bigint => {
  for (let id = from; ; id++) if (shardOfId(id, shardCount) === shard) return id;
};
const payer = onShard(0, 100n);
const payee = onShard(0, payer + 1n);
const farPayee = onShard(1, 100n);
const balances = (debitsPosted: bigint, creditsPosted: bigint): Balances => ({ debitsPosted, creditsPosted, debitsPending: 0n, creditsPending: 0n });

function transfer(kind: 'transfer' | 'credit_landed', credit: bigint, amount: bigint, debitAfter: Balances, creditAfter: Balances, flags = 0, result = 'ok', shard = 0): ChangeEvent {
  const record = { id: 7n, debitAccountId: payer, creditAccountId: credit, amount, pendingId: 0n, userData128: 0n, userData64: 0n, userData32: 0, timeoutSeconds: 0, ledger: 1, code: 1, flags, timestamp: 99n };
  return { kind, shard, seq: 3, index: 0, businessDay: 0, transfer: record, amountMoved: amount, result, debitAfter, creditAfter };
}

describe('balance crossings', () => {
  it('finds a payer falling below and a payee rising above, from the balances after and the amount', () => {
    const watched = new Map([
      [payer, { below: 100n }],
      [payee, { above: 1_000n }],
    ]);
    // Payer 150 → 90 (below 100); payee 990 → 1,050 (above 1,000).
    const event = transfer('transfer', payee, 60n, balances(60n, 150n), balances(0n, 1_050n));
    expect(balanceCrossings(event, watched, shardCount).map((c) => `${c.account}:${c.direction}:${c.before}→${c.after}`)).toEqual([`${payer}:below:150→90`, `${payee}:above:990→1050`]);
  });

  it('ignores what does not cross, holds and voids, refusals, and a payee judged on another shard than its own', () => {
    const watched = new Map([
      [payer, { below: 100n }],
      [farPayee, { above: 10n }],
    ]);
    expect(balanceCrossings(transfer('transfer', payee, 10n, balances(10n, 200n), balances(0n, 10n)), watched, shardCount)).toEqual([]); // 200 → 190
    expect(balanceCrossings(transfer('transfer', payee, 60n, balances(0n, 150n), balances(0n, 0n), TransferFlags.pending), watched, shardCount)).toEqual([]);
    expect(balanceCrossings(transfer('transfer', payee, 60n, balances(60n, 150n), balances(0n, 60n), 0, 'insufficient_funds'), watched, shardCount)).toEqual([]);
    // On the payer's shard the far payee's side is the transit account: judged only where its credit lands.
    expect(balanceCrossings(transfer('transfer', farPayee, 60n, balances(0n, 500n), balances(0n, 60n)), new Map([[farPayee, { above: 10n }]]), shardCount)).toEqual([]);
    const landed = transfer('credit_landed', farPayee, 60n, balances(60n, 0n), balances(0n, 60n), 0, 'ok', 1);
    expect(balanceCrossings(landed, watched, shardCount).map((c) => `${c.account}:${c.direction}`)).toEqual([`${farPayee}:above`]);
  });
});
