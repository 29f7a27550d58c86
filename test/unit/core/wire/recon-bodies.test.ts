// The gateway's check of the reconciliation bodies (51–55, core/wire/recon-bodies.ts), through checkRequestBody as
// the gateway runs it: every shape the protocol allows passes, every other one is body_invalid before anything runs;
// and the service reads the same bodies into the same fields (core/recon/batches.ts adds the outcome's name).

import { describe, expect, it } from 'vitest';
import { reconChunkBytesMax, reconFileBytesMax, reconFilesPerImportMax, reconUploadHeaderBytesMax } from '../../../../src/core/limits.js';
import { WireOperation, isAdminOperation, isReconOperation } from '../../../../src/core/operations.js';
import { readReconExceptionsQuery } from '../../../../src/core/recon/batches.js';
import { encodeAdminJson } from '../../../../src/core/wire/admin-bodies.js';
import { encodeReconUpload, readReconImport, readReconUpload } from '../../../../src/core/wire/recon-bodies.js';
import { checkRequestBody } from '../../../../src/core/wire/wire.js';

const sha256 = 'ab'.repeat(32);
const batch = 'rcb_0123456789abcdef0123';
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const upload = (header: object, chunk: Uint8Array): Uint8Array => {
  const text = json(header);
  const body = new Uint8Array(4 + text.byteLength + chunk.byteLength);
  new DataView(body.buffer).setUint32(0, text.byteLength, true);
  body.set(text, 4);
  body.set(chunk, 4 + text.byteLength);
  return body;
};
const check = (operation: number, body: Uint8Array) => () => checkRequestBody(operation as never, body);
const files = (count: number) => Array.from({ length: count }, (_, i) => ({ name: `part-${i}.csv`, sha256: i.toString(16).padStart(64, '0') }));

describe('recon operations', () => {
  it('are admin operations, 51..55', () => {
    const numbers = [WireOperation.recon_upload, WireOperation.recon_import, WireOperation.get_recon_batches, WireOperation.get_recon_batch, WireOperation.get_recon_exceptions];
    expect(numbers).toEqual([51, 52, 53, 54, 55]);
    for (const op of numbers) expect([isAdminOperation(op), isReconOperation(op)]).toEqual([true, true]);
    expect([50, 56].map(isReconOperation)).toEqual([false, false]);
  });
});

describe('recon_upload bodies', () => {
  it('pass with a header and 1..reconChunkBytesMax bytes inside the file', () => {
    expect(check(WireOperation.recon_upload, upload({ sha256, offset: 0, total: 10 }, new Uint8Array(10)))).not.toThrow();
    expect(check(WireOperation.recon_upload, upload({ sha256, offset: 9, total: 10 }, new Uint8Array(1)))).not.toThrow();
    expect(check(WireOperation.recon_upload, upload({ sha256, offset: 0, total: reconFileBytesMax }, new Uint8Array(reconChunkBytesMax)))).not.toThrow();
  });

  it.each([
    ['a body shorter than its length prefix', new Uint8Array(3)],
    ['a header length past the body', Uint8Array.of(200, 0, 0, 0, 0x7b, 0x7d)],
    ['a header longer than reconUploadHeaderBytesMax', upload({ sha256, offset: 0, total: 1, pad: 'x'.repeat(reconUploadHeaderBytesMax) }, new Uint8Array(1))],
    ['no chunk', upload({ sha256, offset: 0, total: 1 }, new Uint8Array(0))],
    ['a chunk past reconChunkBytesMax', upload({ sha256, offset: 0, total: reconFileBytesMax }, new Uint8Array(reconChunkBytesMax + 1))],
    ['a chunk running past total', upload({ sha256, offset: 5, total: 10 }, new Uint8Array(6))],
    ['an offset at total', upload({ sha256, offset: 10, total: 10 }, new Uint8Array(1))],
    ['no offset', upload({ sha256, total: 10 }, new Uint8Array(1))],
    ['no total', upload({ sha256, offset: 0 }, new Uint8Array(1))],
    ['a total past reconFileBytesMax', upload({ sha256, offset: 0, total: reconFileBytesMax + 1 }, new Uint8Array(1))],
    ['an upper-case sha256', upload({ sha256: sha256.toUpperCase(), offset: 0, total: 1 }, new Uint8Array(1))],
    ['a short sha256', upload({ sha256: 'ab', offset: 0, total: 1 }, new Uint8Array(1))],
    ['an unknown header field', upload({ sha256, offset: 0, total: 1, name: 'x' }, new Uint8Array(1))],
    ['a header that is not JSON', upload({}, new Uint8Array(1)).fill(0x41, 4, 6)],
  ])('refuse %s', (_why, body) => {
    expect(check(WireOperation.recon_upload, body)).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });

  it('read back what encodeReconUpload wrote', () => {
    const chunk = Uint8Array.of(1, 2, 3);
    expect(readReconUpload(encodeReconUpload({ sha256, offset: 7, total: 10 }, chunk))).toEqual({ sha256, offset: 7, total: 10, chunk });
  });
});

describe('recon_import bodies', () => {
  it('pass with a channel, 1..reconFilesPerImportMax files and an optional real day', () => {
    expect(check(WireOperation.recon_import, json({ channel: 'wechat.pay-1', files: files(1) }))).not.toThrow();
    expect(check(WireOperation.recon_import, json({ channel: 'bank', files: files(reconFilesPerImportMax), day: '2024-02-29' }))).not.toThrow();
    expect(readReconImport(json({ channel: 'bank', files: files(1) }))).toEqual({ channel: 'bank', files: files(1), day: null });
  });

  it.each([
    ['no files', { channel: 'bank', files: [] }],
    ['too many files', { channel: 'bank', files: files(reconFilesPerImportMax + 1) }],
    ['the same file twice', { channel: 'bank', files: [...files(1), { name: 'again.csv', sha256: files(1)[0]!.sha256 }] }],
    ['a file without a name', { channel: 'bank', files: [{ sha256 }] }],
    ['a file with another field', { channel: 'bank', files: [{ name: 'a', sha256, bytes: 1 }] }],
    ['a file that is a string', { channel: 'bank', files: [sha256] }],
    ['no channel', { files: files(1) }],
    ['a channel with a space', { channel: 'my bank', files: files(1) }],
    ['a day written yyyymmdd', { channel: 'bank', files: files(1), day: '20240229' }],
    ['a day that is no date', { channel: 'bank', files: files(1), day: '2025-02-29' }],
    ['an unknown field', { channel: 'bank', files: files(1), path: '/tmp' }],
  ])('refuse %s', (_why, body) => {
    expect(check(WireOperation.recon_import, json(body))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });
});

describe('recon query bodies', () => {
  it.each([
    [WireOperation.get_recon_batches, {}],
    [WireOperation.get_recon_batches, { channel: 'bank', before: batch, limit: 100 }],
    [WireOperation.get_recon_batch, { id: batch }],
    [WireOperation.get_recon_exceptions, { batch }],
    [WireOperation.get_recon_exceptions, { batch, outcome: 'amount_mismatch', after: 500, limit: 500 }],
  ])('operation %i passes %j', (operation, body) => {
    expect(check(operation, json(body))).not.toThrow();
  });

  it.each([
    [WireOperation.get_recon_batches, { limit: 101 }],
    [WireOperation.get_recon_batches, { before: 'adj_0123456789abcdef0123' }],
    [WireOperation.get_recon_batches, { status: 'matched' }],
    [WireOperation.get_recon_batch, {}],
    [WireOperation.get_recon_batch, { id: 'rcb_1' }],
    [WireOperation.get_recon_exceptions, {}],
    [WireOperation.get_recon_exceptions, { batch, limit: 501 }],
    [WireOperation.get_recon_exceptions, { batch, after: -1 }],
    [WireOperation.get_recon_exceptions, { batch, outcome: 'Amount Mismatch' }],
  ])('operation %i refuses %j', (operation, body) => {
    expect(check(operation, json(body))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });

  it.each([WireOperation.recon_import, WireOperation.get_recon_batches, WireOperation.get_recon_batch, WireOperation.get_recon_exceptions])('operation %i refuses a body that is no JSON object', (operation) => {
    for (const body of [new Uint8Array(0), json([1]), Uint8Array.of(0xff, 0xfe)]) expect(check(operation, body)).toThrow(expect.objectContaining({ code: 'body_invalid' }));
  });

  it("leaves an outcome's name to the service, which knows the outcomes (own names only)", () => {
    const body = (outcome: string) => encodeAdminJson({ batch, outcome });
    expect(check(WireOperation.get_recon_exceptions, body('no_such_outcome'))).not.toThrow();
    expect(readReconExceptionsQuery(body('amount_mismatch'))).toEqual({ batch, outcome: 'amount_mismatch', after: 0, limit: 500 });
    for (const outcome of ['no_such_outcome', 'constructor', '__proto__']) {
      expect(() => readReconExceptionsQuery(body(outcome))).toThrow(expect.objectContaining({ code: 'body_invalid' }));
    }
  });
});
