// Coalescing: calls of one operation made in the same event-loop turn go out in as few frames as possible,
// and each reply is split back to its callers. A caller's events stay contiguous and in order, a linked
// chain never spans two callers, and a call larger than one batch goes out as consecutive frames, in order.

import { assert } from '../core/assert.js';
import { TallyError, errors } from '../core/errors.js';
import { idBytes, resultBytes } from '../core/layout.js';
import { batchEventsMax, eventBytes, lookupIdsMax } from '../core/limits.js';
import { decodeResults, encodeIds, type EventResult } from '../core/wire/records.js';
import { AccountFlags, AccountOperationFlags, TransferFlags } from '../core/types.js';
import { idKey, idKeyAt } from '../core/u128.js';
import type { RequestLink } from './failover.js';

/** `linked` is bit 0 of the flags of all three event records, so one test serves every write batcher. */
const linkedFlag = TransferFlags.linked;
assert(AccountFlags.linked === linkedFlag && AccountOperationFlags.linked === linkedFlag, 'linked is the same bit in every record');

interface WriteCall {
  events: Uint8Array;
  count: number;
  resolve(results: EventResult[]): void;
  reject(error: unknown): void;
}

export class WriteBatcher {
  private calls: WriteCall[] = [];
  private scheduled = false;

  /** `flagsOffset`: where the u16 flags sit in this operation's 128-byte record. */
  constructor(
    private readonly connection: RequestLink,
    private readonly operation: number,
    private readonly flagsOffset: number,
    private readonly timeoutMs: number,
  ) {}

  /** `events`: N encoded records. Resolves with N results, indexes relative to this call. */
  submit(events: Uint8Array): Promise<EventResult[]> {
    assert(events.byteLength % eventBytes === 0, 'write calls are whole records');
    const count = events.byteLength / eventBytes;
    if (count === 0) return Promise.resolve([]);
    if (count > batchEventsMax) return this.sendLarge(events, count);
    return new Promise((resolve, reject) => {
      this.calls.push({ events, count, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: callers resumed by the same reply all get to submit first.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const calls = this.calls;
    this.calls = [];
    this.scheduled = false;
    for (const group of groupCalls(calls, (call) => this.chainOpen(call.events, call.count))) void this.sendGroup(group);
  }

  private async sendGroup(group: WriteCall[]): Promise<void> {
    try {
      const reply = await this.connection.request(this.operation, concatEvents(group), this.timeoutMs);
      splitResults(reply, group);
    } catch (error) {
      for (const call of group) call.reject(error); // no effect on calls already resolved
    }
  }

  /** A call bigger than one batch: consecutive frames, each sent after the previous reply, so order holds. */
  private async sendLarge(events: Uint8Array, count: number): Promise<EventResult[]> {
    const parts = this.partsOf(events, count);
    const deadlineMs = performance.now() + this.timeoutMs;
    const results: EventResult[] = [];
    for (const [start, end] of parts) {
      const remainingMs = Math.ceil(deadlineMs - performance.now());
      if (remainingMs <= 0) throw errors.timeout(this.timeoutMs);
      const reply = await this.connection.request(this.operation, events.subarray(start * eventBytes, end * eventBytes), remainingMs);
      for (const result of resultsOf(reply, end - start)) results.push({ ...result, index: result.index + start });
    }
    return results;
  }

  /** Split points at chain boundaries, each part 1..batchEventsMax events; all computed before anything is sent. */
  private partsOf(events: Uint8Array, count: number): [number, number][] {
    const parts: [number, number][] = [];
    for (let start = 0; start < count; ) {
      let end = Math.min(start + batchEventsMax, count);
      while (end < count && end > start && this.linkedAt(events, end - 1)) end--;
      if (end === start) throw new TallyError('batch_too_large', `the linked chain at event ${start} is longer than ${batchEventsMax} events`);
      parts.push([start, end]);
      start = end;
    }
    assert(parts.length >= 2 && parts[parts.length - 1][1] === count, 'a large call is split into parts covering it exactly');
    return parts;
  }

  private linkedAt(events: Uint8Array, index: number): boolean {
    const offset = index * eventBytes + this.flagsOffset;
    return ((events[offset] | (events[offset + 1] << 8)) & linkedFlag) !== 0;
  }

  /** A call whose last event is linked leaves its chain open; nobody else's events may continue it. */
  private chainOpen(events: Uint8Array, count: number): boolean {
    return this.linkedAt(events, count - 1);
  }
}

/** Greedy: calls in order, at most batchEventsMax events per frame, a frame ends after an open chain. */
function groupCalls(calls: WriteCall[], chainOpen: (call: WriteCall) => boolean): WriteCall[][] {
  const groups: WriteCall[][] = [];
  let group: WriteCall[] = [];
  let events = 0;
  for (const call of calls) {
    if (events + call.count > batchEventsMax) {
      groups.push(group);
      group = [];
      events = 0;
    }
    group.push(call);
    events += call.count;
    assert(events <= batchEventsMax, 'a frame holds at most batchEventsMax events');
    if (chainOpen(call)) {
      groups.push(group);
      group = [];
      events = 0;
    }
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function concatEvents(group: WriteCall[]): Uint8Array {
  if (group.length === 1) return group[0].events;
  let bytes = 0;
  for (const call of group) bytes += call.events.byteLength;
  const body = new Uint8Array(bytes);
  let offset = 0;
  for (const call of group) {
    body.set(call.events, offset);
    offset += call.events.byteLength;
  }
  return body;
}

function resultsOf(reply: Uint8Array, count: number): EventResult[] {
  if (reply.byteLength !== count * resultBytes) throw errors.bodyInvalid(`${reply.byteLength / resultBytes} results for ${count} events`);
  return decodeResults(reply);
}

function splitResults(reply: Uint8Array, group: WriteCall[]): void {
  let total = 0;
  for (const call of group) total += call.count;
  if (reply.byteLength !== total * resultBytes) throw errors.bodyInvalid(`${reply.byteLength / resultBytes} results for ${total} events`);
  let offset = 0;
  for (const call of group) {
    // Decoding the caller's own slice makes its indexes relative to its call.
    call.resolve(decodeResults(reply.subarray(offset * resultBytes, (offset + call.count) * resultBytes)));
    offset += call.count;
  }
  assert(offset === total, 'every result went to a caller');
}

interface LookupCall<T> {
  ids: Uint8Array;
  resolve(records: T[]): void;
  reject(error: unknown): void;
}

/**
 * Lookups made in the same turn share frames: ids are merged without duplicates (up to lookupIdsMax per
 * frame) and each caller gets the found records of its own ids, in its order.
 */
export class LookupBatcher<T extends { id: bigint }> {
  private calls: LookupCall<T>[] = [];
  private scheduled = false;

  constructor(
    private readonly connection: RequestLink,
    private readonly operation: number,
    private readonly decode: (body: Uint8Array) => T[],
    private readonly timeoutMs: number,
  ) {}

  submit(ids: readonly bigint[]): Promise<T[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const encoded = encodeIds(ids); // throws a TypeError naming the bad id before anything is queued
    return new Promise((resolve, reject) => {
      this.calls.push({ ids: encoded, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const calls = this.calls;
    this.calls = [];
    this.scheduled = false;
    try {
      const bodies = frameBodies(uniqueIds(calls));
      const replies = await Promise.all(bodies.map((body) => this.connection.request(this.operation, body, this.timeoutMs)));
      deliver(calls, this.found(replies));
    } catch (error) {
      for (const call of calls) call.reject(error);
    }
  }

  private found(replies: Uint8Array[]): Map<string, { record: T; delivered: boolean }> {
    const found = new Map<string, { record: T; delivered: boolean }>();
    for (const reply of replies) for (const record of this.decode(reply)) found.set(idKey(record.id), { record, delivered: false });
    return found;
  }
}

/** Each distinct id once, as its 16 encoded bytes, keyed by its id key. */
function uniqueIds<T>(calls: LookupCall<T>[]): Map<string, Uint8Array> {
  const unique = new Map<string, Uint8Array>();
  for (const call of calls) {
    const view = new DataView(call.ids.buffer, call.ids.byteOffset, call.ids.byteLength);
    for (let offset = 0; offset < call.ids.byteLength; offset += idBytes) {
      const key = idKeyAt(view, offset);
      if (!unique.has(key)) unique.set(key, call.ids.subarray(offset, offset + idBytes));
    }
  }
  return unique;
}

function frameBodies(unique: Map<string, Uint8Array>): Uint8Array[] {
  const ids = [...unique.values()];
  const bodies: Uint8Array[] = [];
  for (let start = 0; start < ids.length; start += lookupIdsMax) {
    const chunk = ids.slice(start, start + lookupIdsMax);
    const body = new Uint8Array(chunk.length * idBytes);
    chunk.forEach((id, i) => body.set(id, i * idBytes));
    bodies.push(body);
  }
  return bodies;
}

/** Every caller gets its own objects: a record asked for twice is copied, so one caller's edits never reach another. */
function deliver<T extends { id: bigint }>(calls: LookupCall<T>[], found: Map<string, { record: T; delivered: boolean }>): void {
  for (const call of calls) {
    const view = new DataView(call.ids.buffer, call.ids.byteOffset, call.ids.byteLength);
    const records: T[] = [];
    for (let offset = 0; offset < call.ids.byteLength; offset += idBytes) {
      const hit = found.get(idKeyAt(view, offset));
      if (!hit) continue;
      records.push(hit.delivered ? { ...hit.record } : hit.record);
      hit.delivered = true;
    }
    call.resolve(records);
  }
}
