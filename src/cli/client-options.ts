// How the tally commands that call a running server reach it: the address, the API key and TLS trust, from
// flags or TALLY_URL / TALLY_API_KEY / TALLY_CA. The key is read here, never from the library's defaults:
// the client library takes only what it is given.

import { readFileSync } from 'node:fs';
import type { ConnectOptions } from '../client/client.js';
import type { Refuse } from './option-values.js';

/** parseArgs options for --url, --key and --ca, to spread into a command's own. */
export const clientFlags = {
  url: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
} as const;

/** Help lines for clientFlags, aligned like the commands' own. */
export const clientFlagsUsage = `  --url URL     the server                       (env TALLY_URL, default ws://127.0.0.1:3000; wss:// for TLS)
  --key KEY     API key secret (tally keys new)  (env TALLY_API_KEY; needed when the server runs with --keys)
  --ca FILE     PEM certificate to trust for wss:// (e.g. the server's self-signed one)  (env TALLY_CA)`;

/** Connect options from the flags, then the environment. */
export function clientConnectOptions(values: { url?: string; key?: string; ca?: string }, env: NodeJS.ProcessEnv, timeoutMs: number, refuse: Refuse): ConnectOptions {
  const url = values.url ?? env.TALLY_URL ?? 'ws://127.0.0.1:3000';
  const apiKey = values.key ?? env.TALLY_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === '') throw refuse('--key must not be empty');
  const caFile = values.ca ?? env.TALLY_CA;
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (error) {
      throw refuse(`--ca: cannot read ${caFile}: ${(error as Error).message}`);
    }
  }
  return { url, timeoutMs, ...(apiKey === undefined ? {} : { apiKey: apiKey.trim() }), ...(ca === undefined ? {} : { tls: { ca } }) };
}
