// The uWebSockets.js gateway: binary frames on `/`, GET /health, GET /metrics. It checks frame shapes, hands bodies to
// the LedgerService and writes replies in whatever order they complete. Every connection is bounded
// (requests in flight, bytes buffered), and a socket is never touched after its close event.

import uWS from '@trufflesuite/uws-js-unofficial';
import type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  WebSocket,
  WebSocketBehavior,
  us_listen_socket,
  us_socket,
  us_socket_context_t,
} from '@trufflesuite/uws-js-unofficial';
import { assert } from '../core/assert.js';
import { TallyError, errorFromWire, errors, ErrorCode } from '../core/errors.js';
import {
  connectionBufferedBytesMax,
  connectionIdleSecondsMax,
  connectionRequestsInFlightMax,
  frameBytesMax,
  replyFrameBytesMax,
  shutdownDrainMsMax,
} from '../core/limits.js';
import { errorReason, type RequestFrame } from '../core/wire.js';
import { encodeError, encodeReply, readRequest } from './frame-codec.js';
import type { LedgerService } from './ledger-service.js';
import { GatewayMetrics } from './metrics.js';

/** Bounds of one gateway. Defaults come from core/limits.ts; tests shrink them to reach them quickly. */
export interface GatewayLimits {
  connectionRequestsInFlightMax: number;
  connectionBufferedBytesMax: number;
  /** Longest close() waits for requests already in the service, so their replies (and acks) still go out. */
  shutdownDrainMsMax: number;
}

export interface ServerOptions {
  host: string;
  /** 0 picks a free port; the chosen one is returned. */
  port: number;
  service: LedgerService;
  limits?: Partial<GatewayLimits>;
  /** Where the gateway reports connections it closes and service defects; default stderr. */
  log?: (line: string) => void;
}

export interface RunningServer {
  readonly port: number;
  /** Stops listening, lets requests in flight finish (bounded), closes every socket, then resolves. */
  close(): Promise<void>;
}

const defaultLimits: GatewayLimits = {
  connectionRequestsInFlightMax,
  connectionBufferedBytesMax,
  shutdownDrainMsMax,
};

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CloseCode = { goingAway: 1001, unsupportedData: 1003, policyViolation: 1008 } as const;

/** uWS send() status: the message was dropped because backpressure passed maxBackpressure. */
const sendDropped = 2;

/** Per-socket state; `closed` turns true in the close handler, after which `ws` must never be used. */
interface Connection {
  ws: WebSocket<Connection> | null;
  closed: boolean;
  requestsInFlight: number;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  checkOptions(options);
  const log = options.log ?? ((line: string) => console.error(line));
  const gateway = new Gateway(options.service, { ...defaultLimits, ...options.limits }, log);
  const app = uWS.App();
  app.ws<Connection>('/', gateway.behavior());
  app.get('/health', (res) => gateway.health(res));
  app.get('/metrics', (res) => gateway.metrics(res));
  app.any('/*', (res) => void res.writeStatus('404 Not Found').end('not found'));
  const listenSocket = await listen(app, options.host, options.port);
  const port = uWS.us_socket_local_port(listenSocket as unknown as us_socket);
  return { port, close: () => gateway.close(listenSocket) };
}

function checkOptions(options: ServerOptions): void {
  if (typeof options.host !== 'string' || options.host === '') throw new TypeError(`startServer: host must be a non-empty string, got ${String(options.host)}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new TypeError(`startServer: port must be an integer in 0..65535, got ${String(options.port)}`);
  }
  if (typeof options.service?.execute !== 'function') throw new TypeError('startServer: service must implement LedgerService');
}

function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`tally: cannot listen on ${host}:${port}`));
    });
  });
}

class Gateway {
  private readonly connections = new Set<Connection>();
  private readonly metricsRegistry: GatewayMetrics;
  private requestsInFlight = 0;
  private closing: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  constructor(
    private readonly service: LedgerService,
    private readonly limits: GatewayLimits,
    private readonly log: (line: string) => void,
  ) {
    this.metricsRegistry = new GatewayMetrics(service);
  }

  behavior(): WebSocketBehavior<Connection> {
    return {
      maxPayloadLength: frameBytesMax,
      // Replies are never dropped by uWS: it may buffer up to our cap plus one largest reply, and
      // send() closes the socket itself once the cap is passed.
      maxBackpressure: this.limits.connectionBufferedBytesMax + replyFrameBytesMax,
      closeOnBackpressureLimit: 0, // typed as a number in this build; 0 = false
      idleTimeout: connectionIdleSecondsMax,
      sendPingsAutomatically: true,
      maxLifetime: 0,
      compression: uWS.DISABLED,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      close: (ws) => this.closed(ws),
    };
  }

  /** 200 `{"status":"ok","shards":N,"transit":{…},…}`; 503 once closing, so a load balancer stops sending work. */
  health(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // The hot-inbound figures live in the shards: asked now (they answer without waiting their turn).
    const hot = this.closing ? Promise.resolve(undefined) : (this.service.hotInboundStats?.().catch(() => undefined) ?? Promise.resolve(undefined));
    void hot.then((hotInbound) => {
      if (aborted) return;
      const status = this.closing ? 'shutting_down' : 'ok';
      const { shardCount: shards } = this.service;
      const body = JSON.stringify({ status, shards, transit: this.service.transitStats?.(), chains: this.service.chainStats?.(), days: this.service.daysStatus?.(), hotInbound, hotOutbound: this.service.hotOutboundStats?.() });
      res.cork(() => res.writeStatus(this.closing ? '503 Service Unavailable' : '200 OK').writeHeader('content-type', 'application/json').end(body));
    });
  }

  /** Prometheus text; the service's figures are read now (the bookkeeping lag asks its worker). */
  metrics(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    this.metricsRegistry.text().then(
      (text) => {
        if (aborted) return;
        res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', this.metricsRegistry.contentType).end(text));
      },
      (error: unknown) => {
        if (aborted) return;
        res.cork(() => res.writeStatus('500 Internal Server Error').end(`metrics failed: ${String(error)}`));
      },
    );
  }

  private upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void {
    if (this.closing) {
      res.writeStatus('503 Service Unavailable').end('shutting down');
      return;
    }
    const connection: Connection = { ws: null, closed: false, requestsInFlight: 0 };
    const key = req.getHeader('sec-websocket-key');
    res.upgrade(connection, key, req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
  }

  private open(ws: WebSocket<Connection>): void {
    const connection = ws.getUserData();
    connection.ws = ws;
    this.connections.add(connection);
  }

  private closed(ws: WebSocket<Connection>): void {
    const connection = ws.getUserData();
    connection.closed = true;
    connection.ws = null;
    this.connections.delete(connection);
  }

  private message(ws: WebSocket<Connection>, message: ArrayBuffer, isBinary: boolean): void {
    const connection = ws.getUserData();
    if (!isBinary) return this.end(connection, CloseCode.unsupportedData, 'binary frames only');
    // `message` is neutered when this handler returns; the codec copies the body out (copyBuffers).
    const frame = readRequest(new Uint8Array(message));
    if ('error' in frame) return this.sendError(connection, frame.requestId, frame.error);
    if (this.closing) return this.sendError(connection, frame.requestId, errors.shuttingDown(), frame.operation);
    if (connection.requestsInFlight >= this.limits.connectionRequestsInFlightMax) {
      const why = `connection has ${connection.requestsInFlight} requests in flight (max ${this.limits.connectionRequestsInFlightMax})`;
      return this.sendError(connection, frame.requestId, errors.overloaded(why), frame.operation);
    }
    this.dispatch(connection, frame);
  }

  private dispatch(connection: Connection, frame: RequestFrame): void {
    assert(!connection.closed, 'requests are dispatched from the message handler of an open socket');
    assert(connection.requestsInFlight < this.limits.connectionRequestsInFlightMax, 'the in-flight cap was checked');
    connection.requestsInFlight++;
    this.requestsInFlight++;
    const startedMs = performance.now();
    const bodyBytes = frame.body.byteLength;
    executeSafely(this.service, frame).then(
      (body) => {
        this.metricsRegistry.observe(frame.operation, startedMs, bodyBytes, body, null);
        this.settle(connection, encodeReply(frame.requestId, body));
      },
      (error: unknown) => {
        const refused = serviceError(error, this.log);
        this.metricsRegistry.observe(frame.operation, startedMs, bodyBytes, null, refused.code);
        this.settle(connection, encodeErrorOf(frame.requestId, refused));
      },
    );
  }

  private settle(connection: Connection, reply: Uint8Array): void {
    assert(connection.requestsInFlight > 0 && this.requestsInFlight > 0, 'each request settles exactly once');
    connection.requestsInFlight--;
    this.requestsInFlight--;
    this.send(connection, reply);
    if (this.requestsInFlight === 0 && this.onDrained) this.onDrained();
  }

  /** A request refused by the gateway itself (bad frame, overload, shutdown): counted, then answered. */
  private sendError(connection: Connection, requestId: number, error: TallyError, operation = 0): void {
    this.metricsRegistry.observe(operation, performance.now(), 0, null, error.code);
    this.send(connection, encodeErrorOf(requestId, error));
  }

  private send(connection: Connection, frame: Uint8Array): void {
    // The socket may have closed while the service worked: uWS must not be touched after close.
    if (connection.closed || !connection.ws) return;
    const ws = connection.ws;
    let status = 0;
    ws.cork(() => {
      status = ws.send(frame, true, false);
    });
    if (status === sendDropped || ws.getBufferedAmount() > this.limits.connectionBufferedBytesMax) {
      const reason = `slow reader: more than ${this.limits.connectionBufferedBytesMax} bytes buffered`;
      this.log(`tally gateway: closing a connection: ${reason}`);
      this.end(connection, CloseCode.policyViolation, reason);
    }
  }

  /** Closes gracefully with a reason; uWS runs the close handler synchronously, which marks it closed. */
  private end(connection: Connection, code: number, reason: string): void {
    if (connection.closed || !connection.ws) return;
    connection.ws.end(code, reason);
  }

  close(listenSocket: us_listen_socket): Promise<void> {
    if (!this.closing) this.closing = this.shutdown(listenSocket);
    return this.closing;
  }

  private async shutdown(listenSocket: us_listen_socket): Promise<void> {
    uWS.us_listen_socket_close(listenSocket);
    await this.drain();
    // Ending a socket runs its close handler, which edits the set: iterate over a copy.
    for (const connection of [...this.connections]) this.end(connection, CloseCode.goingAway, 'server shutting down');
  }

  private drain(): Promise<void> {
    if (this.requestsInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, this.limits.shutdownDrainMsMax);
      this.onDrained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The service's promise, with a synchronous throw turned into a rejection. */
function executeSafely(service: LedgerService, frame: RequestFrame): Promise<Uint8Array> {
  try {
    return service.execute(frame.operation, frame.body);
  } catch (error) {
    return Promise.reject(error);
  }
}

function encodeErrorOf(requestId: number, error: TallyError): Uint8Array {
  return encodeError(requestId, error.code, errorReason(error));
}

/**
 * A rejection from the service as a catalog error. Errors that crossed a thread boundary may have
 * lost their class, so the `code` decides; anything without a known code is a defect, logged here.
 */
function serviceError(error: unknown, log: (line: string) => void): TallyError {
  if (error instanceof TallyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && Object.hasOwn(ErrorCode, code)) {
    return errorFromWire(code, message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message);
  }
  log(`tally gateway: the ledger service failed without an error code: ${error instanceof Error ? (error.stack ?? message) : message}`);
  return new TallyError('shard_unavailable', `the ledger service failed: ${message}`);
}
