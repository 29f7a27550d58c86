// Shard sets in replicated mode for integration specs (issue #15): one throwaway 3-node NATS cluster per spec file,
// fresh temp data directories, and every set a test started closed (and its directory removed) after it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startShards, type ShardSet } from '../../src/shards/set/shard-set.js';
import type { ReplicationOptions } from '../../src/shards/replication/journal-stream.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { fastTransit } from './shard-set-fixture.js';

export interface ReplicatedSets {
  /** The spec file's NATS cluster (started before its first test). */
  readonly nats: NatsCluster;
  /** A fresh temp directory, removed after the test. */
  newDir(): string;
  /** A cluster name no other test of the file used: streams of their own. */
  newClusterName(): string;
  /** Starts a set (embedded when `replication` is null; a follower with `follow`), closed after the test. */
  start(dataDir: string, replication: ReplicationOptions | null, follow?: { delayMs: number; untilMs?: number }): Promise<ShardSet>;
  /** Closes a set before the test ends. */
  close(set: ShardSet): Promise<void>;
}

export function useReplicatedSets(prefix: string, shardCount: number): ReplicatedSets {
  let nats: NatsCluster | null = null;
  let names = 0;
  const dirs: string[] = [];
  const sets: ShardSet[] = [];
  beforeAll(async () => {
    nats = await startNatsCluster(3);
  }, 30_000);
  afterAll(async () => {
    await nats?.stop();
  });
  afterEach(async () => {
    for (const set of sets.splice(0)) await set.close().catch(() => {});
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get nats() {
      if (nats === null) throw new Error('the NATS cluster starts before the first test');
      return nats;
    },
    newDir() {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    newClusterName: () => `${prefix.replace(/[^A-Za-z0-9]/g, '')}${++names}`,
    async start(dataDir, replication, follow) {
      const set = await startShards({ dataDir, shardCount, transit: fastTransit, dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: false }, ...(replication === null ? {} : { replication }), ...(follow === undefined ? {} : { follow }) });
      sets.push(set);
      return set;
    },
    async close(set) {
      sets.splice(sets.indexOf(set), 1);
      await set.close();
    },
  };
}
