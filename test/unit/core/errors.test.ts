// Spec of how callers pick out an operating error: by its catalog code (hasErrorCode), which holds for an error
// thrown in this thread and for one rebuilt from { code, message } after crossing postMessage or the wire.

import { describe, expect, it } from 'vitest';
import { TallyError, errorFromWire, errors, hasErrorCode, type ErrorCodeName } from '../../../src/core/errors.js';

describe('hasErrorCode', () => {
  const cases: { name: string; error: unknown; code: ErrorCodeName; expected: boolean }[] = [
    { name: 'a catalog error with that code', error: errors.storageFailed('disk full'), code: 'storage_failed', expected: true },
    { name: 'a catalog error with another code', error: errors.overloaded('queue full'), code: 'storage_failed', expected: false },
    { name: 'one rebuilt from the wire', error: errorFromWire('shutting_down', 'bye'), code: 'shutting_down', expected: true },
    { name: 'a plain Error carrying the same code', error: Object.assign(new Error('x'), { code: 'storage_failed' }), code: 'storage_failed', expected: false },
    { name: 'a plain object as it crosses postMessage', error: { code: 'storage_failed', message: 'x' }, code: 'storage_failed', expected: false },
    { name: 'nothing', error: null, code: 'timeout', expected: false },
  ];
  it.each(cases)('$name: $expected', ({ error, code, expected }) => {
    expect(hasErrorCode(error, code)).toBe(expected);
  });

  it('narrows to TallyError', () => {
    const error: unknown = new TallyError('timeout', 'no reply within 5 ms');
    if (!hasErrorCode(error, 'timeout')) throw new Error('expected a timeout');
    expect(error.message).toBe('timeout: no reply within 5 ms');
  });
});
