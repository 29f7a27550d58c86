// `tally audit`: prints a running server's audit log (admin actions and refused calls), oldest first, one
// line per record or JSON lines. Pages through the log itself up to --limit records.

import { connect } from '../client/client.js';
import type { AuditRecord } from '../core/admin/audit-log.js';
import { auditPageMax } from '../core/limits.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { integerOption, parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

/** Records one `tally audit` prints at most: a long log is read in several runs with --after. */
const auditPrintMax = 1_000_000;

export const auditUsage = `usage: tally audit [--url ws://HOST:PORT] [--key KEY] [--ca FILE] [--after N] [--limit N] [--json]

${clientFlagsUsage}
  --after N     print the records numbered after N (default 0: from the first)
  --limit N     print at most N records (default 1000, at most ${auditPrintMax})
  --json        one JSON object per line instead of a table
  -h, --help    print this help

The key needs the admin scope. Each record: number, time, kind (admin | refused), key, operation,
outcome (ok or the error code) and what happened.`;

/** Resolves with the exit status. */
export async function auditCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const refuse = (message: string) => new UsageError(message, auditUsage);
  const { values } = parseFlags(argv, { ...clientFlags, after: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, refuse);
  if (values.help) {
    console.log(auditUsage);
    return 0;
  }
  let after = values.after === undefined ? 0 : integerOption('--after', values.after, 0, Number.MAX_SAFE_INTEGER, refuse);
  let left = values.limit === undefined ? 1000 : integerOption('--limit', values.limit, 1, auditPrintMax, refuse);
  const client = await connect(clientConnectOptions(values, env, 30_000, refuse));
  try {
    // A short page is the end of the log as it stood: stop there (the log may grow while we read it).
    for (let limit = Math.min(left, auditPageMax); left > 0; limit = Math.min(left, auditPageMax)) {
      const page = await client.getAuditLog({ after, limit });
      for (const record of page) console.log(values.json ? JSON.stringify(record) : formatAuditRecord(record));
      if (page.length < limit) break;
      after = page[page.length - 1].seq;
      left -= page.length;
    }
    return 0;
  } finally {
    await client.close();
  }
}

/** `#12 2026-11-23T17:49:58.123Z admin   bob  approve_adjustment  ok  adj_…: approved …` */
export function formatAuditRecord(record: AuditRecord): string {
  const operation = record.operationName ?? `op ${record.operation}`;
  const remote = record.remote === undefined ? '' : ` from ${record.remote}`;
  return `#${record.seq} ${record.at} ${record.kind.padEnd(7)} ${record.keyId ?? '(no key)'}${remote} ${operation} ${record.code}: ${record.detail}`;
}
