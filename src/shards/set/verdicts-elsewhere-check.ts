// The router's half of what other shards answer for a request's events (core/wire/verdicts-elsewhere.ts): before a
// create_transfers request with a post, void, reversal or unfreeze_and_pay, or with a credit to a capped payee on
// another shard whose credits its shard judges (credits_must_not_exceed_debits, or marked for the balance-overflow
// rule: judged-payee-fences.ts; read from the account directory), runs, the other shards are asked what one shard
// would answer for them there — the reference's check, the payee's balance rule and overflow check — so that the
// event's own shard answers that (accounts_mismatch for a hold named with the wrong accounts, credits_exceed_debits
// or balance_overflow for a payee without room), not pending_not_found or an `ok` whose credit comes back. Asked beside the ids question
// (ids-elsewhere-check.ts), so it adds no round trip; requests needing neither ask nothing. Answered from the state
// the shards have applied, like the ids question: exact for requests sent after the answers they depend on (a credit
// to a capped payee waits first for the credits answered to its shard: RequestRouting.#shardsToAwait).

import type { AccountDirectory } from '../../core/accounts/account-directory.js';
import { TransferLayout } from '../../core/layout.js';
import { batchEventsMax, eventBytes } from '../../core/limits.js';
import { shardOfIdAt } from '../../core/routing.js';
import { AccountFlags, judgedPayeeFlags } from '../../core/types.js';
import { homeShardsOf, operationIdEvents } from '../../core/wire/ids-elsewhere.js';
import { askedEventsOf, combinedVerdicts, questionEvents, roomMakersOf, unfreezeQuestionsOf, verdictChecksByShard, type EventVerdict } from '../../core/wire/verdicts-elsewhere.js';
import type { ShardHost } from '../shard/shard-host.js';
import { ShardControl } from '../shard/shard-messages.js';
import { JoinedAsks, askAgainOnRestart } from './joined-asks.js';
import { judgedPayeeAt } from './judged-payee-fences.js';

const none: ReadonlyMap<number, EventVerdict> = new Map();

export class VerdictsElsewhereCheck {
  readonly #shardCount: number;
  readonly #directory: AccountDirectory | null;
  /** Per shard, the questions of one event-loop turn joined into one task. */
  readonly #asks: JoinedAsks[];
  /** Whether the transfer at `at` pays a capped payee on another shard than its payer's. */
  readonly #payeeAsked: (view: DataView, at: number) => boolean;
  /** Whether the transfer at `at` debits a capped account (a room maker for a later credit to it). */
  readonly #debitCapped: (view: DataView, at: number) => boolean;

  /** Without a directory no payee is asked (it is checked on arrival, as before). */
  constructor(hosts: readonly Pick<ShardHost, 'run'>[], directory: AccountDirectory | null) {
    this.#shardCount = hosts.length;
    this.#directory = directory;
    this.#asks = hosts.map((host) => new JoinedAsks((events) => askAgainOnRestart(() => host.run(ShardControl.eventVerdicts, events.slice(), true)), eventBytes, batchEventsMax));
    this.#payeeAsked = (view, at) => payeeJudgedElsewhere(this.#directory, this.#shardCount, view, at);
    this.#debitCapped = (view, at) => debitsCappedAccountAt(this.#directory, view, at);
  }

  /** Per event of `body` another shard answers for, its answers (empty: none, or one shard). */
  async verdicts(body: Uint8Array): Promise<ReadonlyMap<number, EventVerdict>> {
    if (this.#shardCount === 1) return none;
    const asked = askedEventsOf(body, this.#payeeAsked);
    if (asked.length === 0) return none;
    const makers = roomMakersOf(body, asked, this.#debitCapped);
    return this.#ask(body, questionEvents(asked, makers), homeShardsOf(body, this.#shardCount), new Set(makers));
  }

  /** The same for an account_operations body: per unfreeze whose freeze another shard holds, accounts_mismatch. */
  async operationVerdicts(body: Uint8Array): Promise<ReadonlyMap<number, EventVerdict>> {
    if (this.#shardCount === 1) return none;
    const questions = unfreezeQuestionsOf(body);
    if (questions === null) return none;
    return this.#ask(questions.events, questions.indexes, homeShardsOf(body, this.#shardCount, operationIdEvents));
  }

  async #ask(events: Uint8Array, indexes: readonly number[], homes: Uint8Array, alsoHome?: ReadonlySet<number>): Promise<ReadonlyMap<number, EventVerdict>> {
    const checks = verdictChecksByShard(events, indexes, homes, this.#shardCount, alsoHome);
    const replies = await Promise.all(checks.map((check) => this.#asks[check.shard]!.ask(check.events)));
    return combinedVerdicts(checks, replies);
  }
}

/** Whether the transfer at `at` of `view` debits an account with credits_must_not_exceed_debits. */
export function debitsCappedAccountAt(directory: AccountDirectory | null, view: DataView, at: number): boolean {
  if (directory === null || !directory.mayHoldWith(view, at + TransferLayout.debitAccountId, AccountFlags.credits_must_not_exceed_debits)) return false;
  const flags = directory.flagsAt(view, at + TransferLayout.debitAccountId);
  return flags >= 0 && (flags & AccountFlags.credits_must_not_exceed_debits) !== 0;
}

/**
 * Whether the transfer at `at` of `view` credits, on another shard than its payer's, an account whose shard judges its
 * credits (credits_must_not_exceed_debits, or marked for the balance-overflow rule: judged-payee-fences.ts).
 */
export function payeeJudgedElsewhere(directory: AccountDirectory | null, shardCount: number, view: DataView, at: number): boolean {
  // One word read while no account is judged (a directory probe per transfer otherwise).
  if (directory === null || !directory.holdsAnyWith(judgedPayeeFlags) || !judgedPayeeAt(directory, view, at)) return false;
  return shardOfIdAt(view, at + TransferLayout.creditAccountId, shardCount) !== shardOfIdAt(view, at + TransferLayout.debitAccountId, shardCount);
}
