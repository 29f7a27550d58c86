// End to end, issue #20 (5): SIGTERM ends `tally serve` within --shutdown-deadline-ms whatever state it is in.
// Idle, it exits 0 at once. With shard 0's worker wedged (test/support/wedge-shard.mjs blocks that thread for
// good, as an endless loop in its code would): GET /health still answers, 503 `degraded` naming shard 0; a
// request in flight to that shard gets `shutting_down` rather than silence; the process exits 1 within the
// deadline, logging what it was waiting for; and a restart on the same data shows everything acknowledged.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect } from 'tally-ledger/client';
import { shutdownDeadlineMsDefault } from '../../src/core/limits.js';
import { Operation } from '../../src/core/operations.js';
import { encodeIds } from '../../src/core/wire/records.js';
import { RawSocket } from '../support/raw-socket.js';
import { repoRoot, startServerProcess } from '../support/server-process.js';
import { newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const ledger = 730;
const code = 4;
const wedgeModule = path.join(repoRoot(), 'test', 'support', 'wedge-shard.mjs');
/** The deadline the wedged server gets (its gateway drains for half of it). */
const deadlineMs = 3_000;
/** Beyond the deadline, the time a forced exit may take on a busy machine: process.exit, threads torn down. */
const exitSlackMs = 5_000;
/** Longest the wedge (a signal, then a message between threads) may take to show. */
const wedgeMsMax = 10_000;

describe('SIGTERM', () => {
  it('ends an idle server at once, with status 0', async () => {
    const server = await startServerProcess({ shardCount });
    try {
      const startedMs = performance.now();
      expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(performance.now() - startedMs).toBeLessThan(shutdownDeadlineMsDefault);
      expect(server.output()).toMatch(/"msg":"tally: shut down"/);
    } finally {
      await server.cleanup();
    }
  });

  it('ends a server whose shard is wedged within the deadline, with status 1, naming the shard', async () => {
    const server = await startServerProcess({ shardCount, nodeArgs: ['--import', wedgeModule], env: { TALLY_SHUTDOWN_DEADLINE_MS: String(deadlineMs) } });
    try {
      const ids = [...newIdsOnShard(3, 0, shardCount), ...newIdsOnShard(3, 1, shardCount)];
      const client = await connect({ url: server.url });
      expect((await client.createAccounts(ids.map((id) => ({ id, ledger, code })))).map((r) => r.result)).toEqual(ids.map(() => 'ok'));
      await client.close();

      process.kill(server.pid, 'SIGUSR2');
      await server.waitForOutput(/test: shard 0 wedged/, wedgeMsMax);
      const socket = await RawSocket.open(server.port);
      socket.request(1, Operation.lookup_accounts, encodeIds([ids[0]!])); // shard 0: never answered there
      socket.request(2, Operation.lookup_accounts, encodeIds([ids[3]!])); // shard 1 still serves
      const served = await socket.next();
      expect({ requestId: served.requestId, error: served.error?.code }).toEqual({ requestId: 2, error: undefined });

      const health = await fetch(`${server.httpUrl}/health`, { signal: AbortSignal.timeout(wedgeMsMax) });
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'degraded', shardsNotAnswering: [0] });

      const startedMs = performance.now();
      const exited = server.kill('SIGTERM');
      const refused = await socket.next();
      expect({ requestId: refused.requestId, error: refused.error?.code }).toEqual({ requestId: 1, error: 'shutting_down' });
      expect(await exited).toEqual({ code: 1, signal: null });
      expect(performance.now() - startedMs).toBeLessThan(deadlineMs + exitSlackMs);
      expect(server.output()).toMatch(/shutdown did not finish within 3000 ms \(--shutdown-deadline-ms\), exiting anyway; it was waiting for the ledger service: closing shards 0 \(/);

      // Forced exit is a crash to the stores: everything acknowledged is there after a restart.
      await server.restart();
      const again = await connect({ url: server.url });
      expect((await again.lookupAccounts(ids)).map((account) => account.id)).toEqual(ids);
      await again.close();
      expect(await server.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await server.cleanup();
    }
  });
});
