// One WebSocket to a Tally gateway: request ids, the in-flight window, timeouts, and the fate of
// every frame — each settles exactly once (reply, error frame, timeout or close) and frees its slot.
// It knows frames, not ledger records; batching lives in batcher.ts.

import { protocolName } from '../core/wire/protocol-version.js';
import WebSocket from 'ws';
import { assert } from '../core/assert.js';
import { TallyError, errors } from '../core/errors.js';
import { clientFramesQueuedMax, connectionRequestsInFlightMax, replyFrameBytesMax, requestIdMax } from '../core/limits.js';
import type { ReplyFrame } from '../core/wire/wire.js';
import { decodeReply, encodeRequest } from './frame-codec.js';

/** TLS trust for wss:// (and the https:// health check): node's tls options of the same names. */
export interface ClientTls {
  /** Certificate authorities to trust instead of the system's, e.g. a self-signed server certificate (PEM). */
  ca?: string | Buffer | (string | Buffer)[];
  /** false accepts any certificate (tests only: it lets anyone in the middle read and change traffic). Default true. */
  rejectUnauthorized?: boolean;
}

/** What a connection presents: the API key (sent as `Authorization: Bearer <key>` on the upgrade) and TLS trust. */
export interface ConnectionAccess {
  apiKey?: string;
  tls?: ClientTls;
}

interface Frame {
  requestId: number;
  operation: number;
  body: Uint8Array;
  resolve(body: Uint8Array): void;
  reject(error: TallyError): void;
  timer: NodeJS.Timeout | undefined;
  state: 'queued' | 'sent' | 'settled';
}

export class Connection {
  /** Frames sent and not yet answered, by request id. Never more than the gateway's per-connection cap. */
  private readonly inFlight = new Map<number, Frame>();
  private queue: Frame[] = [];
  private queueHead = 0;
  private requestIdLast = 0;
  private closedBy: TallyError | null = null;
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly socket: WebSocket) {
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', (code, reason) => this.fail(errors.connectionClosed(`socket closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`)));
    socket.on('error', (error) => this.fail(errors.connectionClosed(error.message)));
  }

  /** Opens the socket; rejects with `timeout` after `timeoutMs`, or `connection_closed` if it cannot connect. */
  static open(url: string, timeoutMs: number, access: ConnectionAccess = {}): Promise<Connection> {
    const headers = access.apiKey === undefined ? undefined : { authorization: `Bearer ${access.apiKey}` };
    const { ca, rejectUnauthorized = true } = access.tls ?? {};
    // The wire protocol's version is agreed at the upgrade (core/wire/protocol-version.ts).
    const socket = new WebSocket(url, [protocolName], { maxPayload: replyFrameBytesMax, perMessageDeflate: false, headers, ca, rejectUnauthorized });
    socket.binaryType = 'nodebuffer';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(errors.timeout(timeoutMs));
        socket.terminate();
      }, timeoutMs);
      const refuse = (why: string) => {
        clearTimeout(timer);
        reject(errors.connectionClosed(`cannot connect to ${url}: ${why}`));
      };
      const onError = (error: Error) => refuse(/subprotocol/i.test(error.message) ? `the server does not speak wire protocol ${protocolName} (${error.message}): use a client of the server's version` : error.message);
      socket.on('error', onError);
      // A refused upgrade (HTTP 426 for another protocol version, 503 while shutting down): its body says why.
      socket.once('unexpected-response', (request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk.slice(0, 2_000)));
        response.on('end', () => {
          refuse(`the server refused the connection (HTTP ${response.statusCode ?? '?'}${body === '' ? '' : `: ${body}`})`);
          request.destroy();
        });
      });
      socket.once('open', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        if (socket.protocol !== protocolName) {
          socket.terminate();
          return refuse(`the server selected wire protocol ${JSON.stringify(socket.protocol)}, this client speaks ${protocolName}`);
        }
        resolve(new Connection(socket));
      });
    });
  }

  /** Sends one frame; resolves with the reply body. `timeoutMs` counts from now, waiting in the queue included. */
  request(operation: number, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    if (this.queue.length - this.queueHead >= clientFramesQueuedMax) {
      return Promise.reject(errors.overloaded(`${clientFramesQueuedMax} frames already wait to be sent`));
    }
    return new Promise((resolve, reject) => {
      const frame: Frame = { requestId: 0, operation, body, resolve, reject, timer: undefined, state: 'queued' };
      frame.timer = setTimeout(() => this.expire(frame, timeoutMs), timeoutMs);
      this.queue.push(frame);
      this.pump();
    });
  }

  /** Closes the socket; every frame still pending rejects with `connection_closed`. */
  close(): Promise<void> {
    this.fail(errors.connectionClosed('closed by the client'));
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) this.socket.close(1000, 'client closed');
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return this.closedPromise;
  }

  /** Sends queued frames while the window has room. */
  private pump(): void {
    while (this.queueHead < this.queue.length && this.inFlight.size < connectionRequestsInFlightMax) {
      const frame = this.queue[this.queueHead++];
      if (frame.state === 'queued') this.send(frame);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private send(frame: Frame): void {
    assert(this.inFlight.size < connectionRequestsInFlightMax, 'the window has room');
    assert(!this.closedBy, 'nothing is sent on a failed connection');
    frame.requestId = this.nextRequestId();
    frame.state = 'sent';
    this.inFlight.set(frame.requestId, frame);
    this.socket.send(encodeRequest(frame.requestId, frame.operation, frame.body), { binary: true });
  }

  /** Ids run 1..requestIdMax and wrap; an id still in flight is skipped (the window keeps that rare). */
  private nextRequestId(): number {
    do this.requestIdLast = this.requestIdLast === requestIdMax ? 1 : this.requestIdLast + 1;
    while (this.inFlight.has(this.requestIdLast));
    return this.requestIdLast;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) return this.abort(errors.frameInvalid('the server sent a text frame'));
    let reply: ReplyFrame;
    try {
      reply = decodeReply(data);
    } catch (error) {
      return this.abort(error as TallyError);
    }
    // Request id 0: the gateway could not read one of our frames, so some call would never hear back.
    if (reply.requestId === 0) return this.abort(reply.error ?? errors.frameInvalid('a reply to request id 0'));
    const frame = this.inFlight.get(reply.requestId);
    if (!frame) return; // it timed out earlier; the late reply has no one to go to
    if (reply.error) this.settle(frame, () => frame.reject(reply.error));
    else this.settle(frame, () => frame.resolve(reply.body));
  }

  private expire(frame: Frame, timeoutMs: number): void {
    // A sent frame frees its slot now; the gateway may still be working on it, and its reply is dropped.
    this.settle(frame, () => frame.reject(errors.timeout(timeoutMs)));
  }

  private settle(frame: Frame, outcome: () => void): void {
    if (frame.state === 'settled') return;
    if (frame.state === 'sent') this.inFlight.delete(frame.requestId);
    frame.state = 'settled';
    clearTimeout(frame.timer);
    outcome();
    if (!this.closedBy) this.pump();
  }

  /** A protocol violation by the server: nothing on this socket can be trusted any more. */
  private abort(error: TallyError): void {
    this.fail(errors.connectionClosed(`protocol error: ${error.message}`));
    this.socket.terminate();
  }

  private fail(error: TallyError): void {
    if (this.closedBy) return;
    this.closedBy = error;
    for (const frame of this.inFlight.values()) this.settle(frame, () => frame.reject(error));
    for (let i = this.queueHead; i < this.queue.length; i++) this.settle(this.queue[i], () => this.queue[i].reject(error));
    this.queue = [];
    this.queueHead = 0;
  }
}
