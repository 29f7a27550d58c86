// Programmer-error checks that stay on in production. A failed assertion means memory may be
// corrupt: the shard worker lets the error escape and is restarted from its store.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(`assertion failed: ${message}`);
}
