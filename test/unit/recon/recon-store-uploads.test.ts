// Issue #17, hostile input: statement uploads begun and never completed cannot fill the disk. Bytes of uploads on
// their way are bounded all together (a new upload past the bound is refused, nothing stored), and an upload no
// chunk continued for a day is dropped, chunks and all, when a new one begins. A complete file is never dropped.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reconFileBytesMax, reconUploadIdleMsMax, reconUploadsPendingBytesMax } from '../../../src/core/limits.js';
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
});
