// The client's reconciliation calls through the real gateway, against a scripted service that keeps uploads as the
// protocol says (docs/PROTOCOL.md, 51): a chunk that does not continue what it holds is not stored, and every reply
// says how much it holds. A file goes up in chunks of reconChunkBytesMax in order, an upload cut off earlier goes on
// from where the server's first reply says, and the other calls send the JSON bodies the gateway checks.

import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, reconChunkBytesMax, type Client, type ReconBatch, type ReconExceptionsPage } from '../../../src/client/index.js';
import { Operation } from '../../../src/core/operations.js';
import { readReconUpload } from '../../../src/core/wire/recon-bodies.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { ScriptedService, type ServiceCall } from '../../support/scripted-service.js';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const bodyOf = (call: ServiceCall): unknown => JSON.parse(new TextDecoder().decode(call.body));
const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Uploads as the server keeps them: bytes held from offset 0, by SHA-256. */
class UploadsKept {
  readonly held = new Map<string, Uint8Array>();
  /** When set, every reply says the server holds this many bytes (a server that never moves on). */
  stuckAt: number | null = null;

  upload(body: Uint8Array): Uint8Array {
    const { sha256, offset, total, chunk } = readReconUpload(body);
    const held = this.held.get(sha256) ?? new Uint8Array(0);
    const next = offset === held.byteLength && held.byteLength < total ? Buffer.concat([held, chunk]) : held;
    this.held.set(sha256, next);
    const received = this.stuckAt ?? next.byteLength;
    return json({ sha256, received, complete: received === total && sha256Of(next) === sha256 });
  }
}

const batch: ReconBatch = {
  id: 'rcb_0123456789abcdef0123', channel: 'bank', day: '2026-11-23', status: 'matched', keyId: 'anonymous', createdAt: '2026-11-24T01:00:00.000Z',
  files: [{ name: 'stmt.sta', bytes: 10, sha256: 'ab'.repeat(32) }], currency: 'CNY', problems: [], statementRows: 1, ignoredRows: 0,
  transfersRead: 1, poolIn: 0, poolOut: 0, totals: { matched: { count: 1, amount: '1.00' } }, exceptions: 0, actions: { done: 0, held: 0, failed: 0 }, timingsMs: { read: 1, ledger: 1, match: 1, actions: 0, store: 1 },
};

let inner: ScriptedService;
let uploads: UploadsKept;
let server: RunningServer;
let client: Client;

beforeEach(async () => {
  inner = new ScriptedService();
  uploads = new UploadsKept();
  inner.replyWith = (call) => {
    if (call.operation === Operation.recon_upload) return uploads.upload(call.body);
    if (call.operation === Operation.recon_import || call.operation === Operation.get_recon_batch) return json(batch);
    if (call.operation === Operation.get_recon_batches) return json([batch]);
    return json({ exceptions: [], next: null } satisfies ReconExceptionsPage);
  };
  server = await startServer({ host: '127.0.0.1', port: 0, service: inner });
  client = await connect({ url: `ws://127.0.0.1:${server.port}` });
});

afterEach(async () => {
  await client.close();
  await server.close();
});

/** A file of `bytes` bytes that differ from chunk to chunk. */
function file(bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 7 + (i >> 12)) & 0xff;
  return out;
}
/** Whether the server holds exactly `bytes` (compared as buffers: a deep equal of megabytes takes seconds). */
const heldIs = (bytes: Uint8Array): boolean => Buffer.from(uploads.held.get(sha256Of(bytes)) ?? []).equals(bytes);
const offsetsSent = (): number[] => inner.calledWith(Operation.recon_upload).map((call) => readReconUpload(call.body).offset);

describe('reconUploadFile', () => {
  it('sends the file in chunks of reconChunkBytesMax, in order, and answers its SHA-256', async () => {
    const bytes = file(2 * reconChunkBytesMax + 12_345);
    const progress: [number, number][] = [];
    const sha256 = await client.reconUploadFile(bytes, (sent, total) => progress.push([sent, total]));
    expect(sha256).toBe(sha256Of(bytes));
    expect(offsetsSent()).toEqual([0, reconChunkBytesMax, 2 * reconChunkBytesMax]);
    expect(progress.map(([sent]) => sent)).toEqual([reconChunkBytesMax, 2 * reconChunkBytesMax, bytes.byteLength]);
    expect(progress.every(([, total]) => total === bytes.byteLength)).toBe(true);
    expect(heldIs(bytes)).toBe(true);
  });

  it('goes on from what the server holds of an upload cut off earlier, after the chunk at offset 0', async () => {
    const bytes = file(3 * reconChunkBytesMax + 1);
    uploads.held.set(sha256Of(bytes), bytes.slice(0, 2 * reconChunkBytesMax));
    await client.reconUploadFile(bytes);
    expect(offsetsSent()).toEqual([0, 2 * reconChunkBytesMax, 3 * reconChunkBytesMax]);
    expect(heldIs(bytes)).toBe(true);
  });

  it('sends one chunk of a file the server holds complete already', async () => {
    const bytes = file(3 * reconChunkBytesMax);
    uploads.held.set(sha256Of(bytes), bytes);
    await client.reconUploadFile(bytes);
    expect(offsetsSent()).toEqual([0]);
  });

  it('rejects frame_invalid when the server does not move on, instead of sending the same bytes for ever', async () => {
    uploads.stuckAt = 0;
    await expect(client.reconUploadFile(file(10))).rejects.toMatchObject({ code: 'frame_invalid' });
    expect(offsetsSent()).toEqual([0]);
  });

  it('refuses an empty file with a TypeError, before anything is sent', async () => {
    await expect(client.reconUploadFile(new Uint8Array(0))).rejects.toThrow(TypeError);
    expect(inner.calls).toEqual([]);
  });
});

describe('reconciliation calls', () => {
  it('reconUpload sends one chunk and answers what the server holds', async () => {
    const bytes = file(10);
    expect(await client.reconUpload(sha256Of(bytes), 0, 20, bytes)).toEqual({ sha256: sha256Of(bytes), received: 10, complete: false });
  });

  it('reconImport sends the channel, the files and the day, and answers the batch', async () => {
    const files = [{ name: 'stmt.sta', sha256: 'ab'.repeat(32) }];
    expect(await client.reconImport({ channel: 'bank', files, day: '2026-11-23' })).toEqual(batch);
    await client.reconImport({ channel: 'bank', files });
    expect(inner.calledWith(Operation.recon_import).map(bodyOf)).toEqual([{ channel: 'bank', files, day: '2026-11-23' }, { channel: 'bank', files }]);
  });

  it('getReconBatches, getReconBatch and getReconExceptions send the fields that are set', async () => {
    expect(await client.getReconBatches()).toEqual([batch]);
    await client.getReconBatches({ channel: 'bank', before: batch.id, limit: 10 });
    expect(await client.getReconBatch(batch.id)).toEqual(batch);
    expect(await client.getReconExceptions({ batch: batch.id, outcome: 'amount_mismatch', after: 5 })).toEqual({ exceptions: [], next: null });
    expect(inner.calls.map((call) => [call.operation, bodyOf(call)])).toEqual([
      [Operation.get_recon_batches, {}],
      [Operation.get_recon_batches, { channel: 'bank', before: batch.id, limit: 10 }],
      [Operation.get_recon_batch, { id: batch.id }],
      [Operation.get_recon_exceptions, { batch: batch.id, outcome: 'amount_mismatch', after: 5 }],
    ]);
  });

  it('a body the gateway refuses rejects body_invalid, and the service never hears of it', async () => {
    await expect(client.getReconBatch('rcb_1')).rejects.toMatchObject({ code: 'body_invalid' });
    await expect(client.reconImport({ channel: 'bank', files: [] })).rejects.toMatchObject({ code: 'body_invalid' });
    expect(inner.calls).toEqual([]);
  });
});
