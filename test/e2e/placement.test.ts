// Issue #14 through the real server: the differential workload of test/support/differential.ts sent, request by
// request, to `tally serve --shards 1` and `--shards 4`, through the public client. Reads are made right after each
// reply, with no wait for credits on their way (the server's reads wait for them); the next request goes once the
// four-shard server has nothing in transit (a write does not wait for credits: see README). Each seed has ids of
// its own on the same two servers.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, type Client } from '../../src/client/index.js';
import type { EventResult } from '../../src/core/wire/records.js';
import { DivergenceError, historyLine, noDivergences, runPlacement, withoutTimes, type PlacementTarget } from '../support/differential.js';
import type { Outcome } from '../support/ledger-harness.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

const seeds = Number(process.env.TALLY_E2E_PLACEMENT_SEEDS ?? 12);
const env = { TALLY_DAY_CUT: 'manual', TALLY_HOT_THRESHOLD: '0' };
let servers: ServerProcess[] = [];
let clients: Client[] = [];

beforeAll(async () => {
  servers = await Promise.all([startServerProcess({ shardCount: 1, env }), startServerProcess({ shardCount: 4, env })]);
  clients = await Promise.all(servers.map((server) => connect({ url: server.url })));
});

afterAll(async () => {
  for (const client of clients) await client.close();
  for (const server of servers) await server.cleanup();
});

function outcomes(results: EventResult[]): Outcome[] {
  return results.map((r) => (r.reason === undefined ? r.result : `close_refused:${r.reason}`) as Outcome);
}

function clientTarget(client: Client): PlacementTarget {
  return {
    apply: async (request) =>
      outcomes(
        request.kind === 'accounts'
          ? await client.createAccounts(request.accounts)
          : request.kind === 'transfers'
            ? await client.createTransfers(request.transfers)
            : await client.accountOperations(request.operations),
      ),
    accounts: async (ids) => new Map((await client.lookupAccounts(ids)).map((a) => [a.id, withoutTimes(a)])),
    transfers: async (ids) => new Map((await client.lookupTransfers(ids)).map((t) => [t.id, withoutTimes(t)])),
    history: async (id) => (await client.getAccountTransfers({ accountId: id, limit: 1000 })).map(historyLine).join('\n'),
  };
}

/** Until the four-shard server's relay holds nothing (GET /health transit.inFlight). */
async function transitIdle(server: ServerProcess): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { transit } = JSON.parse((await server.health()).body) as { transit: { inFlight: number } };
    if (transit.inFlight === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('transit not idle after 2.5 s');
}

describe('one answer at one shard and at four, through the real servers', () => {
  test(`${seeds} seeds of 40 requests: identical replies, and reads right after them identical`, async () => {
    const [one, four] = clients.map(clientTarget);
    for (let seed = 1; seed <= seeds; seed++) {
      try {
        await runPlacement(seed, noDivergences, { one: one!, four: four!, afterReads: () => transitIdle(servers[1]!), idBase: BigInt(seed) << 40n });
      } catch (error) {
        if (error instanceof DivergenceError) expect.fail(error.message);
        throw error;
      }
    }
  }, 300_000);
});
