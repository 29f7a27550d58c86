// Credits on their way to no-overdraft accounts (issue #14): which transfer requests must wait for them, and that
// the tracking forgets what has landed.

import { describe, expect, it } from 'vitest';
import { AccountDirectory } from '../../../../src/core/accounts/account-directory.js';
import { TransferLayout } from '../../../../src/core/layout.js';
import { shardOfId } from '../../../../src/core/routing.js';
import { InstructionKind, InstructionLayout } from '../../../../src/core/transit/transit.js';
import { AccountFlags } from '../../../../src/core/types.js';
import { encodeTransfers } from '../../../../src/core/wire/records.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { PayerCreditsInFlight } from '../../../../src/shards/set/payer-credits.js';
import { transfer } from '../../../support/ledger-fixtures.js';

const shardCount = 2;
const idsOn = (shard: number, count: number): bigint[] => {
  const ids: bigint[] = [];
  for (let id = 1n; ids.length < count; id++) if (shardOfId(id, shardCount) === shard) ids.push(id);
  return ids;
};
const [payer] = idsOn(0, 1);
const [saver, spender] = idsOn(1, 2);

/** One instruction from shard 0 to the payee's shard, with its pair sequence. */
function instruction(payee: bigint, pairSeq: number, kind: number = InstructionKind.credit): Uint8Array {
  const bytes = new Uint8Array(InstructionLayout.bytes);
  const view = new DataView(bytes.buffer);
  writeU128(view, TransferLayout.debitAccountId, payer!);
  writeU128(view, TransferLayout.creditAccountId, payee);
  view.setUint32(InstructionLayout.pairSeq, pairSeq, true);
  view.setUint16(InstructionLayout.fromShard, 0, true);
  view.setUint16(InstructionLayout.toShard, shardOfId(payee, shardCount), true);
  view.setUint16(InstructionLayout.kind, kind, true);
  return bytes;
}

function setUp() {
  const directory = AccountDirectory.create(4, 64);
  const view = new DataView(new ArrayBuffer(16));
  for (const [id, flags] of [[saver!, AccountFlags.debits_must_not_exceed_credits], [spender!, 0]] as const) {
    writeU128(view, 0, id);
    directory.publishAt(view, 0, 1, 0, flags);
  }
  const applied = { through: 0 };
  const credits = new PayerCreditsInFlight(directory, shardCount, (from, to) => (from === 0 && to === 1 ? applied.through : 0));
  return { credits, applied };
}

const spendFrom = (debit: bigint) => encodeTransfers([transfer(900n, debit, payer!, 1n)]);

describe('credits on their way to no-overdraft accounts', () => {
  it('holds a payment from a no-overdraft account until its credit lands, and forgets the account then', () => {
    const { credits, applied } = setUp();
    credits.note(instruction(saver!, 1));
    expect(credits.size).toBe(1);
    expect(credits.shardsToAwait(spendFrom(saver!))).toEqual([1]);
    applied.through = 1;
    expect(credits.shardsToAwait(spendFrom(saver!))).toEqual([]);
    expect(credits.size).toBe(0);
  });

  it('never holds an account that may overdraw, nor for holds, releases or returns', () => {
    const { credits } = setUp();
    credits.note(instruction(spender!, 1));
    credits.note(instruction(saver!, 2, InstructionKind.hold));
    credits.note(instruction(saver!, 3, InstructionKind.release));
    expect(credits.size).toBe(0);
    expect(credits.shardsToAwait(spendFrom(spender!))).toEqual([]);
    expect(credits.shardsToAwait(spendFrom(saver!))).toEqual([]);
  });

  it('waits for the newest credit of the account, not only the first', () => {
    const { credits, applied } = setUp();
    credits.note(instruction(saver!, 1));
    credits.note(instruction(saver!, 5));
    applied.through = 4;
    expect(credits.shardsToAwait(spendFrom(saver!))).toEqual([1]);
    applied.through = 5;
    expect(credits.shardsToAwait(spendFrom(saver!))).toEqual([]);
  });
});
