// A bare WebSocket to the gateway for tests: sends any bytes, and hands back decoded replies and the
// close event in arrival order, so tests await events instead of sleeping.

import WebSocket from 'ws';
import { decodeReply, encodeRequest } from '../../src/client/frame-codec.js';
import type { ReplyFrame } from '../../src/core/wire/wire.js';

export interface CloseEvent {
  code: number;
  reason: string;
}

export class RawSocket {
  private replies: ReplyFrame[] = [];
  private replyWaiters: ((reply: ReplyFrame) => void)[] = [];
  readonly closed: Promise<CloseEvent>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.push(decodeReply(data)));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined); // surfaced through `closed`
  }

  /** `apiKey`: sent as `Authorization: Bearer <key>` on the upgrade, as the client does. */
  static open(port: number, apiKey?: string): Promise<RawSocket> {
    const headers = apiKey === undefined ? undefined : { authorization: `Bearer ${apiKey}` };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(bytes: Uint8Array | string): void {
    this.ws.send(bytes, { binary: typeof bytes !== 'string' });
  }

  request(requestId: number, operation: number, body: Uint8Array): void {
    this.send(encodeRequest(requestId, operation, body));
  }

  /** The next reply in arrival order. */
  next(): Promise<ReplyFrame> {
    const reply = this.replies.shift();
    if (reply) return Promise.resolve(reply);
    return new Promise((resolve) => this.replyWaiters.push(resolve));
  }

  async nextN(count: number): Promise<ReplyFrame[]> {
    const replies: ReplyFrame[] = [];
    for (let i = 0; i < count; i++) replies.push(await this.next());
    return replies;
  }

  close(): Promise<CloseEvent> {
    this.ws.close();
    return this.closed;
  }

  private push(reply: ReplyFrame): void {
    const waiter = this.replyWaiters.shift();
    if (waiter) waiter(reply);
    else this.replies.push(reply);
  }
}
