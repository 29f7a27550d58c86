// Pipelined create_transfers load over raw WebSockets: each socket keeps a fixed number of requests in
// flight and sends the next one as each reply arrives. The public client coalesces concurrent calls
// into shared frames, so only raw frames can hold the batch size fixed (1 transfer per frame really
// travels as 1). Frames use the client's own codec; the path through gateway and shards is the real one.
// Throughput counts transfers posted (results ok): a refusal is not a transfer done.

import WebSocket from 'ws';
import { decodeReply, encodeRequest } from '../../src/client/frame-codec.js';
import { resultBytes } from '../../src/core/layout.js';
import { eventBytes, replyFrameBytesMax } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import { ResultCode, resultName } from '../../src/core/result-codes.js';
import { LatencyRecorder, msBetween } from './latency.js';
import type { TransferSource } from './transfer-source.js';

export interface DriveOptions {
  url: string;
  /** Transfers per request; with batchEventsMax, the fewest, each request taking a size in between at random. */
  batchEvents: number;
  batchEventsMax?: number;
  connections: number;
  inFlight: number;
  warmupMs: number;
  durationMs: number;
  source: TransferSource;
  /** Called about once a second while measuring. */
  onProgress: (progress: DriveProgress) => void;
  /** Called once when the warm-up ends and the measured window begins (not at all if the phase fails first). */
  onMeasureStart?: () => void;
  /** Called once when the measured window ends (replies to requests still in flight are awaited after it). */
  onMeasureEnd?: () => void;
}

export interface DriveProgress {
  elapsedMs: number;
  transfersAcked: number;
  /** Latency samples recorded so far; pass the previous value to summarise just the last interval. */
  latencies: LatencyRecorder;
}

export interface DriveResult {
  /** Transfers acknowledged ok between the end of the warm-up and the end of the measured window. */
  transfersMeasured: number;
  requestsMeasured: number;
  elapsedMs: number;
  latencies: LatencyRecorder;
  /** Over the whole phase, warm-up and drain included. */
  transfersSent: number;
  transfersOk: number;
  /** Hot-debit transfers refused insufficient_funds on a slice (TransferSource.refusedForSliceMoney): not failures, not ok. */
  refusedForSliceMoney: number;
  /** Results other than ok, by name, and error frames, by code (the refusals above apart). */
  failures: Map<string, number>;
  /** The measured window, as process.hrtime.bigint() readings. */
  measureFromNs: bigint;
  measureToNs: bigint;
}

/** How long a request slot waits after an `overloaded` reply before sending again (a client backing off). */
const overloadedBackoffMs = 10;

interface Sent {
  sentAtNs: bigint;
  /** Kept until the reply, to read back a refused transfer. */
  body: Uint8Array;
}

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => openSocket(options.url)));
  const latencies = new LatencyRecorder();
  const failures = new Map<string, number>();
  const startNs = process.hrtime.bigint();
  const measureFromNs = startNs + BigInt(Math.round(options.warmupMs * 1e6));
  const measureToNs = measureFromNs + BigInt(Math.round(options.durationMs * 1e6));
  const totals = { sent: 0, ok: 0, refused: 0, measured: 0, requestsMeasured: 0 };
  const fail = (name: string, count: number) => failures.set(name, (failures.get(name) ?? 0) + count);
  const spread = (options.batchEventsMax ?? options.batchEvents) - options.batchEvents;
  const sizeOfNext = (): number => options.batchEvents + (spread > 0 ? Math.floor(Math.random() * (spread + 1)) : 0);
  const outcomes: ReplyOutcomes = { fail, refused: (body, index) => options.source.refusedForSliceMoney(body, index) };

  const runSocket = (socket: WebSocket) =>
    new Promise<void>((resolve, reject) => {
      const inFlight = new Map<number, Sent>();
      let requestId = 0;
      const sendNext = () => {
        const body = options.source.nextBody(sizeOfNext());
        requestId = requestId === 0xffff_ffff ? 1 : requestId + 1;
        inFlight.set(requestId, { sentAtNs: process.hrtime.bigint(), body });
        totals.sent += body.byteLength / eventBytes;
        socket.send(encodeRequest(requestId, Operation.create_transfers, body), { binary: true });
      };
      socket.on('message', (data: Buffer) => {
        const nowNs = process.hrtime.bigint();
        const reply = decodeReply(data);
        const sent = inFlight.get(reply.requestId);
        if (sent === undefined) return reject(new Error(`reply to unknown request ${reply.requestId}`));
        inFlight.delete(reply.requestId);
        if (reply.error) fail(reply.error.code, sent.body.byteLength / eventBytes);
        // Refused whole before any part ran (the gateway's admission): none of it posted, so out of the sums.
        const overloaded = reply.error?.code === 'overloaded';
        if (overloaded) options.source.takeBackRequest(sent.body);
        const { ok, refused } = reply.error ? { ok: 0, refused: 0 } : countOutcomes(reply.body, sent.body, outcomes);
        totals.ok += ok;
        totals.refused += refused;
        if (nowNs >= measureFromNs && nowNs < measureToNs) {
          totals.measured += ok;
          totals.requestsMeasured++;
          if (sent.sentAtNs >= measureFromNs) latencies.record(msBetween(sent.sentAtNs, nowNs));
        }
        afterReply(overloaded);
      });
      let backingOff = 0;
      /** The next request, at once, or after overloadedBackoffMs as a client backs off; resolves once all is answered past the window. */
      const afterReply = (overloaded: boolean): void => {
        if (process.hrtime.bigint() < measureToNs) {
          if (!overloaded) return sendNext();
          backingOff++;
          setTimeout(() => {
            backingOff--;
            afterReply(false);
          }, overloadedBackoffMs);
          return;
        }
        if (inFlight.size === 0 && backingOff === 0) resolve();
      };
      socket.on('close', () => (inFlight.size > 0 ? reject(new Error('socket closed with requests in flight')) : resolve()));
      for (let i = 0; i < options.inFlight; i++) sendNext();
    });

  const progress = setInterval(() => {
    const nowNs = process.hrtime.bigint();
    if (nowNs < measureFromNs) return;
    options.onProgress({ elapsedMs: msBetween(measureFromNs, nowNs), transfersAcked: totals.measured, latencies });
  }, 1000);
  let measureEnded = false;
  const endMeasure = () => {
    if (measureEnded) return;
    measureEnded = true;
    options.onMeasureEnd?.();
  };
  const measureStart = options.onMeasureStart === undefined ? null : setTimeout(options.onMeasureStart, Math.max(0, msBetween(process.hrtime.bigint(), measureFromNs)));
  const measureEnd = setTimeout(endMeasure, Math.max(0, msBetween(process.hrtime.bigint(), measureToNs)));
  try {
    await Promise.all(sockets.map(runSocket));
  } finally {
    clearInterval(progress);
    clearTimeout(measureEnd);
    if (measureStart !== null) clearTimeout(measureStart);
    endMeasure(); // the last replies may beat the timer to it
    await Promise.all(sockets.map(closeSocket));
  }
  return {
    transfersMeasured: totals.measured,
    requestsMeasured: totals.requestsMeasured,
    elapsedMs: options.durationMs,
    latencies,
    transfersSent: totals.sent,
    transfersOk: totals.ok,
    refusedForSliceMoney: totals.refused,
    failures,
    measureFromNs,
    measureToNs,
  };
}

interface ReplyOutcomes {
  fail: (name: string, count: number) => void;
  /** Whether the request's transfer at `index`, refused insufficient_funds, is a hot-debit slice refusal (then counted apart). */
  refused: (request: Uint8Array, index: number) => boolean;
}

/** Counts ok results (u16 code 0) and slice refusals in a write reply; tallies every other result by name. */
function countOutcomes(reply: Uint8Array, request: Uint8Array, outcomes: ReplyOutcomes): { ok: number; refused: number } {
  const events = request.byteLength / eventBytes;
  if (reply.byteLength !== events * resultBytes) {
    outcomes.fail('reply_length_mismatch', events);
    return { ok: 0, refused: 0 };
  }
  let ok = 0;
  let refused = 0;
  for (let at = 0, index = 0; at < reply.byteLength; at += resultBytes, index++) {
    const code = reply[at] | (reply[at + 1] << 8);
    if (code === 0) ok++;
    else if (code === ResultCode.insufficient_funds && outcomes.refused(request, index)) refused++;
    else outcomes.fail(resultName(code) ?? `code_${code}`, 1);
  }
  return { ok, refused };
}

function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: replyFrameBytesMax });
  socket.binaryType = 'nodebuffer';
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.close(1000, 'bench done');
  });
}
