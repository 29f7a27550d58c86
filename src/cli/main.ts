#!/usr/bin/env node
// The `tally` command. Thin: parses options, starts the shards and the gateway, and shuts both down
// on SIGINT/SIGTERM — the gateway first (no new requests, in-flight ones answered), then the shards.

import { startServer } from '../gateway/server.js';
import { startShards } from '../shards/shard-set.js';
import { closeDayCommand } from './close-day.js';
import { UsageError, parseServeArgs, serveUsage, type ServeOptions } from './serve-options.js';

const usage = `usage: tally <command> [options]

commands:
  serve       run a Tally server (tally serve --help for its options)
  close-day   cut the business day on a running server and print its day report
              (tally close-day --help); exit status 1 when a check of the report failed`;

/** Resolves with the exit status, or 'running' while the server serves (it exits from its signal handler). */
async function main(argv: string[]): Promise<number | 'running'> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage);
    return command === undefined ? 2 : 0;
  }
  if (command === 'close-day') return closeDayCommand(rest, process.env);
  if (command !== 'serve') throw new UsageError(`unknown command ${JSON.stringify(command)}`, usage);
  const parsed = parseServeArgs(rest, process.env);
  if (parsed.kind === 'help') {
    console.log(serveUsage);
    return 0;
  }
  await serve(parsed.options);
  return 'running';
}

async function serve(options: ServeOptions): Promise<void> {
  const service = await startShards({ dataDir: options.dataDir, shardCount: options.shardCount, dayCut: options.dayCut, chartPath: options.chartPath, hotInbound: options.hotInbound, hotOutbound: options.hotOutbound });
  const server = await startServer({ host: options.host, port: options.port, service }).catch(async (error: unknown) => {
    await service.close();
    throw error;
  });
  console.log(`tally listening on http://${options.host}:${server.port} (${options.shardCount} shards, data ${options.dataDir})`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal while stopping means "now": give up on a clean shutdown.
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`tally: ${signal}, shutting down`);
    server
      .close()
      .then(() => service.close())
      .then(() => process.exit(0), (error: unknown) => {
        console.error('tally: shutdown failed:', error);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main(process.argv.slice(2)).then(
  (status) => {
    if (status !== 'running') process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`tally: ${error.message}\n\n${error.usage}`);
      process.exit(2);
    }
    console.error('tally:', error);
    process.exit(1);
  },
);
