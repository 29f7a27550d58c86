// Several shards' Ledgers driven in-process with a relay between them, the way the shard set runs
// them: requests split by the route plan, linked chains across shards decided in rounds like the chain
// coordinator does (prepare everywhere, then commit or abort), cross-shard instructions queued per
// ordered shard pair and delivered in batches, acknowledged when the receiver applied them (or already
// had). Tests can crash a shard (restart from its journal) — also between a chain's prepare and its
// decision — lose the relay's memory, and settle everything.

import { ChainRounds } from '../../src/core/chains/prepared-chains.js';
import { planRoute, mergeReplies, type CrossChains } from '../../src/core/wire/route-plan.js';
import { homeShardsOf, idChecksByShard, idKeysOf, operationIdEvents, repeatedAcrossShards, transferIdEvents, withCallerMarksInvalid, withIdsTakenElsewhere, type IdEventLayout } from '../../src/core/wire/ids-elsewhere.js';
import { Operation } from '../../src/core/operations.js';
import { stageStartsOf } from '../../src/core/wire/request-stages.js';
import { eventBytes } from '../../src/core/limits.js';
import { askedEventsOf, combinedVerdicts, questionEvents, roomMakersOf, unfreezeQuestionsOf, verdictChecksByShard, withOperationVerdicts, withRouterVerdicts, type EventVerdict } from '../../src/core/wire/verdicts-elsewhere.js';
import { debitsCappedAccountAt, payeeJudgedElsewhere } from '../../src/shards/set/verdicts-elsewhere-check.js';
import { JudgedPayeeFences } from '../../src/shards/set/judged-payee-fences.js';
import {
  decodeResults,
  encodeAccountOperations,
  encodeAccounts,
  encodeTransfers,
  type AccountInput,
  type AccountOperationInput,
  type TransferInput,
} from '../../src/core/wire/records.js';
import { shardOfId } from '../../src/core/routing.js';
import { InboundStatus, InstructionLayout as I, pairSeqOf } from '../../src/core/transit/transit.js';
import type { AccountState, TransferState } from '../../src/core/types.js';
import { LedgerHarness, outcomeOf, type Outcome } from './ledger-harness.js';
import type { IdCacheCapacity } from '../../src/core/accounts/id-cache.js';
import { AccountDirectory } from '../../src/core/accounts/account-directory.js';
import { publishAccountOperations, publishCreatedAccounts } from '../../src/core/accounts/directory-updates.js';

export class ClusterHarness {
  readonly shards: LedgerHarness[];
  /** The relay's queue per ordered pair `from * shardCount + to`: instructions not yet acknowledged. */
  private readonly queues = new Map<number, Uint8Array[]>();
  private groupLast = 0n;
  /** Called between every round's prepare and its decision with the shards that voted (a test may restart some). */
  betweenPhases: ((voters: readonly number[]) => void) | null = null;
  /** Rounds of cross-shard chains run so far, and how many were aborted. */
  chainRounds = 0;
  chainRoundsAborted = 0;

  /** The account directory the shards share (as the shard set runs them), or null: payees checked on arrival only. */
  readonly directory: AccountDirectory | null;
  /** Marks payees of big credits for the overflow rule, as the router does. */
  private readonly judgedPayees: JudgedPayeeFences | null;

  constructor(readonly shardCount: number, options: { verifyEachWrite?: boolean; idCache?: IdCacheCapacity; directory?: boolean } = {}) {
    this.directory = options.directory === true ? AccountDirectory.create(8, 4096) : null;
    this.judgedPayees = this.directory === null ? null : new JudgedPayeeFences(this.directory, shardCount);
    const directory = this.directory ?? undefined;
    this.shards = Array.from(
      { length: shardCount },
      (_, shardIndex) => new LedgerHarness({ shardIndex, shardCount, verifyEachWrite: options.verifyEachWrite ?? false, idCache: options.idCache, directory }),
    );
  }

  createAccounts(accounts: readonly AccountInput[]): Outcome[] {
    return this.write(Operation.create_accounts, encodeAccounts(accounts), accounts.map((a) => a.id), []);
  }

  createTransfers(transfers: readonly TransferInput[]): Outcome[] {
    return this.write(Operation.create_transfers, encodeTransfers(transfers), [], transfers.map((t) => t.id));
  }

  accountOperations(operations: readonly AccountOperationInput[]): Outcome[] {
    return this.write(Operation.account_operations, encodeAccountOperations(operations), [], []);
  }

  /** Moves every shard's issued instructions into the relay's queues. */
  collect(): void {
    for (const shard of this.shards) {
      for (const batch of shard.outbound) {
        for (let at = 0; at < batch.byteLength; at += I.bytes) this.enqueue(batch.subarray(at, at + I.bytes));
      }
      shard.outbound = [];
    }
  }

  /**
   * Delivers up to `countMax` queued instructions to each receiver (all pairs interleaved) and
   * acknowledges what it applied or already had. Returns how many were acknowledged.
   */
  deliver(countMax = Infinity): number {
    this.collect();
    let acknowledged = 0;
    for (let to = 0; to < this.shardCount; to++) {
      const batch: Uint8Array[] = [];
      for (let from = 0; from < this.shardCount && batch.length < countMax; from++) {
        const queue = this.queues.get(from * this.shardCount + to) ?? [];
        batch.push(...queue.slice(0, countMax - batch.length));
      }
      if (batch.length === 0) continue;
      const statuses = this.shards[to]!.applyInbound(concat(batch));
      batch.forEach((instruction, k) => {
        if (statuses[k] === InboundStatus.gap) return;
        const from = view(instruction).getUint16(I.fromShard, true);
        const queue = this.queues.get(from * this.shardCount + to)!;
        const index = queue.indexOf(instruction);
        if (index >= 0) queue.splice(index, 1);
        this.shards[from]!.acknowledge(to, pairSeqOf(instruction));
        acknowledged++;
      });
    }
    return acknowledged;
  }

  /** Delivers until no shard has anything left to send (returns can cause further deliveries). */
  settle(): void {
    for (let round = 0; round < 1000; round++) {
      this.collect();
      // An idle relay still compares each sender's last issued pair sequence with what was applied.
      if (this.queued === 0) this.reconcile();
      if (this.queued === 0) return;
      if (this.deliver() === 0) this.reconcile();
    }
    throw new Error('cluster did not settle in 1000 rounds');
  }

  /** The relay forgets its queues (its process restarted): every sender's outbox still holds them. */
  loseRelay(): void {
    this.queues.clear();
    for (const shard of this.shards) shard.outbound = [];
    this.reconcile();
  }

  /** Refetches, per pair, what the sender retains past what the receiver applied. */
  reconcile(): void {
    for (let from = 0; from < this.shardCount; from++) {
      for (let to = 0; to < this.shardCount; to++) {
        if (from === to) continue;
        const applied = this.shards[to]!.ledger.state.inboundApplied[from]!;
        this.shards[from]!.acknowledge(to, applied);
        const queue = this.queues.get(from * this.shardCount + to) ?? [];
        // A queue that does not start right after what the receiver applied has a hole (a lost reply): refetch it all.
        const contiguous = queue.length > 0 && pairSeqOf(queue[0]!) === applied + 1 && pairSeqOf(queue[queue.length - 1]!) === applied + queue.length;
        const queuedLast = contiguous ? pairSeqOf(queue[queue.length - 1]!) : applied;
        const missing = this.shards[from]!.ledger.state.outbox.after(to, queuedLast, Number.MAX_SAFE_INTEGER);
        for (let at = 0; at < missing.byteLength; at += I.bytes) this.enqueue(missing.subarray(at, at + I.bytes));
      }
    }
  }

  /** Crash and replay one shard (its unsent replies are lost with it). */
  restart(shard: number): void {
    this.shards[shard]!.restart();
  }

  account(id: bigint): AccountState {
    return this.shards[shardOfId(id, this.shardCount)]!.account(id);
  }

  /** The transfer as its debit shard holds it. */
  transfer(id: bigint, debitAccountId: bigint): TransferState {
    return this.shards[shardOfId(debitAccountId, this.shardCount)]!.transfer(id);
  }

  /** Queued instructions over all pairs. */
  get queued(): number {
    let count = 0;
    for (const queue of this.queues.values()) count += queue.length;
    return count;
  }

  private enqueue(instruction: Uint8Array): void {
    const v = view(instruction);
    const key = v.getUint16(I.fromShard, true) * this.shardCount + v.getUint16(I.toShard, true);
    const queue = this.queues.get(key) ?? [];
    const pairSeq = pairSeqOf(instruction);
    if (queue.some((q) => pairSeqOf(q) === pairSeq)) return;
    queue.push(instruction);
    queue.sort((a, b) => pairSeqOf(a) - pairSeqOf(b));
    this.queues.set(key, queue);
  }

  private write(operation: number, callerBody: Uint8Array, accountIds: readonly bigint[], transferIds: readonly bigint[]): Outcome[] {
    // As RequestRouting does (request-stages.ts): a request whose later events need earlier ones runs in stages,
    // each after the credits of the ones before have landed (here: everything settled).
    // The overflow marks the router sets before it judges anything (judged-payee-fences.ts); kept here, since every
    // request runs settled (what the router's waits give).
    if (operation === Operation.create_transfers) this.judgedPayees?.markBigCredits(callerBody);
    const stageStarts = operation === Operation.create_transfers && this.directory !== null ? stageStartsOf(callerBody, this.shardCount, this.directory) : [];
    if (stageStarts.length > 0) {
      const bounds = [0, ...stageStarts, callerBody.byteLength / eventBytes];
      const outcomes: Outcome[] = [];
      for (let stage = 0; stage + 1 < bounds.length; stage++) {
        if (stage > 0) this.settle();
        outcomes.push(...this.write(operation, callerBody.slice(bounds[stage]! * eventBytes, bounds[stage + 1]! * eventBytes), accountIds, transferIds));
      }
      return outcomes;
    }
    const body =
      operation === Operation.create_transfers ? this.markIdsElsewhere(callerBody, transferIdEvents) : operation === Operation.account_operations ? this.markIdsElsewhere(callerBody, operationIdEvents) : callerBody;
    const plan = planRoute(operation, body, this.shardCount);
    const replies = plan.requests.map((request) => {
      const shard = this.shards[request.shard]!;
      shard.remember(accountIds, transferIds);
      shard.write(operation, request.body.slice());
      return shard.lastReply;
    });
    if (plan.crossChains !== null) {
      for (const shard of this.shards) shard.remember(accountIds, transferIds);
      this.coordinate(operation, body, plan.crossChains, plan.results!);
    }
    const reply = mergeReplies(plan, replies);
    // As the shard set does: the directory learns what the durable reply made before the caller hears of it.
    if (this.directory !== null && operation === Operation.create_accounts) publishCreatedAccounts(this.directory, body, reply);
    if (this.directory !== null && operation === Operation.account_operations) publishAccountOperations(this.directory, body, reply);
    return decodeResults(reply).map(outcomeOf);
  }

  /** What RequestRouting does to a transfer or account-operation request (ids unique ledger-wide: ids-elsewhere-check.ts), synchronously. */
  private markIdsElsewhere(callerBody: Uint8Array, layout: IdEventLayout): Uint8Array {
    const body = withCallerMarksInvalid(callerBody, layout);
    const homes = homeShardsOf(body, this.shardCount, layout);
    const taken = new Set(repeatedAcrossShards(body, idKeysOf(body), homes));
    for (const check of idChecksByShard(body, homes, this.shardCount)) {
      const ledger = this.shards[check.shard]!.ledger;
      const reply = layout === operationIdEvents ? ledger.operationIdsTaken(check.ids) : ledger.transferIdsTaken(check.ids);
      check.events.forEach((event, j) => {
        if (reply[j] === 1) taken.add(event);
      });
    }
    const marked = withIdsTakenElsewhere(body, taken, layout);
    // What other shards answer for the events (verdicts-elsewhere-check.ts), asked of the caller's body as the router does.
    const ask = (events: Uint8Array, indexes: readonly number[], alsoHome?: ReadonlySet<number>): Map<number, EventVerdict> => {
      const checks = verdictChecksByShard(events, indexes, homes, this.shardCount, alsoHome);
      return combinedVerdicts(checks, checks.map((check) => this.shards[check.shard]!.ledger.eventVerdicts(check.events)));
    };
    if (layout === transferIdEvents) {
      const payeeAsked = (view: DataView, at: number): boolean => payeeJudgedElsewhere(this.directory, this.shardCount, view, at);
      const asked = askedEventsOf(body, payeeAsked);
      const makers = roomMakersOf(body, asked, (view, at) => debitsCappedAccountAt(this.directory, view, at));
      return withRouterVerdicts(marked, ask(body, questionEvents(asked, makers), new Set(makers)));
    }
    const unfreezes = unfreezeQuestionsOf(body);
    return unfreezes === null ? marked : withOperationVerdicts(marked, ask(unfreezes.events, unfreezes.indexes));
  }

  /** What the chain coordinator does, synchronously: rounds of prepare, then abort or commit everywhere. */
  private coordinate(operation: number, body: Uint8Array, crossChains: CrossChains, results: Uint8Array): void {
    const rounds = new ChainRounds(body, crossChains.chains, crossChains.shardOf, this.shardCount, operation);
    while (rounds.pending) {
      const group = ++this.groupLast;
      const parts = rounds.parts();
      const votes = parts.map((part) => this.shards[part.shard]!.prepareChains(operation, part.events, part.chainEnds, group));
      this.chainRounds++;
      this.betweenPhases?.(parts.map((part) => part.shard));
      if (rounds.examine(votes)) {
        this.chainRoundsAborted++;
        const remember = rounds.failuresToRemember();
        parts.forEach((part, p) => this.shards[part.shard]!.abortPrepared(remember[p]!));
        rounds.setAside();
        continue;
      }
      for (const part of parts) this.shards[part.shard]!.commitPrepared();
      rounds.commit();
    }
    rounds.writeResults(results);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}
