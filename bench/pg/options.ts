// Options of the PostgreSQL baseline bench (`node dist/bench/pg-baseline.js`): flags, then defaults.
// Every invalid value is refused with a message naming the option; nothing is clamped.

import { integerOption, parseFlags } from '../../src/cli/option-values.js';
import { zipfExponentDefault, zipfExponentOption, zipfRanksMax } from '../load/zipf.js';
import { pgWorkloadNames, type PgWorkload } from './workload.js';

/**
 * Client connections at most: stock PostgreSQL allows 100, 3 of them reserved for superusers, and
 * the bench needs one more of its own for setup and the final checks.
 */
export const connectionsMax = 90;
/** Where initdb and postgres are looked for unless --pg-bin says otherwise (Debian's postgresql-15). */
export const pgBinDirDefault = '/usr/lib/postgresql/15/bin';
/** Accounts at most: loading takes ~2.4 s per million rows here (10M: 24 s), and ids stay safe integers. */
export const accountCountMax = 10_000_000;

export interface PgBaselineOptions {
  /** Measured seconds per workload (after the warm-up). */
  durationSeconds: number;
  /** Unmeasured seconds before each workload, so caches and plans are warm. */
  warmupSeconds: number;
  /** Client connections, each running one transfer after another. */
  connections: number;
  accountCount: number;
  /** Workloads, run one after the other on the same ledger, in this order. */
  workloads: PgWorkload[];
  /** Exponent s of the zipf workload, P(rank k) ∝ 1 / k^s (the load bench's table). */
  zipfExponent: number;
  /** Where initdb and postgres live. */
  pgBinDir: string;
  /** Where the JSON result goes; default bench/out/pg-baseline-<timestamp>.json. */
  outPath: string | null;
  /** Copy the server's log to ours. */
  echoServer: boolean;
}

export const pgBaselineUsage = `usage: node dist/bench/pg-baseline.js [options]

  The classic row-locked SQL ledger on a throwaway PostgreSQL cluster: each transfer is
  BEGIN; SELECT … FOR UPDATE (both accounts, sorted); funds check; UPDATE ×2; INSERT journal; COMMIT.

  --duration S          measured seconds per workload               (default 10)
  --warmup S            unmeasured seconds before each workload     (default 1)
  --connections N       client connections, 1..${connectionsMax}                (default 16)
  --accounts N          accounts created and funded before the load (default 100000)
  --workloads W,…       ${pgWorkloadNames.join(', ')} (default: all, in that order)
                        uniform: random distinct accounts; hot-credit: every transfer credits one
                        account; hot-debit: every transfer debits one (well funded) account;
                        zipf: both accounts Zipf-distributed (id k + 1 has rank k), as in the load bench
  --zipf-exponent S     exponent of the zipf workload, 0..4         (default ${zipfExponentDefault})
  --pg-bin DIR          PostgreSQL server binaries                  (default ${pgBinDirDefault})
  --out FILE            JSON result file (default bench/out/pg-baseline-<timestamp>.json)
  --echo-server         show the server's log
  -h, --help            print this help`;

export class PgUsageError extends Error {
  override name = 'PgUsageError';
}

export type PgBaselineCommand = { kind: 'help' } | { kind: 'run'; options: PgBaselineOptions };

export function parsePgBaselineArgs(argv: readonly string[]): PgBaselineCommand {
  const { values } = parseOrUsage(argv);
  if (values.help) return { kind: 'help' };
  // Three accounts at least: the hot workloads draw the other side from every account but the hot one.
  const accountCount = integer('--accounts', values.accounts ?? '100000', 3, accountCountMax);
  const workloads = workloadList(values.workloads ?? pgWorkloadNames.join(','));
  if (accountCount > zipfRanksMax && workloads.includes('zipf')) {
    throw new PgUsageError(`the zipf workload draws over at most ${zipfRanksMax} accounts (got --accounts ${accountCount}); leave it out of --workloads`);
  }
  return {
    kind: 'run',
    options: {
      durationSeconds: seconds('--duration', values.duration ?? '10', 0.1),
      warmupSeconds: seconds('--warmup', values.warmup ?? '1', 0),
      connections: integer('--connections', values.connections ?? '16', 1, connectionsMax),
      accountCount,
      workloads,
      zipfExponent: zipfExponentOption(values['zipf-exponent'] ?? String(zipfExponentDefault), (message) => new PgUsageError(message)),
      pgBinDir: values['pg-bin'] ?? pgBinDirDefault,
      outPath: values.out ?? null,
      echoServer: values['echo-server'] ?? false,
    },
  };
}

function parseOrUsage(argv: readonly string[]) {
  const options = {
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    accounts: { type: 'string' },
    workloads: { type: 'string' },
    'zipf-exponent': { type: 'string' },
    'pg-bin': { type: 'string' },
    out: { type: 'string' },
    'echo-server': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  return parseFlags(argv, options, (message) => new PgUsageError(message));
}

function integer(name: string, text: string, min: number, max: number): number {
  return integerOption(name, text, min, max, (message) => new PgUsageError(message));
}

function seconds(name: string, text: string, min: number): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value) || value < min || value > 3600) throw new PgUsageError(`${name} must be seconds in ${min}..3600, got ${JSON.stringify(text)}`);
  return value;
}

function workloadList(text: string): PgWorkload[] {
  const names = text.split(',').map((part) => part.trim());
  const known = new Set<string>(pgWorkloadNames);
  for (const name of names) {
    if (!known.has(name)) throw new PgUsageError(`--workloads takes ${pgWorkloadNames.join(', ')} (comma-separated), got ${JSON.stringify(name)}`);
  }
  if (new Set(names).size !== names.length) throw new PgUsageError(`--workloads names a workload twice: ${JSON.stringify(text)}`);
  return names as PgWorkload[];
}
