// The front door: the keys file (strict), key checks, scopes per operation, and the gateway refusing
// unauthenticated, out-of-scope and over-rate calls with their codes — doing nothing, keeping the connection
// open, recording each refusal (and every admin action) in the audit sink.

import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '../../../src/client/client.js';
import { TallyError } from '../../../src/core/errors.js';
import { Operation } from '../../../src/core/operations.js';
import type { AuditEvent, AuditSink } from '../../../src/gateway/audit-sink.js';
import { KeyRing, bearerSecret, hashSecret, isLoopbackHost, newSecret, parseKeysFile, type ApiKey } from '../../../src/gateway/auth.js';
import type { Caller } from '../../../src/gateway/ledger-service.js';
import { scopeOf } from '../../../src/gateway/scopes.js';
import { startServer, type RunningServer, type ServerOptions } from '../../../src/gateway/server.js';
import { ScriptedService } from '../../support/scripted-service.js';

const hex = (c: string) => c.repeat(64);

describe('keys file', () => {
  it('reads keys with their scopes, hash (lower-cased) and rate (0 when absent)', () => {
    const text = JSON.stringify({ keys: [{ id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hex('A'), eventsPerSecond: 50_000 }, { id: 'reports', scopes: ['read'], sha256: hex('b') }] });
    expect(parseKeysFile(text, 'keys.json')).toEqual([
      { id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hex('a'), eventsPerSecond: 50_000 },
      { id: 'reports', scopes: ['read'], sha256: hex('b'), eventsPerSecond: 0 },
    ]);
    expect(parseKeysFile('{"keys":[]}', 'k')).toEqual([]);
  });

  const key = (fields: Record<string, unknown>) => ({ id: 'k1', scopes: ['read'], sha256: hex('1'), ...fields });
  it.each([
    ['not JSON', '{keys:', /keys\.json: not JSON/],
    ['an array', '[]', /must be an object \{"keys":\[…\]\}/],
    ['an unknown top-level field', JSON.stringify({ keys: [], extra: 1 }), /unknown field "extra"/],
    ['keys not an array', JSON.stringify({ keys: {} }), /"keys" must be an array/],
    ['an entry that is not an object', JSON.stringify({ keys: ['k1'] }), /keys\[0\]: must be an object/],
    ['a bad id', JSON.stringify({ keys: [key({ id: 'has space' })] }), /keys\[0\]: "id" must be/],
    ['no scopes', JSON.stringify({ keys: [key({ scopes: [] })] }), /keys\[0\] \("k1"\): "scopes" must be a non-empty array/],
    ['an unknown scope', JSON.stringify({ keys: [key({ scopes: ['read', 'write'] })] }), /keys\[0\] \("k1"\): unknown scope "write" \(known: read, post, admin\)/],
    ['a scope twice', JSON.stringify({ keys: [key({ scopes: ['read', 'read'] })] }), /listed twice/],
    ['short hex', JSON.stringify({ keys: [key({ sha256: 'abc' })] }), /keys\[0\] \("k1"\): "sha256" must be 64 hex digits/],
    ['non-hex', JSON.stringify({ keys: [key({ sha256: hex('g') })] }), /"sha256" must be 64 hex digits/],
    ['a negative rate', JSON.stringify({ keys: [key({ eventsPerSecond: -1 })] }), /"eventsPerSecond" must be an integer in 0\.\./],
    ['a fractional rate', JSON.stringify({ keys: [key({ eventsPerSecond: 1.5 })] }), /"eventsPerSecond"/],
    ['an unknown entry field', JSON.stringify({ keys: [key({ secret: 'tk_x' })] }), /keys\[0\] \("k1"\): unknown field "secret"/],
    ['a duplicate id', JSON.stringify({ keys: [key({}), key({ sha256: hex('2') })] }), /keys\[1\] \("k1"\): duplicate id, also keys\[0\]/],
    ['a duplicate secret', JSON.stringify({ keys: [key({}), key({ id: 'k2' })] }), /keys\[1\] \("k2"\): the same secret hash as keys\[0\]/],
  ])('refuses %s, naming the file and the entry', (_name, text, message) => {
    expect(() => parseKeysFile(text, 'keys.json')).toThrow(message);
  });
});

describe('key checks', () => {
  const secrets = [newSecret(), newSecret()];
  const ring = new KeyRing([
    { id: 'one', scopes: ['read'], sha256: hashSecret(secrets[0]!), eventsPerSecond: 0 },
    { id: 'two', scopes: ['post', 'admin'], sha256: hashSecret(secrets[1]!), eventsPerSecond: 7 },
  ]);

  it('makes secrets of tk_ and 32 random bytes, different each time', () => {
    expect(secrets[0]).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    expect(secrets[0]).not.toBe(secrets[1]);
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('finds the key a bearer secret belongs to, and nothing for anything else', () => {
    expect(ring.authenticate(`Bearer ${secrets[1]}`)).toMatchObject({ caller: { keyId: 'two', scopes: new Set(['post', 'admin']) }, eventsPerSecond: 7 });
    expect(ring.authenticate(`bearer ${secrets[0]}`)?.caller.keyId).toBe('one');
    expect(ring.authenticate(`Bearer ${secrets[0]}x`)).toBeNull();
    expect(ring.authenticate(`Basic ${secrets[0]}`)).toBeNull();
    expect(ring.authenticate(secrets[0]!)).toBeNull();
    expect(ring.authenticate('Bearer ')).toBeNull();
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['BEARER  abc ', 'abc'],
    ['Bearer a b', null],
    ['Token abc', null],
  ])('reads the secret of %j', (header, secret) => {
    expect(bearerSecret(header)).toBe(secret);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['example.com', false],
  ])('%s is a loopback host: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it.each([
    [Operation.lookup_accounts, 'read'],
    [Operation.lookup_transfers, 'read'],
    [Operation.get_account_transfers, 'read'],
    [Operation.get_day_report, 'read'],
    [Operation.get_bookkeeping_status, 'read'],
    [Operation.create_accounts, 'post'],
    [Operation.create_transfers, 'post'],
    [Operation.account_operations, 'post'],
    [Operation.close_day, 'admin'],
    [Operation.submit_adjustment, 'admin'],
    [Operation.get_audit_log, 'admin'],
    [Operation.get_snapshot_status, 'admin'],
    [Operation.recon_upload, 'admin'],
    [Operation.recon_import, 'admin'],
    [Operation.get_recon_batches, 'admin'],
    [Operation.get_recon_batch, 'admin'],
    [Operation.get_recon_exceptions, 'admin'],
  ])('operation %i needs the %s scope', (operation, scope) => {
    expect(scopeOf(operation)).toBe(scope);
  });
});

/** A scripted service that also records who called. */
class CallerRecordingService extends ScriptedService {
  readonly callers: (Caller | undefined)[] = [];
  override execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array> {
    this.callers.push(caller);
    return super.execute(operation, body);
  }
}

/** An audit sink in memory; admin records can be held to show that their reply waits for them. */
class MemoryAudit implements AuditSink {
  readonly events: AuditEvent[] = [];
  holdAdmin = false;
  private held: (() => void)[] = [];
  private recorded: (() => void)[] = [];
  record(event: AuditEvent): Promise<void> {
    this.events.push(event);
    for (const wake of this.recorded.splice(0)) wake();
    if (event.kind === 'admin' && this.holdAdmin) return new Promise((resolve) => this.held.push(resolve));
    return Promise.resolve();
  }
  /** Resolves once `count` events are recorded. */
  async waitFor(count: number): Promise<void> {
    while (this.events.length < count) await new Promise<void>((resolve) => this.recorded.push(resolve));
  }
  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

describe('the gateway with keys', () => {
  const secrets = { admin: newSecret(), reader: newSecret(), poster: newSecret(), slow: newSecret() };
  const keys: ApiKey[] = [
    { id: 'ops', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secrets.admin), eventsPerSecond: 0 },
    { id: 'reports', scopes: ['read'], sha256: hashSecret(secrets.reader), eventsPerSecond: 0 },
    { id: 'checkout', scopes: ['read', 'post'], sha256: hashSecret(secrets.poster), eventsPerSecond: 0 },
    { id: 'slow', scopes: ['read', 'post'], sha256: hashSecret(secrets.slow), eventsPerSecond: 10 },
  ];
  let service: CallerRecordingService;
  let audit: MemoryAudit;
  let server: RunningServer | undefined;
  const clients: Client[] = [];

  async function start(options: Partial<ServerOptions> = {}): Promise<void> {
    service = new CallerRecordingService();
    audit = new MemoryAudit();
    server = await startServer({ host: '127.0.0.1', port: 0, service, keys, audit, ...options });
  }

  async function client(apiKey?: string): Promise<Client> {
    const opened = await connect({ url: `ws://127.0.0.1:${server!.port}`, ...(apiKey === undefined ? {} : { apiKey }) });
    clients.push(opened);
    return opened;
  }

  async function refusal(call: Promise<unknown>): Promise<TallyError> {
    const error = await call.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TallyError);
    return error as TallyError;
  }

  const account = { id: 1n, ledger: 1, code: 0 };
  const transfer = (id: number) => ({ id: BigInt(id), debitAccountId: 1n, creditAccountId: 2n, amount: 1n, ledger: 1, code: 0 });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await server?.close();
    server = undefined;
  });

  it('refuses every call without a key as unauthenticated, does nothing, and keeps the connection', async () => {
    await start();
    const anonymous = await client();
    const first = await refusal(anonymous.createAccounts([account]));
    expect(first.code).toBe('unauthenticated');
    expect(first.message).toMatch(/no API key: send "Authorization: Bearer <key>"/);
    expect((await refusal(anonymous.lookupAccounts([1n]))).code).toBe('unauthenticated');
    expect(service.calls).toHaveLength(0);
    expect(audit.events).toEqual([
      { kind: 'refused', keyId: null, operation: Operation.create_accounts, code: 'unauthenticated', detail: expect.stringMatching(/no API key/), remote: expect.any(String) },
      { kind: 'refused', keyId: null, operation: Operation.lookup_accounts, code: 'unauthenticated', detail: expect.stringMatching(/no API key/), remote: expect.any(String) },
    ]);
  });

  it('refuses a wrong key as unauthenticated', async () => {
    await start();
    const wrong = await client(newSecret());
    const error = await refusal(wrong.createTransfers([transfer(1)]));
    expect(error.code).toBe('unauthenticated');
    expect(error.message).toMatch(/the API key presented is not valid/);
    expect(service.calls).toHaveLength(0);
  });

  it('refuses an operation outside the key’s scopes as forbidden, and serves the ones inside', async () => {
    await start();
    const reader = await client(secrets.reader);
    const error = await refusal(reader.createAccounts([account]));
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe('forbidden: key "reports" lacks the post scope that create_accounts needs');
    expect((await refusal(reader.closeDay())).code).toBe('forbidden');
    expect(service.calls).toHaveLength(0);
    expect(await reader.lookupAccounts([1n])).toHaveLength(1);
    expect(service.callers.map((c) => c?.keyId)).toEqual(['reports']);
    expect(audit.events.map((e) => [e.kind, e.keyId, e.code])).toEqual([
      ['refused', 'reports', 'forbidden'],
      ['refused', 'reports', 'forbidden'],
    ]);
  });

  it('passes each request’s caller (key id and scopes) to the service', async () => {
    await start();
    await (await client(secrets.poster)).createTransfers([transfer(1)]);
    expect(service.callers).toEqual([{ keyId: 'checkout', scopes: new Set(['read', 'post']) }]);
  });

  it('limits a key’s events per second across all its connections: rate_limited, nothing done, connection kept', async () => {
    await start();
    const [one, two] = [await client(secrets.slow), await client(secrets.slow)];
    expect(await one.createTransfers([1, 2, 3, 4, 5, 6].map(transfer))).toHaveLength(6);
    const error = await refusal(two.createTransfers([7, 8, 9, 10, 11].map(transfer))); // 4 left, 5 asked (ids count the same)
    expect(error.code).toBe('rate_limited');
    expect(error.message).toMatch(/key "slow" is limited to 10 events per second: retry this request of 5 events in \d+ ms/);
    expect(service.calls).toHaveLength(1);
    expect(await two.createTransfers([7].map(transfer))).toHaveLength(1); // the connection still serves
    // A request bigger than a second's worth can never pass: the message says to split it.
    expect((await refusal(one.lookupAccounts(Array.from({ length: 11 }, (_, i) => BigInt(i + 1))))).message).toMatch(/has 11: split it into requests of at most 10 events/);
    expect(audit.events.filter((e) => e.code === 'rate_limited').map((e) => e.keyId)).toEqual(['slow', 'slow']);
  });

  it('gives keys without a rate of their own the server’s keyRate', async () => {
    await start({ keyRate: 2 });
    const poster = await client(secrets.poster);
    expect(await poster.createTransfers([transfer(1), transfer(2)])).toHaveLength(2);
    expect((await refusal(poster.createTransfers([transfer(3)]))).code).toBe('rate_limited');
  });

  it('records every admin action with its outcome, and sends its reply only once the record is kept', async () => {
    await start();
    service.replyWith = () => new TextEncoder().encode('{"day":20250102,"passed":true}');
    const admin = await client(secrets.admin);
    audit.holdAdmin = true;
    let replied = false;
    const closing = admin.closeDay(20250102).then((report) => ((replied = true), report));
    await audit.waitFor(1);
    await (await client(secrets.reader)).getBookkeepingStatus(); // a round trip through the gateway meanwhile
    expect(replied).toBe(false);
    audit.release();
    expect(await closing).toEqual({ day: 20250102, passed: true });
    expect(audit.events).toEqual([{ kind: 'admin', keyId: 'ops', operation: Operation.close_day, code: 'ok', detail: 'close_day: begin day 20250102', remote: expect.any(String) }]);
    audit.holdAdmin = false;
    service.failWith = new TallyError('shard_unavailable', 'shard 1: restarting');
    expect((await refusal(admin.closeDay())).code).toBe('shard_unavailable');
    expect(audit.events[1]).toMatchObject({ kind: 'admin', keyId: 'ops', code: 'shard_unavailable', detail: 'close_day: begin the next day: shard 1: restarting' });
  });

  it('leaves admin records to the service with auditAdmin: false, and still records refusals', async () => {
    await start({ auditAdmin: false });
    service.replyWith = () => new TextEncoder().encode('{"day":20250102,"passed":true}');
    await (await client(secrets.admin)).closeDay();
    service.failWith = new TallyError('body_invalid', 'no such day');
    expect((await refusal((await client(secrets.admin)).closeDay(20250103))).code).toBe('body_invalid');
    expect((await refusal((await client(secrets.reader)).closeDay())).code).toBe('forbidden');
    expect(audit.events.map((e) => [e.kind, e.keyId, e.code])).toEqual([['refused', 'reports', 'forbidden']]);
  });

  it('records refusals by the service (overloaded) but not failures whose outcome is unknown', async () => {
    await start();
    const poster = await client(secrets.poster);
    service.failWith = new TallyError('overloaded', 'shard 0 holds 4160 tasks');
    expect((await refusal(poster.createTransfers([transfer(1)]))).code).toBe('overloaded');
    service.failWith = new TallyError('storage_failed', 'disk full');
    expect((await refusal(poster.createTransfers([transfer(2)]))).code).toBe('storage_failed');
    expect(audit.events.map((e) => [e.kind, e.keyId, e.code, e.detail])).toEqual([['refused', 'checkout', 'overloaded', 'shard 0 holds 4160 tasks']]);
  });

  it('keeps GET /health and GET /metrics open, and counts refusals in tally_requests_total', async () => {
    await start();
    await refusal((await client()).createAccounts([account]));
    const base = `http://127.0.0.1:${server!.port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/tally_requests_total\{operation="create_accounts",outcome="unauthenticated"\} 1/);
  });
});

describe('the gateway without keys', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses to start on a host other than loopback', async () => {
    await expect(startServer({ host: '0.0.0.0', port: 0, service: new ScriptedService() })).rejects.toThrow(/host 0\.0\.0\.0 is not a loopback address, so keys are required/);
  });

  it('serves everything as the anonymous caller, with keyRate per connection', async () => {
    const service = new CallerRecordingService();
    server = await startServer({ host: '127.0.0.1', port: 0, service, keyRate: 1 });
    const [one, two] = [await connect({ url: `ws://127.0.0.1:${server.port}` }), await connect({ url: `ws://127.0.0.1:${server.port}` })];
    try {
      expect(await one.lookupAccounts([1n])).toHaveLength(1);
      expect(await two.lookupAccounts([1n])).toHaveLength(1); // its own bucket
      const error = await one.lookupAccounts([1n]).then(() => null, (e: TallyError) => e);
      expect(error?.message).toMatch(/this connection is limited to 1 events per second/);
      expect(service.callers.map((c) => [c?.keyId, [...(c?.scopes ?? [])]])).toEqual([
        ['anonymous', ['read', 'post', 'admin']],
        ['anonymous', ['read', 'post', 'admin']],
      ]);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
