// Main-thread relay of cross-shard instructions: takes the instructions a shard issued (they ride on its
// durable write replies), queues them per ordered shard pair, delivers them to the receiving shard in
// batches (one delivery in flight per receiver, so order holds), and drops them once the receiver says
// it applied them or already had. It keeps nothing durable: every instruction is in its sender's journal
// and outbox, so after any crash a reconcile asks each receiver what it applied and each sender for what
// lies beyond. Exactly once comes from the receivers (pair sequences), not from here.

import { assert } from '../../core/assert.js';
import type { InFlightAmount } from '../../core/books/day-report.js';
import { transitDeliveryInstructionsMax } from '../../core/limits.js';
import { TransferLayout } from '../../core/layout.js';
import { InboundStatus, InstructionKind, InstructionLayout, instructionMovesMoney } from '../../core/transit/transit.js';
import { peerMarkBytes } from '../shard/shard-loop.js';
import { DelaySamples } from '../shard/delay-samples.js';
import { ShardControl, type ShardControlNumber } from '../shard/shard-messages.js';

/** What the relay needs of a shard host. */
export interface RelayHost {
  runInternal(operation: ShardControlNumber, body: Uint8Array, bodyTransferable: boolean): Promise<Uint8Array>;
}

export interface TransitRelayOptions {
  /** How often acknowledgements go back to senders and, when something looks missing, a reconcile runs. */
  tickMs?: number;
  /** A reconcile runs at least this often even when nothing looks wrong (a sender may have restarted). */
  reconcileMs?: number;
  /** Wait before retrying a delivery that failed (the receiver restarts meanwhile). */
  retryMs?: number;
  log?: (line: string) => void;
}

/** A run of consecutive instructions of one pair, as they arrived. */
interface Chunk {
  first: number;
  count: number;
  bytes: Uint8Array;
  receivedMs: number;
}

/** A landedOn call: resolves once every pair into its shard applied through its target. */
interface LandingWaiter {
  targets: { pair: PairQueue; through: number }[];
  resolve: (landed: boolean) => void;
  timer: ReturnType<typeof setTimeout> | null;
}

class PairQueue {
  readonly chunks: Chunk[] = [];
  /** Highest pair sequence queued or known applied; queued chunks run contiguously up to it. */
  last = 0;
  /** Highest pair sequence the receiver applied (as far as the relay knows). */
  applied = 0;

  get queued(): number {
    return this.last - this.applied;
  }

  /** Drops everything up to `pairSeq` (applied by the receiver). */
  acknowledge(pairSeq: number, nowMs: number, delays: DelaySamples): void {
    if (pairSeq <= this.applied) return;
    this.applied = pairSeq;
    if (this.last < pairSeq) this.last = pairSeq;
    while (this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const end = chunk.first + chunk.count - 1;
      const dropped = Math.min(end, pairSeq) - chunk.first + 1;
      if (dropped <= 0) break;
      delays.add(nowMs - chunk.receivedMs, dropped);
      if (dropped === chunk.count) this.chunks.shift();
      else {
        this.chunks[0] = { first: chunk.first + dropped, count: chunk.count - dropped, bytes: chunk.bytes.subarray(dropped * InstructionLayout.bytes), receivedMs: chunk.receivedMs };
        break;
      }
    }
  }
}

/** Sender and pair sequence of each instruction of a delivery, kept while its body is with the worker. */
interface SentMarks {
  from: Uint8Array;
  pairSeq: Float64Array;
}

function sentMarks(body: Uint8Array): SentMarks {
  const count = body.byteLength / InstructionLayout.bytes;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const marks = { from: new Uint8Array(count), pairSeq: new Float64Array(count) };
  for (let k = 0; k < count; k++) {
    marks.from[k] = view.getUint16(k * InstructionLayout.bytes + InstructionLayout.fromShard, true);
    marks.pairSeq[k] = Number(view.getBigUint64(k * InstructionLayout.bytes + InstructionLayout.pairSeq, true));
  }
  return marks;
}

export interface TransitStats {
  /** Instructions issued but not yet applied by their receiver, as far as the relay knows. */
  inFlight: number;
  /** Instructions delivered (applied or found already applied) since start. */
  delivered: number;
  /** From the sender's durable reply to the receiver's durable apply, over recent deliveries (ms). */
  delayMsP50: number;
  delayMsP99: number;
  /** Reconciles completed since start: after a restart, `inFlight` means something once this is ≥ 1. */
  reconciles: number;
  /**
   * Credits their payee's shard refused and sent back since start: each a transfer answered `ok` whose money
   * came back as a `returned` one (unknown, closed or blocked payee, another ledger, a credit limit). Issue #14
   * is to make this stay 0; until then it counts every `ok` that was not final.
   */
  returned: number;
}

export class TransitRelay {
  readonly #hosts: readonly RelayHost[];
  readonly #shardCount: number;
  readonly #pairs: PairQueue[];
  readonly #delivering: boolean[];
  readonly #retryTimers: (ReturnType<typeof setTimeout> | null)[];
  readonly #delays = new DelaySamples();
  readonly #options: Required<TransitRelayOptions>;
  /** Per sender, per receiver: the applied mark not yet sent back to the sender. */
  readonly #acknowledgements: Map<number, number>[];
  /** Per sender: an acknowledgement task is running (the next one waits and carries the newer marks). */
  readonly #acknowledging: boolean[];
  #ticker: ReturnType<typeof setInterval> | null = null;
  #reconcileWanted = true;
  #outboundObserver: ((bytes: Uint8Array) => void) | null = null;
  #reconciling: Promise<void> | null = null;
  #reconcileLastMs = 0;
  #reconciles = 0;
  /** Per receiving shard, the landedOn calls waiting for its credits to land. */
  readonly #landingWaiters: LandingWaiter[][];
  #returned = 0;
  #stopped = false;
  /**
   * Pauses not resumed yet. While paused (a day cut) no delivery starts; one already running finishes. Counted: two
   * that pause at once (a cut while another holds deliveries) each keep them held until their own resume.
   */
  #pauses = 0;
  #deliveriesRunning = 0;

  constructor(hosts: readonly RelayHost[], options: TransitRelayOptions = {}) {
    this.#hosts = hosts;
    this.#shardCount = hosts.length;
    this.#pairs = Array.from({ length: this.#shardCount * this.#shardCount }, () => new PairQueue());
    this.#landingWaiters = Array.from({ length: this.#shardCount }, () => []);
    this.#delivering = new Array<boolean>(this.#shardCount).fill(false);
    this.#retryTimers = new Array<ReturnType<typeof setTimeout> | null>(this.#shardCount).fill(null);
    this.#acknowledgements = Array.from({ length: this.#shardCount }, () => new Map<number, number>());
    this.#acknowledging = new Array<boolean>(this.#shardCount).fill(false);
    this.#options = {
      tickMs: options.tickMs ?? 20,
      reconcileMs: options.reconcileMs ?? 1000,
      retryMs: options.retryMs ?? 50,
      log: options.log ?? ((line) => console.error(line)),
    };
  }

  /** Starts the ticker and a first reconcile (instructions left over from before a restart). */
  start(): void {
    assert(this.#ticker === null, 'relay started once');
    this.#ticker = setInterval(() => this.#tick(), this.#options.tickMs);
    this.#ticker.unref();
    void this.reconcile();
  }

  /** Stops delivering; whatever is queued stays in the senders' outboxes for the next start. */
  stop(): void {
    this.#stopped = true;
    if (this.#ticker !== null) clearInterval(this.#ticker);
    for (const timer of this.#retryTimers) if (timer !== null) clearTimeout(timer);
  }

  /**
   * Holds deliveries (a day cut): resolves once no delivery is running, so receivers' applied marks stay
   * still until resume(). Instructions keep arriving and queue meanwhile.
   */
  async pause(): Promise<void> {
    this.#pauses++;
    while (this.#deliveriesRunning > 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }

  resume(): void {
    assert(this.#pauses > 0, 'a resume follows a pause');
    if (--this.#pauses > 0) return;
    for (let to = 0; to < this.#shardCount; to++) this.#deliver(to);
  }

  /**
   * Money in flight per ledger and ordered pair (from → to, as the payer's shard sees it) among the
   * instructions the relay holds: credits from → to with `applied < pairSeq ≤ issued`, and returns
   * to → from in the same window of their pair. `issued[from][to]` and `applied[to][from]` are the marks
   * each shard reported at its cut. Call while paused, after a reconcile has fetched through `issued`.
   */
  inFlightAt(issued: readonly Float64Array[], applied: readonly Float64Array[]): InFlightAmount[] {
    const totals = new Map<string, InFlightAmount>();
    const shardCount = this.#shardCount;
    for (let from = 0; from < shardCount; from++) {
      for (let to = 0; to < shardCount; to++) {
        if (from === to) continue;
        const low = applied[to]![from]!;
        const high = issued[from]![to]!;
        for (const chunk of this.#pairs[from * shardCount + to]!.chunks) {
          const view = new DataView(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength);
          for (let k = 0; k < chunk.count; k++) {
            const pairSeq = chunk.first + k;
            if (pairSeq <= low || pairSeq > high) continue;
            const at = k * InstructionLayout.bytes;
            const kind = view.getUint16(at + InstructionLayout.kind, true);
            if (!instructionMovesMoney(kind)) continue; // a hold shown or taken off moves no posted money
            const isReturn = kind === InstructionKind.return;
            const ledger = view.getUint32(at + TransferLayout.ledger, true);
            // A return travels to → from of the payer's pair: it counts against the pair it came back on.
            const payerShard = isReturn ? to : from;
            const payeeShard = isReturn ? from : to;
            const key = `${ledger}:${payerShard}:${payeeShard}`;
            const row = totals.get(key) ?? { ledger, from: payerShard, to: payeeShard, amount: 0n };
            row.amount += view.getBigUint64(at + TransferLayout.amountEffective, true);
            totals.set(key, row);
          }
        }
      }
    }
    return [...totals.values()];
  }

  /** The highest pair sequence queued (or known applied) per pair: a reconcile is through `issued` when these reach it. */
  queuedThrough(from: number, to: number): number {
    return this.#pairs[from * this.#shardCount + to]!.last;
  }

  /** Instructions `from` issued that the relay holds for any receiver (issued as far as it knows, not yet applied). */
  outboundQueued(from: number): number {
    let queued = 0;
    for (let to = 0; to < this.#shardCount; to++) if (to !== from) queued += this.#pairs[from * this.#shardCount + to]!.queued;
    return queued;
  }

  /** Takes the instructions `from` issued (the tail of a durable reply). */
  onOutbound(from: number, bytes: Uint8Array): void {
    assert(bytes.byteLength % InstructionLayout.bytes === 0, 'outbound bytes are whole instructions');
    this.#outboundObserver?.(bytes);
    const nowMs = performance.now();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let runStart = 0;
    for (let at = 0; at <= bytes.byteLength; at += InstructionLayout.bytes) {
      const runEnds = at === bytes.byteLength || (at > runStart && view.getUint16(at + InstructionLayout.toShard, true) !== view.getUint16(runStart + InstructionLayout.toShard, true));
      if (!runEnds) continue;
      const to = view.getUint16(runStart + InstructionLayout.toShard, true);
      assert(view.getUint16(runStart + InstructionLayout.fromShard, true) === from && to < this.#shardCount && to !== from, 'instruction from its sender to another shard');
      this.#enqueue(from, to, bytes.subarray(runStart, at), nowMs);
      this.#deliver(to);
      runStart = at;
    }
  }

  /** Calls `observer` with every instruction the relay takes, before it is queued (RequestRouting's payer credits). */
  observeOutbound(observer: (bytes: Uint8Array) => void): void {
    this.#outboundObserver = observer;
  }

  /** The highest pair sequence `to` has applied from `from`, as far as the relay knows. */
  appliedThrough(from: number, to: number): number {
    return this.#pairs[from * this.#shardCount + to]!.applied;
  }

  stats(): TransitStats {
    let inFlight = 0;
    for (const pair of this.#pairs) inFlight += pair.queued;
    return {
      inFlight,
      delivered: this.#delays.delivered,
      delayMsP50: this.#delays.percentile(50),
      delayMsP99: this.#delays.percentile(99),
      reconciles: this.#reconciles,
      returned: this.#returned,
    };
  }

  /**
   * Resolves once `to` has applied every instruction queued for it when called (later ones need not have landed:
   * under load the relay is never idle); false if that took longer than `timeoutMs`, or if a delivery to `to`
   * fails meanwhile or is waiting to be retried (the shard cannot take credits now).
   */
  landedOn(to: number, timeoutMs: number): Promise<boolean> {
    if (this.#retryTimers[to] !== null) return Promise.resolve(false);
    const targets: { pair: PairQueue; through: number }[] = [];
    for (let from = 0; from < this.#shardCount; from++) {
      const pair = this.#pairs[from * this.#shardCount + to]!;
      if (from !== to && pair.applied < pair.last) targets.push({ pair, through: pair.last });
    }
    if (targets.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: LandingWaiter = { targets, resolve: (landed) => resolve(landed), timer: null };
      waiter.timer = setTimeout(() => this.#endWait(to, waiter, false), timeoutMs);
      this.#landingWaiters[to]!.push(waiter);
    });
  }

  /** Wakes the waiters of `to` whose targets are all applied now (called as acknowledgements arrive). */
  #wakeLanded(to: number): void {
    const waiters = this.#landingWaiters[to]!;
    if (waiters.length === 0) return;
    for (const waiter of [...waiters]) if (waiter.targets.every(({ pair, through }) => pair.applied >= through)) this.#endWait(to, waiter, true);
  }

  #endWait(to: number, waiter: LandingWaiter, landed: boolean): void {
    const waiters = this.#landingWaiters[to]!;
    const at = waiters.indexOf(waiter);
    if (at < 0) return;
    waiters.splice(at, 1);
    if (waiter.timer !== null) clearTimeout(waiter.timer);
    waiter.resolve(landed);
  }

  /** Resolves once nothing is in flight (tests, shutdown, a day cut); rejects after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      await this.reconcile();
      if (this.stats().inFlight === 0) return;
      if (performance.now() > deadline) throw new Error(`transit not idle after ${timeoutMs} ms: ${this.stats().inFlight} instructions in flight`);
      await new Promise((resolve) => setTimeout(resolve, this.#options.tickMs));
    }
  }

  /**
   * Reconciles until the relay holds every instruction the senders retain (at start: the observer sees the credits
   * answered before a restart before any new request is routed), or `roundsMax` rounds passed.
   */
  async takeRetained(roundsMax = 64): Promise<void> {
    for (let round = 0; round < roundsMax; round++) {
      await this.reconcile();
      if (!this.#reconcileWanted) return;
    }
  }

  /**
   * Asks every shard what it issued to and applied from each peer, drops what receivers applied, and
   * fetches from senders what the relay lacks. Safe at any time; runs one at a time.
   */
  reconcile(): Promise<void> {
    this.#reconciling ??= this.#reconcile().finally(() => {
      this.#reconciling = null;
    });
    return this.#reconciling;
  }

  async #reconcile(): Promise<void> {
    this.#reconcileWanted = false;
    this.#reconcileLastMs = performance.now();
    const statuses = await Promise.all(this.#hosts.map((host) => host.runInternal(ShardControl.transitStatus, new Uint8Array(0), false).catch(() => null)));
    if (statuses.some((status) => status === null)) this.#reconcileWanted = true; // a shard is restarting: try again soon
    const shardCount = this.#shardCount;
    const marks = statuses.map((status) => (status === null ? null : new Float64Array(status.buffer, status.byteOffset, 2 * shardCount)));
    // Fetches run one after another: a reconcile is rare, and each shard sees at most one relay fetch at once.
    const fetches: [from: number, to: number, after: number][] = [];
    for (let from = 0; from < shardCount; from++) {
      for (let to = 0; to < shardCount; to++) {
        if (from === to) continue;
        const pair = this.#pairs[from * shardCount + to]!;
        const applied = marks[to]?.[shardCount + from];
        if (applied !== undefined) this.#noteApplied(from, to, applied);
        const issued = marks[from]?.[to];
        if (issued !== undefined && issued > pair.last) fetches.push([from, to, pair.last]);
      }
    }
    for (const [from, to, after] of fetches) await this.#fetch(from, to, after);
    if (statuses.every((status) => status !== null)) this.#reconciles++;
  }

  async #fetch(from: number, to: number, after: number): Promise<void> {
    const body = new Uint8Array(peerMarkBytes);
    const view = new DataView(body.buffer);
    view.setUint16(0, to, true);
    view.setBigUint64(8, BigInt(after), true);
    try {
      const instructions = await this.#hosts[from]!.runInternal(ShardControl.fetchOutbox, body, true);
      if (instructions.byteLength > 0) this.onOutbound(from, instructions);
      // A sender holds more than one delivery's worth: the next reconcile fetches the rest.
      if (instructions.byteLength >= transitDeliveryInstructionsMax * InstructionLayout.bytes) this.#reconcileWanted = true;
    } catch {
      this.#reconcileWanted = true;
    }
  }

  #enqueue(from: number, to: number, run: Uint8Array, nowMs: number): void {
    const pair = this.#pairs[from * this.#shardCount + to]!;
    const view = new DataView(run.buffer, run.byteOffset, run.byteLength);
    const count = run.byteLength / InstructionLayout.bytes;
    const first = Number(view.getBigUint64(InstructionLayout.pairSeq, true));
    assert(Number(view.getBigUint64((count - 1) * InstructionLayout.bytes + InstructionLayout.pairSeq, true)) === first + count - 1, 'a run of one pair is consecutive');
    if (first > pair.last + 1) {
      // Something between was lost (a reply that died with its worker): the sender's outbox still has it.
      this.#reconcileWanted = true;
      return;
    }
    const skip = pair.last + 1 - first; // already queued or applied
    if (skip >= count) return;
    // Counted as queued, once each: a refetch after a lost reply or a restart of the sender skips what was queued.
    for (let k = skip; k < count; k++) if (view.getUint16(k * InstructionLayout.bytes + InstructionLayout.kind, true) === InstructionKind.return) this.#returned++;
    pair.chunks.push({ first: first + skip, count: count - skip, bytes: run.subarray(skip * InstructionLayout.bytes), receivedMs: nowMs });
    pair.last = first + count - 1;
  }

  /** Sends what is queued for `to` unless a delivery to it is in flight (then its completion sends it). */
  #deliver(to: number): void {
    if (this.#stopped || this.#pauses > 0 || this.#delivering[to] || this.#retryTimers[to] !== null) return;
    const body = this.#gather(to);
    if (body === null) return;
    this.#delivering[to] = true;
    this.#deliveriesRunning++;
    // The body's buffer is handed to the worker (not copied): what the reply needs of it is read first.
    const sent = sentMarks(body.bytes);
    this.#hosts[to]!.runInternal(ShardControl.applyInbound, body.bytes, true).then(
      (reply) => {
        this.#deliveriesRunning--;
        this.#delivering[to] = false;
        this.#onDelivered(to, sent, reply);
        this.#deliver(to);
      },
      (error: unknown) => {
        this.#deliveriesRunning--;
        this.#delivering[to] = false;
        this.#reconcileWanted = true;
        if (!this.#stopped) this.#options.log(`tally transit: delivery to shard ${to} failed, retrying: ${error instanceof Error ? error.message : String(error)}`);
        // The shard cannot take credits now (a full disk, a worker restarting): nobody waits for them to land.
        for (const waiter of [...this.#landingWaiters[to]!]) this.#endWait(to, waiter, false);
        this.#retryTimers[to] = setTimeout(() => {
          this.#retryTimers[to] = null;
          this.#deliver(to);
        }, this.#options.retryMs);
      },
    );
  }

  /** Up to one delivery's worth of queued instructions for `to`, taken from each sender in turn. */
  #gather(to: number): { bytes: Uint8Array } | null {
    const parts: Uint8Array[] = [];
    let room = transitDeliveryInstructionsMax;
    for (let from = 0; from < this.#shardCount && room > 0; from++) {
      if (from === to) continue;
      for (const chunk of this.#pairs[from * this.#shardCount + to]!.chunks) {
        if (room === 0) break;
        const take = Math.min(room, chunk.count);
        parts.push(chunk.bytes.subarray(0, take * InstructionLayout.bytes));
        room -= take;
      }
    }
    if (parts.length === 0) return null;
    const bytes = new Uint8Array((transitDeliveryInstructionsMax - room) * InstructionLayout.bytes);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    return { bytes };
  }

  #onDelivered(to: number, sent: SentMarks, reply: Uint8Array): void {
    const count = sent.from.length;
    assert(reply.byteLength >= count && (reply.byteLength - count) % InstructionLayout.bytes === 0, 'a delivery reply holds one status per instruction, then returns');
    // Per sender, the highest sequence applied (or found applied): one acknowledgement each.
    const applied = new Map<number, number>();
    for (let k = 0; k < count; k++) {
      if (reply[k] === InboundStatus.gap) {
        this.#reconcileWanted = true;
        continue;
      }
      applied.set(sent.from[k]!, Math.max(applied.get(sent.from[k]!) ?? 0, sent.pairSeq[k]!));
    }
    for (const [from, pairSeq] of applied) this.#noteApplied(from, to, pairSeq);
    if (reply.byteLength > count) this.onOutbound(to, reply.subarray(count));
  }

  #noteApplied(from: number, to: number, pairSeq: number): void {
    const pair = this.#pairs[from * this.#shardCount + to]!;
    if (pairSeq <= pair.applied) return;
    pair.acknowledge(pairSeq, performance.now(), this.#delays);
    this.#acknowledgements[from]!.set(to, pairSeq);
    this.#wakeLanded(to);
  }

  #tick(): void {
    if (this.#stopped) return;
    for (let from = 0; from < this.#shardCount; from++) this.#sendAcknowledgements(from);
    const due = performance.now() - this.#reconcileLastMs >= this.#options.reconcileMs;
    if ((this.#reconcileWanted || due) && this.#reconciling === null) void this.reconcile();
  }

  #sendAcknowledgements(from: number): void {
    const marks = this.#acknowledgements[from]!;
    if (marks.size === 0 || this.#acknowledging[from]) return;
    const body = new Uint8Array(marks.size * peerMarkBytes);
    const view = new DataView(body.buffer);
    let at = 0;
    for (const [to, pairSeq] of marks) {
      view.setUint16(at, to, true);
      view.setBigUint64(at + 8, BigInt(pairSeq), true);
      at += peerMarkBytes;
    }
    marks.clear();
    this.#acknowledging[from] = true;
    // A lost acknowledgement only keeps instructions retained a little longer; the next one covers it.
    this.#hosts[from]!.runInternal(ShardControl.acknowledgeOutbox, body, true)
      .catch(() => {})
      .finally(() => (this.#acknowledging[from] = false));
  }
}
