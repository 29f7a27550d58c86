// Programmer-error checks that stay on in production. A failed assertion means memory may be
// corrupt: the shard worker lets the error escape and is restarted from its store.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

/**
 * Pass a constant message: its argument is evaluated on every call, so a template literal would be
 * built even when the condition holds. The throw lives in a function of its own so that this one stays
 * below V8's small-function size (27 bytes of bytecode): hot callers inline it without spending much of
 * their inlining budget, which the functions doing the work need.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) assertionFailed(message);
}

function assertionFailed(message: string): never {
  throw new AssertionError(`assertion failed: ${message}`);
}
