// Issue #17, hostile input: statement uploads begun and never completed cannot fill the disk. Bytes of uploads on
// their way are bounded all together (a new upload past the bound is refused, nothing stored), and an upload no
// chunk continued for a day is dropped, chunks and all, when a new one begins. A complete file is never dropped.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconFileBytesMax, reconUploadIdleMsMax, reconUploadsPendingBytesMax } from '../../../src/core/limits.js';
import { open } from 'lmdb';
import { join } from 'node:path';
import { ReconStore } from '../../../src/recon/recon-store.js';
import { useTempDirs } from '../../support/temp-dirs.js';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** A name for an upload that will never complete (its bytes are never all sent). */
const unfinished = (n: number): string => sha(new Uint8Array([n, 1, 2, 3]));

const tempDir = useTempDirs();

describe('recon uploads', () => {
  it('refuses a new upload past the bytes on their way, and drops uploads idle for a day', async () => {
    let now = 1_000_000;
    const store = ReconStore.open(tempDir('recon-uploads-'), () => now);
    try {
      const begun = reconUploadsPendingBytesMax / reconFileBytesMax;
      for (let i = 0; i < begun; i++) expect(await store.putChunk(unfinished(i), 0, reconFileBytesMax, new Uint8Array(10))).toMatchObject({ received: 10, complete: false });
      await expect(store.putChunk(unfinished(99), 0, 1000, new Uint8Array(10))).rejects.toThrow(/bytes of uploads are begun and not complete/);
      expect(store.upload(unfinished(99))).toBeUndefined();

      // One of them goes on a while later; the others stay idle past a day and make room when a new upload begins.
      now += reconUploadIdleMsMax - 1000;
      await store.putChunk(unfinished(0), 10, reconFileBytesMax, new Uint8Array(10));
      now += 2000;
      const file = new Uint8Array(1000).fill(7);
      expect(await store.putChunk(sha(file), 0, file.byteLength, file)).toMatchObject({ complete: true });
      for (let i = 1; i < begun; i++) expect(store.upload(unfinished(i))).toBeUndefined();
      expect(store.upload(unfinished(0))).toMatchObject({ received: 20 });

      // A complete file is no upload on its way: it is kept, however old.
      now += 10 * reconUploadIdleMsMax;
      await store.putChunk(unfinished(50), 0, 1000, new Uint8Array(10));
      expect(store.file(sha(file))).toEqual(Buffer.from(file));
      expect(store.upload(unfinished(0))).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('counts the uploads on their way from an index of them alone, built once for a store written before it', async () => {
    const dir = tempDir('recon-uploads-index-');
    // A store as an earlier build left it: an upload begun (its state and first chunk), no index of pending uploads.
    const legacy = open({ path: join(dir, 'recon'), maxDbs: 8 });
    const begun = unfinished(1);
    await legacy.openDB({ name: 'uploads', encoding: 'string', keyEncoding: 'ordered-binary' }).put(begun, JSON.stringify({ sha256: begun, total: reconUploadsPendingBytesMax - 500, received: 10, complete: false, touchedAt: 1_000_000 }));
    await legacy.openDB({ name: 'files', encoding: 'binary', keyEncoding: 'ordered-binary' }).put(`${begun}:000000000000`, Buffer.alloc(10));
    await legacy.close();

    let now = 1_000_000;
    const store = ReconStore.open(dir, () => now);
    try {
      // The earlier upload still counts: only 500 bytes more fit until it completes or idles out.
      await expect(store.putChunk(unfinished(2), 0, 1000, new Uint8Array(10))).rejects.toThrow(/bytes of uploads are begun and not complete/);
      // Complete files, however many, are never on their way: each small one fits beside it.
      for (let i = 0; i < 50; i++) {
        const file = new Uint8Array([i, 9, 9]);
        await store.putChunk(sha(file), 0, file.byteLength, file);
      }
      now += reconUploadIdleMsMax + 1;
      const small = new Uint8Array(100).fill(3);
      await store.putChunk(sha(small), 0, small.byteLength, small.subarray(0, 40));
      expect(store.upload(begun)).toBeUndefined(); // idle past a day: dropped when this one began
      await store.putChunk(sha(small), 40, small.byteLength, small.subarray(40));
      expect(store.upload(sha(small))).toMatchObject({ complete: true });
      const half = reconUploadsPendingBytesMax / 2;
      expect(await store.putChunk(unfinished(3), 0, half, new Uint8Array(10))).toMatchObject({ complete: false });
      expect(await store.putChunk(unfinished(4), 0, half, new Uint8Array(10))).toMatchObject({ complete: false });
      await expect(store.putChunk(unfinished(5), 0, 1, new Uint8Array(0))).rejects.toThrow(/bytes of uploads are begun and not complete/);
    } finally {
      await store.close();
    }
  });
});
