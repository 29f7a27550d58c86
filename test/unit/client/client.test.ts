// The client against the real gateway and a scripted LedgerService: coalescing of concurrent calls into
// shared frames (and back), linked chains kept whole, big calls split in order, lookups merged by id,
// and every way a call can fail (server error, timeout, closed connection, bad input).

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '../../../src/client/index.js';
import { TallyError } from '../../../src/core/errors.js';
import { idBytes } from '../../../src/core/layout.js';
import { batchEventsMax, eventBytes } from '../../../src/core/limits.js';
import { Operation } from '../../../src/core/operations.js';
import { decodeIds, type TransferInput } from '../../../src/core/wire/records.js';
import { ResultCode } from '../../../src/core/result-codes.js';
import { TransferFlags } from '../../../src/core/types.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { ScriptedService, accountFor, transferFor } from '../../support/scripted-service.js';

let service: ScriptedService;
let server: RunningServer;
let client: Client;

/** The scripted service answers each event with result code = `code` mod 36. */
function transfer(id: number, code = 0, flags = 0): TransferInput {
  return { id: BigInt(id), debitAccountId: 1n, creditAccountId: 2n, amount: 10n, ledger: 1, code, flags };
}

function rejection(promise: Promise<unknown>): Promise<TallyError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: TallyError) => error,
  );
}

beforeEach(async () => {
  service = new ScriptedService();
  server = await startServer({ host: '127.0.0.1', port: 0, service });
  client = await connect({ url: `ws://127.0.0.1:${server.port}` });
});

afterEach(async () => {
  service.release();
  await client.close();
  await server.close();
});

describe('write coalescing', () => {
  it('sends concurrent createTransfers calls as one frame and splits the results back', async () => {
    const calls = [
      [transfer(1, ResultCode.ok), transfer(2, ResultCode.exists)],
      [transfer(3, ResultCode.insufficient_funds)],
      [transfer(4, ResultCode.ok), transfer(5, ResultCode.ok), transfer(6, ResultCode.close_refused)],
    ];
    const results = await Promise.all(calls.map((c) => client.createTransfers(c)));
    expect(service.calledWith(Operation.create_transfers)).toHaveLength(1);
    expect(service.calls[0].body.byteLength).toBe(6 * eventBytes);
    expect(results).toEqual([
      [{ index: 0, result: 'ok', code: 0 }, { index: 1, result: 'exists', code: 15 }],
      [{ index: 0, result: 'insufficient_funds', code: 32 }],
      [{ index: 0, result: 'ok', code: 0 }, { index: 1, result: 'ok', code: 0 }, { index: 2, result: 'close_refused', code: 35, reason: 'frozen_balance' }],
    ]);
  });

  it('keeps each caller’s events contiguous and in call order within the frame', async () => {
    await Promise.all([client.createTransfers([transfer(1), transfer(2)]), client.createTransfers([transfer(3)])]);
    const body = service.calls[0].body;
    const ids = [0, 1, 2].map((i) => new DataView(body.buffer, body.byteOffset).getBigUint64(i * eventBytes, true));
    expect(ids).toEqual([1n, 2n, 3n]);
  });

  it('coalesces each write operation separately', async () => {
    await Promise.all([
      client.createAccounts([{ id: 1n, ledger: 1, code: 0 }]),
      client.createTransfers([transfer(1)]),
      client.accountOperations([{ id: 9n, accountId: 1n, kind: 'freeze', amount: 5n }]),
      client.createAccounts([{ id: 2n, ledger: 1, code: 0 }]),
    ]);
    expect(service.calledWith(Operation.create_accounts)).toHaveLength(1);
    expect(service.calledWith(Operation.create_transfers)).toHaveLength(1);
    expect(service.calledWith(Operation.account_operations)).toHaveLength(1);
  });

  it('ends a frame after a call whose linked chain is left open, so no other caller continues it', async () => {
    await Promise.all([
      client.createTransfers([transfer(1), transfer(2, 0, TransferFlags.linked)]),
      client.createTransfers([transfer(3)]),
      client.createTransfers([transfer(4)]),
    ]);
    expect(service.calledWith(Operation.create_transfers).map((c) => c.body.byteLength / eventBytes)).toEqual([2, 2]);
  });

  it('starts a new frame when the next call would pass batchEventsMax', async () => {
    const big = Array.from({ length: batchEventsMax - 1 }, (_, i) => transfer(i + 1));
    const [a, b] = await Promise.all([client.createTransfers(big), client.createTransfers([transfer(1), transfer(2)])]);
    expect(service.calledWith(Operation.create_transfers).map((c) => c.body.byteLength / eventBytes)).toEqual([batchEventsMax - 1, 2]);
    expect(a).toHaveLength(batchEventsMax - 1);
    expect(b.map((r) => r.index)).toEqual([0, 1]);
  });

  it('sends a call larger than one batch as consecutive frames split between chains, indexes continuing', async () => {
    const events = Array.from({ length: batchEventsMax + 10 }, (_, i) => transfer(i + 1, i % 2));
    // A chain over the batch boundary moves whole into the second frame.
    for (let i = batchEventsMax - 3; i < batchEventsMax + 2; i++) events[i].flags = TransferFlags.linked;
    const results = await client.createTransfers(events);
    expect(service.calledWith(Operation.create_transfers).map((c) => c.body.byteLength / eventBytes)).toEqual([batchEventsMax - 3, 13]);
    expect(results.map((r) => r.index)).toEqual(events.map((_, i) => i));
    expect(results.map((r) => r.code)).toEqual(events.map((_, i) => i % 2));
  });

  it('refuses a linked chain longer than one batch before sending anything', async () => {
    const events = Array.from({ length: batchEventsMax + 1 }, (_, i) => transfer(i + 1, 0, TransferFlags.linked));
    const error = await rejection(client.createTransfers(events));
    expect(error.code).toBe('batch_too_large');
    expect(service.calls).toHaveLength(0);
  });

  it('resolves an empty call without a frame', async () => {
    expect(await client.createTransfers([])).toEqual([]);
    expect(await client.lookupAccounts([])).toEqual([]);
    expect(service.calls).toHaveLength(0);
  });

  it('rejects only the call with invalid input, with a TypeError naming the field', async () => {
    const bad = client.createTransfers([{ ...transfer(1), amount: -5n }]);
    const good = client.createTransfers([transfer(2)]);
    await expect(bad).rejects.toThrow(/transfers\[0\]\.amount/);
    await expect(bad).rejects.toBeInstanceOf(TypeError);
    expect(await good).toHaveLength(1);
  });
});

describe('lookups', () => {
  it('merges concurrent lookups into one frame without duplicates and returns each caller its own found records', async () => {
    const [a, b, c] = await Promise.all([
      client.lookupAccounts([1n, 2n, 3n]),
      client.lookupAccounts([3n, 5n]),
      client.lookupAccounts([4n, 6n]),
    ]);
    const frames = service.calledWith(Operation.lookup_accounts);
    expect(frames).toHaveLength(1);
    expect(decodeIds(frames[0].body)).toEqual([1n, 2n, 3n, 5n, 4n, 6n]);
    expect(a).toEqual([accountFor(1n), accountFor(3n)]);
    expect(b).toEqual([accountFor(3n), accountFor(5n)]);
    expect(c).toEqual([]);
    expect(a[1]).not.toBe(b[0]); // a record asked for twice is two objects
  });

  it('keeps the caller’s order, duplicates included', async () => {
    expect((await client.lookupTransfers([5n, 1n, 5n])).map((t) => t.id)).toEqual([5n, 1n, 5n]);
    expect(await client.lookupTransfers([7n])).toEqual([transferFor(7n)]);
  });

  it('splits more ids than one frame holds across frames', async () => {
    const ids = Array.from({ length: batchEventsMax + 5 }, (_, i) => BigInt(2 * i + 1));
    const found = await client.lookupAccounts(ids);
    expect(service.calledWith(Operation.lookup_accounts).map((c) => c.body.byteLength / idBytes)).toEqual([batchEventsMax, 5]);
    expect(found.map((a) => a.id)).toEqual(ids);
  });

  it('rejects a bad id with a TypeError naming it', async () => {
    await expect(client.lookupAccounts([1n, -1n])).rejects.toThrow(/ids\[1\]\.id/);
  });

  it('pages account history', async () => {
    const page = await client.getAccountTransfers({ accountId: 100n, limit: 2, reversed: true });
    expect(page.map((e) => e.transfer.id)).toEqual([102n, 101n]);
    expect(page[0].balanceAfter).toEqual({ debitsPosted: 1n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n });
  });
});

describe('failures', () => {
  it('rejects every caller of a frame with the server’s error code', async () => {
    service.failWith = new TallyError('storage_failed', 'disk full');
    const calls = [client.createTransfers([transfer(1)]), client.createTransfers([transfer(2)])];
    for (const call of calls) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(TallyError);
      expect(error.code).toBe('storage_failed');
      expect(error.message).toBe('storage_failed: disk full');
    }
  });

  it('rejects with timeout when no reply comes in time, and keeps working after', async () => {
    await client.close();
    client = await connect({ url: `ws://127.0.0.1:${server.port}`, timeoutMs: 50 });
    service.hold = true;
    const error = await rejection(client.lookupAccounts([1n]));
    expect(error.code).toBe('timeout');
    service.hold = false;
    service.release(); // the late reply finds no one waiting and is dropped
    expect(await client.lookupAccounts([3n])).toEqual([accountFor(3n)]);
  });

  it('rejects pending and later calls with connection_closed when the client closes', async () => {
    service.hold = true;
    const pending = rejection(client.createTransfers([transfer(1)]));
    await service.waitForCalls(1);
    await client.close();
    expect((await pending).code).toBe('connection_closed');
    expect((await rejection(client.lookupAccounts([1n]))).code).toBe('connection_closed');
  });

  it('rejects with connection_closed when the server goes away', async () => {
    await server.close();
    expect((await rejection(client.createTransfers([transfer(1)]))).code).toBe('connection_closed');
    server = await startServer({ host: '127.0.0.1', port: 0, service }); // for afterEach
  });

  it('refuses to connect where nobody listens', async () => {
    const port = server.port;
    await server.close();
    expect((await rejection(connect({ url: `ws://127.0.0.1:${port}` }))).code).toBe('connection_closed');
    server = await startServer({ host: '127.0.0.1', port: 0, service });
  });

  it.each([
    [{ url: 'http://localhost:1' }, /url/],
    [{ url: 'ws://localhost:1', timeoutMs: 0 }, /timeoutMs/],
    [{ url: 'ws://localhost:1', timeoutMs: 1.5 }, /timeoutMs/],
  ])('checks connect options %o', async (options, message) => {
    await expect(connect(options)).rejects.toThrow(message);
  });
});
