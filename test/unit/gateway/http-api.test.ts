// The HTTP/JSON door's own rules against a scripted service (the e2e test runs the real ledger): a rejection that
// crossed a thread without its class keeps its code, as on the binary door; without keys, HTTP callers share the
// open caller's rate bucket (they have no socket of their own); nothing refused reaches the service.

import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { ScriptedService } from '../../support/scripted-service.js';

let service: ScriptedService;
let server: RunningServer;

beforeEach(async () => {
  service = new ScriptedService();
  server = await startServer({ host: '127.0.0.1', port: 0, service, keyRate: 4, log: () => {} });
});

afterEach(async () => {
  service.release();
  await server.close();
});

const accounts = (count: number) => JSON.stringify(Array.from({ length: count }, (_, i) => ({ id: String(i + 1), ledger: 1, code: 1 })));
const post = (body: string) => fetch(`http://127.0.0.1:${server.port}/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('the HTTP/JSON door', () => {
  test('a rejection without its class (from a worker) answers its own code, as a frame would', async () => {
    service.failWith = Object.assign(new Error('overloaded: shard 1 is busy'), { code: 'overloaded' });
    const response = await post(accounts(1));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: 'overloaded', detail: 'shard 1 is busy' });
  });

  test('without keys, HTTP callers share one rate bucket: past it, 429 and the service never sees the request', async () => {
    expect((await post(accounts(3))).status).toBe(200);
    const refused = await post(accounts(3));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'rate_limited' });
    expect(service.calls).toHaveLength(1);
  });
});
