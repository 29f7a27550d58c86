// A follower's shard (issue #15): the recovery path run forever. It reads the shard's stream from its own next
// entry on and hands each entry, in order, to the shard loop, which applies it as a restart replays it (every
// stored result is re-derived and compared) and stores it in the local journal. A delayed follower (`delayMs`)
// applies an entry only once JetStream has held it that long, so a bad batch can be caught before it reaches it.

import type { JournalStream } from './journal-stream.js';

/** Entries applied but not yet durable at once: the follower's group commit. */
const applyWindow = 64;
/** How often the stream's end (the primary's last entry) is read for the lag: a read of it may be this old. */
const tailEveryMs = 250;
/** Between two attempts after the feed failed (NATS away). */
const retryMs = 500;

export interface FollowStatus {
  /** Journal seq this follower holds durably. */
  seqApplied: number;
  /** Journal seq of the last entry the stream holds whole (the primary's last acknowledged write). */
  seqPrimary: number;
  /** Entries behind the stream. */
  lagEntries: number;
  /**
   * How long ago JetStream stored the oldest entry not applied yet (0 when caught up). Where none of those has reached
   * this follower yet, how long ago it stored the last one read at the stream's end: the oldest is no younger.
   */
  lagMs: number;
  delayMs: number;
  /** Entries JetStream stored after this time (ms since the epoch) are not applied; null: none held back. */
  untilMs: number | null;
  /** `node/run` of the stream's writer, as its last message names it. */
  primary: string;
}

/** Applies one entry; resolves once it is durable here. */
export type ApplyFollowed = (seq: number, entry: Uint8Array) => Promise<void>;

export class StreamFollower {
  readonly #stream: JournalStream;
  readonly #apply: ApplyFollowed;
  readonly #delayMs: number;
  readonly #untilMs: number | null;
  readonly #log: (line: string) => void;
  #seqApplied: number;
  #seqPrimary = 0;
  /** When JetStream stored entry #seqPrimary (ms since the epoch). */
  #storedPrimaryMs = 0;
  #primary = '';
  /** Storage time (ms) of each entry received and not yet durable here, oldest first. */
  readonly #waiting: { seq: number; storedMs: number }[] = [];
  #stopFeed: (() => void) | null = null;
  #stopped = false;
  #tailTimer: NodeJS.Timeout | null = null;

  constructor(stream: JournalStream, apply: ApplyFollowed, seqApplied: number, delayMs: number, untilMs: number | null, log: (line: string) => void) {
    this.#stream = stream;
    this.#apply = apply;
    this.#seqApplied = seqApplied;
    this.#delayMs = delayMs;
    this.#untilMs = untilMs;
    this.#log = log;
  }

  start(): void {
    void this.#readTail();
    this.#tailTimer = setInterval(() => void this.#readTail(), tailEveryMs);
    this.#tailTimer.unref();
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#tailTimer !== null) clearInterval(this.#tailTimer);
    this.#stopFeed?.();
  }

  status(): FollowStatus {
    const oldest = this.#waiting[0];
    const behind = Math.max(0, this.#seqPrimary - this.#seqApplied);
    return {
      seqApplied: this.#seqApplied,
      seqPrimary: Math.max(this.#seqPrimary, this.#seqApplied),
      lagEntries: behind,
      lagMs: behind === 0 ? 0 : Math.max(0, Date.now() - (oldest?.storedMs ?? this.#storedPrimaryMs)),
      delayMs: this.#delayMs,
      untilMs: this.#untilMs,
      primary: this.#primary,
    };
  }

  async #readTail(): Promise<void> {
    try {
      const tail = await this.#stream.tail();
      this.#seqPrimary = tail.entrySeq;
      this.#storedPrimaryMs = tail.storedMs;
      this.#primary = tail.writer;
    } catch {
      // NATS away: the lag stays as last read; the feed retries on its own.
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const feed = this.#stream.follow(this.#seqApplied + 1);
      this.#stopFeed = feed.stop;
      const durable: Promise<void>[] = [];
      let handed = this.#seqApplied;
      try {
        for await (const [seq, entry, storedMs] of feed.entries) {
          if (this.#stopped) break;
          if (seq <= handed) continue; // an entry published again after a failure part-way: held already
          if (seq !== handed + 1) throw new Error(`the stream goes from entry ${handed} to ${seq}`);
          if (this.#untilMs !== null && storedMs > this.#untilMs) {
            // Held at the chosen point (a delayed replica to be promoted there): nothing later is applied.
            this.#log(`holding at entry ${handed}: entry ${seq} was stored after ${new Date(this.#untilMs).toISOString()}`);
            await Promise.all(durable.splice(0));
            this.#stopFeed?.();
            return;
          }
          handed = seq;
          this.#waiting.push({ seq, storedMs });
          const due = storedMs + this.#delayMs - Date.now();
          if (due > 0) {
            await Promise.all(durable.splice(0));
            await new Promise((resolve) => setTimeout(resolve, due));
            if (this.#stopped) break;
          }
          durable.push(this.#apply(seq, entry).then(() => this.#applied(seq)));
          if (durable.length >= applyWindow) await durable.shift();
        }
        await Promise.all(durable);
      } catch (error) {
        await Promise.allSettled(durable);
        if (this.#stopped) return;
        this.#log(`following the stream failed (${error instanceof Error ? error.message : String(error)}); again in ${retryMs} ms from entry ${this.#seqApplied + 1}`);
        this.#waiting.length = 0;
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  }

  #applied(seq: number): void {
    // Durable in order (one journal), but a cut's closing balances are stored after it: later entries may answer first.
    if (seq <= this.#seqApplied) return;
    this.#seqApplied = seq;
    while (this.#waiting.length > 0 && this.#waiting[0]!.seq <= seq) this.#waiting.shift();
  }
}
