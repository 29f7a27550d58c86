// End to end, issue #20 (4): a shard prepared for a linked chain across shards holds its turn until the
// chain's decision arrives, and everything sent to it meanwhile waits behind that turn. Those waiting
// tasks must never keep the decision (or GET /health, or shutdown) from reaching the shard: before the fix
// 64 of them filled the worker's task slots, the decision queued behind them, and nothing was ever answered.
// Each case pipelines a cross-shard linked create_accounts and then far more than 64 tasks for the
// prepared shard without waiting, and expects every one answered and /health quick meanwhile.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultBytes } from '../../src/core/layout.js';
import { Operation } from '../../src/core/operations.js';
import { encodeAccounts, encodeIds, encodeTransfers } from '../../src/core/wire/records.js';
import { ResultCode } from '../../src/core/result-codes.js';
import { AccountFlags } from '../../src/core/types.js';
import type { ReplyFrame } from '../../src/core/wire/wire.js';
import { RawSocket } from '../support/raw-socket.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { newIdOnShard, newIdsOnShard } from './shard-ids.js';

const shardCount = 2;
const ledger = 720;
const code = 3;
/** Tasks pipelined behind the prepared turn: far past the 64 slots of a shard worker. */
const followersCount = 200;
/** Longest every reply may take: a few fsyncs on a shared machine, far below "never". */
const answeredMsMax = 30_000;
/** Longest GET /health may take while the shard is busy (its own per-shard bound is 1 s). */
const healthMsMax = 5_000;

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ shardCount });
});

afterAll(async () => {
  await server?.cleanup();
});

/** Resolves with `count` replies on `socket`, or rejects naming how many came within answeredMsMax. */
async function replies(socket: RawSocket, count: number): Promise<ReplyFrame[]> {
  const got: ReplyFrame[] = [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${got.length} of ${count} replies within ${answeredMsMax} ms`)), answeredMsMax);
  });
  const all = (async () => {
    while (got.length < count) got.push(await socket.next());
    return got;
  })();
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** GET /health with a bound: its status, and how long it took. */
async function health(): Promise<{ status: number; body: { status: string; shardsNotAnswering?: number[] }; ms: number }> {
  const startedMs = performance.now();
  const response = await fetch(`${server.httpUrl}/health`, { signal: AbortSignal.timeout(healthMsMax) });
  const body = (await response.json()) as { status: string; shardsNotAnswering?: number[] };
  return { status: response.status, body, ms: performance.now() - startedMs };
}

/** A linked pair of accounts, the first on shard 0 and the second on shard 1: a chain across shards. */
function crossShardChain(): { first: bigint; body: Uint8Array } {
  const first = newIdOnShard(0, shardCount);
  const second = newIdOnShard(1, shardCount);
  const body = encodeAccounts([
    { id: first, ledger, code, flags: AccountFlags.linked },
    { id: second, ledger, code },
  ]);
  return { first, body };
}

/** The reply's body; a reply that is an error fails the test with its code and message. */
function bodyOf(reply: ReplyFrame | undefined): Uint8Array {
  expect(reply, 'a reply').toBeDefined();
  if (reply!.error !== undefined) throw new Error(`request ${reply!.requestId} answered ${reply!.error.message}`);
  return reply!.body;
}

function resultCodes(body: Uint8Array): number[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return Array.from({ length: body.byteLength / resultBytes }, (_, i) => view.getUint16(i * resultBytes, true));
}

describe('a shard holding its turn for a chain decision, with many tasks behind it', () => {
  it('answers a chain and 200 lookups pipelined on one connection, and /health meanwhile', async () => {
    const socket = await RawSocket.open(server.port);
    const chain = crossShardChain();
    socket.request(1, Operation.create_accounts, chain.body);
    for (let i = 0; i < followersCount; i++) socket.request(2 + i, Operation.lookup_accounts, encodeIds([chain.first]));
    const [all, answer] = await Promise.all([replies(socket, 1 + followersCount), health()]);
    const byId = new Map(all.map((reply) => [reply.requestId, reply]));
    expect(resultCodes(bodyOf(byId.get(1)))).toEqual([ResultCode.ok, ResultCode.ok]);
    for (let i = 0; i < followersCount; i++) {
      // Each lookup sees the chain committed (it ran after the decision) or not yet prepared: whole or nothing.
      expect([0, 128]).toContain(bodyOf(byId.get(2 + i)).byteLength);
    }
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('ok');
    expect(answer.ms).toBeLessThan(healthMsMax);
    await socket.close();
  });

  it('answers chains and writes from several connections, all behind prepared turns', async () => {
    const sockets = await Promise.all(Array.from({ length: 4 }, () => RawSocket.open(server.port)));
    const payers = newIdsOnShard(2, 0, shardCount);
    const setup = await RawSocket.open(server.port);
    setup.request(1, Operation.create_accounts, encodeAccounts(payers.map((id) => ({ id, ledger, code }))));
    expect(resultCodes(bodyOf((await replies(setup, 1))[0]))).toEqual([ResultCode.ok, ResultCode.ok]);
    await setup.close();
    const chains = sockets.map(() => crossShardChain());
    // Each connection: a chain across shards, then writes (transfers between shard-0 accounts) and lookups.
    sockets.forEach((socket, s) => {
      socket.request(1, Operation.create_accounts, chains[s]!.body);
      for (let i = 0; i < followersCount; i++) {
        if (i % 2 === 0) socket.request(2 + i, Operation.lookup_accounts, encodeIds([chains[s]!.first]));
        else socket.request(2 + i, Operation.create_transfers, encodeTransfers([{ id: newIdOnShard(0, shardCount), debitAccountId: payers[0]!, creditAccountId: payers[1]!, amount: 1n, ledger, code }]));
      }
    });
    const [answer, ...all] = await Promise.all([health(), ...sockets.map((socket) => replies(socket, 1 + followersCount))]);
    for (const [s, frames] of all.entries()) {
      const byId = new Map(frames.map((reply) => [reply.requestId, reply]));
      expect(resultCodes(bodyOf(byId.get(1))), `connection ${s}: the chain`).toEqual([ResultCode.ok, ResultCode.ok]);
      for (let i = 0; i < followersCount; i++) {
        const body = bodyOf(byId.get(2 + i));
        if (i % 2 === 1) expect(resultCodes(body), `connection ${s}, request ${2 + i}`).toEqual([ResultCode.ok]);
      }
    }
    expect(answer.status).toBe(200);
    await Promise.all(sockets.map((socket) => socket.close()));
  });

  it('ends on SIGTERM promptly after all that, exiting 0', async () => {
    const exit = await server.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

