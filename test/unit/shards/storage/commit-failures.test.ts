// Spec of reading lmdb-js's failed commits: every write of a failed transaction rejects with
// 'Commit failed (see commitError for details)' and the cause on a `commitError` promise; the helpers name
// the cause, and mark it handled so that nothing is left as an unhandled rejection.

import { describe, expect, it } from 'vitest';
import { TallyError, errors } from '../../../../src/core/errors.js';
import { commitFailureCause, isCommitFailure, isCommitFailureEcho, quietCommitFailure, storageFailure } from '../../../../src/shards/storage/commit-failures.js';

/** The shape lmdb-js gives a write of a failed transaction (write.js, rejectCommit). */
function commitFailure(cause: unknown): Error & { commitError: Promise<never> } {
  const error = new Error('Commit failed (see commitError for details)') as Error & { commitError: Promise<never> };
  error.commitError = Promise.reject(cause);
  return error;
}

function causeOf(message: string, code: number): Error {
  return Object.assign(new Error(message), { code });
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('commit failures', () => {
  it.each([
    { name: 'ENOSPC', cause: causeOf('No space left on device', 28), words: 'No space left on device (code 28)' },
    { name: 'a short write (EIO)', cause: causeOf('Input/output error', 5), words: 'Input/output error (code 5)' },
    { name: 'a cause without a code', cause: new Error('MDB_PANIC'), words: 'MDB_PANIC' },
  ])('name the cause of $name', async ({ cause, words }) => {
    expect(await commitFailureCause(commitFailure(cause))).toBe(words);
  });

  it('name an ordinary error by its message, and answer storage_failed naming what was written', async () => {
    expect(await commitFailureCause(new Error('Database is closed'))).toBe('Database is closed');
    const failed = await storageFailure(commitFailure(causeOf('No space left on device', 28)), 'journal entry 7 was not made durable');
    expect([failed.code, failed.message]).toEqual(['storage_failed', 'storage_failed: journal entry 7 was not made durable: No space left on device (code 28)']);
    const already = errors.storageFailed('entry 6');
    expect(await storageFailure(already, 'entry 7')).toBe(already); // a failure passed along keeps its first words
  });

  it('tell lmdb-js echoes from other rejections, and leave no cause unhandled', async () => {
    const seen: unknown[] = [];
    const listener = (reason: unknown): void => void seen.push(reason);
    process.on('unhandledRejection', listener);
    try {
      const echo = commitFailure(causeOf('No space left on device', 28));
      const hint = commitFailure(causeOf('No space left on device', 28));
      expect([isCommitFailureEcho(echo), isCommitFailureEcho(new TallyError('storage_failed', 'x')), isCommitFailureEcho('text')]).toEqual([true, false, false]);
      quietCommitFailure(hint);
      quietCommitFailure(new Error('not a commit failure')); // nothing to quiet
      expect(isCommitFailure(hint)).toBe(true);
      await settle();
      expect(seen).toEqual([]);
    } finally {
      process.removeListener('unhandledRejection', listener);
    }
  });
});
