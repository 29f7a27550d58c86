// How lmdb-js 3.5 reports a failed commit (disk full, EIO, map full), read in one place. Every write of a
// failed transaction rejects with `Error('Commit failed (see commitError for details)')` whose `commitError`
// is a promise rejected with the cause (e.g. `Input/output error`, errno 5: LMDB's word for a short write on
// a full disk). Nobody awaits that promise, nor the event-turn batch's own commit promise, which rejects too:
// left alone both are unhandled rejections, which end a thread (and, on the main thread, the process).
// Never throws; imports nothing from lmdb (it reads the errors' shape).

import { TallyError, errors } from '../../core/errors.js';

/** The message lmdb-js gives every write of a failed transaction. */
const commitFailedMessage = 'Commit failed (see commitError for details)';

interface CommitFailure extends Error {
  commitError: Promise<never>;
}

const noop = (): void => {};

/** True for the rejection lmdb-js gives the writes of a failed transaction. */
export function isCommitFailure(error: unknown): error is CommitFailure {
  return error instanceof Error && error.message === commitFailedMessage && isPromise((error as Partial<CommitFailure>).commitError);
}

/**
 * For an unhandledRejection handler: true when `reason` is lmdb-js's own batch promise of a failed commit
 * (every write in that commit got its own rejection, which its writer handles). Marks the cause handled.
 */
export function isCommitFailureEcho(reason: unknown): boolean {
  if (!isCommitFailure(reason)) return false;
  reason.commitError.catch(noop);
  return true;
}

/** Marks the cause of a failed commit handled (for writes whose failure needs no answer, e.g. hints). */
export function quietCommitFailure(error: unknown): void {
  if (isCommitFailure(error)) error.commitError.catch(noop);
}

/**
 * What went wrong, in words: the cause of a failed commit, or the error's own message. lmdb-js rejects the
 * cause in the same callback as the writes, so it is known at once; the next turn bounds the wait anyway.
 */
export async function commitFailureCause(error: unknown): Promise<string> {
  if (!isCommitFailure(error)) return error instanceof Error ? error.message : String(error);
  const unknown = Symbol('cause unknown');
  const cause = await Promise.race([
    error.commitError.then(() => unknown, (reason: unknown) => reason),
    new Promise<symbol>((resolve) => setImmediate(() => resolve(unknown))),
  ]);
  if (cause === unknown) return 'the commit failed';
  const code = (cause as { code?: unknown }).code;
  const why = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'number' || typeof code === 'string' ? `${why} (code ${code})` : why;
}

/** The catalog error for a failed store write: `storage_failed`, naming what was written and why it failed. */
export async function storageFailure(error: unknown, what: string): Promise<TallyError> {
  if (error instanceof TallyError) return error;
  return errors.storageFailed(`${what}: ${await commitFailureCause(error)}`);
}

function isPromise(value: unknown): value is Promise<never> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
