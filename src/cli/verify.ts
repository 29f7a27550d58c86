// `tally verify`: checks a stopped server's data directory (or a snapshot) without changing it, prints the
// summary (stdout) with progress on stderr, and exits 0 when every check passed, 1 when one failed, 2 on a
// usage error or a directory that is no Tally data directory.

import { readFileSync } from 'node:fs';
import { defaultChart, parseChart, type ChartOfAccounts } from '../core/books/chart-of-accounts.js';
import { DataDirError, verifyDataDir, type VerifyProgress } from '../shards/verify/store-verify.js';
import { count, formatVerifyReport, verifyProblemsPrintedMax, verifyReportJson } from '../shards/verify/report.js';
import { parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const verifyUsage = `usage: tally verify [--data DIR] [--chart FILE] [--json] [--incremental]

Replays every shard's journal and checks every balance, conservation per ledger, transit between shards,
the closed days and the bookkeeping store against the shards. Reads only: nothing in DIR is created or
changed. Run it on a stopped server's data directory or on a snapshot.

  --data DIR    the data directory or snapshot    (env TALLY_DATA, default ./data)
  --chart FILE  the chart of accounts the server ran with (JSON)
                                                  (env TALLY_CHART, default: the built-in chart)
  --json        print the summary as one JSON object (every problem found, up to 10,000)
  --incremental start each shard from its newest valid checkpoint and replay only the tail: fast, but skips
                what needs every entry (the recount of every balance from all transfer records, the
                checkpoints against a full replay, closed days before the checkpoint, the bookkeeping store).
                Without it every shard is replayed from seq 1 and each checkpoint file is compared with it.
  -h, --help    print this help

Progress goes to stderr; the summary, then 'verify: PASSED' or 'verify: FAILED (N problems)' and the
problems (the first ${verifyProblemsPrintedMax}), to stdout.

exit status: 0 every check passed, 1 a check failed (each problem names the shard, account, ledger or seq),
             2 usage error, or DIR is missing, empty, not a Tally data directory, or a store in it is open
             in a running process`;

/** Throttle of the in-place progress line on a terminal (at most 5 updates a second). */
const progressIntervalMs = 200;

/** Resolves with the exit status. */
export async function verifyCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    console.log(verifyUsage);
    return 0;
  }
  const dataDir = values.data ?? env.TALLY_DATA ?? './data';
  if (dataDir.trim() === '') throw new UsageError('--data must not be empty', verifyUsage);
  const chart = chartOption(values.chart ?? env.TALLY_CHART);
  const progress = progressPrinter(process.stderr);
  try {
    const report = await verifyDataDir({ dataDir, chart, onProgress: progress.update, mode: values.incremental ? 'incremental' : 'full' });
    progress.end();
    console.log(values.json ? verifyReportJson(report) : formatVerifyReport(report));
    return report.passed ? 0 : 1;
  } catch (error) {
    progress.end();
    if (!(error instanceof DataDirError)) throw error;
    console.error(`tally verify: ${error.message}`);
    return 2;
  }
}

function parse(argv: readonly string[]) {
  const options = { data: { type: 'string' }, chart: { type: 'string' }, json: { type: 'boolean' }, incremental: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  return parseFlags(argv, options, (message) => new UsageError(message, verifyUsage));
}

function chartOption(path: string | undefined): ChartOfAccounts {
  if (path === undefined) return defaultChart();
  try {
    return parseChart(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  } catch (error) {
    throw new UsageError(`--chart ${path}: ${(error as Error).message}`, verifyUsage);
  }
}

/** `verify: shard 1/2: 1,234,567 entries replayed…`: in place on a terminal, a line per shard otherwise. */
function progressPrinter(stream: NodeJS.WriteStream): { update: (p: VerifyProgress) => void; end: () => void } {
  const tty = stream.isTTY === true;
  let printedMs = 0;
  let pending = false;
  const line = (p: VerifyProgress) => `verify: shard ${p.shard + 1}/${p.shardCount}: ${count.format(p.entries)} of ${count.format(p.entriesTotal)} entries replayed${p.done ? '' : '…'}`;
  return {
    update(p) {
      if (!tty) {
        if (p.done) stream.write(`${line(p)}\n`);
        return;
      }
      const nowMs = performance.now();
      if (!p.done && nowMs - printedMs < progressIntervalMs) return;
      printedMs = nowMs;
      // A finished shard keeps its line; the next one updates below it.
      pending = !p.done;
      stream.write(`\r\x1b[K${line(p)}${p.done ? '\n' : ''}`);
    },
    end() {
      if (tty && pending) stream.write('\n');
      pending = false;
    },
  };
}
