// The fuzz/soak target (`npm run fuzz -- --minutes N --seed S`, issue #20): a real `tally serve` driven with
// seeded random requests of every operation — hostile ones included — kill -9 and restarts, slow and idle
// clients, and after every restart and at the end the checks that no acknowledged transfer was lost and no
// money appeared (bench/fuzz/driver.ts). Exit status 0 when every check passed, 1 on a failure (the seed,
// the step and what failed are printed), 2 on a usage error.

import { randomInt } from 'node:crypto';
import { runFuzz } from './fuzz/driver.js';
import { FuzzUsageError, fuzzUsage, parseFuzzArgs } from './fuzz/options.js';

async function main(): Promise<number> {
  let command;
  try {
    command = parseFuzzArgs(process.argv.slice(2), () => randomInt(0, 2 ** 32 - 1));
  } catch (error) {
    if (!(error instanceof FuzzUsageError)) throw error;
    console.error(`fuzz: ${error.message}\n\n${fuzzUsage}`);
    return 2;
  }
  if (command.kind === 'help') {
    console.log(fuzzUsage);
    return 0;
  }
  return runFuzz(command.options);
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error('fuzz:', error);
    process.exit(1);
  },
);
