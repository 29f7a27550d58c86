// Micro-benchmarks of the hot core functions (`npm run bench:micro` runs the built copy,
// dist/bench/micro.js). One module per source file under bench/micro/, mirroring src/. Each task
// prints a digest of its results: a faster run with another digest changed what the code does.
// Optional arguments: task name filters (substrings), e.g. `node dist/bench/micro.js transfers`.

import os from 'node:os';
import { formatResults, runMicroTasks, type MicroTask } from './micro/bench-kit.js';
import { ledgerTasks } from './micro/core/posting/ledger.bench.js';
import { recordsTasks } from './micro/core/wire/records.bench.js';
import { vouchersTasks } from './micro/core/books/vouchers.bench.js';
import { idIndexTasks } from './micro/shards/shard/id-index.bench.js';

/** Timed calls per task: enough samples for a p99, small enough for the whole run to stay near a minute. */
const callsPerTask = 50;

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const tasks: MicroTask[] = [
    ...ledgerTasks({ accountCounts: [10_000, 1_000_000], calls: callsPerTask }),
    ...recordsTasks({ calls: callsPerTask }),
    ...vouchersTasks({ accountCounts: [100_000, 1_000_000], calls: callsPerTask }),
    ...idIndexTasks({ calls: callsPerTask }),
  ].filter((task) => filters.length === 0 || filters.some((f) => task.name.includes(f)));
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`tally micro-benchmarks — node ${process.version}, ${cpu} × ${os.cpus().length}`);
  const startedMs = performance.now();
  const results = await runMicroTasks(tasks);
  console.log(formatResults(results));
  console.log(`total ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
