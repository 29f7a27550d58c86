// `tally recon import|batches|show|exceptions` (issue #17): reconciliation stored on the server. `import` uploads a
// channel's statement files (chunked, resumable, with a progress line) and has the server check them, match them with
// the ledger's closed day and the channel's pending pool, and store the batch; the others read batches and their
// exceptions back (`exceptions --csv OUT` exports them formula-safe); `resolve` books chosen exceptions' differences
// as maker–checker adjustments. Admin scope.

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, type Client } from '../client/client.js';
import { adjustmentTransfersMax, reconFileBytesMax, reconExceptionsPageMax } from '../core/limits.js';
import { currencyOfCode } from '../core/currencies.js';
import { parseChannels } from '../core/recon/channel-config-parse.js';
import { resolutionTransfer } from '../core/recon/resolutions.js';
import type { TransferInput } from '../core/wire/records.js';
import { resolutionTransferId } from '../recon/recon-actions.js';
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
       tally recon resolve BATCH (--exception N[,N…] | --outcome NAME) --channels FILE --reason TEXT
                           [--against ACCOUNT] [--code N] [--json]
       (each also takes --url URL --key KEY --ca FILE)

import      uploads the files (resumable) and reconciles them on the server against the ledger's closed day and
            the channel's pending pool (tally serve --recon-channels FILE names the channels); the batch is stored
            with its statistics and exceptions. The same file, or a second daily statement of a channel's day, is
            refused naming the earlier batch. A statement that does not add up is stored as a refused batch.
batches     the newest batches first; show: one batch; exceptions: a batch's exceptions (all pages),
            --csv OUT writes them as CSV (UTF-8 with BOM, formula-safe cells)
resolve     books the chosen exceptions' differences (theirs − ours) between the channel's clearing account and
            --against (default: the channel's unidentified account) as maker–checker adjustments of at most
            ${adjustmentTransfersMax} transfers each, with ids derived from batch and exception (submitting again
            names the same ids: nothing posts twice); another key approves them (client approveAdjustment)
${clientFlagsUsage}

Exit status 0, 1 when an import is refused or has exceptions, 2 usage error.`;

type Sub = 'import' | 'batches' | 'show' | 'exceptions' | 'resolve';

export async function reconBatchesCommand(sub: Sub, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const refuse = (message: string) => new UsageError(message, reconBatchesUsage);
  const text = { type: 'string' } as const;
  const options = {
    ...clientFlags, channel: text, day: text, limit: text, outcome: text, csv: text, exception: text, channels: text, reason: text, against: text, code: text,
    json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } as const;
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
  if (sub === 'resolve') return resolve(id, values, env, refuse);
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

interface ResolveFlags {
  url?: string;
  key?: string;
  ca?: string;
  exception?: string;
  outcome?: string;
  channels?: string;
  reason?: string;
  against?: string;
  code?: string;
  json?: boolean;
}

async function resolve(batchId: string, values: ResolveFlags, env: NodeJS.ProcessEnv, refuse: (message: string) => UsageError): Promise<number> {
  if ((values.exception === undefined) === (values.outcome === undefined)) throw refuse('resolve: name --exception N[,N…] or --outcome NAME');
  if (values.reason === undefined || values.reason.trim() === '') throw refuse('resolve: --reason TEXT is required (it goes into the adjustment and the audit log)');
  if (values.channels === undefined) throw refuse('resolve: --channels FILE is required (the clearing account and the ledger)');
  const numbers = values.exception === undefined ? null : new Set(values.exception.split(',').map((part) => {
    const n = Number(part.trim());
    if (!Number.isSafeInteger(n) || n < 1) throw refuse(`--exception: ${JSON.stringify(part)} is no exception number`);
    return n;
  }));
  let channels;
  try {
    channels = parseChannels(JSON.parse(readFileSync(values.channels, 'utf8')) as unknown);
  } catch (error) {
    throw refuse(`--channels ${values.channels}: ${(error as Error).message}`);
  }
  return withClient(values, env, refuse, async (client) => {
    const batch = await client.getReconBatch(batchId);
    if (batch === null) {
      console.error(`no batch ${batchId}`);
      return 1;
    }
    const channel = channels.channels.find((candidate) => candidate.name === batch.channel);
    if (channel === undefined) throw refuse(`--channels: no channel ${JSON.stringify(batch.channel)} (batch ${batchId}'s)`);
    const against = values.against === undefined ? channel.accounts.unidentified : BigInt(values.against);
    if (against === null) throw refuse(`resolve: --against ACCOUNT (channel ${channel.name} names no accounts.unidentified)`);
    const code = values.code === undefined ? (channel.ledgerCodes.payment[0] ?? 1) : Number(values.code);
    if (!Number.isInteger(code) || code < 1 || code > 65_535) throw refuse(`--code is 1..65535, got ${values.code}`);
    const scale = currencyOfCode(channel.currency)!.scale;
    const chosen: ReconException[] = [];
    let after = 0;
    for (;;) {
      const page = await client.getReconExceptions({ batch: batchId, after, limit: reconExceptionsPageMax, ...(values.outcome === undefined ? {} : { outcome: values.outcome }) });
      chosen.push(...page.exceptions.filter((exception) => numbers === null || numbers.has(exception.n)));
      if (page.next === null) break;
      after = page.next;
    }
    if (numbers !== null) {
      const missing = [...numbers].filter((n) => !chosen.some((exception) => exception.n === n));
      if (missing.length > 0) throw refuse(`resolve: batch ${batchId} has no exception ${missing.join(', ')}`);
    }
    const transfers: TransferInput[] = [];
    const nothing: number[] = [];
    for (const exception of chosen) {
      const transfer = resolutionTransfer(exception, channel, against, code, scale);
      if (transfer === null) nothing.push(exception.n);
      else transfers.push({ id: resolutionTransferId(batchId, exception.n), ...transfer });
    }
    const adjustments: string[] = [];
    for (let i = 0; i < transfers.length; i += adjustmentTransfersMax) {
      const part = transfers.slice(i, i + adjustmentTransfersMax);
      const reason = `recon ${batchId}: ${values.reason!.trim()} (${part.length} exception(s))`;
      adjustments.push((await client.submitAdjustment({ transfers: part, reason })).id);
    }
    const summary = { batch: batchId, exceptions: chosen.length, transfers: transfers.length, nothingToBook: nothing, adjustments };
    printResult(values.json === true, summary, () => [
      `${transfers.length} difference(s) of ${chosen.length} exception(s) submitted for approval as adjustment(s) ${adjustments.join(', ') || '(none)'}`,
      ...(nothing.length > 0 ? [`nothing to book for exception(s) ${nothing.join(', ')} (their amounts agree)`] : []),
      adjustments.length > 0 ? 'another key approves each (client approveAdjustment); the ledger posts them then' : '',
    ].filter((line) => line !== '').join('\n'));
    return 0;
  });
}

function printResult(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 1) : human());
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
