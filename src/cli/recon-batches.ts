// `tally recon import|batches|show|exceptions` (issue #17): reconciliation stored on the server. `import` uploads a
// channel's statement files (chunked, resumable, with a progress line) and has the server check them, match them with
// the ledger's closed day and the channel's pending pool, and store the batch; the others read batches and their
// exceptions back (`exceptions --csv OUT` exports them formula-safe). Admin scope.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type Client } from '../client/client.js';
import { reconFileBytesMax, reconExceptionsPageMax } from '../core/limits.js';
import type { ReconBatch, ReconException } from '../core/recon/batches.js';
import { exceptionsCsv } from '../recon/exceptions-csv.js';
import { clientConnectOptions, clientFlags, clientFlagsUsage } from './client-options.js';
import { ProgressLine } from './progress.js';
import { describeException, describeRun } from './recon-match.js';
import { UsageError } from './serve-options.js';

export const reconBatchesUsage = `usage: tally recon import --channel NAME FILE… [--day YYYY-MM-DD] [--json]
       tally recon batches [--channel NAME] [--limit N] [--json]
       tally recon show BATCH [--json]
       tally recon exceptions BATCH [--outcome NAME] [--csv OUT] [--json]
       (each also takes --url URL --key KEY --ca FILE)

import      uploads the files (resumable) and reconciles them on the server against the ledger's closed day and
            the channel's pending pool (tally serve --recon-channels FILE names the channels); the batch is stored
            with its statistics and exceptions. The same file, or a second daily statement of a channel's day, is
            refused naming the earlier batch. A statement that does not add up is stored as a refused batch.
batches     the newest batches first; show: one batch; exceptions: a batch's exceptions (all pages),
            --csv OUT writes them as CSV (UTF-8 with BOM, formula-safe cells)
${clientFlagsUsage}

Exit status 0, 1 when an import is refused or has exceptions, 2 usage error.`;

type Sub = 'import' | 'batches' | 'show' | 'exceptions';

export async function reconBatchesCommand(sub: Sub, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const refuse = (message: string) => new UsageError(message, reconBatchesUsage);
  const text = { type: 'string' } as const;
  const options = { ...clientFlags, channel: text, day: text, limit: text, outcome: text, csv: text, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options });
  } catch (error) {
    throw refuse((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(reconBatchesUsage);
    return 0;
  }
  const print = (value: unknown, human: () => string): void => console.log(values.json === true ? JSON.stringify(value, null, 1) : human());
  if (sub === 'import') {
    if (values.channel === undefined) throw refuse('import: --channel NAME is required');
    if (positionals.length === 0) throw refuse('import: name at least one statement file');
    const files = positionals.map((path) => {
      try {
        if (statSync(path).size > reconFileBytesMax) throw refuse(`${path}: larger than ${reconFileBytesMax} bytes`);
        return { path, bytes: readFileSync(path) };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        throw refuse(`cannot read ${path}: ${(error as Error).message}`);
      }
    });
    return withClient(values, env, refuse, async (client) => {
      const uploaded: { name: string; sha256: string }[] = [];
      const total = files.reduce((sum, file) => sum + file.bytes.byteLength, 0);
      const progress = new ProgressLine('uploading statements');
      let before = 0;
      for (const file of files) {
        const sha256 = await client.reconUploadFile(file.bytes, (sent) => progress.update(before + sent, total, basename(file.path)));
        before += file.bytes.byteLength;
        uploaded.push({ name: basename(file.path), sha256 });
      }
      progress.finish(total, total, `${files.length} file(s) uploaded`);
      const batch = await client.reconImport({ channel: values.channel!, files: uploaded, ...(values.day === undefined ? {} : { day: values.day }) });
      print(batch, () => describeBatch(batch));
      return batch.status === 'matched' && batch.exceptions === 0 ? 0 : 1;
    });
  }
  if (sub === 'batches') {
    const limit = values.limit === undefined ? undefined : Number(values.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw refuse(`--limit is a positive integer, got ${values.limit}`);
    return withClient(values, env, refuse, async (client) => {
      const batches = await client.getReconBatches({ ...(values.channel === undefined ? {} : { channel: values.channel }), ...(limit === undefined ? {} : { limit }) });
      print(batches, () => (batches.length === 0 ? 'no batches' : batches.map(batchLine).join('\n')));
      return 0;
    });
  }
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) throw refuse(`${sub}: name one batch id (rcb_…)`);
  if (sub === 'show') {
    return withClient(values, env, refuse, async (client) => {
      const batch = await client.getReconBatch(id);
      if (batch === null) {
        console.error(`no batch ${id}`);
        return 1;
      }
      print(batch, () => describeBatch(batch));
      return 0;
    });
  }
  return withClient(values, env, refuse, async (client) => {
    const exceptions: ReconException[] = [];
    let after = 0;
    for (;;) {
      const page = await client.getReconExceptions({ batch: id, after, limit: reconExceptionsPageMax, ...(values.outcome === undefined ? {} : { outcome: values.outcome }) });
      exceptions.push(...page.exceptions);
      if (page.next === null) break;
      after = page.next;
    }
    if (values.csv !== undefined) writeFileSync(values.csv, exceptionsCsv(exceptions));
    print(exceptions, () => [...exceptions.map(describeException), `${exceptions.length} exception(s)${values.csv === undefined ? '' : `, written to ${values.csv}`}`].join('\n'));
    return 0;
  });
}

async function withClient(values: { url?: string; key?: string; ca?: string }, env: NodeJS.ProcessEnv, refuse: (message: string) => UsageError, run: (client: Client) => Promise<number>): Promise<number> {
  const client = await connect(clientConnectOptions(values, env, 120_000, refuse));
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

function batchLine(batch: ReconBatch): string {
  const matched = (batch.totals.matched?.count ?? 0) + (batch.totals.matched_within_tolerance?.count ?? 0) + (batch.totals.matched_late?.count ?? 0);
  return `${batch.id}  ${batch.channel}  ${batch.day || '-'}  ${batch.status}  ${batch.statementRows} rows, ${matched} matched, ${batch.exceptions} exceptions  ${batch.createdAt}`;
}

function describeBatch(batch: ReconBatch): string {
  const head = `batch ${batch.id} (${batch.status}), files ${batch.files.map((file) => `${file.name} (${file.bytes} B, sha256 ${file.sha256.slice(0, 12)}…)`).join(', ')}`;
  if (batch.status === 'refused') return [head, ...batch.problems.map((problem) => `  refused: ${problem}`), 'nothing was matched'].join('\n');
  const run = describeRun({ channel: batch.channel, day: batch.day, statementRows: batch.statementRows, ignoredRows: batch.ignoredRows, transfersRead: batch.transfersRead }, batch.totals, [], batch.currency, undefined);
  const lines = run.split('\n').slice(0, -1);
  lines.push(`actions: ${batch.actions.done} posted, ${batch.actions.held} held, ${batch.actions.failed} refused by the ledger`);
  lines.push(`pending pool: ${batch.poolIn} taken in, ${batch.poolOut} waiting after; ${batch.exceptions} exception(s)${batch.exceptions > 0 ? ` (tally recon exceptions ${batch.id})` : ''}`);
  return [head, ...lines].join('\n');
}
