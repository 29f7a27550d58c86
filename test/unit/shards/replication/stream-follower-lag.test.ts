// A follower's lag (issue #15, GET /health): how long ago JetStream stored the oldest entry it has not applied.
// Entries the feed has not delivered yet count too: the stream's end, read apart, bounds their age from below.

import { afterEach, describe, expect, test, vi } from 'vitest';
import type { JournalStream } from '../../../../src/shards/replication/journal-stream.js';
import { StreamFollower } from '../../../../src/shards/replication/stream-follower.js';

/** A stream whose end holds entry `entrySeq`, stored at `storedMs`, and whose feed delivers nothing. */
function silentStream(entrySeq: number, storedMs: number): JournalStream {
  async function* nothing(): AsyncGenerator<[number, Uint8Array, number]> {
    await new Promise(() => {});
  }
  return {
    tail: async () => ({ entrySeq, streamSeq: entrySeq, writer: 'a/1', storedMs }),
    follow: () => ({ entries: nothing(), stop: async () => {} }),
  } as unknown as JournalStream;
}

describe("a follower's lag", () => {
  let follower: StreamFollower | null = null;
  afterEach(() => follower?.stop());

  test("entries the feed has not delivered are lag: at least as old as the last one read at the stream's end", async () => {
    const storedMs = Date.now() - 3_000;
    follower = new StreamFollower(silentStream(7, storedMs), async () => {}, 2, 0, null, () => {});
    follower.start();
    await vi.waitFor(() => expect(follower!.status().seqPrimary).toBe(7));
    const status = follower.status();
    expect(status.lagEntries).toBe(5);
    expect(status.lagMs).toBeGreaterThanOrEqual(3_000);
  });

  test('caught up: no lag, however old the last entry', async () => {
    follower = new StreamFollower(silentStream(2, Date.now() - 60_000), async () => {}, 2, 0, null, () => {});
    follower.start();
    await vi.waitFor(() => expect(follower!.status().seqPrimary).toBe(2));
    expect(follower.status()).toMatchObject({ lagEntries: 0, lagMs: 0 });
  });
});
