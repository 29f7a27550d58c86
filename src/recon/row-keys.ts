// The matching key of a statement row (issue #17): the field a channel's configuration names, turned into the u128
// our postings carry (user_data_128, …) the same way upstream systems derive it. `sha256-128`: the first 16 bytes of
// the SHA-256 of the trimmed UTF-8 text, big-endian; `decimal` and `hex`: the id itself when it fits in 128 bits.
// 0n means "no key": an empty field, or one that is no such number.

import { createHash } from 'node:crypto';
import { idMax } from '../core/limits.js';
import type { MatchKey } from '../core/recon/channel-config.js';
import type { StatementRow } from '../core/recon/statement-row.js';

/** 2^128 − 1 has 39 decimal digits and 32 hex digits; longer text (leading zeros aside) cannot fit. */
const decimalDigitsMax = 39;
const hexDigitsMax = 32;

export function keyOf(text: string, encode: MatchKey['encode']): bigint {
  const value = text.trim();
  if (value === '') return 0n;
  if (encode === 'sha256-128') return BigInt(`0x${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 32)}`);
  const digits = encode === 'decimal' ? /^[0-9]+$/ : /^[0-9a-fA-F]+$/;
  if (!digits.test(value)) return 0n;
  const significant = value.replace(/^0+/, '');
  if (significant.length > (encode === 'decimal' ? decimalDigitsMax : hexDigitsMax)) return 0n;
  const key = significant === '' ? 0n : BigInt(encode === 'decimal' ? significant : `0x${significant}`);
  return key <= idMax ? key : 0n;
}

/** Sets every row's key128 from the first key (in the channel's priority order) whose statement field is non-empty. */
export function withKeys(rows: StatementRow[], keys: readonly MatchKey[]): StatementRow[] {
  for (const row of rows) {
    const key = keys.find((k) => row[k.statement].trim() !== '');
    row.key128 = key === undefined ? 0n : keyOf(row[key.statement], key.encode);
  }
  return rows;
}
