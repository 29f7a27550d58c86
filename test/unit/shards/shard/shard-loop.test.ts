// Spec of the shard loop, with a fake ledger and a journal whose appends the test completes by hand:
// a write replies only once it (and all before it) is durable; a read shows only durable state and holds
// back later writes; a vote on cross-shard chains holds every later task back until its decision; a storage
// failure or programmer error stops the loop for good and calls onFatal once; while writes are paused (a
// store that has not taken a write yet, e.g. a full disk) every task that would write is refused before it
// touches memory, reads are answered, and writes run again once resumed.

import { describe, expect, it, vi } from 'vitest';
import { AssertionError } from '../../../../src/core/assert.js';
import { errors } from '../../../../src/core/errors.js';
import { Operation } from '../../../../src/core/operations.js';
import { ShardLoop, recoverLedger, replayJournal, type ShardDays, type ShardJournal, type ShardLedger } from '../../../../src/shards/shard/shard-loop.js';
import { ShardControl, cutDayBody } from '../../../../src/shards/shard/shard-messages.js';
import { ChainDecision, DecideStatus, encodeDecide, encodePrepare, type PrepareRequest } from '../../../../src/core/chains/prepared-chains.js';
import type { FlushedRuns } from '../../../../src/core/accounts/history-runs.js';

/** A journal whose appends stay in flight until the test settles them; durable() covers all so far. */
class ManualJournal implements ShardJournal {
  seqLast = 0;
  readonly settlers: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly stored: [number, Uint8Array][] = [];
  closed = false;
  #tail: Promise<void> = Promise.resolve();

  append(seq: number, entry: Uint8Array): Promise<void> {
    expect(seq).toBe(this.seqLast + 1);
    this.seqLast = seq;
    const own = new Promise<void>((resolve, reject) => this.settlers.push({ resolve, reject }));
    const durable = Promise.all([this.#tail, own]).then(() => {
      this.stored.push([seq, entry]);
    });
    durable.catch(() => {});
    this.#tail = durable;
    return durable;
  }
  /** The flushes appended (seq, its runs), in order. */
  readonly flushes: { seq: number; runs: FlushedRuns }[] = [];
  appendFlush(seq: number, entry: Uint8Array, runs: FlushedRuns): Promise<void> {
    this.flushes.push({ seq, runs });
    return this.append(seq, entry);
  }
  readonly restored: FlushedRuns[] = [];
  restoreRuns(runs: FlushedRuns): number {
    this.restored.push(runs);
    return 0;
  }
  durable(): Promise<void> {
    return this.#tail;
  }
  entries(): Iterable<[number, Uint8Array]> {
    return this.stored;
  }
  discards = 0;
  discardAfter(): Promise<number> {
    this.discards++;
    return Promise.resolve(0);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A ledger whose state is a counter of applied writes; queries answer that counter. */
class CountingLedger implements ShardLedger {
  seqLast = 0;
  applied = 0;
  due = false;
  failNext: Error | null = null;

  /** Applies one unit per event; the reply's first result code carries the running total. */
  execute(_operation: number, body: Uint8Array): { seq: number; entry: Uint8Array; reply: Uint8Array; outbound: null } {
    if (this.failNext !== null) throw this.failNext;
    const events = body.byteLength / 128;
    this.applied += events;
    this.seqLast++;
    const reply = new Uint8Array(events * 4);
    reply[0] = this.applied;
    return { seq: this.seqLast, entry: Uint8Array.of(this.seqLast), reply, outbound: null };
  }
  // This ledger never issues cross-shard instructions (the transit controls are tested with real ledgers).
  applyInbound(): never {
    throw new Error('not used');
  }
  outboxAfter(): Uint8Array {
    return new Uint8Array(0);
  }
  acknowledgeOutbox(): void {}
  transitStatus(): Float64Array {
    return new Float64Array(2);
  }
  expireDue(): { seq: number; entry: Uint8Array } | null {
    if (!this.due) return null;
    this.due = false;
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(0) };
  }
  /** A hot-inbound summary is due: the next applyHotInbound journals one, whose credits waited 5 ms each. */
  hotDue = false;
  hotDelays: number[] = [];
  applyHotInbound(): { seq: number; entry: Uint8Array } | null {
    if (!this.hotDue) return null;
    this.hotDue = false;
    this.hotDelays.push(5e6, 5e6);
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(0) };
  }
  takeHotDelaysNs(): number[] {
    return this.hotDelays.splice(0);
  }
  directoryEntries(): Uint8Array {
    return new Uint8Array(0);
  }

  transferIdsTaken(body: Uint8Array): Uint8Array {
    return new Uint8Array(body.byteLength / 16);
  }
  operationIdsTaken(body: Uint8Array): Uint8Array {
    return new Uint8Array(body.byteLength / 16);
  }
  eventVerdicts(body: Uint8Array): Uint8Array {
    return new Uint8Array((body.byteLength / 128) * 12);
  }
  hotOutboundIds(): Uint8Array {
    return new Uint8Array(0);
  }
  hotInboundStatus(): { accounts: number; creditsBuffered: bigint; creditsBufferedCount: number } {
    return { accounts: 1, creditsBuffered: 0n, creditsBufferedCount: 0 };
  }
  query(): Uint8Array {
    return Uint8Array.of(this.applied);
  }
  replay(seq: number, entry: Uint8Array): void {
    expect(seq).toBe(this.seqLast + 1);
    this.seqLast = seq;
    this.applied += entry.byteLength;
  }
  // A vote on cross-shard chains: a prepared group the next entry decides (a commit applies its events).
  prepared: { group: bigint; events: number } | null = null;
  get chainGroupInDoubt(): bigint | null {
    return this.prepared?.group ?? null;
  }
  prepareChains(request: PrepareRequest): { seq: number; entry: Uint8Array; results: Uint8Array } {
    expect(this.prepared).toBeNull();
    const events = request.events.byteLength / 128;
    this.prepared = { group: request.group, events };
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(0), results: new Uint8Array(events * 4) };
  }
  commitPrepared(): { seq: number; entry: Uint8Array; reply: Uint8Array; outbound: null } {
    const events = this.prepared!.events;
    this.prepared = null;
    this.applied += events;
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(this.seqLast), reply: new Uint8Array(events * 4), outbound: null };
  }
  abortPrepared(): { seq: number; entry: Uint8Array } {
    this.prepared = null;
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(0) };
  }
  /** A flush journals an entry whose runs name its seq (none while a vote awaits its decision, like the real ledger). */
  flushHistory(): { seq: number; entry: Uint8Array; runs: FlushedRuns } | null {
    if (this.prepared !== null) return null;
    this.seqLast++;
    return { seq: this.seqLast, entry: Uint8Array.of(0xf1), runs: { epoch: this.seqLast, blocks: [] } };
  }
  /** Replay of an entry of byte 0xf1 leaves runs to take, as a replayed flush does. */
  takeFlushedRuns(): FlushedRuns | null {
    return null;
  }
}

function setUp() {
  const ledger = new CountingLedger();
  const journal = new ManualJournal();
  const fatal: unknown[] = [];
  const loop = new ShardLoop({ shardIndex: 3, ledger, journal, nowNs: () => 1n, onFatal: (e) => fatal.push(e) });
  return { ledger, journal, fatal, loop };
}

const write = (events: number) => ({ operation: Operation.create_transfers, body: new Uint8Array(events * 128) });
const total = (reply: Uint8Array | undefined) => reply?.[0];
const read = { operation: Operation.lookup_accounts, body: new Uint8Array(16) };

const prepare = (group: bigint, events: number) => ({
  operation: ShardControl.prepareChains,
  body: encodePrepare({ operation: Operation.create_transfers, group, events: new Uint8Array(events * 128), chainEnds: new Uint8Array(events).fill(1) }),
});
const decide = (group: bigint, decision: number) => ({ operation: ShardControl.decideChains, body: encodeDecide({ group, decision, remember: [] }) });

/** Lets every queued microtask and promise continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

describe('ShardLoop', () => {
  it('replies to a write only after its entry and every earlier one are durable', async () => {
    const { journal, loop } = setUp();
    const first = track(loop.run(write(1)));
    const second = track(loop.run(write(2)));
    await settle();
    journal.settlers[1].resolve();
    await settle();
    expect([first.done, second.done]).toEqual([false, false]);
    journal.settlers[0].resolve();
    await settle();
    expect(total(first.value)).toBe(1);
    expect(total(second.value)).toBe(3);
  });

  it('serves a read only once earlier writes are durable, and holds later writes behind it', async () => {
    const { ledger, journal, loop } = setUp();
    track(loop.run(write(1)));
    const lookup = track(loop.run(read));
    const later = track(loop.run(write(5)));
    await settle();
    expect(lookup.done).toBe(false);
    expect(ledger.applied).toBe(1); // the later write waits behind the read
    journal.settlers[0].resolve();
    await settle();
    expect(lookup.value).toEqual(Uint8Array.of(1)); // shows the durable write, not the later one
    expect(ledger.applied).toBe(6);
    journal.settlers[1].resolve();
    await settle();
    expect(total(later.value)).toBe(6);
  });

  it('holds its turn for a snapshot barrier once earlier writes are durable, answering its last seq, until released', async () => {
    const { ledger, journal, loop } = setUp();
    track(loop.run(write(2)));
    const hold = track(loop.run({ operation: ShardControl.holdTurn, body: new Uint8Array(0) }));
    const later = track(loop.run(write(3)));
    const lookup = track(loop.run(read));
    await settle();
    expect(hold.done).toBe(false); // the write before it is not durable yet
    journal.settlers[0].resolve();
    await settle();
    expect(new DataView(hold.value!.buffer).getBigUint64(0, true)).toBe(1n);
    await settle();
    expect(ledger.applied).toBe(2); // held: the later write has not run, the read not answered
    expect(lookup.done).toBe(false);
    expect(journal.seqLast).toBe(1);
    expect(await loop.run({ operation: ShardControl.releaseTurn, body: new Uint8Array(0) })).toEqual(new Uint8Array(0));
    await settle();
    expect(ledger.applied).toBe(5);
    journal.settlers[1].resolve();
    await settle();
    expect(total(later.value)).toBe(5);
    expect(lookup.value).toEqual(Uint8Array.of(5));
  });

  it('stops for good after a failed append: that task and every later one reject storage_failed', async () => {
    const { journal, fatal, loop } = setUp();
    const first = track(loop.run(write(1)));
    const second = track(loop.run(write(1)));
    await settle();
    journal.settlers[0].reject(errors.storageFailed('disk full'));
    journal.settlers[1].resolve();
    await settle();
    expect(first.error).toEqual({ code: 'storage_failed', message: 'disk full' });
    expect(second.error).toEqual({ code: 'storage_failed', message: 'disk full' });
    await expect(loop.run(read)).rejects.toEqual({ code: 'storage_failed', message: 'disk full' });
    await expect(loop.run(write(1))).rejects.toMatchObject({ code: 'storage_failed' });
    expect(journal.settlers).toHaveLength(2); // nothing executed after the failure
    expect(fatal).toHaveLength(1);
  });

  it.each([
    { name: 'a failed assertion', error: new AssertionError('assertion failed: balances'), code: 'shard_unavailable', fatal: 1 },
    { name: 'an unexpected TypeError', error: new TypeError('x is undefined'), code: 'shard_unavailable', fatal: 1 },
    { name: 'an operating error about the request', error: errors.bodyInvalid('ragged'), code: 'body_invalid', fatal: 0 },
  ])('answers $name from the ledger with $code', async ({ error, code, fatal: fatalCount }) => {
    const { ledger, fatal, loop } = setUp();
    ledger.failNext = error;
    await expect(loop.run(write(1))).rejects.toMatchObject({ code });
    ledger.failNext = null;
    expect(fatal).toHaveLength(fatalCount);
    const next = loop.run(read);
    if (fatalCount === 0) await expect(next).resolves.toEqual(Uint8Array.of(0));
    else await expect(next).rejects.toMatchObject({ code: 'shard_unavailable', message: expect.stringMatching(/^shard 3: stopped/) });
  });

  it('answers the warm-up, and after close drains its appends, closes the journal and refuses work', async () => {
    const { journal, loop } = setUp();
    await expect(loop.run({ operation: ShardControl.warmUp, body: new Uint8Array(0) })).resolves.toEqual(new Uint8Array(0));
    const pending = track(loop.run(write(1)));
    const closing = track(loop.run({ operation: ShardControl.close, body: new Uint8Array(0) }));
    await settle();
    expect(closing.done).toBe(false);
    journal.settlers[0].resolve();
    await settle();
    expect(total(pending.value)).toBe(1);
    expect(closing.done).toBe(true);
    expect(journal.closed).toBe(true);
    await expect(loop.run(write(1))).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('journals due expiries on tick, but not while a read holds the turn', async () => {
    const { ledger, journal, loop } = setUp();
    ledger.due = true;
    track(loop.run(read));
    loop.tick();
    expect(journal.settlers).toHaveLength(0);
    await settle();
    loop.tick();
    expect(journal.settlers).toHaveLength(1);
  });

  it('journals hot-inbound summaries on their tick, queued once behind a read (never skipped), and reports the waits once durable', async () => {
    const { ledger, journal, loop } = setUp();
    ledger.hotDue = true;
    track(loop.run(read));
    loop.hotTick();
    loop.hotTick(); // already queued: not twice
    expect(journal.settlers).toHaveLength(0);
    await settle();
    expect(journal.settlers).toHaveLength(1); // ran as soon as the read let go of the turn
    const status = async () => JSON.parse(new TextDecoder().decode(await loop.run({ operation: ShardControl.hotInboundStatus, body: new Uint8Array(0) }))) as Record<string, number>;
    expect((await status()).creditsApplied).toBe(0); // not durable yet
    journal.settlers[0].resolve();
    await settle();
    expect(await status()).toMatchObject({ accounts: 1, creditsApplied: 2, delayMsP99: 5, delayMsMax: 5 });
  });

  it('holds every later task back from a vote until its decision, which is never queued', async () => {
    const { ledger, journal, loop } = setUp();
    const vote = track(loop.run(prepare(7n, 2)));
    const later = track(loop.run(write(1)));
    const lookup = track(loop.run(read));
    await settle();
    expect(vote.done).toBe(false); // the vote answers once durable
    journal.settlers[0].resolve();
    await settle();
    expect(vote.value).toEqual(new Uint8Array(8));
    ledger.due = true;
    loop.tick(); // no expiry between a vote and its decision
    expect([later.done, lookup.done, ledger.applied, journal.settlers.length]).toEqual([false, false, 0, 1]);
    const commit = track(loop.run(decide(7n, ChainDecision.commit)));
    await settle();
    expect(ledger.applied).toBe(3); // the commit (2 events), then the write queued behind the vote (1)
    journal.settlers[1].resolve();
    journal.settlers[2].resolve();
    await settle();
    expect(new DataView(commit.value!.buffer).getUint32(0, true)).toBe(DecideStatus.decided);
    expect(total(later.value)).toBe(3);
    await settle();
    expect(lookup.value).toEqual(Uint8Array.of(3));
  });

  it('answers a decision for a group it does not hold as not in doubt, and reports the group it holds', async () => {
    const { journal, loop } = setUp();
    const none = await loop.run({ operation: ShardControl.chainInDoubt, body: new Uint8Array(0) });
    expect(none.byteLength).toBe(0);
    const vote = track(loop.run(prepare(9n, 1)));
    await settle();
    journal.settlers[0].resolve();
    await settle();
    expect(vote.done).toBe(true);
    const held = await loop.run({ operation: ShardControl.chainInDoubt, body: new Uint8Array(0) });
    expect(new DataView(held.buffer).getBigUint64(0, true)).toBe(9n);
    const other = await loop.run(decide(8n, ChainDecision.abort));
    expect(new DataView(other.buffer).getUint32(0, true)).toBe(DecideStatus.notInDoubt);
    const abort = track(loop.run(decide(9n, ChainDecision.abort)));
    await settle();
    journal.settlers[1].resolve();
    await settle();
    expect(new DataView(abort.value!.buffer).getUint32(0, true)).toBe(DecideStatus.decided);
  });

  it('after a restart with a vote in doubt, serves nothing until the decision arrives', async () => {
    const { ledger, journal, loop } = setUp();
    ledger.prepared = { group: 5n, events: 4 };
    loop.holdForDecision();
    const later = track(loop.run(write(1)));
    await settle();
    expect(later.done).toBe(false);
    const commit = track(loop.run(decide(5n, ChainDecision.commit)));
    await settle();
    expect(ledger.applied).toBe(5);
    journal.settlers[0].resolve();
    journal.settlers[1].resolve();
    await settle();
    expect(commit.done && later.done).toBe(true);
    expect(total(later.value)).toBe(5);
  });

  it('closes while a vote waits for its decision: appends drain, the vote stays for the next start', async () => {
    const { journal, loop } = setUp();
    track(loop.run(prepare(3n, 1)));
    await settle();
    journal.settlers[0].resolve();
    await settle();
    await loop.close();
    expect(journal.closed).toBe(true);
  });

  it('recovers a ledger from the journal in seq order', async () => {
    const journal = new ManualJournal();
    journal.stored.push([1, new Uint8Array(2)], [2, new Uint8Array(3)]);
    journal.seqLast = 2;
    const ledger = new CountingLedger();
    expect(await recoverLedger(ledger, journal)).toEqual({ replayed: 2, discarded: 0 });
    expect(ledger.applied).toBe(5);
  });
});

describe('ShardLoop with writes paused (its store has not taken a write yet)', () => {
  const paused = errors.storageFailed('shard 3: no space left on device');
  const closedDayQuery = 31;
  /** A day book that counts cuts; closed-day queries are operation 31. */
  function setUpPaused() {
    const parts = setUp();
    const days: ShardDays & { cuts: number } = {
      cuts: 0,
      cut() {
        days.cuts++;
        return { entry: null, afterDurable: () => Promise.resolve(new Uint8Array(0)) };
      },
      query: () => Uint8Array.of(42),
      isQuery: (operation) => operation === closedDayQuery,
    };
    const loop = new ShardLoop({ shardIndex: 3, ledger: parts.ledger, journal: parts.journal, nowNs: () => 1n, onFatal: (e) => parts.fatal.push(e), days });
    loop.pauseWrites(paused);
    return { ...parts, loop, days };
  }

  it.each([
    { name: 'a write', task: write(2) },
    { name: 'an inbound credit', task: { operation: ShardControl.applyInbound, body: new Uint8Array(0) } },
    { name: 'a vote on cross-shard chains', task: prepare(4n, 1) },
    { name: 'a chain decision', task: decide(4n, ChainDecision.commit) },
    { name: 'a day cut', task: { operation: ShardControl.cutDay, body: new Uint8Array(0) } },
    { name: 'a closed-day query', task: { operation: closedDayQuery, body: new Uint8Array(0) } },
  ])('refuses $name with the pause error, before it touches memory or the journal', async ({ task }) => {
    const { ledger, journal, fatal, loop, days } = setUpPaused();
    await expect(loop.run(task)).rejects.toEqual({ code: 'storage_failed', message: 'shard 3: no space left on device' });
    expect([ledger.applied, ledger.seqLast, journal.settlers.length, days.cuts, fatal.length]).toEqual([0, 0, 0, 0, 0]);
    expect(loop.stopped).toBe(false); // a refusal, not a failure: the worker stays
  });

  it('answers reads, and its tickers journal nothing', async () => {
    const { ledger, journal, loop } = setUpPaused();
    expect(await loop.run(read)).toEqual(Uint8Array.of(0));
    ledger.due = true;
    ledger.hotDue = true;
    loop.tick();
    loop.hotTick();
    await settle();
    expect([journal.settlers.length, ledger.due, ledger.hotDue]).toEqual([0, true, true]);
  });

  it('keeps a vote in doubt waiting through refused decisions, and applies the decision once resumed', async () => {
    const { ledger, journal, loop } = setUpPaused();
    ledger.prepared = { group: 6n, events: 2 };
    loop.holdForDecision();
    await expect(loop.run(decide(6n, ChainDecision.commit))).rejects.toMatchObject({ code: 'storage_failed' });
    loop.resumeWrites();
    const commit = track(loop.run(decide(6n, ChainDecision.commit)));
    await settle();
    expect(ledger.applied).toBe(2);
    journal.settlers[0].resolve();
    await settle();
    expect(new DataView(commit.value!.buffer).getUint32(0, true)).toBe(DecideStatus.decided);
  });

  it('takes writes again once resumed, and reports the first durable append once', async () => {
    const { journal, loop } = setUpPaused();
    let durableReports = 0;
    loop.resumeWrites(() => durableReports++);
    expect(loop.writesPaused).toBe(false);
    const first = track(loop.run(write(1)));
    const second = track(loop.run(write(2)));
    await settle();
    expect(durableReports).toBe(0); // not at resume, nor before the append is durable
    journal.settlers[0].resolve();
    journal.settlers[1].resolve();
    await settle();
    expect([total(first.value), total(second.value), durableReports]).toEqual([1, 3, 1]);
  });

  it('reports nothing when the first append after resuming fails: the loop stops as after any failed append', async () => {
    const { journal, fatal, loop } = setUpPaused();
    let durableReports = 0;
    loop.resumeWrites(() => durableReports++);
    const first = track(loop.run(write(1)));
    await settle();
    journal.settlers[0].reject(errors.storageFailed('disk full'));
    await settle();
    expect(first.error).toEqual({ code: 'storage_failed', message: 'disk full' });
    expect([durableReports, fatal.length, loop.stopped]).toEqual([0, 1, true]);
  });

  it('replays a journal without discarding anything (the discard is a write, done once writes may resume)', () => {
    const journal = new ManualJournal();
    journal.stored.push([1, new Uint8Array(4)]);
    const ledger = new CountingLedger();
    expect(replayJournal(ledger, journal)).toBe(1);
    expect([ledger.applied, journal.discards]).toEqual([4, 0]);
  });
});

describe('ShardLoop history flushes', () => {
  function setUpFlushing(entries: number, countGapMs?: number) {
    const ledger = new CountingLedger();
    const journal = new ManualJournal();
    const fatal: unknown[] = [];
    const flushed: { seq: number; durable: Promise<void> }[] = [];
    const loop = new ShardLoop({
      shardIndex: 0,
      ledger,
      journal,
      nowNs: () => 1n,
      onFatal: (e) => fatal.push(e),
      checkpoint: { entries, seconds: 3600, countGapMs },
      onHistoryFlushed: (seq, durable) => flushed.push({ seq, durable }),
    });
    return { ledger, journal, fatal, flushed, loop };
  }

  it('appends a flush_history entry right after every checkpoint.entries entries, and tells the hook at once', async () => {
    const { journal, flushed, loop } = setUpFlushing(3);
    for (let i = 0; i < 7; i++) track(loop.run(write(1)));
    await settle();
    // Entries 1..3, flush 4, entries 5..7, flush 8, entry 9: each flush follows the third entry before it at once.
    expect(journal.flushes.map((f) => f.seq)).toEqual([4, 8]);
    expect(journal.flushes.every((f) => f.runs.epoch === f.seq)).toBe(true);
    expect(flushed.map((f) => f.seq)).toEqual([4, 8]);
    expect(journal.seqLast).toBe(9);
  });

  it('keeps countGapMs between the flushes the count triggers; the timed flush does not wait', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { journal, loop } = setUpFlushing(2, 5_000);
      for (let i = 0; i < 5; i++) track(loop.run(write(1)));
      await settle();
      expect(journal.flushes).toEqual([]); // 5 entries past a count of 2, but within 5 s of the start
      vi.advanceTimersByTime(5_000);
      track(loop.run(write(1)));
      await settle();
      expect(journal.flushes.map((f) => f.seq)).toEqual([7]); // the sixth entry, 5 s on
      track(loop.run(write(1)));
      loop.flushTick(); // the timed flush (--checkpoint-seconds) is not held back by the gap
      await settle();
      expect(journal.flushes.map((f) => f.seq)).toEqual([7, 9]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands the hook a promise that resolves once the flush and every entry before it are durable', async () => {
    const { journal, flushed, loop } = setUpFlushing(1);
    track(loop.run(write(1)));
    await settle();
    expect(flushed.map((f) => f.seq)).toEqual([2]);
    const durable = track(flushed[0]!.durable);
    journal.settlers[1]!.resolve();
    await settle();
    expect(durable.done).toBe(false); // entry 1 is not durable yet
    journal.settlers[0]!.resolve();
    await settle();
    expect(durable.done).toBe(true);
  });

  it('writes no flush between a vote and its decision: the decision entry is flushed after', async () => {
    const { journal, loop } = setUpFlushing(1);
    const vote = track(loop.run(prepare(9n, 1)));
    await settle();
    expect(journal.flushes).toEqual([]); // the prepare entry may only be followed by its decision
    journal.settlers[0]!.resolve();
    await settle();
    expect(vote.done).toBe(true);
    track(loop.run(decide(9n, ChainDecision.commit)));
    await settle();
    expect(journal.flushes.map((f) => f.seq)).toEqual([3]);
  });

  it('a timed flush writes one only when entries were written since the last', async () => {
    const { journal, loop } = setUpFlushing(100);
    loop.flushTick();
    expect(journal.flushes).toEqual([]);
    track(loop.run(write(1)));
    await settle();
    loop.flushTick();
    loop.flushTick();
    expect(journal.flushes.map((f) => f.seq)).toEqual([2]);
  });

  it('replay hands every flush\'s runs to the journal to restore', () => {
    const journal = new ManualJournal();
    journal.stored.push([1, Uint8Array.of(1)], [2, Uint8Array.of(0xf1)]);
    const ledger = new CountingLedger();
    const runs: FlushedRuns = { epoch: 2, blocks: [] };
    ledger.takeFlushedRuns = () => (ledger.seqLast === 2 ? runs : null);
    expect(replayJournal(ledger, journal)).toBe(2);
    expect(journal.restored).toEqual([runs]);
  });
});

describe('ShardLoop day cuts', () => {
  /** A day book that records what each cut was asked for. */
  function setUpDays() {
    const parts = setUp();
    const asked: { day: number; follows: boolean }[] = [];
    const days: ShardDays = {
      cut(day, _nowNs, follows) {
        asked.push({ day, follows });
        return { entry: null, afterDurable: () => Promise.resolve(new Uint8Array(0)) };
      },
      query: () => new Uint8Array(0),
      isQuery: () => false,
    };
    const loop = new ShardLoop({ shardIndex: 0, ledger: parts.ledger, journal: parts.journal, nowNs: () => 1n, onFatal: (e) => parts.fatal.push(e), days });
    return { ...parts, loop, asked };
  }

  it('hands the day book the day and whether it follows the first shard (cutDayBody), or the next day for an empty body', async () => {
    const { loop, asked } = setUpDays();
    await loop.run({ operation: ShardControl.cutDay, body: cutDayBody(20261205, false) });
    await loop.run({ operation: ShardControl.cutDay, body: cutDayBody(20261206, true) });
    await loop.run({ operation: ShardControl.cutDay, body: new Uint8Array(0) });
    expect(asked).toEqual([{ day: 20261205, follows: false }, { day: 20261206, follows: true }, { day: 0, follows: false }]);
  });

  it.each([
    ['a ragged body', new Uint8Array(3)],
    ['unknown flags', Uint8Array.of(0, 0, 0, 0, 2, 0, 0, 0)],
  ])('refuses %s (body_invalid) without asking the day book or stopping', async (_name, body) => {
    const { loop, asked, fatal } = setUpDays();
    await expect(loop.run({ operation: ShardControl.cutDay, body })).rejects.toMatchObject({ code: 'body_invalid' });
    expect([asked.length, fatal.length, loop.stopped]).toEqual([0, 0, false]);
  });
});
