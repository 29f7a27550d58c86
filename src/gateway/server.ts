// The uWebSockets.js gateway: binary frames on `/`, GET /health, GET /metrics (both open, no key). It learns who a
// connection is at its upgrade (API key, src/gateway/auth.ts), checks each frame's shape, scope and rate, hands
// bodies to the LedgerService and writes replies in whatever order they complete. Every connection is bounded
// (requests in flight, bytes buffered, events per second), a refused call does nothing, and a socket is never
// touched after its close event. Refusals and admin actions go to the audit sink.

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
import { readFileSync } from 'node:fs';
import { nativeUws } from './native-uws.js';
import { HttpApi } from './http-api.js';
import { requestEvents, serviceError } from './service-replies.js';
import { agreeProtocol } from '../core/wire/protocol-version.js';
import { assert } from '../core/assert.js';
import { TallyError, errors, ErrorCode } from '../core/errors.js';
import {
  connectionBufferedBytesMax,
  connectionIdleSecondsMax,
  gatewayBufferedBytesMax,
  connectionRequestsInFlightMax,
  eventsPerSecondMax,
  frameBytesMax,
  replyFrameBytesMax,
  shardStatusWaitMsMax,
  shutdownDrainMsMax,
} from '../core/limits.js';
import { Operation } from '../core/operations.js';
import { TokenBucket } from '../core/rate-limits/rate-limit.js';
import { errorReason, type RequestFrame } from '../core/wire/wire.js';
import type { AuditEvent, AuditSink } from './audit-sink.js';
import { KeyRing, anonymousCaller, isLoopbackHost, type ApiKey } from './auth.js';
import { encodeError, encodeReply, readRequest } from './frame-codec.js';
import type { Caller, LedgerService } from './ledger-service.js';
import { GatewayMetrics } from './metrics.js';
import { ScopeBit, allScopesMask, scopeBitOf, scopeMask, scopeOf } from './scopes.js';

/** Bounds of one gateway. Defaults come from core/limits.ts; tests shrink them to reach them quickly. */
export interface GatewayLimits {
  connectionRequestsInFlightMax: number;
  connectionBufferedBytesMax: number;
  /** Unread reply bytes of all connections together; past it the connection holding the most is closed. */
  gatewayBufferedBytesMax: number;
  /**
   * Longest close() waits for requests already in the service, so their replies (and acks) still go out;
   * those still running then are answered `shutting_down` (outcome unknown) before the sockets close.
   */
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
  /**
   * The API keys callers present (`Authorization: Bearer <secret>` on the upgrade; src/gateway/auth.ts). Absent:
   * authentication is off and every connection may do everything, which is allowed only on a loopback host.
   */
  keys?: readonly ApiKey[];
  /** TLS (uWS SSLApp) with these PEM files; absent: plain ws:// and http://. */
  tls?: TlsFiles;
  /**
   * Events per second of a key without its own `eventsPerSecond` (one bucket shared by all the key's
   * connections), or of each connection when authentication is off; 0 (default) = unlimited.
   */
  keyRate?: number;
  /** Where every refused call and every admin-scope operation is recorded (src/gateway/audit-sink.ts). */
  audit?: AuditSink;
  /**
   * Whether the gateway records admin-scope operations in `audit` itself (default true). False when the
   * service records them — src/admin/admin-service.ts does, with their subject and in the same commit as
   * their change — so that no action is recorded twice; refusals are recorded by the gateway either way.
   */
  auditAdmin?: boolean;
}

export interface TlsFiles {
  /** PEM certificate (chain) file. */
  readonly certFile: string;
  /** PEM private key file. */
  readonly keyFile: string;
}

export interface RunningServer {
  readonly port: number;
  /** Stops listening, lets requests in flight finish (bounded), closes every socket, then resolves. */
  close(): Promise<void>;
}

const defaultLimits: GatewayLimits = {
  connectionRequestsInFlightMax,
  connectionBufferedBytesMax,
  gatewayBufferedBytesMax,
  shutdownDrainMsMax,
};

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CloseCode = { goingAway: 1001, unsupportedData: 1003, policyViolation: 1008 } as const;

/** uWS send() status: the message was dropped because backpressure passed maxBackpressure. */
const sendDropped = 2;

/**
 * Longest GET /health waits for the service's figures. The shard set answers within shardStatusWaitMsMax
 * by itself; this bounds any service, so that health always answers.
 */
const healthWaitMsMax = 2 * shardStatusWaitMsMax;

/** A request handed to the service; answered once, by the service or (at shutdown) by the gateway. */
interface InFlight {
  readonly requestId: number;
  answered: boolean;
}

/** Per-socket state; `closed` turns true in the close handler, after which `ws` must never be used. */
interface Connection {
  ws: WebSocket<Connection> | null;
  closed: boolean;
  requestsInFlight: number;
  /** Who opened it; null when it presented no valid key, and then every request is refused `unauthenticated`. */
  caller: Caller | null;
  /** The caller's scopes as ScopeBit bits (0 when unauthenticated). */
  scopes: number;
  /** Why the caller is null, for the refusal's message. */
  unauthenticatedWhy: string;
  /** The key's bucket (shared by its connections) or this connection's own when auth is off; null = unlimited. */
  bucket: TokenBucket | null;
  /** Peer address as uWS saw it at the upgrade. */
  remote: string;
  /** uWS's buffered amount when last looked at (after each send and drain); counted in Gateway.bufferedBytes. */
  bufferedBytes: number;
  /** Requests in the service, so that a shutdown can answer those still running. */
  inFlight: Set<InFlight>;
}

/** Error codes that are not refusals: the call was taken and failed (its outcome is unknown or nothing was kept). */
const failureCodes: ReadonlySet<string> = new Set<string>([ErrorCode.shard_unavailable, ErrorCode.storage_failed]);

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  checkOptions(options);
  const log = options.log ?? ((line: string) => console.error(line));
  const audit = options.audit ?? null;
  const access: GatewayAccess = { keys: options.keys ? new KeyRing(options.keys) : null, keyRate: options.keyRate ?? 0, audit, auditAdmin: audit !== null && options.auditAdmin !== false };
  const gateway = new Gateway(options.service, { ...defaultLimits, ...options.limits }, log, access);
  const uWS = nativeUws();
  const app = options.tls ? sslApp(options.tls) : uWS.App();
  app.ws<Connection>('/', gateway.behavior());
  app.get('/health', (res) => gateway.health(res));
  app.get('/metrics', (res) => gateway.metrics(res));
  // The HTTP/JSON API (http-api.ts): the same service, keys, scopes and rates as the frames.
  const api = new HttpApi(options.service, (authorization, operation, events) => gateway.httpCaller(authorization, operation, events), (keyId, operation, error, remote) => gateway.auditHttpRefused(keyId, operation, error, remote), log);
  app.any('/v1/*', (res, req) => api.handle(res, req));
  app.any('/*', (res) => void res.writeStatus('404 Not Found').end('not found'));
  const listenSocket = await listen(app, options.host, options.port);
  const port = nativeUws().us_socket_local_port(listenSocket as unknown as us_socket);
  return { port, close: () => gateway.close(listenSocket) };
}

function checkOptions(options: ServerOptions): void {
  if (typeof options.host !== 'string' || options.host === '') throw new TypeError(`startServer: host must be a non-empty string, got ${String(options.host)}`);
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new TypeError(`startServer: port must be an integer in 0..65535, got ${String(options.port)}`);
  }
  if (typeof options.service?.execute !== 'function') throw new TypeError('startServer: service must implement LedgerService');
  if (options.keys === undefined && !isLoopbackHost(options.host)) {
    throw new TypeError(`startServer: host ${options.host} is not a loopback address, so keys are required (without them anyone who reaches the port could post and run admin operations)`);
  }
  if (options.keys !== undefined && !Array.isArray(options.keys)) throw new TypeError('startServer: keys must be an array of ApiKey (src/gateway/auth.ts readKeysFile)');
  const keyRate = options.keyRate ?? 0;
  if (!Number.isInteger(keyRate) || keyRate < 0 || keyRate > eventsPerSecondMax) {
    throw new TypeError(`startServer: keyRate must be an integer in 0..${eventsPerSecondMax} (events per second, 0 = unlimited), got ${String(options.keyRate)}`);
  }
  if (options.audit !== undefined && typeof options.audit?.record !== 'function') throw new TypeError('startServer: audit must implement AuditSink');
  if (options.auditAdmin !== undefined && typeof options.auditAdmin !== 'boolean') throw new TypeError('startServer: auditAdmin must be a boolean');
  if (options.tls !== undefined) checkTlsFiles(options.tls);
}

function checkTlsFiles(tls: TlsFiles): void {
  for (const [name, file] of [['certFile', tls?.certFile], ['keyFile', tls?.keyFile]] as const) {
    if (typeof file !== 'string' || file === '') throw new TypeError(`startServer: tls.${name} must be a file path`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new TypeError(`startServer: tls.${name}: cannot read ${file}: ${(error as Error).message}`);
    }
    if (!text.includes('-----BEGIN ')) throw new TypeError(`startServer: tls.${name}: ${file} is not a PEM file`);
  }
}

/** uWS checks the certificate and key when the app is built; it says only that it failed, so say which files. */
function sslApp(tls: TlsFiles): TemplatedApp {
  try {
    return nativeUws().SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile });
  } catch (error) {
    throw new Error(`tally: cannot start TLS with certificate ${tls.certFile} and key ${tls.keyFile} (do they match, and is the key unencrypted?): ${(error as Error).message}`);
  }
}

function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket);
      else reject(new Error(`tally: cannot listen on ${host}:${port}`));
    });
  });
}

/** Who may call and how fast: the gateway's part of authentication, flow control and audit. */
interface GatewayAccess {
  /** null: authentication is off (loopback only), every connection is the anonymous caller. */
  keys: KeyRing | null;
  /** Default events per second of a key (or, auth off, of a connection); 0 = unlimited. */
  keyRate: number;
  audit: AuditSink | null;
  /** The gateway records admin-scope operations itself (else the service does, and the gateway leaves them alone). */
  auditAdmin: boolean;
}

class Gateway {
  private readonly connections = new Set<Connection>();
  private readonly metricsRegistry: GatewayMetrics;
  /** One bucket per key id, shared by all that key's connections (bounded by the keys file). */
  private readonly keyBuckets = new Map<string, TokenBucket>();
  private requestsInFlight = 0;
  /** Sum of every open connection's bufferedBytes: what slow readers make the gateway hold. */
  private bufferedBytes = 0;
  private closing: Promise<void> | null = null;
  private onDrained: (() => void) | null = null;

  constructor(
    private readonly service: LedgerService,
    private readonly limits: GatewayLimits,
    private readonly log: (line: string) => void,
    private readonly access: GatewayAccess,
  ) {
    this.metricsRegistry = new GatewayMetrics(service);
    this.metricsRegistry.observeGateway(() => ({ connections: this.connections.size, bufferedBytes: this.bufferedBytes }));
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
      compression: nativeUws().DISABLED,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.open(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      drain: (ws) => this.drained(ws),
      close: (ws) => this.closed(ws),
    };
  }

  /**
   * 200 `{"status":"ok","shards":N,"shardsNotAnswering":[],"transit":{…},…}`; 503 `degraded` when a shard did not
   * answer within shardStatusWaitMsMax (named in shardsNotAnswering), 503 `shutting_down` once closing, so a load
   * balancer stops sending work. Always answers, within about healthWaitMsMax.
   */
  health(res: HttpResponse): void {
    let aborted = false;
    res.onAborted(() => (aborted = true));
    // The hot-inbound figures live in the shards: asked now (they answer on their control lane, without waiting their turn).
    const asked = this.closing ? undefined : this.service.hotInboundStats?.();
    void answerWithin(asked, healthWaitMsMax).then((hot) => {
      if (aborted) return;
      const late = hot === 'late';
      const { shardsNotAnswering, ...hotInbound } = late || hot === undefined ? { shardsNotAnswering: undefined } : hot;
      const status = this.closing ? 'shutting_down' : late || (shardsNotAnswering?.length ?? 0) > 0 ? 'degraded' : 'ok';
      const { shardCount: shards } = this.service;
      const service = this.service;
      const body = JSON.stringify({
        status,
        shards,
        shardsNotAnswering,
        transit: service.transitStats?.(),
        chains: service.chainStats?.(),
        days: service.daysStatus?.(),
        hotInbound: late || hot === undefined ? undefined : hotInbound,
        hotOutbound: service.hotOutboundStats?.(),
        replication: service.replicationStatus?.(),
      });
      res.cork(() => res.writeStatus(status === 'ok' ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'application/json').end(body));
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
    // Everything is read from req and res before upgrade(): uWS invalidates req when this handler returns.
    const protocol = agreeProtocol(req.getHeader('sec-websocket-protocol'));
    if (!protocol.accepted) {
      res.writeStatus('426 Upgrade Required').writeHeader('content-type', 'text/plain; charset=utf-8').end(protocol.why);
      return;
    }
    const connection = this.identify(req.getHeader('authorization'), Buffer.from(res.getRemoteAddressAsText()).toString());
    const key = req.getHeader('sec-websocket-key');
    res.upgrade(connection, key, protocol.selected, req.getHeader('sec-websocket-extensions'), context);
  }

  /**
   * A new connection's state from its Authorization header. A missing or wrong key still gets a connection
   * (so the caller hears `unauthenticated` for each request, not a bare socket error); it can do nothing.
   */
  private identify(authorization: string, remote: string): Connection {
    const connection: Connection = { ws: null, closed: false, requestsInFlight: 0, caller: null, scopes: 0, unauthenticatedWhy: '', bucket: null, remote, bufferedBytes: 0, inFlight: new Set() };
    const { keys, keyRate } = this.access;
    if (keys === null) {
      connection.caller = anonymousCaller;
      connection.scopes = allScopesMask;
      connection.bucket = keyRate === 0 ? null : new TokenBucket(keyRate, nowMs());
      return connection;
    }
    const key = authorization === '' ? null : keys.authenticate(authorization);
    if (key === null) {
      connection.unauthenticatedWhy = authorization === '' ? 'no API key: send "Authorization: Bearer <key>" when opening the WebSocket' : 'the API key presented is not valid';
      return connection;
    }
    connection.caller = key.caller;
    connection.scopes = scopeMask(key.caller.scopes);
    connection.bucket = this.keyBucket(key.caller.keyId, key.eventsPerSecond || keyRate);
    return connection;
  }

  /** The HTTP API's checks of one request, in a frame's order (who, may they, rate): its caller, or the refusal. `events` 0 checks who and scope only. */
  httpCaller(authorization: string, operation: number, events: number): Caller | TallyError {
    if (this.closing) return errors.shuttingDown();
    const who = this.identify(authorization, '');
    // Without keys a socket has a bucket of its own; HTTP requests have no socket: they share the open caller's.
    if (who.caller === anonymousCaller) who.bucket = this.keyBucket(anonymousCaller.keyId, this.access.keyRate);
    if (who.caller === null) return errors.unauthenticated(who.unauthenticatedWhy.replace('when opening the WebSocket', 'with each request'));
    if ((who.scopes & scopeBitOf(operation)) === 0) return forbidden(who.caller, operation);
    // events 0: who may call, before a body is read; the rate is taken once the request's events are known.
    if (who.bucket !== null && events > 0) {
      const retryAfterMs = who.bucket.take(events, nowMs());
      if (retryAfterMs !== 0) return rateLimited(who, events, retryAfterMs);
    }
    return who.caller;
  }

  /** Records a refused HTTP request, as a refused frame is recorded. */
  auditHttpRefused(keyId: string | null, operation: number, error: TallyError, remote: string): void {
    const audit = this.access.audit;
    if (audit === null) return;
    const event: AuditEvent = { kind: 'refused', keyId, operation, code: error.code, detail: `HTTP: ${errorReason(error)}`, remote };
    audit.record(event).catch((failure: unknown) => this.log(`tally gateway: audit of a refused HTTP request failed (${error.code}): ${String(failure)}`));
  }

  private keyBucket(keyId: string, eventsPerSecond: number): TokenBucket | null {
    if (eventsPerSecond === 0) return null;
    let bucket = this.keyBuckets.get(keyId);
    if (bucket === undefined) this.keyBuckets.set(keyId, (bucket = new TokenBucket(eventsPerSecond, nowMs())));
    return bucket;
  }

  private open(ws: WebSocket<Connection>): void {
    const connection = ws.getUserData();
    connection.ws = ws;
    this.connections.add(connection);
  }

  /**
   * Forgets everything the gateway holds for the connection. uWS frees its buffer when the socket goes: at once
   * for close(), and for end() once the close frame drains or its short close timeout passes.
   */
  private closed(ws: WebSocket<Connection>): void {
    const connection = ws.getUserData();
    connection.closed = true;
    connection.ws = null;
    this.connections.delete(connection);
    this.bufferedBytes -= connection.bufferedBytes;
    connection.bufferedBytes = 0;
    assert(this.bufferedBytes >= 0 && (this.connections.size > 0 || this.bufferedBytes === 0), 'buffered bytes are the sum over open connections');
  }

  /** uWS wrote some of a connection's backlog: its count (and the gateway's) goes down. */
  private drained(ws: WebSocket<Connection>): void {
    const connection = ws.getUserData();
    if (!connection.closed) this.noteBuffered(connection, ws);
  }

  /** Takes uWS's buffered amount for the connection into its count and the gateway's. */
  private noteBuffered(connection: Connection, ws: WebSocket<Connection>): void {
    const now = ws.getBufferedAmount();
    this.bufferedBytes += now - connection.bufferedBytes;
    connection.bufferedBytes = now;
  }

  private message(ws: WebSocket<Connection>, message: ArrayBuffer, isBinary: boolean): void {
    const connection = ws.getUserData();
    if (!isBinary) return this.end(connection, CloseCode.unsupportedData, 'binary frames only');
    // `message` is neutered when this handler returns; the codec copies the body out (copyBuffers).
    const frame = readRequest(new Uint8Array(message));
    if ('error' in frame) return this.sendError(connection, frame.requestId, frame.error);
    if (this.closing) return this.sendError(connection, frame.requestId, errors.shuttingDown(), frame.operation);
    // Checks in this order, each refusing the whole request before anything runs: who, may they, room, rate.
    if (connection.caller === null) return this.sendError(connection, frame.requestId, errors.unauthenticated(connection.unauthenticatedWhy), frame.operation);
    const scopeBit = scopeBitOf(frame.operation);
    if ((connection.scopes & scopeBit) === 0) return this.sendError(connection, frame.requestId, forbidden(connection.caller, frame.operation), frame.operation);
    if (connection.requestsInFlight >= this.limits.connectionRequestsInFlightMax) {
      const why = `connection has ${connection.requestsInFlight} requests in flight (max ${this.limits.connectionRequestsInFlightMax})`;
      return this.sendError(connection, frame.requestId, errors.overloaded(why), frame.operation);
    }
    if (connection.bucket !== null) {
      const events = requestEvents(frame.operation, frame.body);
      const retryAfterMs = connection.bucket.take(events, nowMs());
      if (retryAfterMs !== 0) return this.sendError(connection, frame.requestId, rateLimited(connection, events, retryAfterMs), frame.operation);
    }
    this.dispatch(connection, frame, scopeBit === ScopeBit.admin);
  }

  private dispatch(connection: Connection, frame: RequestFrame, admin: boolean): void {
    assert(!connection.closed, 'requests are dispatched from the message handler of an open socket');
    assert(connection.requestsInFlight < this.limits.connectionRequestsInFlightMax, 'the in-flight cap was checked');
    const caller = connection.caller;
    assert(caller !== null, 'only an authenticated connection dispatches');
    connection.requestsInFlight++;
    this.requestsInFlight++;
    const request: InFlight = { requestId: frame.requestId, answered: false };
    connection.inFlight.add(request);
    const startedMs = performance.now();
    const bodyBytes = frame.body.byteLength;
    // Read before the service runs: it may move the body to a worker.
    const action = admin && this.access.auditAdmin ? describeAdmin(frame) : null;
    executeSafely(this.service, frame, caller).then(
      (body) => {
        if (request.answered) return; // a shutdown answered it already (shutting_down)
        this.metricsRegistry.observe(frame.operation, startedMs, bodyBytes, body, null);
        const reply = encodeReply(frame.requestId, body);
        if (action === null) return this.settle(connection, request, reply);
        this.settleAudited(connection, request, reply, { kind: 'admin', keyId: caller.keyId, operation: frame.operation, code: 'ok', detail: action, remote: connection.remote });
      },
      (error: unknown) => {
        if (request.answered) return;
        const refused = serviceError(error, this.log);
        this.metricsRegistry.observe(frame.operation, startedMs, bodyBytes, null, refused.code);
        const reply = encodeErrorOf(frame.requestId, refused);
        if (action !== null) {
          const detail = `${action}: ${errorReason(refused)}`;
          return this.settleAudited(connection, request, reply, { kind: 'admin', keyId: caller.keyId, operation: frame.operation, code: refused.code, detail, remote: connection.remote });
        }
        // An admin operation's failure is the service's to record when the gateway leaves admin records to it.
        if (!admin && !failureCodes.has(refused.code)) this.auditRefused(connection, frame.operation, refused);
        this.settle(connection, request, reply);
      },
    );
  }

  /** An admin action's reply goes out once its audit record is durable (or, if recording failed, once that is logged). */
  private settleAudited(connection: Connection, request: InFlight, reply: Uint8Array, event: AuditEvent): void {
    this.access.audit!.record(event).then(
      () => this.settle(connection, request, reply),
      (error: unknown) => {
        this.log(`tally gateway: AUDIT FAILED for an admin action (${event.keyId} ${event.detail} → ${event.code}): ${String(error)}`);
        this.settle(connection, request, reply);
      },
    );
  }

  /** Records a refused call without holding its reply back. */
  private auditRefused(connection: Connection, operation: number, error: TallyError): void {
    const audit = this.access.audit;
    if (audit === null) return;
    const event: AuditEvent = { kind: 'refused', keyId: connection.caller?.keyId ?? null, operation, code: error.code, detail: errorReason(error), remote: connection.remote };
    audit.record(event).catch((failure: unknown) => this.log(`tally gateway: audit of a refused call failed (${error.code}): ${String(failure)}`));
  }

  /** Answers a request in the service, once: the service's reply, or the shutdown's refusal, whichever comes first. */
  private settle(connection: Connection, request: InFlight, reply: Uint8Array): void {
    if (request.answered) return;
    assert(connection.requestsInFlight > 0 && this.requestsInFlight > 0, 'each request settles exactly once');
    request.answered = true;
    connection.inFlight.delete(request);
    connection.requestsInFlight--;
    this.requestsInFlight--;
    this.send(connection, reply);
    if (this.requestsInFlight === 0 && this.onDrained) this.onDrained();
  }

  /** A request refused by the gateway itself (bad frame, no key, scope, overload, rate, shutdown): counted, audited, answered. */
  private sendError(connection: Connection, requestId: number, error: TallyError, operation = 0): void {
    this.metricsRegistry.observe(operation, performance.now(), 0, null, error.code);
    this.auditRefused(connection, operation, error);
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
    this.noteBuffered(connection, ws);
    if (status === sendDropped || connection.bufferedBytes > this.limits.connectionBufferedBytesMax) {
      const reason = `slow reader: more than ${this.limits.connectionBufferedBytesMax} bytes buffered`;
      this.log(`tally gateway: closing a connection: ${reason}`);
      this.end(connection, CloseCode.policyViolation, reason);
      return;
    }
    if (this.bufferedBytes > this.limits.gatewayBufferedBytesMax) this.shedSlowestReaders();
  }

  /**
   * All connections together hold more unread replies than gatewayBufferedBytesMax: close the ones holding
   * the most until the rest fit. close(), not end(): a close frame would wait behind the unread bytes that
   * this is about freeing, so the buffer goes at once (the peer sees 1006). Rare, so a scan is fine.
   */
  private shedSlowestReaders(): void {
    while (this.bufferedBytes > this.limits.gatewayBufferedBytesMax) {
      let slowest: Connection | null = null;
      for (const connection of this.connections) if (slowest === null || connection.bufferedBytes > slowest.bufferedBytes) slowest = connection;
      assert(slowest !== null && slowest.ws !== null && slowest.bufferedBytes > 0, 'buffered bytes belong to an open connection');
      this.log(`tally gateway: closing the connection holding the most unread replies (${slowest.bufferedBytes} bytes): all connections hold more than ${this.limits.gatewayBufferedBytesMax}`);
      slowest.ws.close(); // runs the close handler synchronously, which takes its bytes off the count
      assert(slowest.closed, 'close() ran the close handler');
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
    nativeUws().us_listen_socket_close(listenSocket);
    await this.drain();
    this.refuseInFlight();
    // Ending a socket runs its close handler, which edits the set: iterate over a copy.
    for (const connection of [...this.connections]) this.end(connection, CloseCode.goingAway, 'server shutting down');
  }

  /**
   * Requests the drain did not see finish get `shutting_down` rather than silence. Their outcome is unknown
   * (a write may still commit, or have committed): the message says to retry with the same ids.
   */
  private refuseInFlight(): void {
    if (this.requestsInFlight === 0) return;
    const refused = errors.shuttingDown(`server is shutting down and this request was still running after ${this.limits.shutdownDrainMsMax} ms: it may have been applied, retry with the same ids`);
    let count = 0;
    for (const connection of this.connections) {
      for (const request of [...connection.inFlight]) {
        this.settle(connection, request, encodeErrorOf(request.requestId, refused));
        count++;
      }
    }
    this.log(`tally gateway: ${count} requests still running at shutdown answered shutting_down (outcome unknown)`);
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

/** `promise`'s value (undefined when it rejects or is absent), or 'late' when it has not settled within `ms`. */
async function answerWithin<T>(promise: Promise<T> | undefined, ms: number): Promise<T | undefined | 'late'> {
  if (promise === undefined) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([promise.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The service's promise, with a synchronous throw turned into a rejection. */
function executeSafely(service: LedgerService, frame: RequestFrame, caller: Caller): Promise<Uint8Array> {
  try {
    return service.execute(frame.operation, frame.body, caller);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Whole ms of a monotonic clock, for the rate buckets (Date.now() can step back). */
function nowMs(): number {
  return Math.floor(performance.now());
}

/** What a request costs in a rate bucket: its events (writes) or ids (lookups); anything else 1. */
const operationNames = new Map<number, string>(Object.entries(Operation).map(([name, op]) => [op, name]));

function forbidden(caller: Caller, operation: number): TallyError {
  return errors.forbidden(caller.keyId, operationNames.get(operation) ?? `operation ${operation}`, scopeOf(operation));
}

function rateLimited(connection: Connection, events: number, retryAfterMs: number): TallyError {
  const who = connection.caller === anonymousCaller ? 'this connection' : `key ${JSON.stringify(connection.caller!.keyId)}`;
  return errors.rateLimited(who, connection.bucket!.eventsPerSecond, events, retryAfterMs);
}

/** An admin action for the audit log: the operation and what its body names (a day to begin, or its size). */
function describeAdmin(frame: RequestFrame): string {
  const name = operationNames.get(frame.operation) ?? `operation ${frame.operation}`;
  const { body } = frame;
  if (frame.operation === Operation.close_day) {
    return body.byteLength === 4 ? `${name}: begin day ${new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true)}` : `${name}: begin the next day`;
  }
  return `${name} (${body.byteLength} B body)`;
}

function encodeErrorOf(requestId: number, error: TallyError): Uint8Array {
  return encodeError(requestId, error.code, errorReason(error));
}
