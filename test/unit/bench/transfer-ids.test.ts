// The load bench's transfer ids are laid out as newId()'s (48-bit milliseconds on top), so the shards' id
// index sees them time-ordered; the run tag and sequence number below keep every id of every run apart.
import { describe, expect, it } from 'vitest';
import { decodeTransfer } from '../../../src/core/wire/records.js';
import { msOfTransferId, seqMax, seqOfTransferId, transferIdOfWords, writeTransferId } from '../../../bench/load/transfer-ids.js';
import { TransferSource } from '../../../bench/load/transfer-source.js';

function idOf(ms: number, runTag: number, seq: number): bigint {
  const words = new Uint32Array(4);
  writeTransferId(words, 0, ms, runTag, seq);
  return transferIdOfWords(words, 0);
}

describe('writeTransferId', () => {
  it.each([
    [1_765_000_000_000, 0x7a11_0001, 1],
    [2 ** 48 - 1, 0xffff_ffff, seqMax],
    [0, 0, 1],
    [1_765_000_000_123, 0x0000_ffff, 2 ** 32 + 5],
  ])('writes ms %i, tag %i, seq %i as ms << 80 | tag << 48 | seq', (ms, runTag, seq) => {
    const id = idOf(ms, runTag, seq);
    expect(id).toBe((BigInt(ms) << 80n) | (BigInt(runTag) << 48n) | BigInt(seq));
    expect(msOfTransferId(id)).toBe(ms);
    expect(seqOfTransferId(id)).toBe(seq);
  });

  it('orders ids by millisecond first, then by sequence number within a run', () => {
    const tag = 0xdead_beef;
    expect(idOf(1000, tag, 5) < idOf(1000, tag, 6)).toBe(true);
    expect(idOf(1000, tag, 900) < idOf(1001, tag, 1)).toBe(true);
    expect(idOf(1000, 0xffff_ffff, seqMax) < idOf(1001, 0, 1)).toBe(true);
  });

  it.each([
    [1, 1, 0],
    [1, 1, seqMax + 1],
    [-1, 1, 1],
    [2 ** 48, 1, 1],
  ])('refuses ms %i, tag %i, seq %i', (ms, runTag, seq) => {
    expect(() => writeTransferId(new Uint32Array(4), 0, ms, runTag, seq)).toThrow(RangeError);
  });
});

describe('TransferSource ids', () => {
  const idsOf = (body: Uint8Array) => Array.from({ length: body.byteLength / 128 }, (_, i) => decodeTransfer(new DataView(body.buffer, body.byteOffset), i * 128).id);

  it('writes strictly increasing ids whose millisecond prefix is the time they were made', () => {
    const source = new TransferSource(100, 2, 7);
    const before = Date.now();
    const ids = [...idsOf(source.nextBody(500)), source.nextInput().id, ...idsOf(source.nextBody(500))];
    const after = Date.now();
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1]).toBe(true);
    for (const id of ids) {
      expect(msOfTransferId(id)).toBeGreaterThanOrEqual(before);
      expect(msOfTransferId(id)).toBeLessThanOrEqual(after);
      expect(Number((id >> 48n) & 0xffff_ffffn)).toBe(source.runTag);
    }
    expect(ids.map(seqOfTransferId)).toEqual(Array.from({ length: 1001 }, (_, i) => i + 1));
  });

  it('keeps two sources (two runs) apart even in the same millisecond', () => {
    const [a, b] = [new TransferSource(100, 2, 7), new TransferSource(100, 2, 7)];
    expect(a.runTag).not.toBe(b.runTag);
    const idsA = new Set(idsOf(a.nextBody(100)));
    expect(idsOf(b.nextBody(100)).filter((id) => idsA.has(id))).toEqual([]);
  });

  it('samples carry the ids sent', () => {
    const source = new TransferSource(100, 2, 7);
    const ids = new Set(idsOf(source.nextBody(300)));
    expect(source.samples.length).toBe(300);
    for (const sample of source.samples) {
      expect(ids.has(sample.id)).toBe(true);
      expect(seqOfTransferId(sample.id)).toBe(sample.seq);
    }
  });
});
