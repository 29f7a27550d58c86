// The router's half of transfer ids unique ledger-wide (core/wire/ids-elsewhere.ts): before a create_transfers
// request runs, every shard is asked which of the ids routed to the others it holds, and those events are marked so
// that their shard answers exists_with_different_fields. The shards answer from what they have applied, without
// waiting for durability; what they have not applied yet is what is in flight here, so a request whose id is in
// flight with a debit account on another shard waits until that request is answered (both on one shard would run one
// after the other too). Ids in flight are kept by a 52-bit key of the id: two ids sharing one only wait for nothing.
// Costs one round trip to the shards per request and one in-memory probe per id on each other shard (an id newer
// than every id the shard has evicted from memory costs no disk read: shards/shard/id-index.ts).

import { TransferLayout as T } from '../../core/layout.js';
import { eventBytes } from '../../core/limits.js';
import { shardOfIdAt } from '../../core/routing.js';
import { idChecksByShard, repeatedAcrossShards, withIdsTakenElsewhere } from '../../core/wire/ids-elsewhere.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';

/** The requests in flight that hold one id key on one shard, and a promise that resolves when the last one ends. */
interface InFlight {
  shard: number;
  requests: number;
  ended: Promise<void>;
  end: () => void;
}

export class IdsElsewhereCheck {
  readonly #hosts: readonly Pick<ShardHost, 'run'>[];
  readonly #inFlight = new Map<number, InFlight>();

  constructor(hosts: readonly Pick<ShardHost, 'run'>[]) {
    this.#hosts = hosts;
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
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = body.byteLength / eventBytes;
    const keys = new Float64Array(count);
    const homes = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      keys[i] = idKeyAt(view, i * eventBytes + T.id);
      homes[i] = shardOfIdAt(view, i * eventBytes + T.debitAccountId, shardCount);
    }
    // No await between the last look and the registration: a request arriving meanwhile would miss this one.
    for (let waits = this.#othersHolding(keys, homes); waits.length > 0; waits = this.#othersHolding(keys, homes)) await Promise.all(waits);
    const release = this.#register(keys, homes);
    try {
      const checks = idChecksByShard(body, shardCount);
      const replies = await Promise.all(checks.map((check) => this.#hosts[check.shard]!.run(ShardControl.transferIdsTaken, check.ids, true)));
      const taken = new Set(repeatedAcrossShards(body, shardCount));
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

  /** The ends of the requests in flight that hold one of `keys` with a debit account on another shard than this request's. */
  #othersHolding(keys: Float64Array, homes: Uint8Array): Promise<void>[] {
    const waits: Promise<void>[] = [];
    for (let i = 0; i < keys.length; i++) {
      const held = this.#inFlight.get(keys[i]!);
      if (held !== undefined && held.shard !== homes[i]) waits.push(held.ended);
    }
    return waits;
  }

  /** Holds `keys` for this request; returns their release. */
  #register(keys: Float64Array, homes: Uint8Array): () => void {
    const held: InFlight[] = [];
    for (let i = 0; i < keys.length; i++) {
      let entry = this.#inFlight.get(keys[i]!);
      if (entry === undefined) {
        let end!: () => void;
        const ended = new Promise<void>((resolve) => (end = resolve));
        entry = { shard: homes[i]!, requests: 0, ended, end };
        this.#inFlight.set(keys[i]!, entry);
      }
      entry.requests++;
      held.push(entry);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      keys.forEach((key, i) => {
        const entry = held[i]!;
        if (--entry.requests > 0) return;
        if (this.#inFlight.get(key) === entry) this.#inFlight.delete(key);
        entry.end();
      });
    };
  }
}

/** 52 bits of the id at `at` as a number: newId()'s random low bits (a shared key only makes a request wait). */
function idKeyAt(view: DataView, at: number): number {
  return view.getUint32(at, true) + (view.getUint32(at + 4, true) & 0xf_ffff) * 2 ** 32;
}
