// The reference an upstream system puts on its transfers so that reconciliation (issue #17) finds them in a
// channel's statement: the order number the channel echoes (商户订单号, EndToEndId) as a u128, derived exactly as
// `tally recon` derives it from the statement row. Post it in the field the channel's key names (user_data_128).

import { hash } from 'node:crypto';
import { idMax } from '../core/limits.js';

export type ReferenceEncoding = 'sha256-128' | 'decimal' | 'hex';

/** 2^128 − 1 has 39 decimal digits and 32 hex digits; longer text (leading zeros aside) cannot fit. */
const decimalDigitsMax = 39;
const hexDigitsMax = 32;

/**
 * `sha256-128` (the default): the first 16 bytes of the SHA-256 of the trimmed UTF-8 text, big-endian — for any
 * order number. `decimal` and `hex`: the number itself, for numeric ids below 2^128. 0n for empty text or text
 * that is no such number: 0n is "no reference", never a key.
 */
export function referenceOf(text: string, encode: ReferenceEncoding = 'sha256-128'): bigint {
  const value = text.trim();
  if (value === '') return 0n;
  if (encode === 'sha256-128') {
    // One-shot hash, read as two words: a recon import derives a million of these.
    const digest = hash('sha256', value, 'buffer');
    return (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
  }
  const digits = encode === 'decimal' ? /^[0-9]+$/ : /^[0-9a-fA-F]+$/;
  if (!digits.test(value)) return 0n;
  const significant = value.replace(/^0+/, '');
  if (significant.length > (encode === 'decimal' ? decimalDigitsMax : hexDigitsMax)) return 0n;
  const key = significant === '' ? 0n : BigInt(encode === 'decimal' ? significant : `0x${significant}`);
  return key <= idMax ? key : 0n;
}
