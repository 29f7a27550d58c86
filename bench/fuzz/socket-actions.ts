// Actions below the client: hostile frames on a bare socket (each answered or closed as wire-frames.ts
// says), a slow client that pipelines large replies and never reads them, idle clients and half-open TCP
// connections that must not stop anyone else, and the burst (a cross-shard chain while 100+ frames queue
// on one shard). Every wait is bounded; an answer that never comes while the server runs is a failure.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TallyError, type TransferInput } from '../../src/client/index.js';
import { lookupIdsMax } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import { decodeResults, encodeIds } from '../../src/core/wire/records.js';
import type { ReplyFrame } from '../../src/core/wire/wire.js';
import type { RawSocket } from '../../test/support/raw-socket.js';
import type { EventPlan } from './events.js';
import { failedCall, type RunContext } from './run-context.js';
import type { KeyName } from './generator.js';
import type { RawFrame } from './wire-frames.js';

/** How long one hostile frame may go unanswered, and how long the burst's queue may take to drain. */
const frameReplyMsMax = 10_000;
const burstDrainMsMax = 30_000;

const timedOut = Symbol('timed out');

async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof timedOut> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof timedOut>((resolve) => (timer = setTimeout(() => resolve(timedOut), ms)));
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits `ms`, or less when the server is stopped meanwhile (so that a restart never waits on a client that only idles). */
async function idle(ctx: RunContext, ms: number): Promise<void> {
  const epoch = ctx.epoch();
  const endMs = performance.now() + ms;
  while (performance.now() < endMs && ctx.epoch() === epoch && ctx.up()) await sleep(Math.min(100, endMs - performance.now()));
}

/** Opens a bare socket for `key`; null (after recording why) when it cannot. */
async function openRaw(ctx: RunContext, step: number, key: KeyName, label: string): Promise<RawSocket | null> {
  const epoch = ctx.epoch();
  try {
    return await ctx.clients.raw(key);
  } catch (error) {
    if (ctx.up() && ctx.epoch() === epoch) ctx.fail(step, `${label}: cannot open a socket: ${(error as Error).message}`);
    return null;
  }
}

function describeReply(reply: ReplyFrame): string {
  return reply.error === undefined ? `a reply under request id ${reply.requestId} (${reply.body.byteLength} bytes)` : `${reply.error.code} under request id ${reply.requestId} (${reply.error.message})`;
}

/** Whether `reply` is what `frame` must get; settles the frame's events from it. Returns the mismatch, or null. */
function judge(frame: RawFrame, reply: ReplyFrame): string | null {
  const expect = frame.expect;
  if ('close' in expect) return `expected the socket closed, got ${describeReply(reply)}`;
  if ('error' in expect) {
    for (const a of frame.attempts ?? []) a.outcome = reply.error === undefined ? 'unknown' : 'refused';
    // overloaded (a snapshot running, a full queue) may come first: the frame was refused whole either way.
    if ((reply.error?.code === expect.error || reply.error?.code === 'overloaded') && reply.requestId === expect.requestId) return null;
    return `expected ${expect.error} under request id ${expect.requestId}, got ${describeReply(reply)}`;
  }
  if (reply.error !== undefined || reply.requestId !== expect.reply) {
    for (const a of frame.attempts ?? []) a.outcome = reply.error?.code === 'overloaded' ? 'refused' : 'unknown';
    return reply.error?.code === 'overloaded' ? null : `expected a reply under request id ${expect.reply}, got ${describeReply(reply)}`;
  }
  if (frame.attempts === undefined && expect.results === undefined) return null;
  const results = decodeResults(reply.body).map((r) => r.result);
  frame.attempts?.forEach((a, i) => (a.outcome = results[i] ?? 'unknown'));
  if (expect.results !== undefined && results.join() !== expect.results.join()) return `expected results ${expect.results.join(', ')}, got ${results.join(', ')}`;
  return null;
}

export async function runRaw(ctx: RunContext, step: number, key: KeyName, frames: readonly RawFrame[]): Promise<void> {
  const epoch = ctx.epoch();
  const socket = await openRaw(ctx, step, key, 'hostile frames');
  if (socket === null) return;
  const stopped = () => !ctx.up() || ctx.epoch() !== epoch;
  try {
    for (const frame of frames) {
      ctx.stats.request('hostile frame');
      socket.send(frame.bytes);
      if ('close' in frame.expect) {
        const closed = await within(socket.closed, frameReplyMsMax);
        const codes = frame.expect.close;
        if (closed === timedOut || !codes.includes(closed.code)) {
          if (!stopped()) ctx.fail(step, `${frame.why}: expected the socket closed with ${codes.join(' or ')}, got ${closed === timedOut ? 'no close' : `close ${closed.code}`}`);
        }
        return;
      }
      const replyMsMax = frame.replyMsMax ?? frameReplyMsMax;
      const reply = await within(socket.next(), replyMsMax);
      if (reply === timedOut) {
        if (!stopped()) ctx.fail(step, `${frame.why}: no answer within ${replyMsMax / 1000} s`);
        for (const a of frame.attempts ?? []) a.outcome = 'unknown';
        return;
      }
      ctx.stats.result(reply.error === undefined ? 'frame answered' : `frame refused ${reply.error.code}`);
      const mismatch = judge(frame, reply);
      if (mismatch !== null && !(stopped() && reply.error !== undefined)) ctx.fail(step, `${frame.why}: ${mismatch}`);
    }
  } finally {
    socket.ws.terminate();
  }
}

/**
 * Sends `requests` lookups of lookupIdsMax ids each (a MiB of reply apiece), `paceMs` apart, and never reads
 * a byte. Paced, the shard's queue stays short; all at once (paceMs 0) they queue behind one another, which
 * with a cross-shard chain meets issue #20's defect 4 (the burst family).
 */
export async function runSlowClient(ctx: RunContext, step: number, requests: number, accountId: bigint, paceMs: number, holdMs: number): Promise<void> {
  const socket = await openRaw(ctx, step, 'reader', 'slow client');
  if (socket === null) return;
  socket.ws.pause();
  const body = encodeIds(Array.from({ length: lookupIdsMax }, () => accountId));
  ctx.stats.request('slow client');
  try {
    for (let i = 1; i <= requests && socket.ws.readyState === socket.ws.OPEN; i++) {
      socket.request(i, Operation.lookup_accounts, body);
      if (paceMs > 0) await sleep(paceMs);
    }
    const closed = await Promise.race([socket.closed, idle(ctx, holdMs).then((): typeof timedOut => timedOut)]);
    ctx.stats.result(closed === timedOut ? 'slow client held' : `slow client closed ${closed.code}`);
  } finally {
    socket.ws.terminate();
  }
}

/** Idle connections and half-open TCP connections; afterwards every idle connection must still answer. */
export async function runIdleClients(ctx: RunContext, step: number, count: number, halfOpen: number, holdMs: number): Promise<void> {
  const epoch = ctx.epoch();
  ctx.stats.request('idle clients');
  const sockets = Array.from({ length: halfOpen }, () => {
    const socket = net.connect(ctx.clients.port(), '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'));
    socket.on('error', () => undefined);
    return socket;
  });
  const opened = await Promise.allSettled(Array.from({ length: count }, () => ctx.clients.connectOne('reader')));
  const clients = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  for (const o of opened) if (o.status === 'rejected') failedCall(ctx, step, epoch, 'idle client connect', o.reason, []);
  try {
    await idle(ctx, holdMs);
    for (const client of clients) {
      try {
        await client.lookupAccounts([1n]);
      } catch (error) {
        failedCall(ctx, step, epoch, `idle client after ${holdMs} ms`, error, []);
      }
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}

/** Queues every frame at once on one socket, sends the chain meanwhile, and waits for every answer. */
export async function runBurst(
  ctx: RunContext,
  step: number,
  frames: readonly RawFrame[],
  chain: EventPlan<Required<TransferInput>>[],
  sendChain: (events: EventPlan<Required<TransferInput>>[]) => Promise<void>,
): Promise<void> {
  const epoch = ctx.epoch();
  const socket = await openRaw(ctx, step, 'opsA', 'burst');
  if (socket === null) return;
  ctx.stats.request('burst');
  for (const frame of frames) socket.send(frame.bytes);
  const chainSent = sendChain(chain);
  const byId = new Map(frames.map((f) => ['reply' in f.expect ? f.expect.reply : -1, f] as const));
  const startMs = performance.now();
  let answered = 0;
  try {
    while (answered < frames.length) {
      const reply = await within(socket.next(), Math.max(1, burstDrainMsMax - (performance.now() - startMs)));
      if (reply === timedOut) break;
      answered++;
      const frame = byId.get(reply.requestId);
      byId.delete(reply.requestId);
      const mismatch = frame === undefined ? `a reply to request id ${reply.requestId}, which was not sent` : judge(frame, reply);
      if (mismatch !== null && ctx.up() && ctx.epoch() === epoch) ctx.fail(step, `burst: ${frame?.why ?? ''}: ${mismatch}`);
    }
    for (const frame of byId.values()) for (const a of frame.attempts ?? []) a.outcome = 'unknown';
    if (answered < frames.length && ctx.up() && ctx.epoch() === epoch) {
      ctx.fail(step, `burst: ${frames.length - answered} of ${frames.length} requests queued behind a cross-shard chain unanswered after ${burstDrainMsMax / 1000} s (a hang)`);
    }
    await chainSent;
  } catch (error) {
    if (!(error instanceof TallyError)) throw error;
  } finally {
    socket.ws.terminate();
  }
}
