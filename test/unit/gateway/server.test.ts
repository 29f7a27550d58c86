// The gateway alone, against a scripted LedgerService over real sockets: framing, pipelining and
// out-of-order replies, per-connection bounds, malformed input, and shutdown.

import { Packr } from 'msgpackr';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TallyError } from '../../../src/core/errors.js';
import { connectionRequestsInFlightMax, frameBytesMax } from '../../../src/core/limits.js';
import { Operation } from '../../../src/core/operations.js';
import { decodeResults, encodeIds, encodeTransfers } from '../../../src/core/wire/records.js';
import { encodeRequest } from '../../../src/client/frame-codec.js';
import type { HotInboundStats } from '../../../src/core/hot/hot-inbound-stats.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { RawSocket } from '../../support/raw-socket.js';
import { ScriptedService } from '../../support/scripted-service.js';

const rawPackr = new Packr({ useRecords: false });
let service: ScriptedService;
let server: RunningServer;
const sockets: RawSocket[] = [];

async function open(): Promise<RawSocket> {
  const socket = await RawSocket.open(server.port);
  sockets.push(socket);
  return socket;
}

function transfers(count: number, code = 0): Uint8Array {
  return encodeTransfers(Array.from({ length: count }, (_, i) => ({ id: BigInt(i + 1), debitAccountId: 1n, creditAccountId: 2n, amount: 1n, ledger: 1, code })));
}

beforeEach(async () => {
  service = new ScriptedService();
  server = await startServer({ host: '127.0.0.1', port: 0, service });
});

afterEach(async () => {
  service.release();
  for (const socket of sockets.splice(0)) socket.ws.terminate();
  await server.close();
});

describe('gateway', () => {
  it('listens on the port the OS picked when asked for port 0', () => {
    expect(server.port).toBeGreaterThan(0);
  });

  it('answers GET /health with the shard count', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ status: 'ok', shards: 3 });
  });

  it('answers 404 on other paths', async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/nope`);
    expect(response.status).toBe(404);
  });

  it('passes a request to the service and replies under its request id', async () => {
    const socket = await open();
    socket.request(7, Operation.create_transfers, transfers(2, 15));
    const reply = await socket.next();
    expect(reply.requestId).toBe(7);
    expect(reply.error).toBeUndefined();
    expect(decodeResults(reply.error ? new Uint8Array() : reply.body).map((r) => r.result)).toEqual(['exists', 'exists']);
    expect(service.calls).toHaveLength(1);
    expect(service.calls[0].operation).toBe(Operation.create_transfers);
  });

  it('keeps many requests in flight on one connection and replies in completion order', async () => {
    const socket = await open();
    service.hold = true;
    for (const id of [1, 2, 3]) socket.request(id, Operation.lookup_accounts, encodeIds([BigInt(id)]));
    await service.waitForCalls(3);
    service.release('reverse');
    const replies = await socket.nextN(3);
    expect(replies.map((r) => r.requestId)).toEqual([3, 2, 1]);
  });

  it(`answers overloaded past ${connectionRequestsInFlightMax} requests in flight on one connection`, async () => {
    const socket = await open();
    service.hold = true;
    for (let id = 1; id <= connectionRequestsInFlightMax + 1; id++) socket.request(id, Operation.lookup_accounts, encodeIds([1n]));
    const refused = await socket.next();
    expect(refused.requestId).toBe(connectionRequestsInFlightMax + 1);
    expect(refused.error?.code).toBe('overloaded');
    expect(service.calls).toHaveLength(connectionRequestsInFlightMax);
    service.release();
    const answered = await socket.nextN(connectionRequestsInFlightMax);
    expect(answered.every((r) => r.error === undefined)).toBe(true);
  });

  it('counts the in-flight cap per connection', async () => {
    await server.close();
    server = await startServer({ host: '127.0.0.1', port: 0, service, limits: { connectionRequestsInFlightMax: 1 } });
    const [first, second] = [await open(), await open()];
    service.hold = true;
    first.request(1, Operation.lookup_accounts, encodeIds([1n]));
    second.request(1, Operation.lookup_accounts, encodeIds([1n]));
    await service.waitForCalls(2);
    first.request(2, Operation.lookup_accounts, encodeIds([1n]));
    expect((await first.next()).error?.code).toBe('overloaded');
  });

  describe('malformed frames get an error reply and the connection keeps serving', () => {
    const cases: { name: string; frame: () => Uint8Array; requestId: number; code: string }[] = [
      { name: 'bytes that are not msgpack', frame: () => new Uint8Array([0xc1, 0xff]), requestId: 0, code: 'frame_invalid' },
      { name: 'an operation nobody knows', frame: () => raw([5, 99, new Uint8Array(16)]), requestId: 5, code: 'operation_unknown' },
      { name: 'the journal-only operation', frame: () => raw([5, Operation.expire_pending, new Uint8Array(128)]), requestId: 5, code: 'operation_unknown' },
      { name: 'a body that is not binary', frame: () => raw([6, Operation.lookup_accounts, 'abc']), requestId: 6, code: 'body_invalid' },
      { name: 'a partial record', frame: () => raw([8, Operation.create_transfers, new Uint8Array(127)]), requestId: 8, code: 'body_invalid' },
      { name: 'an empty batch', frame: () => raw([9, Operation.create_accounts, new Uint8Array(0)]), requestId: 9, code: 'batch_empty' },
      { name: 'too many ids', frame: () => raw([10, Operation.lookup_transfers, new Uint8Array(8191 * 16)]), requestId: 10, code: 'batch_too_large' },
      { name: 'a short history filter', frame: () => raw([11, Operation.get_account_transfers, new Uint8Array(63)]), requestId: 11, code: 'body_invalid' },
      { name: 'request id 0', frame: () => raw([0, Operation.lookup_accounts, new Uint8Array(16)]), requestId: 0, code: 'frame_invalid' },
    ];
    it.each(cases)('$name → $code', async ({ frame, requestId, code }) => {
      const socket = await open();
      socket.send(frame());
      const reply = await socket.next();
      expect(reply).toMatchObject({ requestId, error: { code } });
      expect(service.calls).toHaveLength(0);
      socket.request(12, Operation.lookup_accounts, encodeIds([1n]));
      const next = await socket.next();
      expect(next.requestId).toBe(12);
      expect(next.error).toBeUndefined();
    });
  });

  it('closes a connection that sends text, and serves the others', async () => {
    const [bad, good] = [await open(), await open()];
    bad.send('hello');
    expect(await bad.closed).toEqual({ code: 1003, reason: 'binary frames only' });
    good.request(1, Operation.lookup_accounts, encodeIds([1n]));
    expect((await good.next()).requestId).toBe(1);
  });

  it('closes a connection that sends more than frameBytesMax, and serves the others', async () => {
    const [bad, good] = [await open(), await open()];
    bad.send(new Uint8Array(frameBytesMax + 1));
    const closed = await bad.closed;
    expect(closed.code).toBe(1006); // uWS drops the socket without a close frame (no 1009)
    good.request(1, Operation.lookup_accounts, encodeIds([1n]));
    expect((await good.next()).requestId).toBe(1);
    expect(service.calls).toHaveLength(1);
  });

  it('never executes an unmasked frame, and drops the connection once more bytes follow it', async () => {
    // RFC 6455 §5.1 wants the server to close on a client frame without a mask. uWS never reads the mask bit
    // (every client frame is taken to carry 4 mask bytes), so the gateway cannot see one: uWS takes the
    // first 4 payload bytes for the mask and waits for 4 more bytes. What it guarantees, pinned here: such a
    // frame runs nothing, and the stream it garbles is dropped by uWS as soon as the peer sends on.
    const tcp = net.connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    const ended = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
    tcp.on('data', (chunk: Buffer) => received.push(chunk));
    tcp.on('error', () => undefined);
    const upgraded = new Promise<void>((resolve) => tcp.once('data', () => resolve()));
    tcp.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await upgraded;
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    received.length = 0;
    const payload = encodeRequest(1, Operation.lookup_accounts, encodeIds([1n]));
    const unmasked = Uint8Array.from([0x82, payload.byteLength, ...payload]); // FIN + binary, mask bit clear
    tcp.write(unmasked);
    // A masked request on a second socket is answered: by then the gateway has read what the first one sent.
    const probe = await open();
    probe.request(2, Operation.lookup_accounts, encodeIds([1n]));
    expect((await probe.next()).requestId).toBe(2);
    expect(service.calls).toHaveLength(1); // the probe's only
    tcp.write(unmasked);
    await ended;
    expect(service.calls).toHaveLength(1);
    expect(Buffer.concat(received).byteLength).toBe(0); // no reply ever went to the unmasked sender
  });

  it('accepts a frame of a full batch', async () => {
    const socket = await open();
    socket.request(1, Operation.create_transfers, transfers(8190));
    const reply = await socket.next();
    expect(reply.error).toBeUndefined();
    expect(reply.error ? 0 : reply.body.byteLength).toBe(8190 * 4);
  });

  it('sends the service error code to the client', async () => {
    const socket = await open();
    service.failWith = new TallyError('storage_failed', 'disk full');
    socket.request(4, Operation.lookup_accounts, encodeIds([1n]));
    const reply = await socket.next();
    expect(reply.requestId).toBe(4);
    expect(reply.error?.code).toBe('storage_failed');
    expect(reply.error?.message).toBe('storage_failed: disk full');
  });

  it('keeps the code of an error that lost its class crossing a thread', async () => {
    const socket = await open();
    service.failWith = Object.assign(new Error('shard_unavailable: shard 2: restarting'), { code: 'shard_unavailable' });
    socket.request(4, Operation.lookup_accounts, encodeIds([1n]));
    expect((await socket.next()).error?.message).toBe('shard_unavailable: shard 2: restarting');
  });

  it('answers shard_unavailable, and logs the defect, when the service fails without an error code', async () => {
    await server.close();
    const lines: string[] = [];
    server = await startServer({ host: '127.0.0.1', port: 0, service, log: (line) => lines.push(line) });
    const socket = await open();
    service.failWith = new RangeError('index out of range');
    socket.request(4, Operation.lookup_accounts, encodeIds([1n]));
    const reply = await socket.next();
    expect(reply.error?.code).toBe('shard_unavailable');
    expect(reply.error?.message).toMatch(/index out of range/);
    expect(lines.join('\n')).toMatch(/failed without an error code: RangeError: index out of range/);
  });

  it('drops the reply of a connection that closed meanwhile and keeps serving', async () => {
    const gone = await open();
    service.hold = true;
    gone.request(1, Operation.lookup_accounts, encodeIds([1n]));
    await service.waitForCalls(1);
    await gone.close();
    const other = await open(); // whether or not the gateway has seen the close yet, the late reply must not reach uWS
    service.release();
    service.hold = false;
    other.request(2, Operation.lookup_accounts, encodeIds([1n]));
    expect((await other.next()).requestId).toBe(2);
  });

  it('closes a connection whose unread replies pass connectionBufferedBytesMax', async () => {
    await server.close();
    let reported: (line: string) => void = () => undefined;
    const slowReaderReported = new Promise<string>((resolve) => (reported = resolve));
    const log = (line: string) => (line.includes('slow reader') ? reported(line) : undefined);
    server = await startServer({ host: '127.0.0.1', port: 0, service, limits: { connectionBufferedBytesMax: 1024 * 1024 }, log });
    service.replyWith = () => new Uint8Array(1024 * 1024);
    const slow = await open();
    const tcp = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause(); // the client stops reading, so replies pile up in the gateway
    for (let id = 1; id <= 64; id++) slow.request(id, Operation.lookup_accounts, encodeIds([1n]));
    await slowReaderReported;
    tcp.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/slow reader/);
    expect(service.calls.length).toBeLessThan(64); // it stopped reading the closed connection's requests
  });

  describe('slow readers (clients that send requests and do not read the replies)', () => {
    /** The gateway's own gauges from GET /metrics. */
    async function gatewayGauges(): Promise<{ connections: number; bufferedBytes: number }> {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const gauge = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
      return { connections: gauge('tally_gateway_connections'), bufferedBytes: gauge('tally_gateway_buffered_bytes') };
    }

    /** Polls the gauges until `done` holds (uWS reports buffers and closes on its own schedule), at most 10 s. */
    async function gaugesUntil(done: (g: { connections: number; bufferedBytes: number }) => boolean): Promise<{ connections: number; bufferedBytes: number }> {
      let gauges = await gatewayGauges();
      for (let i = 0; i < 500 && !done(gauges); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        gauges = await gatewayGauges();
      }
      expect(done(gauges), JSON.stringify(gauges)).toBe(true);
      return gauges;
    }

    /** Opens `count` sockets that stop reading, each with `requests` 1 MiB replies held by the service, then lets the replies go. */
    async function slowReaders(count: number, requests: number): Promise<RawSocket[]> {
      service.replyWith = () => new Uint8Array(1024 * 1024);
      service.hold = true;
      const slow: RawSocket[] = [];
      for (let i = 0; i < count; i++) {
        const socket = await open();
        (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        for (let id = 1; id <= requests; id++) socket.request(id, Operation.lookup_accounts, encodeIds([1n]));
        slow.push(socket);
      }
      await service.waitForCalls(count * requests);
      service.hold = false;
      service.release();
      return slow;
    }

    it('count their unread replies while open and forget them, with the connections, once they close', async () => {
      const slow = await slowReaders(4, 8);
      const loaded = await gaugesUntil((g) => g.connections === 4 && g.bufferedBytes > 4 * 1024 * 1024);
      expect(loaded.bufferedBytes).toBeLessThanOrEqual(4 * 8 * (1024 * 1024 + 64));
      for (const socket of slow) socket.ws.terminate();
      await gaugesUntil((g) => g.connections === 0 && g.bufferedBytes === 0);
    });

    it('are closed, most unread first, once all connections together hold more than gatewayBufferedBytesMax', async () => {
      await server.close();
      const capBytes = 16 * 1024 * 1024;
      let shed: (line: string) => void = () => undefined;
      const firstShed = new Promise<string>((resolve) => (shed = resolve));
      const log = (line: string) => (line.includes('holding the most unread replies') ? shed(line) : undefined);
      server = await startServer({ host: '127.0.0.1', port: 0, service, limits: { gatewayBufferedBytesMax: capBytes }, log });
      const good = await open();
      const slow = await slowReaders(6, 16);
      // Each holds ~16 MiB less what the kernel's socket buffers took: together far past the cap, each under its own.
      const noShed = new Promise<string>((resolve) => setTimeout(() => resolve('no connection was shed within 10 s'), 10_000));
      expect(await Promise.race([firstShed, noShed])).toMatch(/closing the connection holding the most unread replies \(\d+ bytes\): all connections hold more than 16777216/);
      const gauges = await gatewayGauges();
      expect(gauges.bufferedBytes).toBeLessThanOrEqual(capBytes);
      expect(gauges.connections).toBeLessThan(7);
      // Closed at once, without a close frame: one would wait behind the unread bytes this frees.
      for (const socket of slow) (socket.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      expect(await Promise.any(slow.map((socket) => socket.closed))).toEqual({ code: 1006, reason: '' });
      good.request(99, Operation.lookup_accounts, encodeIds([1n]));
      expect((await good.next()).requestId).toBe(99);
    });
  });

  it('on close, answers requests in flight, then closes sockets and refuses new ones', async () => {
    const socket = await open();
    service.hold = true;
    socket.request(1, Operation.lookup_accounts, encodeIds([1n]));
    await service.waitForCalls(1);
    const closing = server.close();
    service.release();
    expect((await socket.next()).requestId).toBe(1);
    await closing;
    expect((await socket.closed).code).toBe(1001);
    await expect(RawSocket.open(server.port)).rejects.toThrow();
    server = await startServer({ host: '127.0.0.1', port: 0, service }); // for afterEach
  });

  it('on close, answers shutting_down to requests still running after the drain, before closing sockets', async () => {
    await server.close();
    const lines: string[] = [];
    server = await startServer({ host: '127.0.0.1', port: 0, service, limits: { shutdownDrainMsMax: 50 }, log: (line) => lines.push(line) });
    const socket = await open();
    service.hold = true;
    socket.request(1, Operation.create_transfers, transfers(1));
    socket.request(2, Operation.lookup_accounts, encodeIds([1n]));
    await service.waitForCalls(2);
    await server.close(); // the service never answers: the drain gives up after 50 ms
    const replies = await socket.nextN(2);
    expect(replies.map((reply) => [reply.requestId, reply.error?.code])).toEqual([[1, 'shutting_down'], [2, 'shutting_down']]);
    expect(replies[0]!.error?.message).toMatch(/may have been applied, retry with the same ids/);
    expect((await socket.closed).code).toBe(1001);
    expect(lines.join('\n')).toMatch(/2 requests still running at shutdown answered shutting_down/);
    service.release(); // a late answer goes nowhere
    server = await startServer({ host: '127.0.0.1', port: 0, service }); // for afterEach
  });
});

describe('GET /health with a service whose shards answer late or never', () => {
  const figures = { accounts: 0, creditsBuffered: '0', creditsBufferedCount: 0, creditsApplied: 0, delayMsP50: 0, delayMsP99: 0, delayMsMax: 0 };

  async function healthOf(hotInboundStats: () => Promise<HotInboundStats>): Promise<{ status: number; body: Record<string, unknown> }> {
    await server.close();
    const withStats = Object.assign(new ScriptedService(), { hotInboundStats });
    server = await startServer({ host: '127.0.0.1', port: 0, service: withStats });
    const response = await fetch(`http://127.0.0.1:${server.port}/health`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('answers 200 ok with the figures when every shard answered', async () => {
    const { status, body } = await healthOf(async () => ({ ...figures, shardsNotAnswering: [] }));
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', shards: 3, shardsNotAnswering: [], hotInbound: figures });
  });

  it('answers 503 degraded naming the shards that did not answer', async () => {
    const { status, body } = await healthOf(async () => ({ ...figures, shardsNotAnswering: [1] }));
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'degraded', shardsNotAnswering: [1] });
  });

  it('answers 503 degraded, within its bound, when the service never answers', async () => {
    const { status, body } = await healthOf(() => new Promise<never>(() => {}));
    expect(status).toBe(503);
    expect(body).toEqual({ status: 'degraded', shards: 3 });
  });
});

function raw(value: unknown[]): Uint8Array {
  return rawPackr.pack(value);
}
