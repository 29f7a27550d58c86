// Issue #17: a row's matching key as upstream systems derive it — the first 16 bytes of SHA-256 of the trimmed
// UTF-8 text (big-endian), or a decimal or hex id that fits 128 bits; 0n (no key) for empty text or what is no such
// id. A row takes the first configured key whose field it has.

import { describe, expect, it } from 'vitest';
import type { StatementRow } from '../../../src/core/recon/statement-row.js';
import { keyOf, rowKeyer } from '../../../src/recon/row-keys.js';

describe('keyOf', () => {
  it.each([
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 b00361a396177a9cb410ff61f20015ad
    ['abc', 'sha256-128', 0xba7816bf8f01cfea414140de5dae2223n],
    ['  abc\t', 'sha256-128', 0xba7816bf8f01cfea414140de5dae2223n],
    ['', 'sha256-128', 0n],
    ['   ', 'sha256-128', 0n],
    ['4200000925202101284997714292', 'decimal', 4200000925202101284997714292n],
    ['007', 'decimal', 7n],
    ['340282366920938463463374607431768211455', 'decimal', (1n << 128n) - 1n],
    ['340282366920938463463374607431768211456', 'decimal', 0n],
    ['0000340282366920938463463374607431768211455', 'decimal', (1n << 128n) - 1n],
    ['12a', 'decimal', 0n],
    ['-1', 'decimal', 0n],
    ['ff', 'hex', 255n],
    ['FF', 'hex', 255n],
    ['f'.repeat(32), 'hex', (1n << 128n) - 1n],
    [`1${'0'.repeat(32)}`, 'hex', 0n],
    ['0x10', 'hex', 0n],
  ] as const)('%j as %s = %s', (text, encode, key) => {
    expect(keyOf(text, encode)).toBe(key);
  });

  it('hashes the UTF-8 bytes (商户订单号 in Chinese are keys too)', () => {
    expect(keyOf('订单1', 'sha256-128')).toBe(keyOf(' 订单1 ', 'sha256-128'));
    expect(keyOf('订单1', 'sha256-128')).not.toBe(keyOf('订单2', 'sha256-128'));
  });
});

describe('rowKeyer', () => {
  const withKeys = (rows: StatementRow[], keys: Parameters<typeof rowKeyer>[0]): StatementRow[] => rows.map((r) => ({ ...r, key128: rowKeyer(keys)(r) }));
  const row = (merchantOrderNo: string, channelSerialNo: string) => ({ merchantOrderNo, channelSerialNo, refundNo: '', key128: 0n }) as StatementRow;
  it('takes the first key whose statement field the row has', () => {
    const rows = withKeys([row('abc', '42'), row('', '42'), row('', '')], [
      { statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' },
      { statement: 'channelSerialNo', ledger: 'user_data_128', encode: 'decimal' },
    ]);
    expect(rows.map((r) => r.key128)).toEqual([0xba7816bf8f01cfea414140de5dae2223n, 42n, 0n]);
  });

  it('leaves out keys compared with another ledger field than the first key\'s (our postings are keyed by one)', () => {
    const rows = withKeys([row('', '42')], [
      { statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' },
      { statement: 'channelSerialNo', ledger: 'id', encode: 'decimal' },
    ]);
    expect(rows.map((r) => r.key128)).toEqual([0n]);
  });
});
