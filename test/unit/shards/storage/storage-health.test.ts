// Spec of storage health across a shard's workers: failures in a row are shared by every worker of the shard
// (one buffer the host hands each of them), the back-off they earn doubles up to a bound, and a retry loop
// tries until it succeeds or is stopped, waiting that back-off before each try.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageHealth, newStorageHealthBuffer, retryWithBackoff, storageRetryMs, storageRetryMsMax, storageRetryMsMin } from '../../../../src/shards/storage/storage-health.js';

describe('StorageHealth', () => {
  it('counts failures in a row for every worker holding the same buffer, until a durable write', () => {
    const buffer = newStorageHealthBuffer();
    const dying = new StorageHealth(buffer);
    dying.noteFailure();
    dying.noteFailure();
    const next = new StorageHealth(buffer); // the next worker of the shard, in another thread: same memory
    expect(next.failuresInARow).toBe(2);
    next.noteDurable();
    expect(dying.failuresInARow).toBe(0);
    expect(new StorageHealth(undefined).failuresInARow).toBe(0); // a worker without the host's buffer
  });
});

describe('storageRetryMs', () => {
  it.each([
    { attempt: -1, ms: storageRetryMsMin },
    { attempt: 0, ms: storageRetryMsMin },
    { attempt: 1, ms: storageRetryMsMin * 2 },
    { attempt: 3, ms: storageRetryMsMin * 8 },
    { attempt: 10, ms: storageRetryMsMax },
    { attempt: 1e9, ms: storageRetryMsMax },
  ])('waits $ms ms before try $attempt', ({ attempt, ms }) => {
    expect(storageRetryMs(attempt)).toBe(ms);
  });
});

describe('retryWithBackoff', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('tries after the earned back-off, again after each failure with a longer wait, until a try succeeds', async () => {
    const tries: number[] = [];
    const failures: number[] = [];
    let failing = 2;
    const done = retryWithBackoff(
      async () => {
        tries.push(Date.now());
        if (failing-- > 0) throw new Error('disk full');
      },
      { attemptsBefore: 1, onFailure: (_, retryInMs) => failures.push(retryInMs), stopped: () => false },
    );
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(storageRetryMs(1) + storageRetryMs(2) + storageRetryMs(3));
    expect(await done).toBe(true);
    expect(tries.map((at) => at - start)).toEqual([storageRetryMs(1), storageRetryMs(1) + storageRetryMs(2), storageRetryMs(1) + storageRetryMs(2) + storageRetryMs(3)]);
    expect(failures).toEqual([storageRetryMs(2), storageRetryMs(3)]);
  });

  it('starts no further try once stopped, and resolves false', async () => {
    let stopped = false;
    let tries = 0;
    const done = retryWithBackoff(
      async () => {
        tries++;
        stopped = true; // the worker began closing while this try ran
        throw new Error('disk full');
      },
      { attemptsBefore: 0, onFailure: () => {}, stopped: () => stopped },
    );
    await vi.advanceTimersByTimeAsync(storageRetryMsMax * 4);
    expect([await done, tries]).toEqual([false, 1]);
  });
});
