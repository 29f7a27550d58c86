// One connection of the public client per key the fuzzer holds (and one without a key, one with a wrong
// key), opened again after every restart. Bare sockets for hostile frames come from RawSocket.

import { connect, type Client } from '../../src/client/index.js';
import { RawSocket } from '../../test/support/raw-socket.js';
import type { KeyName } from './generator.js';
import { keyScopes, type KeyRole, type ServerControl } from './server-control.js';

/** Per-call timeout: a request unanswered this long while the server runs counts as a hang. */
export const callTimeoutMs = 30_000;
const keyNames: KeyName[] = [...(Object.keys(keyScopes) as KeyRole[]), 'nokey', 'wrongkey'];

export class Clients {
  private readonly open = new Map<KeyName, Client>();

  constructor(private readonly control: ServerControl) {}

  /** The secret a key presents; undefined for `nokey`. */
  secret(key: KeyName): string | undefined {
    if (key === 'nokey') return undefined;
    if (key === 'wrongkey') return 'tk_not-a-key-anyone-was-given';
    return this.control.secrets[key];
  }

  get(key: KeyName): Client {
    const client = this.open.get(key);
    if (client === undefined) throw new Error(`no connection for key ${key}: connectAll() first`);
    return client;
  }

  /** A connection of the public client that the caller closes. */
  connectOne(key: KeyName): Promise<Client> {
    return connect({ url: this.control.url, apiKey: this.secret(key), timeoutMs: callTimeoutMs });
  }

  port(): number {
    return this.control.port;
  }

  raw(key: KeyName): Promise<RawSocket> {
    return RawSocket.open(this.control.port, this.secret(key));
  }

  /** Closes whatever is open and connects every key again (after a start or restart). */
  async connectAll(): Promise<void> {
    await this.closeAll();
    for (const key of keyNames) this.open.set(key, await this.connectOne(key));
  }

  async closeAll(): Promise<void> {
    const clients = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(clients.map((c) => c.close()));
  }
}
