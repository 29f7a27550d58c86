// The router's half of references another shard holds (core/wire/references-elsewhere.ts): before a create_transfers
// request with a post, void, reversal or unfreeze_and_pay runs, the other shards are asked what one shard would
// answer at the reference's check when they hold it, so that the event's own shard answers that where it does not
// (accounts_mismatch for a hold named with the wrong accounts, not pending_not_found). Asked beside the ids
// question (ids-elsewhere-check.ts), so it adds no round trip; requests naming no reference ask nothing.
// Answered from the state the shards have applied, like the ids question: exact for requests sent after the answer
// to the one they reference (a post sent after its hold's `ok`).

import { batchEventsMax, eventBytes } from '../../core/limits.js';
import { homeShardsOf, operationIdEvents } from '../../core/wire/ids-elsewhere.js';
import { combinedVerdicts, referenceChecksByShard, referenceEventsOf, unfreezeQuestionsOf } from '../../core/wire/references-elsewhere.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import { JoinedAsks, askAgainOnRestart } from './joined-asks.js';

const none: ReadonlyMap<number, number> = new Map();

export class ReferencesElsewhereCheck {
  readonly #shardCount: number;
  /** Per shard, the questions of one event-loop turn joined into one task. */
  readonly #asks: JoinedAsks[];

  constructor(hosts: readonly Pick<ShardHost, 'run'>[]) {
    this.#shardCount = hosts.length;
    this.#asks = hosts.map((host) => new JoinedAsks((events) => askAgainOnRestart(() => host.run(ShardControl.referenceVerdicts, events.slice(), true)), eventBytes, batchEventsMax));
  }

  /** Per event of `body` whose reference another shard holds, the code that shard answers (empty: none, or one shard). */
  async verdicts(body: Uint8Array): Promise<ReadonlyMap<number, number>> {
    if (this.#shardCount === 1) return none;
    const indexes = referenceEventsOf(body);
    if (indexes.length === 0) return none;
    return this.#ask(body, indexes, homeShardsOf(body, this.#shardCount));
  }

  /** The same for an account_operations body: per unfreeze whose freeze another shard holds, accounts_mismatch. */
  async operationVerdicts(body: Uint8Array): Promise<ReadonlyMap<number, number>> {
    if (this.#shardCount === 1) return none;
    const questions = unfreezeQuestionsOf(body);
    if (questions === null) return none;
    return this.#ask(questions.events, questions.indexes, homeShardsOf(body, this.#shardCount, operationIdEvents));
  }

  async #ask(events: Uint8Array, indexes: readonly number[], homes: Uint8Array): Promise<ReadonlyMap<number, number>> {
    const checks = referenceChecksByShard(events, indexes, homes, this.#shardCount);
    const replies = await Promise.all(checks.map((check) => this.#asks[check.shard]!.ask(check.events)));
    return combinedVerdicts(checks, replies);
  }
}
