// Spec of the bookkeeper's stop: it waits for the write in flight and writes nothing after it, because the
// bookkeeping thread is ended right after (ending a thread inside an lmdb-js write aborts the process).

import { describe, expect, it } from 'vitest';
import { defaultChart } from '../../../src/core/chart-of-accounts.js';
import { Bookkeeper, bookkeepingPollMs, type JournalReader } from '../../../src/shards/bookkeeper.js';
import type { BookkeepingStore } from '../../../src/shards/bookkeeping-store.js';

/** A store whose commits stay in flight until the test lets them end; it counts them. */
function storeWithHeldCommits() {
  const held: (() => void)[] = [];
  let appends = 0;
  const store = {
    lastBooked: () => undefined,
    report: () => undefined,
    append: () => {
      appends++;
      return new Promise<void>((resolve) => held.push(resolve));
    },
  };
  return { store: store as unknown as BookkeepingStore, held, appends: () => appends };
}

const emptyJournal: JournalReader = { entries: () => [], entry: () => undefined, lastCommittedSeq: () => 0 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Bookkeeper.stop', () => {
  it('resolves only after the poll in flight committed, and no poll writes after it', async () => {
    const { store, held, appends } = storeWithHeldCommits();
    const bookkeeper = new Bookkeeper(defaultChart(), store, [emptyJournal], () => {});
    await bookkeeper.start();
    void bookkeeper.poll();
    expect(appends()).toBe(1);

    let stopped = false;
    const stopping = bookkeeper.stop().then(() => (stopped = true));
    await sleep(bookkeepingPollMs * 3);
    expect(stopped).toBe(false); // its commit is still in flight
    held.splice(0).forEach((release) => release());
    await stopping;

    await bookkeeper.poll(); // asked directly, and by the (stopped) timer: nothing is written any more
    await sleep(bookkeepingPollMs * 3);
    expect(appends()).toBe(1);
  });
});
