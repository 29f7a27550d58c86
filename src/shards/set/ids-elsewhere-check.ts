// The router's half of transfer ids unique ledger-wide (core/wire/ids-elsewhere.ts): before a create_transfers
// request runs, every shard is asked which of the ids routed to the others it holds, and those events are marked so
// that their shard answers exists_with_different_fields. The shards answer from what they have applied, without
// waiting for durability; what they have not applied yet is what is in flight here, so a request whose id is in
// flight with a debit account on another shard waits until that request is answered (both on one shard would run one
// after the other too). Ids in flight are kept by a 52-bit key of the id: two ids sharing one only wait for nothing.
// Costs one round trip to the shards per request and one in-memory probe per id on each other shard (an id newer
// than every id the shard has evicted from memory costs no disk read: shards/shard/id-index.ts).

import { assert } from '../../core/assert.js';
import { idBytes } from '../../core/layout.js';
import { lookupIdsMax } from '../../core/limits.js';
import { homeShardsOf, idChecksByShard, idKeysOf, repeatedAcrossShards, transferIdEvents, withIdsTakenElsewhere, type IdEventLayout } from '../../core/wire/ids-elsewhere.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import { JoinedAsks, askAgainOnRestart } from './joined-asks.js';

/** Requests in flight per id key, packed: count × shardsMax + shard, while they all debit one shard. */
const shardsMax = 256;

/** Requests in flight holding one id key for one shard, once requests for two shards hold it (rare: a reused id). */
interface Group {
  shard: number;
  requests: number;
  ended: Promise<void>;
  end: () => void;
}

/**
 * Per id key in flight: a packed number while every request holding it debits one shard, else the groups of
 * requests by shard in arrival order (each waits for the groups before it that debit another shard).
 */
type Held = number | Group[];

export class IdsElsewhereCheck {
  readonly #hosts: readonly Pick<ShardHost, 'run'>[];
  /** Id key → who holds it in flight. A number, not an object, in the common case: 8,190 keys a request. */
  readonly #inFlight = new Map<number, Held>();
  /** Per shard, the questions of one event-loop turn joined into one task (small requests would each cost one). */
  readonly #asks: JoinedAsks[];

  /** Where the events' ids live and how they are marked (transfers by default; account operations: operationIdEvents). */
  readonly #layout: IdEventLayout;

  /** `question`: the control task that asks a shard which ids it holds (transferIdsTaken, operationIdsTaken). */
  constructor(hosts: readonly Pick<ShardHost, 'run'>[], question: number = ShardControl.transferIdsTaken, layout: IdEventLayout = transferIdEvents) {
    assert(hosts.length <= shardsMax, 'shard numbers fit the in-flight packing');
    this.#hosts = hosts;
    this.#layout = layout;
    this.#asks = hosts.map((host) => new JoinedAsks((ids) => askAgainOnRestart(() => host.run(question, ids.slice(), true)), idBytes, lookupIdsMax));
  }

  /** Id keys held by requests in flight (tests, /health). */
  get keysInFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * `body` with every event whose id another shard holds (or an earlier event of the same request holds on
   * another shard) marked, and `release`, to call once the request is answered or has failed. With one shard,
   * `body` and nothing to release. Rejects (having released) when a shard cannot be asked.
   * Its ids are held from this call on, before it waits: a request only ever waits for requests that arrived
   * before it (on its ids, and at RequestRouting's start in arrival order), so no two wait for each other.
   */
  async mark(body: Uint8Array): Promise<{ body: Uint8Array; release: () => void }> {
    const shardCount = this.#hosts.length;
    if (shardCount === 1) return { body, release: () => {} };
    const keys = idKeysOf(body);
    const homes = homeShardsOf(body, shardCount, this.#layout);
    const first = firstEvents(keys);
    const { waits, joined } = this.#register(first, homes);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#unregister(first, joined);
    };
    try {
      if (waits.length > 0) await Promise.all(waits);
      const checks = idChecksByShard(body, homes, shardCount);
      const replies = await Promise.all(checks.map((check) => this.#asks[check.shard]!.ask(check.ids)));
      const taken = new Set(repeatedAcrossShards(body, keys, homes));
      checks.forEach((check, k) => {
        const reply = replies[k]!;
        for (let j = 0; j < check.events.length; j++) if (reply[j] === 1) taken.add(check.events[j]!);
      });
      return { body: withIdsTakenElsewhere(body, taken, this.#layout), release };
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Holds each distinct key of the request (`first`: key → its first event) for that event's shard; returns the
   * ends of the groups of earlier requests holding a key for another shard, and the groups this request joined.
   */
  #register(first: Map<number, number>, homes: Uint8Array): { waits: Promise<void>[]; joined: Map<number, Group> | null } {
    let waits: Promise<void>[] | null = null;
    let joined: Map<number, Group> | null = null;
    for (const [key, event] of first) {
      const home = homes[event]!;
      const held = this.#inFlight.get(key);
      if (held === undefined) {
        this.#inFlight.set(key, shardsMax + home);
        continue;
      }
      if (typeof held === 'number' && held % shardsMax === home) {
        this.#inFlight.set(key, held + shardsMax);
        continue;
      }
      const groups = typeof held === 'number' ? [newGroup(held % shardsMax, Math.floor(held / shardsMax))] : held;
      if (typeof held === 'number') this.#inFlight.set(key, groups);
      const last = groups[groups.length - 1]!;
      const group = last.shard === home ? last : newGroup(home, 0);
      if (group !== last) groups.push(group);
      group.requests++;
      (joined ??= new Map()).set(key, group);
      for (const earlier of groups) if (earlier !== group && earlier.shard !== home) (waits ??= []).push(earlier.ended);
    }
    return { waits: waits ?? [], joined };
  }

  #unregister(first: Map<number, number>, joined: Map<number, Group> | null): void {
    for (const key of first.keys()) {
      const held = this.#inFlight.get(key)!;
      if (typeof held === 'number') {
        if (held >= 2 * shardsMax) this.#inFlight.set(key, held - shardsMax);
        else this.#inFlight.delete(key);
        continue;
      }
      // Held as a number when this request came, and made groups since: its share is in the first group.
      const group = joined?.get(key) ?? held[0]!;
      if (--group.requests > 0) continue;
      group.end();
      held.splice(held.indexOf(group), 1);
      if (held.length === 0) this.#inFlight.delete(key);
    }
  }
}

function newGroup(shard: number, requests: number): Group {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return { shard, requests, ended, end };
}

/** Each distinct key of `keys` and the first event that carries it. */
function firstEvents(keys: Float64Array): Map<number, number> {
  const first = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) if (!first.has(keys[i]!)) first.set(keys[i]!, i);
  return first;
}
