// A server with reconciliation channels, for the recon e2e tests: a temp dir holding the channels file (and an API
// keys file when given), `tally serve` on 2 shards with a manual day cut reading them. The dir stays the test's to
// write statements into; stop() ends the server and removes it.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

export interface ReconServer {
  server: ServerProcess;
  dir: string;
  /** The channels file's path (the CLI's `--channels`). */
  channels: string;
  stop(): Promise<void>;
}

/** `channels`: the channels file's channels; `keys`: its API keys (`{ id, scopes, sha256 }`), none for no auth. */
export async function startReconServer(name: string, channels: readonly object[], keys?: readonly object[]): Promise<ReconServer> {
  const dir = await mkdtemp(join(tmpdir(), `tally-recon-${name}-`));
  const channelsFile = join(dir, 'channels.json');
  await writeFile(channelsFile, JSON.stringify({ version: 1, channels }));
  const env: Record<string, string> = { TALLY_DAY_CUT: 'manual', TALLY_RECON_CHANNELS: channelsFile };
  if (keys !== undefined) {
    env.TALLY_KEYS = join(dir, 'keys.json');
    await writeFile(env.TALLY_KEYS, JSON.stringify({ keys }));
  }
  let server: ServerProcess;
  try {
    server = await startServerProcess({ shardCount: 2, env });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    server, dir, channels: channelsFile,
    stop: async () => {
      await server.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
