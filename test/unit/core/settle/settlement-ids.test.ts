// Posting ids derived from what a posting is: FNV-1a 64 against its published test vectors, the documented layout
// (tag, run date, hash), ids outside the ranges the ledger derives for itself, and a collision refused.

import { describe, expect, it } from 'vitest';
import { isDerivedIdAt } from '../../../../src/core/posting/validate.js';
import { writeU128 } from '../../../../src/core/u128.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { fnv1a64, postingIdOf, postingKeyOf, PostingIds, settlementIdTag, type PostingKeyParts } from '../../../../src/core/settle/settlement-ids.js';
import { refusal } from './refusal.js';

const parts: PostingKeyParts = { merchantId: 'm-1', channel: 'wx', cycle: 'D1', runDate: 20250531, batch: 1, role: 'settle' };

describe('fnv1a64', () => {
  it.each([
    ['', 0xcbf29ce484222325n],
    ['a', 0xaf63dc4c8601ec8cn],
    ['foobar', 0x85944171f73967e8n],
  ])('hashes %j as the reference does', (text, expected) => expect(fnv1a64(text)).toBe(expected));

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    // 结 is U+7ED3, the bytes e7 bb 93 in UTF-8: the hash of those bytes, folded by hand.
    const byHand = [0xe7, 0xbb, 0x93].reduce((hash, byte) => BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n), 0xcbf29ce484222325n);
    expect(fnv1a64('结')).toBe(byHand);
  });
});

describe('postingIdOf', () => {
  it('lays out tag, run date and hash of the key', () => {
    const id = postingIdOf(parts);
    expect(id >> 96n).toBe(BigInt(settlementIdTag));
    expect((id >> 64n) & 0xffff_ffffn).toBe(20250531n);
    expect(id & 0xffff_ffff_ffff_ffffn).toBe(fnv1a64(postingKeyOf(parts)));
    expect(postingKeyOf(parts)).toBe('["m-1","wx","D1",20250531,1,"settle"]');
  });

  it('is the same for the same parts and differs when any part does', () => {
    expect(postingIdOf({ ...parts })).toBe(postingIdOf(parts));
    const changes: Partial<PostingKeyParts>[] = [{ merchantId: 'm-2' }, { channel: 'ali' }, { cycle: 'T+1' }, { runDate: 20250601 }, { batch: 2 }, { role: 'payout' }];
    const ids = new Set(changes.map((change) => postingIdOf({ ...parts, ...change })));
    expect(ids.size).toBe(changes.length);
    expect(ids.has(postingIdOf(parts))).toBe(false);
  });

  it('keys names with separators in them apart', () => {
    expect(postingKeyOf({ ...parts, merchantId: 'm","wx' , channel: '' })).not.toBe(postingKeyOf({ ...parts, merchantId: 'm', channel: 'wx' }));
  });

  it('is no id the ledger keeps for itself (system, transit, suspense, slice) and never zero', () => {
    const view = new DataView(new ArrayBuffer(16));
    writeU128(view, 0, postingIdOf(parts));
    expect(isDerivedIdAt(view, 0)).toBe(false);
    expect(postingIdOf(parts)).not.toBe(0n);
  });
});

describe('PostingIds', () => {
  it('hands out the derived ids', () => {
    const ids = new PostingIds();
    expect(ids.take(parts)).toBe(postingIdOf(parts));
    expect(ids.take({ ...parts, role: 'payout' })).toBe(postingIdOf({ ...parts, role: 'payout' }));
  });

  it('refuses two keys that land on one id', () => {
    const coarse = new PostingIds((p) => BigInt(p.runDate));
    coarse.take(parts);
    const error = refusal(SettleError, () => coarse.take({ ...parts, role: 'payout' }));
    expect(error.code).toBe('posting_id_collision');
    expect(error.message).toContain('postings ["m-1","wx","D1",20250531,1,"settle"] and ["m-1","wx","D1",20250531,1,"payout"] derive the same id');
  });
});
