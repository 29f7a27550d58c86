// `tally monitor`: balance monitors on a replicated ledger's change stream (issue #15). It follows every shard's
// stream and, when a transfer takes a watched account's balance (credits posted − debits posted) across one of its
// thresholds, publishes an alert (JSON) on NATS subject `tally.<cluster>.alerts.balance` and prints it.

import { readFileSync } from 'node:fs';
import { connect as natsConnect } from '@nats-io/transport-node';
import { subscribeChanges } from '../client/changes.js';
import { balanceCrossings, type Threshold } from '../client/balance-crossings.js';
import { countShardStreams, lastEntrySeqs } from '../shards/replication/journal-stream.js';
import { parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const monitorUsage = `usage: tally monitor --nats URL[,URL...] [--nats-cluster NAME] --thresholds FILE [--from-start]

Balance monitors: follows the ledger's change stream (docs/EVENTS.md) and, when a transfer takes a watched account's
balance (credits posted − debits posted, minor units) below or above one of its thresholds, publishes an alert
{"kind":"balance_crossed","account","direction","threshold","before","after","transferId","shard","seq",…} on
NATS subject tally.<cluster>.alerts.balance and prints it (one JSON line). Runs until stopped.

  --nats URLS         the NATS servers holding the streams      (env TALLY_NATS)
  --nats-cluster NAME the ledger's --nats-cluster                (env TALLY_NATS_CLUSTER, default tally)
  --thresholds FILE   JSON: [{"account": "123", "below": "1000", "above": "5000000"}, …] (ids and amounts as
                      decimal strings or integers; below, above or both)
  --from-start        judge every transfer the streams hold (default: only those committed from now on)`;

const monitorFlags = {
  nats: { type: 'string' },
  'nats-cluster': { type: 'string' },
  thresholds: { type: 'string' },
  'from-start': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** At most this many watched accounts (the monitor keeps them all in memory). */
const watchedMax = 1_000_000;

export async function monitorCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, monitorFlags, (message) => new UsageError(message, monitorUsage));
  if (values.help) {
    console.log(monitorUsage);
    return 0;
  }
  const natsText = values.nats ?? env.TALLY_NATS;
  if (natsText === undefined) throw new UsageError('tally monitor needs --nats URL', monitorUsage);
  if (values.thresholds === undefined) throw new UsageError('tally monitor needs --thresholds FILE', monitorUsage);
  const watched = readThresholds(values.thresholds);
  const servers = natsText.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
  const cluster = values['nats-cluster'] ?? env.TALLY_NATS_CLUSTER ?? 'tally';
  const shardCount = await countShardStreams({ servers, cluster, node: 'monitor', replicas: 0, ackWaitMs: 5_000 });
  if (shardCount === 0) throw new UsageError(`no shard streams of cluster ${cluster} at ${servers.join(',')}`, monitorUsage);
  const nc = await natsConnect({ servers, name: 'tally-monitor', maxReconnectAttempts: -1 });
  const subject = `tally.${cluster}.alerts.balance`;
  const shards = Array.from({ length: shardCount }, (_, shard) => shard);
  const starts = values['from-start'] ? shards.map(() => 1) : (await lastEntrySeqs(servers, cluster, shards)).map((last) => last + 1);
  const subscriptions = starts.map((fromSeq, shard) => subscribeChanges({ servers, cluster, shard, fromSeq }));
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    void Promise.all(subscriptions.map((s) => s.stop()));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  console.error(`monitor: watching ${watched.size} accounts on ${shardCount} shards of cluster ${cluster}; alerts on ${subject}`);
  let alerts = 0;
  await Promise.all(
    subscriptions.map(async (subscription) => {
      for await (const event of subscription.events) {
        for (const crossing of balanceCrossings(event, watched, shardCount)) {
          const json = JSON.stringify(crossing, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
          nc.publish(subject, json);
          console.log(json);
          alerts++;
        }
      }
    }),
  );
  await nc.drain().catch(() => {});
  console.error(`monitor: ${alerts} alerts${stopping ? ' (stopped)' : ''}`);
  return 0;
}

function readThresholds(path: string): Map<bigint, Threshold> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--thresholds ${path}: ${(error as Error).message}`, monitorUsage);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > watchedMax) throw new UsageError(`--thresholds ${path}: a JSON array of 1..${watchedMax} rules`, monitorUsage);
  const watched = new Map<bigint, Threshold>();
  const integer = (value: unknown, what: string): bigint => {
    if ((typeof value === 'string' && /^-?\d{1,39}$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value))) return BigInt(value);
    throw new UsageError(`--thresholds ${path}: ${what} must be an integer (minor units), got ${JSON.stringify(value)}`, monitorUsage);
  };
  parsed.forEach((rule: unknown, k) => {
    if (typeof rule !== 'object' || rule === null) throw new UsageError(`--thresholds ${path}: rule ${k} is not an object`, monitorUsage);
    const { account, below, above } = rule as Record<string, unknown>;
    const id = integer(account, `rule ${k}: account`);
    if (below === undefined && above === undefined) throw new UsageError(`--thresholds ${path}: rule ${k} needs below, above or both`, monitorUsage);
    watched.set(id, { ...(below === undefined ? {} : { below: integer(below, `rule ${k}: below`) }), ...(above === undefined ? {} : { above: integer(above, `rule ${k}: above`) }) });
  });
  return watched;
}
