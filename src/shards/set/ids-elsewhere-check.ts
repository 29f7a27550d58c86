// The router's half of transfer ids unique ledger-wide (core/wire/ids-elsewhere.ts): before a create_transfers
// request runs, every shard is asked which of the ids routed to the others it holds, and those events are marked so
// that their shard answers exists_with_different_fields. The shards answer from what they have applied, without
// waiting for durability; what they have not applied yet is what is in flight here, so a request whose id is in
// flight with a debit account on another shard waits until that request is answered (both on one shard would run one
// after the other too). Ids in flight are kept by a 52-bit key of the id: two ids sharing one only wait for nothing.
// Costs one round trip to the shards per request and one in-memory probe per id on each other shard (an id newer
// than every id the shard has evicted from memory costs no disk read: shards/shard/id-index.ts).

import { assert } from '../../core/assert.js';
import { ErrorCode, TallyError } from '../../core/errors.js';
import { idBytes } from '../../core/layout.js';
import { lookupIdsMax } from '../../core/limits.js';
import { debitShardsOf, idChecksByShard, idKeysOf, repeatedAcrossShards, withIdsTakenElsewhere } from '../../core/wire/ids-elsewhere.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';

/** Requests in flight per id key, packed: count × shardsMax + shard (the shard of the first request holding it). */
const shardsMax = 256;

export class IdsElsewhereCheck {
  readonly #hosts: readonly Pick<ShardHost, 'run'>[];
  /** Id key → requests in flight holding it × shardsMax + their shard. A number, not an object: 8,190 a request. */
  readonly #inFlight = new Map<number, number>();
  /** Id key → what requests for another shard wait on (only while one waits). */
  readonly #waiters = new Map<number, { ended: Promise<void>; end: () => void }>();
  /** Per shard, the questions of one event-loop turn joined into one task (small requests would each cost one). */
  readonly #asks: JoinedAsks[];

  constructor(hosts: readonly Pick<ShardHost, 'run'>[]) {
    assert(hosts.length <= shardsMax, 'shard numbers fit the in-flight packing');
    this.#hosts = hosts;
    this.#asks = hosts.map((host) => new JoinedAsks((ids) => askAgainOnRestart(() => host.run(ShardControl.transferIdsTaken, ids.slice(), true))));
  }

  /** Id keys held by requests in flight (tests, /health). */
  get keysInFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * `body` with every event whose id another shard holds (or an earlier event of the same request holds on
   * another shard) marked, and `release`, to call once the request is answered or has failed. With one shard,
   * `body` and nothing to release. Rejects (having released) when a shard cannot be asked.
   */
  async mark(body: Uint8Array): Promise<{ body: Uint8Array; release: () => void }> {
    const shardCount = this.#hosts.length;
    if (shardCount === 1) return { body, release: () => {} };
    const keys = idKeysOf(body);
    const homes = debitShardsOf(body, shardCount);
    // No await between the last look and the registration: a request arriving meanwhile would miss this one.
    for (let waits = this.#othersHolding(keys, homes); waits.length > 0; waits = this.#othersHolding(keys, homes)) await Promise.all(waits);
    this.#register(keys, homes);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#unregister(keys);
    };
    try {
      const checks = idChecksByShard(body, homes, shardCount);
      const replies = await Promise.all(checks.map((check) => this.#asks[check.shard]!.ask(check.ids)));
      const taken = new Set(repeatedAcrossShards(body, keys, homes));
      checks.forEach((check, k) => {
        const reply = replies[k]!;
        for (let j = 0; j < check.events.length; j++) if (reply[j] === 1) taken.add(check.events[j]!);
      });
      return { body: withIdsTakenElsewhere(body, taken), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** What to wait for: requests in flight that hold one of `keys` for another shard than this request's. */
  #othersHolding(keys: Float64Array, homes: Uint8Array): Promise<void>[] {
    let waits: Promise<void>[] | null = null;
    for (let i = 0; i < keys.length; i++) {
      const held = this.#inFlight.get(keys[i]!);
      if (held === undefined || held % shardsMax === homes[i]) continue;
      let waiter = this.#waiters.get(keys[i]!);
      if (waiter === undefined) {
        let end!: () => void;
        const ended = new Promise<void>((resolve) => (end = resolve));
        waiter = { ended, end };
        this.#waiters.set(keys[i]!, waiter);
      }
      (waits ??= []).push(waiter.ended);
    }
    return waits ?? [];
  }

  #register(keys: Float64Array, homes: Uint8Array): void {
    for (let i = 0; i < keys.length; i++) {
      const held = this.#inFlight.get(keys[i]!);
      // A key this request holds twice (or a same-shard request holds too) keeps its first shard.
      this.#inFlight.set(keys[i]!, held === undefined ? shardsMax + homes[i]! : held + shardsMax);
    }
  }

  #unregister(keys: Float64Array): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const held = this.#inFlight.get(key)!;
      if (held >= 2 * shardsMax) {
        this.#inFlight.set(key, held - shardsMax);
        continue;
      }
      this.#inFlight.delete(key);
      const waiter = this.#waiters.get(key);
      if (waiter === undefined) continue;
      this.#waiters.delete(key);
      waiter.end();
    }
  }
}

/**
 * The transferIdsTaken questions to one shard asked in one event-loop turn, sent as one task (or as few as
 * lookupIdsMax allows) once the turn ends; each asker gets the answers to its own ids.
 */
class JoinedAsks {
  readonly #run: (ids: Uint8Array) => Promise<Uint8Array>;
  #queued: { ids: Uint8Array; resolve: (taken: Uint8Array) => void; reject: (error: unknown) => void }[] = [];

  constructor(run: (ids: Uint8Array) => Promise<Uint8Array>) {
    this.#run = run;
  }

  ask(ids: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.#flush());
      this.#queued.push({ ids, resolve, reject });
    });
  }

  #flush(): void {
    const queued = this.#queued;
    this.#queued = [];
    while (queued.length > 0) {
      // Askers whole, as many as fit one task (one asker alone always fits: a request holds at most lookupIdsMax ids).
      let bytes = queued[0]!.ids.byteLength;
      let take = 1;
      while (take < queued.length && bytes + queued[take]!.ids.byteLength <= lookupIdsMax * idBytes) bytes += queued[take++]!.ids.byteLength;
      const batch = queued.splice(0, take);
      // Counted before the run: the ids' buffer is handed to the worker (detached here).
      const counts = batch.map((q) => q.ids.byteLength / idBytes);
      const ids = batch.length === 1 ? batch[0]!.ids : concat(batch.map((q) => q.ids), bytes);
      this.#run(ids).then(
        (taken) => {
          let at = 0;
          batch.forEach((q, k) => {
            q.resolve(taken.subarray(at, at + counts[k]!));
            at += counts[k]!;
          });
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      );
    }
  }
}

/**
 * A question lost with a worker that died (shard_unavailable) is asked again of the fresh one, which answers once it
 * has replayed its journal: a read, so asking twice is safe, and a shard restarting delays the other shards' writes
 * instead of failing them. Twice at most; then the request fails with the shard's error (nothing applied).
 */
async function askAgainOnRestart(ask: () => Promise<Uint8Array>): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof TallyError) || error.code !== ErrorCode.shard_unavailable) throw error;
    }
  }
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
