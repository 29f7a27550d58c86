// Linked chains whose events live on more than one shard: the byte layouts a coordinator and a shard
// exchange, and the rounds that decide which chains commit. Pure: no I/O.
//
// The protocol (shards/chains/chain-coordinator.ts drives it, core/posting/ledger.ts executes it):
//  1. Prepare: every shard holding events of the group dry-runs its part — its sub-chains applied whole
//     or not at all, then every change undone — and journals a prepare_chains entry with the caller's
//     events and the dry run's results (its durable vote). From then on the shard runs nothing else
//     (its turn is held) until the group is decided, so its state stays exactly what the dry run saw.
//  2. The coordinator looks at every part's results. If a chain failed anywhere, the round is aborted
//     everywhere (abort_chains entries); the first failing chain (in request order) is set aside with
//     its failure, and the chains after it are prepared again without it — so each chain sees exactly
//     the chains before it, as it would on one shard. When no chain fails, the coordinator logs the
//     commit durably, then each shard re-executes its events as an ordinary entry (flag commitsPrepared):
//     same state, same events, same order, so the same results.
//  3. A shard that restarts with a prepare entry as its last word holds its turn until the coordinator
//     (from its log: commit logged → commit, otherwise abort) tells it the decision.
// Carried credits (issue #14, item 14): a chain event whose payee lives on another shard would credit it by an
// instruction after the commit, so a later event of the chain could not spend that credit, nor a capped payee's
// shard judge it with the chain's own earlier credits. Instead its payee's shard takes part in the group with the
// event's credit half, at the event's place among its own events: the vote applies it (assuming the payer's half
// passes, as the payer's assumes the payee's does), the commit applies it for real, and the payer's shard stages no
// instruction for it. The event's answer combines both halves (the payer's code first, as one shard checks the
// payer before the payee's balance rule). Both halves are decided by the one logged decision: no credit is in
// flight after the group, nothing can come back.

import { assert } from '../assert.js';
import { resultBytes, TransferLayout as T } from '../layout.js';
import { eventBytes } from '../limits.js';
import { ResultCode } from '../result-codes.js';
import { shardOfIdAt } from '../routing.js';
import { JournalEntryKind } from '../operations.js';
import { TransferFlags, transferCallerMarkInvalid, transferKindFlags, transferRouterMarks } from '../types.js';

/** Bytes after the per-event data of prepare_chains and abort_chains entries: u16 inner operation, 6 zero bytes, u64 group. */
export const chainGroupTrailerBytes = 16;
/** Per event of a prepare_chains entry: u8, ChainEventBits. */
export const chainEndBytes = 1;

/** The bits of a prepared event's byte. */
export const ChainEventBits = {
  /** The event ends one of this shard's sub-chains. */
  chainEnd: 1,
  /** The payer's half of an event whose credit half another participant carries: no instruction is staged for it. */
  creditCarried: 2,
  /** The credit half of another shard's event: this shard credits its payee (or shows its hold) from transit-in. */
  creditHalf: 4,
} as const;
const chainEventBitsAll = ChainEventBits.chainEnd | ChainEventBits.creditCarried | ChainEventBits.creditHalf;
/** An event is its payer's or a credit half on a shard, never both. */
const bothRoles = ChainEventBits.creditCarried | ChainEventBits.creditHalf;

/** Head of a prepare task body: u16 operation, 2 zero bytes, u32 event count, u64 group. Then events, then one chain-end byte each. */
const prepareHeadBytes = 16;
/**
 * A decide task body: u64 group, u8 decision, 3 zero bytes, u32 count, then `count` u32 positions in the
 * prepared part and `count` u32 results: for an abort, the events whose failure this shard remembers, with the
 * failure the chain was answered (so that a retry of the failed chain fails again, as on one shard; the code may
 * be the payee's half's, from another shard).
 */
const decideHeadBytes = 16;

export const ChainDecision = {
  commit: 1,
  abort: 2,
} as const;

/** First u32 of a decide reply. */
export const DecideStatus = {
  /** Decided now; a commit's reply goes on with its results and the instructions it issued. */
  decided: 0,
  /** This shard holds no prepared group by that number (never prepared, or decided before a restart). */
  notInDoubt: 1,
} as const;

export interface PrepareRequest {
  operation: number;
  group: bigint;
  /** count × eventBytes, the caller's events in request order. */
  events: Uint8Array;
  /** One byte per event: 1 where a sub-chain of this shard ends. */
  chainEnds: Uint8Array;
}

export function encodePrepare(request: PrepareRequest): Uint8Array {
  const count = request.events.byteLength / eventBytes;
  assert(Number.isInteger(count) && count >= 1 && request.chainEnds.byteLength === count, 'a prepare holds whole events and one ChainEventBits byte each');
  const body = new Uint8Array(prepareHeadBytes + count * (eventBytes + 1));
  const view = new DataView(body.buffer);
  view.setUint16(0, request.operation, true);
  view.setUint32(4, count, true);
  view.setBigUint64(8, request.group, true);
  body.set(request.events, prepareHeadBytes);
  body.set(request.chainEnds, prepareHeadBytes + count * eventBytes);
  return body;
}

/** Undefined when the body is not a prepare body (the shard answers body_invalid). */
export function decodePrepare(body: Uint8Array): PrepareRequest | undefined {
  if (body.byteLength < prepareHeadBytes) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const count = view.getUint32(4, true);
  if (count < 1 || body.byteLength !== prepareHeadBytes + count * (eventBytes + 1)) return undefined;
  const chainEnds = body.subarray(prepareHeadBytes + count * eventBytes);
  if ((chainEnds[count - 1]! & ChainEventBits.chainEnd) === 0 || chainEnds.some((b) => (b & ~chainEventBitsAll) !== 0 || (b & bothRoles) === bothRoles)) return undefined;
  return {
    operation: view.getUint16(0, true),
    group: view.getBigUint64(8, true),
    events: body.subarray(prepareHeadBytes, prepareHeadBytes + count * eventBytes),
    chainEnds,
  };
}

/** A failure an aborting shard remembers: the event's position in its prepared part, and the chain's answer for it. */
export interface RememberedFailure {
  position: number;
  result: number;
}

export interface Decide {
  group: bigint;
  decision: number;
  /** Abort only: the failures to remember. */
  remember: readonly RememberedFailure[];
}

export function encodeDecide({ group, decision, remember }: Decide): Uint8Array {
  const count = remember.length;
  const body = new Uint8Array(decideHeadBytes + count * 8);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, group, true);
  view.setUint8(8, decision);
  view.setUint32(12, count, true);
  remember.forEach(({ position, result }, k) => {
    view.setUint32(decideHeadBytes + k * 4, position, true);
    view.setUint32(decideHeadBytes + (count + k) * 4, result, true);
  });
  return body;
}

export function decodeDecide(body: Uint8Array): Decide | undefined {
  if (body.byteLength < decideHeadBytes) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const decision = view.getUint8(8);
  const count = view.getUint32(12, true);
  if (decision !== ChainDecision.commit && decision !== ChainDecision.abort) return undefined;
  if (body.byteLength !== decideHeadBytes + count * 8 || (decision === ChainDecision.commit && count > 0)) return undefined;
  const remember = Array.from({ length: count }, (_, k) => ({
    position: view.getUint32(decideHeadBytes + k * 4, true),
    result: view.getUint32(decideHeadBytes + (count + k) * 4, true),
  }));
  return { group: view.getBigUint64(0, true), decision, remember };
}

/**
 * A linked chain of a request, by the request indexes of its first and last event. `open`: left open at the end of
 * the request (issue #14, item 13): its last event is never voted on nor applied, and the chain never commits — it
 * is decided as one shard decides it, the first failing event's code (kept by id) or, when none fails,
 * linked_event_chain_open on its last event.
 */
export interface CrossShardChain {
  first: number;
  last: number;
  open?: boolean;
}

/** The last event of `chain` that is voted on (an open chain's last event never is). */
const votedLast = (chain: CrossShardChain): number => (chain.open === true ? chain.last - 1 : chain.last);

/** One shard's part of a round: its events of the active chains, in request order. */
export interface ChainPart {
  shard: number;
  /** Request index of each event of the part. */
  indexes: Uint16Array;
  events: Uint8Array;
  /** ChainEventBits per event. */
  chainEnds: Uint8Array;
}

const failedAnywhere = (code: number): boolean => code !== ResultCode.ok && code !== ResultCode.exists;
/** A failure of the event's own checks (not of another event of its chain). */
const failedItself = (code: number): boolean => failedAnywhere(code) && code !== ResultCode.linked_event_failed;

/** Kinds whose credit half a payee's shard can apply from the event alone: the amount is the caller's (not 0, "whole"). */
function carriesCreditKind(view: DataView, at: number): boolean {
  const kind = view.getUint16(at + T.flags, true) & transferKindFlags;
  // A void moves nothing to the payee (its release stays an instruction); a whole post or freeze payment's amount is
  // known only on the payer's shard.
  if (kind === TransferFlags.void_pending) return false;
  return view.getBigUint64(at + T.amount, true) > 0n;
}

/**
 * The rounds of one request's cross-shard chains (see the protocol above). Round by round: parts() to
 * prepare, examine() with every part's results, then commit() or setAside(), until none is pending.
 */
export class ChainRounds {
  readonly #body: Uint8Array;
  readonly #view: DataView;
  readonly #chains: readonly CrossShardChain[];
  readonly #shardOf: Uint8Array;
  readonly #shardCount: number;
  /** Transfers carry their credit halves; account operations have none. */
  readonly #carriesCredits: boolean;
  /** Per chain: still to be decided by the rounds. */
  readonly #active: boolean[];
  /** Request-level results (u32 per event), written as chains are decided. */
  readonly #results: Uint32Array;
  /** Events whose credit goes by instruction after all: their payer's half answered `exists` (nothing to credit). */
  readonly #uncarried = new Set<number>();
  #parts: ChainPart[] = [];
  /** The examined round's results by request index, both halves combined; the first failing chain and event in it (-1: none). */
  readonly #examined = new Map<number, number>();
  #failing = -1;
  #failingEvent = -1;

  constructor(body: Uint8Array, chains: readonly CrossShardChain[], shardOf: Uint8Array, shardCount: number, operation: number) {
    assert(body.byteLength === shardOf.byteLength * eventBytes, 'one shard per event');
    this.#carriesCredits = operation === JournalEntryKind.create_transfers;
    this.#body = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.#chains = chains;
    this.#shardOf = shardOf;
    this.#shardCount = shardCount;
    this.#active = chains.map(() => true);
    this.#results = new Uint32Array(shardOf.byteLength);
  }

  /** True while some chain is undecided. */
  get pending(): boolean {
    return this.#active.includes(true);
  }

  /** The payee's shard of event `index` when another participant carries its credit half, else -1. */
  #creditShardOf(index: number): number {
    if (!this.#carriesCredits || this.#uncarried.has(index)) return -1;
    const at = index * eventBytes;
    const shard = shardOfIdAt(this.#view, at + T.creditAccountId, this.#shardCount);
    return shard !== this.#shardOf[index] && carriesCreditKind(this.#view, at) ? shard : -1;
  }

  /**
   * The parts of the next round, one per shard holding events of an active chain (payer halves, and the credit
   * halves it carries for payees there), in shard order.
   */
  parts(): ChainPart[] {
    assert(this.pending, 'a round needs an undecided chain');
    // Per shard, its events as (request index << 1 | 1 for a credit half), in request order.
    const byShard: number[][] = Array.from({ length: this.#shardCount }, () => []);
    const carried = new Set<number>();
    this.#chains.forEach((chain, c) => {
      if (!this.#active[c]) return;
      for (let i = chain.first; i <= votedLast(chain); i++) {
        byShard[this.#shardOf[i]!]!.push(i << 1);
        const payeeShard = this.#creditShardOf(i);
        if (payeeShard < 0) continue;
        byShard[payeeShard]!.push((i << 1) | 1);
        carried.add(i);
      }
    });
    this.#parts = [];
    byShard.forEach((entries, shard) => {
      if (entries.length === 0) return;
      entries.sort((a, b) => a - b);
      const events = new Uint8Array(entries.length * eventBytes);
      const chainEnds = new Uint8Array(entries.length);
      const indexes = Uint16Array.from(entries, (e) => e >> 1);
      entries.forEach((entry, k) => {
        const index = entry >> 1;
        events.set(this.#body.subarray(index * eventBytes, (index + 1) * eventBytes), k * eventBytes);
        const next = indexes[k + 1];
        let bits = next === undefined || this.#chainOf(next) !== this.#chainOf(index) ? ChainEventBits.chainEnd : 0;
        if ((entry & 1) === 1) {
          bits |= ChainEventBits.creditHalf;
          // The payee's half is the caller's event: the router's marks on it were for the payer's shard.
          withoutRouterMarks(events, k * eventBytes);
        } else if (carried.has(index)) bits |= ChainEventBits.creditCarried;
        chainEnds[k] = bits;
      });
      this.#parts.push({ shard, indexes, events, chainEnds });
    });
    return this.#parts;
  }

  /**
   * Takes the round's results (u32 per event, one array per part of parts()) and returns whether the round must be
   * aborted: a chain failed, or a payer's half answered `exists` while its credit half was carried (the round is
   * then prepared again with that credit left to the instruction it already had). Then either commit() (nothing to
   * abort anywhere in the coordinator's group) or, when the group is aborted, setAside().
   */
  examine(results: readonly Uint32Array[]): boolean {
    assert(results.length === this.#parts.length, 'one result array per part');
    this.#examined.clear();
    const halves = new Map<number, number>();
    this.#parts.forEach((part, p) => {
      assert(results[p]!.length === part.indexes.length, 'one result per event of the part');
      part.indexes.forEach((index, k) => ((part.chainEnds[k]! & ChainEventBits.creditHalf) !== 0 ? halves : this.#examined).set(index, results[p]![k]!));
    });
    this.#failing = -1;
    let again = false;
    for (const [index, half] of halves) {
      const payerCode = this.#examined.get(index)! & 0xffff;
      // One shard answers exists and credits nothing: this credit half must not apply. A post whose hold is not shown
      // on its payee's shard (its instruction still on its way) cannot be carried: its credit must follow that
      // instruction. Either way the round goes again with the credit left to an instruction.
      if (payerCode === ResultCode.exists || ((half & 0xffff) === ResultCode.pending_not_found && !failedItself(payerCode))) {
        this.#uncarried.add(index);
        again = true;
      }
    }
    if (again) return true;
    for (const [index, half] of halves) {
      // The payer's checks come first; where they passed (or its shard stopped at another failure of the chain), the
      // payee's refusal (its balance rule, with the chain's earlier credits) is the event's. A payer's shard whose
      // sub-chain failed at this half answers linked_event_failed for the event: the half's code is the failure.
      if (!failedItself(this.#examined.get(index)! & 0xffff) && failedItself(half & 0xffff)) this.#examined.set(index, half & 0xffff);
    }
    for (let c = 0; c < this.#chains.length && this.#failing < 0; c++) {
      if (!this.#active[c]) continue;
      const chain = this.#chains[c]!;
      for (let i = chain.first; i <= votedLast(chain); i++) {
        const code = this.#examined.get(i)! & 0xffff;
        if (failedAnywhere(code) && code !== ResultCode.linked_event_failed) {
          this.#failing = c;
          this.#failingEvent = i;
          break;
        }
      }
      // An open chain that passed is decided too, and nothing of it commits: aborted, no failure kept.
      if (this.#failing < 0 && chain.open === true) {
        this.#failing = c;
        this.#failingEvent = -1;
      }
    }
    return this.#failing >= 0;
  }

  /** The examined round committed: every active chain takes its results. Returns how many chains that is. */
  commit(): number {
    assert(this.#failing < 0, 'a round with a failed chain never commits');
    let committed = 0;
    this.#chains.forEach((chain, c) => {
      if (!this.#active[c]) return;
      for (let i = chain.first; i <= chain.last; i++) this.#results[i] = callerResult(this.#examined.get(i)!);
      this.#active[c] = false;
      committed++;
    });
    return committed;
  }

  /** The request index of the failing event examine() found (-1: none). */
  get failingEvent(): number {
    return this.#failing < 0 ? -1 : this.#failingEvent;
  }

  /**
   * Per part of the examined round, the failure its shard remembers when the round is aborted: the failing event's
   * payer half, with the chain's answer for it (a credit half's shard keeps no failure: the id is the payer's).
   */
  failuresToRemember(): RememberedFailure[][] {
    const index = this.failingEvent;
    return this.#parts.map((part) => {
      if (index < 0) return [];
      const k = part.indexes.findIndex((candidate, position) => candidate === index && (part.chainEnds[position]! & ChainEventBits.creditHalf) === 0);
      return k < 0 ? [] : [{ position: k, result: this.#examined.get(index)! }];
    });
  }

  /**
   * The examined round was aborted. Its first failing chain (if any: a round prepared again for an `exists` has
   * none) is decided — its failing event's result, linked_event_failed on the rest — and the chains after it go
   * again without it. Returns whether a chain was decided.
   */
  setAside(): boolean {
    const c = this.#failing;
    if (c < 0) return false;
    const { first, last, open } = this.#chains[c]!;
    for (let i = first; i <= last; i++) this.#results[i] = i === this.#failingEvent ? callerResult(this.#examined.get(i)!) : ResultCode.linked_event_failed;
    if (open === true && this.#failingEvent < 0) this.#results[last] = ResultCode.linked_event_chain_open;
    this.#active[c] = false;
    this.#failing = -1;
    return true;
  }

  /** Writes the decided chains' results into a request-level results buffer (eventCount × 4 bytes). */
  writeResults(out: Uint8Array): void {
    assert(!this.pending, 'every chain decided');
    assert(out.byteLength === this.#results.length * resultBytes, 'a results buffer for the whole request');
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (const chain of this.#chains) {
      for (let i = chain.first; i <= chain.last; i++) view.setUint32(i * resultBytes, this.#results[i]!, true);
    }
  }

  #chainOf(index: number): number {
    // Chains are few per request and sorted: a binary search keeps big groups linear-ish.
    let lo = 0;
    let hi = this.#chains.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#chains[mid]!.first <= index) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** What the caller hears of a result: an `ok` without the journal's carried-credit detail. */
function callerResult(result: number): number {
  return (result & 0xffff) === ResultCode.ok ? ResultCode.ok : result;
}

/** The caller's event again in a copy: the router's marks (and the codes they keep in amountEffective) off. */
function withoutRouterMarks(events: Uint8Array, at: number): void {
  const view = new DataView(events.buffer, events.byteOffset, events.byteLength);
  const flags = view.getUint16(at + T.flags, true);
  if ((flags & transferRouterMarks) === 0 || (flags & transferCallerMarkInvalid) !== 0) return;
  view.setUint16(at + T.flags, flags & ~transferRouterMarks, true);
  view.setBigUint64(at + T.amountEffective, 0n, true);
}
