// `tally tail`: the change stream of a replicated ledger (issue #15, docs/EVENTS.md) on stdout — every event its
// shards' journals committed, from a seq on, decoded (client/changes.ts): one line each, or JSON lines.

import { subscribeChanges, type ChangeEvent } from '../client/changes.js';
import { countShardStreams, lastEntrySeqs } from '../shards/replication/journal-stream.js';
import { integerOption, parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const tailUsage = `usage: tally tail --nats URL[,URL...] [--nats-cluster NAME] [--shard N] [--from SEQ] [--json] [--until-end]

Prints the change stream of a ledger running with --nats: every account created, transfer (with both accounts'
balances after it), cross-shard credit landing, account operation, expiry and day cut its shards committed, in
each shard's journal order (shards interleaved as their entries arrive). Layout: docs/EVENTS.md.

  --nats URLS         the NATS servers holding the streams            (env TALLY_NATS)
  --nats-cluster NAME the ledger's --nats-cluster                      (env TALLY_NATS_CLUSTER, default tally)
  --shard N           one shard only (default: every shard)
  --from SEQ          from this journal seq of each shard (default 1)
  --json              one JSON object per line (amounts and ids as decimal strings)
  --until-end         stop at the end of the streams as they are now, with a summary (default: keep following)`;

const tailFlags = {
  nats: { type: 'string' },
  'nats-cluster': { type: 'string' },
  shard: { type: 'string' },
  from: { type: 'string' },
  json: { type: 'boolean' },
  'until-end': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function tailCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseFlags(argv, tailFlags, (message) => new UsageError(message, tailUsage));
  if (values.help) {
    console.log(tailUsage);
    return 0;
  }
  const natsText = values.nats ?? env.TALLY_NATS;
  if (natsText === undefined) throw new UsageError('tally tail needs --nats URL', tailUsage);
  const servers = natsText.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
  const cluster = values['nats-cluster'] ?? env.TALLY_NATS_CLUSTER ?? 'tally';
  const fromSeq = values.from === undefined ? 1 : integerOption('--from', values.from, 1, Number.MAX_SAFE_INTEGER, (message) => new UsageError(message, tailUsage));
  const shardCount = await countShardStreams({ servers, cluster, node: 'tail', replicas: 0, ackWaitMs: 5_000 });
  if (shardCount === 0) throw new UsageError(`no shard streams of cluster ${cluster} at ${servers.join(',')}`, tailUsage);
  const shards = values.shard === undefined ? Array.from({ length: shardCount }, (_, shard) => shard) : [integerOption('--shard', values.shard, 0, shardCount - 1, (message) => new UsageError(message, tailUsage))];
  const ends = values['until-end'] ? await lastEntrySeqs(servers, cluster, shards) : null;
  const print = values.json ? (event: ChangeEvent) => console.log(JSON.stringify(event, jsonValue)) : (event: ChangeEvent) => console.log(line(event));
  let events = 0;
  const entries = new Set<string>();
  const subscriptions = shards.map((shard, k) => subscribeChanges({ servers, cluster, shard, fromSeq, ...(ends === null ? {} : { untilSeq: ends[k]! }) }));
  const stopAll = (): void => void Promise.all(subscriptions.map((s) => s.stop()));
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  await Promise.all(
    subscriptions.map(async (subscription) => {
      for await (const event of subscription.events) {
        print(event);
        events++;
        entries.add(`${event.shard}:${event.seq}`);
      }
      await subscription.stop();
    }),
  );
  console.error(`tail: ${events} events from ${entries.size} journal entries of ${shards.length} shard${shards.length === 1 ? '' : 's'} (cluster ${cluster})`);
  return 0;
}

function line(event: ChangeEvent): string {
  const at = `shard ${event.shard} seq ${event.seq} #${event.index}`;
  switch (event.kind) {
    case 'account':
      return `${at} account ${event.result} id=${event.account.id} ledger=${event.account.ledger} code=${event.account.code} flags=${event.account.flags}`;
    case 'transfer':
    case 'credit_landed': {
      const t = event.transfer;
      return `${at} ${event.kind} ${event.result} id=${t.id} ${t.debitAccountId} → ${t.creditAccountId} amount=${t.amount} ledger=${t.ledger} code=${t.code} flags=${t.flags} debit after ${event.debitAfter.debitsPosted}/${event.debitAfter.creditsPosted} credit after ${event.creditAfter.debitsPosted}/${event.creditAfter.creditsPosted}`;
    }
    case 'account_operation':
      return `${at} account_operation ${event.result} ${JSON.stringify(event.operation, jsonValue)}`;
    case 'expiry':
      return `${at} expiry holds due by ${event.timestamp}`;
    case 'day_cut':
      return `${at} day_cut begins ${event.day}`;
  }
}

function jsonValue(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
