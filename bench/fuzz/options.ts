// Options of the fuzz/soak target (`npm run fuzz -- …`): flags only, every invalid value refused with a
// message naming the option. The defaults run every family for two minutes on two shards.

import { integerOption, parseFlags } from '../../src/cli/option-values.js';
import { shardCountMax } from '../../src/core/limits.js';
import { familyDescriptions, familyList, familyNames, knownDefectFamilies, type Family } from './families.js';

export interface FuzzOptions {
  /** Wall-clock length of the traffic (checks and restarts come on top). */
  minutes: number;
  /** PRNG seed: the same seed draws the same requests and faults in the same order. */
  seed: number;
  shardCount: number;
  /** Ledgers drawn from when the many-ledgers family is on (1 otherwise). */
  ledgerCount: number;
  families: ReadonlySet<Family>;
  /** Steps (requests or faults drawn) at most; the run ends at whichever of this and `minutes` comes first. */
  stepsMax: number;
  /** Steps in flight at once. */
  concurrency: number;
  /** Mean steps between two restarts (kill family). */
  killEverySteps: number;
  /** Go on after a failed check (every failure is still reported and the exit status is 1). */
  keepGoing: boolean;
  /** Keep the temp directory (data, keys, snapshots) even when every check passed. */
  keep: boolean;
  echoServer: boolean;
}

export class FuzzUsageError extends Error {
  override name = 'FuzzUsageError';
}

const familyHelp = familyNames.map((name) => `                      ${name.padEnd(17)} ${familyDescriptions[name]}`).join('\n');

export const fuzzUsage = `usage: node dist/bench/fuzz.js [options]     (npm run fuzz -- [options])

Drives a real \`tally serve\` (child process, loopback, temp data dir) with seeded random requests of every
operation, hostile ones included, kills and restarts it, and after every restart and at the end checks:
/health answers within 1 s, every acknowledged transfer is there, balances equal a replay of the transfers,
no money appeared (per ledger, transit and slices included), \`tally verify\` passes. Exit 1 on a failure.

  --minutes N         length of the traffic, may be fractional     (default 2)
  --seed S            PRNG seed, 0..4294967295                     (default: drawn, and printed)
  --shards N          server shards, 1..${shardCountMax}                      (default 2)
  --ledgers N         ledgers with the many-ledgers family, 1..1000 (default 200; 1 without it)
  --only F,…          run only these families
  --skip F,…          leave these families out ('known' = those meeting a defect not fixed yet: ${knownDefectFamilies.length === 0 ? 'none' : knownDefectFamilies.join(',')})
  --steps N           stop after N steps                           (default: no limit)
  --concurrency N     steps in flight at once, 1..64               (default 4)
  --kill-every N      mean steps between restarts (kill family)    (default 300)
  --keep-going        report every failure, not only the first
  --keep              keep the temp directory even when the run passed
  --echo-server       show the server's output
  -h, --help          print this help

families:
${familyHelp}`;

export type FuzzCommand = { kind: 'help' } | { kind: 'run'; options: FuzzOptions };

export function parseFuzzArgs(argv: readonly string[], drawSeed: () => number): FuzzCommand {
  const { values } = parseFlags(argv, flags, (message) => new FuzzUsageError(message));
  if (values.help) return { kind: 'help' };
  return {
    kind: 'run',
    options: {
      minutes: minutesOption(values.minutes ?? '2'),
      seed: values.seed === undefined ? drawSeed() : integer('--seed', values.seed, 0, 0xffff_ffff),
      shardCount: integer('--shards', values.shards ?? '2', 1, shardCountMax),
      ledgerCount: integer('--ledgers', values.ledgers ?? '200', 1, 1000),
      families: familiesOption(values.only, values.skip),
      stepsMax: values.steps === undefined ? Number.MAX_SAFE_INTEGER : integer('--steps', values.steps, 1, Number.MAX_SAFE_INTEGER),
      concurrency: integer('--concurrency', values.concurrency ?? '4', 1, 64),
      killEverySteps: integer('--kill-every', values['kill-every'] ?? '300', 10, 1_000_000),
      keepGoing: values['keep-going'] ?? false,
      keep: values.keep ?? false,
      echoServer: values['echo-server'] ?? false,
    },
  };
}

const flags = {
  minutes: { type: 'string' },
  seed: { type: 'string' },
  shards: { type: 'string' },
  ledgers: { type: 'string' },
  only: { type: 'string' },
  skip: { type: 'string' },
  steps: { type: 'string' },
  concurrency: { type: 'string' },
  'kill-every': { type: 'string' },
  'keep-going': { type: 'boolean' },
  keep: { type: 'boolean' },
  'echo-server': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new FuzzUsageError(message));
}

function minutesOption(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(value > 0 && value <= 7 * 24 * 60)) throw new FuzzUsageError(`--minutes must be a number in (0, ${7 * 24 * 60}], got ${JSON.stringify(text)}`);
  return value;
}

function familiesOption(only: string | undefined, skip: string | undefined): Set<Family> {
  try {
    const chosen = new Set(only === undefined ? familyNames : familyList(only, '--only'));
    for (const family of skip === undefined ? [] : familyList(skip, '--skip')) chosen.delete(family);
    return chosen;
  } catch (error) {
    throw new FuzzUsageError((error as Error).message);
  }
}
