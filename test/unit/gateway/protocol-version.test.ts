// The wire protocol's version is agreed at the WebSocket upgrade (issue #16): the client offers tally.v1, the
// server selects it; a peer of another version is refused with a message naming both, before any frame.

import { once } from 'node:events';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { connect } from '../../../src/client/client.js';
import { agreeProtocol, protocolName } from '../../../src/core/wire/protocol-version.js';
import { startServer, type RunningServer } from '../../../src/gateway/server.js';
import { ScriptedService } from '../../support/scripted-service.js';

describe('agreeProtocol', () => {
  test('selects this version when offered, among others too', () => {
    expect(agreeProtocol('tally.v1')).toEqual({ accepted: true, selected: 'tally.v1' });
    expect(agreeProtocol('tally.v2, tally.v1')).toEqual({ accepted: true, selected: 'tally.v1' });
  });

  test('takes a socket that offers no tally protocol as version 1 (raw frames)', () => {
    expect(agreeProtocol('')).toEqual({ accepted: true, selected: '' });
    expect(agreeProtocol('chat')).toEqual({ accepted: true, selected: '' });
  });

  test('refuses another version, naming both', () => {
    const agreement = agreeProtocol('tally.v2');
    expect(agreement.accepted).toBe(false);
    expect(agreement.accepted ? '' : agreement.why).toMatch(/speaks wire protocol tally\.v1; the client offered tally\.v2/);
  });
});

describe('at the upgrade', () => {
  let server: RunningServer;
  const service = new ScriptedService();
  beforeAll(async () => {
    server = await startServer({ host: '127.0.0.1', port: 0, service });
  });
  afterAll(async () => {
    service.release();
    await server.close();
  });

  test('the client and the server agree on tally.v1', async () => {
    const client = await connect({ url: `ws://127.0.0.1:${server.port}` });
    await client.close();
  });

  test('a client of another version is refused HTTP 426 with the reason', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${server.port}`, ['tally.v2']);
    socket.on('error', () => {}); // the refused upgrade ends the socket
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    expect(response.statusCode).toBe(426);
    let body = '';
    for await (const chunk of response) body += String(chunk);
    expect(body).toMatch(/speaks wire protocol tally\.v1; the client offered tally\.v2/);
    socket.terminate();
  });

  test('the client refuses a server that does not select its protocol', async () => {
    // An older server: /health as Tally's, a WebSocket upgrade that selects no subprotocol.
    const http = createServer((_request, response) => response.end(JSON.stringify({ status: 'ok', shards: 1 })));
    const other = new WebSocketServer({ server: http, handleProtocols: () => false });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const port = (http.address() as { port: number }).port;
    try {
      await expect(connect({ url: `ws://127.0.0.1:${port}`, timeoutMs: 5_000 })).rejects.toThrow(new RegExp(`does not speak wire protocol ${protocolName.replace('.', '\\.')}`));
    } finally {
      other.close();
      http.close();
    }
  });
});
