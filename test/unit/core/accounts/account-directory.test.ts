// Spec of the account directory (core/accounts/account-directory.ts): every account's ledger and status in one
// growable SharedArrayBuffer, written by one thread, read by others while it grows.

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { AccountDirectory } from '../../../../src/core/accounts/account-directory.js';
import { StatusBits } from '../../../../src/core/accounts/account-table.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { AccountFlags, DirectoryMarks } from '../../../../src/core/types.js';

function idView(id: bigint): DataView {
  const view = new DataView(new ArrayBuffer(16));
  writeU128(view, 0, id);
  return view;
}

describe('AccountDirectory', () => {
  it('finds every account published, through growth and long chains, and nothing else', () => {
    const directory = AccountDirectory.create(4, 20_000); // 16 chains: ~600 accounts each
    for (let id = 1n; id <= 10_000n; id++) directory.publishAt(idView(id * 7919n), 0, Number(id % 3n) + 1, 0);
    expect(directory.size).toBe(10_000);
    for (let id = 1n; id <= 10_000n; id++) expect(directory.findAt(idView(id * 7919n), 0)).toEqual({ ledger: Number(id % 3n) + 1, status: 0 });
    expect(directory.findAt(idView(7918n), 0)).toBeUndefined();
    expect(directory.findAt(idView((1n << 127n) + 7919n), 0)).toBeUndefined();
  });

  it('sets and clears the overflow marks, keeping the caller flags, and clears a bucket byte its last marked account leaves', () => {
    const directory = AccountDirectory.create(4, 100); // 16 buckets: accounts share them
    const capped = AccountFlags.credits_must_not_exceed_debits;
    for (let id = 1n; id <= 64n; id++) directory.publishAt(idView(id), 0, 1, 0, id === 5n ? capped : 0);
    expect(directory.holdsAnyWith(DirectoryMarks.creditsBig)).toBe(false);
    expect(directory.markAt(idView(5n), 0, DirectoryMarks.creditsBig)).toBe(true);
    expect(directory.markAt(idView(1000n), 0, DirectoryMarks.creditsBig)).toBe(false); // not published
    expect(directory.flagsAt(idView(5n), 0)).toBe(capped | DirectoryMarks.creditsBig);
    expect(directory.holdsAnyWith(DirectoryMarks.creditsBig)).toBe(true);
    // Another account of the same bucket, marked too, and one marked high.
    const sameBucket = [...Array(64).keys()].map((i) => BigInt(i + 1)).filter((id) => id !== 5n && directory.mayHoldWith(idView(id), 0, DirectoryMarks.creditsBig));
    expect(sameBucket.length).toBeGreaterThan(0);
    const other = sameBucket[0]!;
    directory.markAt(idView(other), 0, DirectoryMarks.creditsBig | DirectoryMarks.creditsHigh);
    directory.unmarkAt(idView(5n), 0, DirectoryMarks.creditsBig);
    expect(directory.flagsAt(idView(5n), 0)).toBe(capped);
    expect(directory.mayHoldWith(idView(5n), 0, DirectoryMarks.creditsBig)).toBe(true); // the other still has it
    directory.unmarkAt(idView(other), 0, DirectoryMarks.creditsBig);
    expect(directory.flagsAt(idView(other), 0)).toBe(DirectoryMarks.creditsHigh);
    expect(directory.mayHoldWith(idView(5n), 0, DirectoryMarks.creditsBig)).toBe(false);
    expect(directory.mayHoldWith(idView(other), 0, DirectoryMarks.creditsHigh)).toBe(true);
    expect(directory.mayHoldWith(idView(5n), 0, capped)).toBe(true);
    // A restart's entries carry the marks of an account already there.
    directory.publishAt(idView(7n), 0, 1, 0, DirectoryMarks.creditsHigh);
    expect(directory.flagsAt(idView(7n), 0)).toBe(DirectoryMarks.creditsHigh);
  });

  it('answers mayHoldWith false only where no account of the bucket has the flags', () => {
    const directory = AccountDirectory.create(10, 5_000);
    const noOverdraft = 2;
    const capped = 4;
    for (let id = 1n; id <= 4_000n; id++) directory.publishAt(idView(id), 0, 1, 0, id % 100n === 0n ? noOverdraft : 0);
    for (let id = 1n; id <= 4_000n; id++) {
      // Never a false "no": every flagged account is reported maybe.
      if (id % 100n === 0n) expect(directory.mayHoldWith(idView(id), 0, noOverdraft)).toBe(true);
      expect(directory.mayHoldWith(idView(id), 0, capped)).toBe(false);
    }
    // Most accounts without the flag get a cheap "no" (40 flagged accounts mark at most 40 of 1,024 buckets).
    let no = 0;
    for (let id = 1n; id <= 4_000n; id++) if (!directory.mayHoldWith(idView(id), 0, noOverdraft)) no++;
    expect(no).toBeGreaterThan(3_500);
  });

  it('changes a status in place; publishing an account again keeps its node', () => {
    const directory = AccountDirectory.create(4, 16);
    directory.publishAt(idView(5n), 0, 9, 0);
    directory.changeStatusAt(idView(5n), 0, StatusBits.closed | StatusBits.creditBlocked, 0);
    expect(directory.findAt(idView(5n), 0)).toEqual({ ledger: 9, status: StatusBits.closed | StatusBits.creditBlocked });
    directory.changeStatusAt(idView(5n), 0, 0, StatusBits.creditBlocked);
    expect(directory.findAt(idView(5n), 0)).toEqual({ ledger: 9, status: StatusBits.closed });
    directory.publishAt(idView(5n), 0, 9, 0);
    expect(directory.size).toBe(1);
    expect(() => directory.publishAt(idView(5n), 0, 10, 0)).toThrow(/keeps its ledger/);
    expect(() => directory.changeStatusAt(idView(6n), 0, StatusBits.closed, 0)).toThrow(/holds/);
  });

  it('refuses an account past the room it was made with', () => {
    const directory = AccountDirectory.create(4, 2);
    directory.publishAt(idView(1n), 0, 1, 0);
    directory.publishAt(idView(2n), 0, 1, 0);
    expect(() => directory.publishAt(idView(3n), 0, 1, 0)).toThrow(/room/);
  });

  it('is read by another thread, which sees what is published after it started, the buffer grown', async () => {
    const directory = AccountDirectory.create(4, 100_000);
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const words = new Int32Array(workerData);
       parentPort.on('message', () => parentPort.postMessage({ used: Atomics.load(words, 0), bytes: workerData.byteLength }));`,
      { eval: true, workerData: directory.buffer },
    );
    const ask = () => new Promise<{ used: number; bytes: number }>((resolve) => { worker.once('message', resolve); worker.postMessage(0); });
    expect((await ask()).used).toBe(0);
    for (let id = 1n; id <= 50_000n; id++) directory.publishAt(idView(id), 0, 1, 0);
    const seen = await ask();
    expect(seen.used).toBe(50_000);
    expect(seen.bytes).toBe(directory.buffer.byteLength);
    await worker.terminate();
  });
});
