// docs/PROTOCOL.md is a contract: every result code (with its fixed number) and every operating
// error code must be documented there, so the docs cannot drift from the code.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/core/errors.js';
import { Operation } from '../../../src/core/operations.js';
import { ResultCode } from '../../../src/core/result-codes.js';

const protocol = readFileSync(new URL('../../../docs/PROTOCOL.md', import.meta.url), 'utf8');

describe('docs/PROTOCOL.md', () => {
  it.each(Object.entries(ResultCode))('documents result code %s = %i', (name, code) => {
    expect(protocol).toMatch(new RegExp(`\\| ${code} \\| ${name} \\|`));
  });

  it.each(Object.keys(ErrorCode))('documents operating error %s', (code) => {
    expect(protocol).toMatch(new RegExp(`\\| ${code} \\|`));
  });

  const journalOnly = new Set(['expire_pending', 'apply_inbound', 'day_cut', 'prepare_chains', 'abort_chains', 'apply_hot_inbound', 'flush_history']);
  it.each([...journalOnly])('names journal-only operation %s', (name) => {
    expect(protocol).toContain(`(\`${name}\`)`);
  });

  it.each(Object.entries(Operation).filter(([name]) => !journalOnly.has(name)))('documents operation %s = %i', (name, number) => {
    expect(protocol).toMatch(new RegExp(`\\| ${number} \\| \`${name}\` \\|`));
  });
});
