// Reconciliation on the server (issue #17), as a wrapper around the ledger service like the admin service: the recon
// operations (51–55, admin scope) are answered here from the recon store; everything else goes to the inner service.
// An import reads the channel's uploaded files, checks them (a file that does not add up makes a refused batch:
// stored, with why, nothing matched) — in a worker thread of its own (import.worker.ts) — reads our side of the
// business day from the inner service as the importing caller, matches both ways with the channel's pending pool
// (in the worker), posts the strategy table's actions, and stores the batch, its exceptions, the identities
// that refuse the same file or the same daily statement again, and the new pool, in one transaction. Every upload
// and import is an audit record (admin store).

import { formatBusinessDay, parseBusinessDay } from '../core/business-day.js';
import { errors } from '../core/errors.js';
import { reconImportBytesMax } from '../core/limits.js';
import { Operation } from '../core/operations.js';
import {
  readReconBatchesQuery,
  readReconBatchId,
  readReconExceptionsQuery,
  readReconImport,
  readReconUpload,
  type ReconBatch,
  type ReconException,
  type ReconExceptionsQuery,
  type ReconImportRequest,
} from '../core/recon/batches.js';
import type { ChannelConfig, ChannelsFile } from '../core/recon/channel-config.js';
import type { LedgerRow } from '../core/recon/matcher.js';
import { ofxChainProblem, type OfxChainEnd, type OfxChainLink } from '../core/recon/ofx-chain.js';
import { anonymousCaller } from '../gateway/auth.js';
import { LedgerServiceWrapper, type ServiceAudit } from '../gateway/ledger-service-wrapper.js';
import type { Caller, LedgerService } from '../gateway/ledger-service.js';
import { resolutionTransferId, runActions } from './recon-actions.js';
import { LedgerDayError, readLedgerDayPacked, type PackedLedgerDay } from './ledger-day.js';
import { packLedgerRows, transferIdAt, type PackedLedgerRows } from '../core/recon/packed-ledger-rows.js';
import { ledgerReadsOf } from './ledger-reads.js';
import type { ReconStore } from './recon-store.js';
import { ImportWorker } from './import-worker-host.js';

/** Where audit records go (the admin store). */
export type ReconAudit = ServiceAudit;

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Formats whose statement covers a whole day: a second one for the same channel and day is refused. */
const dailyFormats: ReadonlySet<string> = new Set(['mt940', 'camt.053', 'wechatpay-tradebill', 'csv']);

export class ReconService extends LedgerServiceWrapper {
  readonly #store: ReconStore;
  readonly #channels: ReadonlyMap<string, ChannelConfig>;
  readonly #audit: ReconAudit;
  /** One import at a time: batches of one channel see each other's pool and identities in order. */
  #importing: Promise<unknown> = Promise.resolve();


  /** `channels` null: no --recon-channels, the recon operations answer that reconciliation is not configured. */
  constructor(inner: LedgerService, store: ReconStore, channels: ChannelsFile | null, audit: ReconAudit) {
    super(inner);
    this.#store = store;
    this.#channels = new Map((channels?.channels ?? []).map((channel) => [channel.name, channel]));
    this.#audit = audit;
  }


  execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array> {
    const keyId = caller?.keyId ?? anonymousCaller.keyId;
    switch (operation) {
      case Operation.recon_upload:
        return this.audited(this.#audit, operation, keyId, () => this.#upload(body));
      case Operation.recon_import: {
        const run = this.#importing.then(() => this.audited(this.#audit, operation, keyId, () => this.#import(body, keyId, caller)));
        this.#importing = run.catch(() => undefined);
        return run;
      }
      case Operation.get_recon_batches:
        return Promise.resolve().then(() => json(this.#store.batches(readReconBatchesQuery(body))));
      case Operation.get_recon_batch:
        return Promise.resolve().then(() => json(this.#store.batch(readReconBatchId(body)) ?? null));
      case Operation.get_recon_exceptions:
        return Promise.resolve().then(() => this.#exceptionsWithResolutions(readReconExceptionsQuery(body)));
      default:
        return this.inner.execute(operation, body, caller);
    }
  }




  /** 51: one chunk of a statement file, stored durably; the reply says how much is stored. */
  async #upload(body: Uint8Array): Promise<{ reply: Uint8Array; detail: string }> {
    const upload = readReconUpload(body);
    // Files are kept for ever: a server that cannot reconcile them takes none.
    if (this.#channels.size === 0) throw errors.bodyInvalid('recon_upload: reconciliation is not configured on this server (tally serve --recon-channels FILE)');
    const state = await this.#store.putChunk(upload.sha256, upload.offset, upload.total, upload.chunk);
    const detail = `${upload.sha256}: bytes ${upload.offset}..${upload.offset + upload.chunk.byteLength} of ${upload.total}${state.complete ? ', complete' : ''}`;
    return { reply: json({ sha256: state.sha256, received: state.received, complete: state.complete }), detail };
  }

  /** 52: files checked, matched with the ledger's day and the pool, stored as one batch. */
  async #import(body: Uint8Array, keyId: string, caller: Caller | undefined): Promise<{ reply: Uint8Array; detail: string; code: string }> {
    const request = readReconImport(body);
    const channel = this.#channelNamed(request);
    const started = performance.now();
    const files = request.files.map(({ name, sha256 }) => {
      const bytes = this.#store.file(sha256);
      if (bytes === undefined) throw errors.bodyInvalid(`recon_import: file ${sha256} (${name}) is not uploaded whole (recon_upload first)`);
      const earlier = this.#store.identity(`file:${sha256}`);
      if (earlier !== undefined) throw errors.bodyInvalid(`recon_import: ${name} was imported already, in batch ${earlier}`);
      return { name, sha256, bytes };
    });
    const importBytes = files.reduce((total, file) => total + file.bytes.byteLength, 0);
    if (importBytes > reconImportBytesMax) throw errors.bodyInvalid(`recon_import: ${importBytes} bytes of files; one import takes at most ${reconImportBytesMax} (split the day's statement)`);
    const batch: ReconBatch = {
      id: this.newTimeOrderedId('rcb'), channel: channel.name, day: '', status: 'refused', keyId, createdAt: new Date().toISOString(),
      files: files.map(({ name, sha256, bytes }) => ({ name, sha256, bytes: bytes.byteLength })), currency: channel.currency, problems: [],
      statementRows: 0, ignoredRows: 0, transfersRead: 0, poolIn: 0, poolOut: 0, totals: {}, exceptions: 0, actions: { done: 0, held: 0, failed: 0 },
      timingsMs: { read: 0, ledger: 0, match: 0, actions: 0, store: 0 },
    };
    const refused = async (problems: string[]) => {
      batch.problems = problems;
      await this.#store.putBatch(batch, [], [], null);
      return { reply: json(batch), detail: `${batch.id}: ${channel.name}: refused, ${problems.length} problem(s): ${problems[0] ?? ''}`.slice(0, 300), code: 'refused' };
    };

    // Reading and matching run in a worker of their own: the gateway's thread keeps answering meanwhile, and an
    // import too big for the worker's heap ends that worker, not the server. Our side of the day is read while the
    // worker parses: the day named, or else the first row's day as soon as the worker has read that row (a closed
    // day reads the same whenever it is read). Only reads: a refused import leaves nothing behind.
    let early: { day: number; read: Promise<PackedLedgerDay> } | null = null;
    // Transfers recon posted itself (补单 …) answer rows of earlier statements: they are no platform rows to match.
    const ours = (rows: PackedLedgerRows, i: number): boolean => !this.#store.isActionTransfer(transferIdAt(rows, i));
    const readDay = (day: number): Promise<PackedLedgerDay> => readLedgerDayPacked(ledgerReadsOf(this.inner, caller), channel, day, ours);
    const readEarly = (day: number): void => {
      const read = readDay(day);
      read.catch(() => undefined); // awaited below when the day is the one matched; otherwise nobody waits for it
      early = { day, read };
    };
    if (request.day !== null) readEarly(parseBusinessDay(request.day));
    const worker = new ImportWorker({ channel, files: files.map(({ name, bytes }) => ({ name, bytes })) }, (day) => {
      if (request.day === null) readEarly(day);
    });
    try {
      const read = await worker.read();
      batch.timingsMs.read = Math.round(performance.now() - started);
      batch.statementRows = read.statementRows;
      if (read.problems.length > 0) return await refused(read.problems);
      const chained = this.#chainOfx(channel.name, read.ofxLinks, batch.id);
      if (chained.problems.length > 0) return await refused(chained.problems);

      let day: number;
      if (request.day !== null) day = parseBusinessDay(request.day);
      else {
        if (read.days.length !== 1) throw errors.bodyInvalid(`recon_import: the statement's rows carry ${read.days.length === 0 ? 'no date' : `${read.days.length} days`}: name the business day (day)`);
        day = read.days[0]!;
      }
      batch.day = formatBusinessDay(day);
      const identities = files.map((file) => `file:${file.sha256}`);
      // The same statement in other bytes (exported again, another file name) is the same statement: once only.
      for (const statement of read.statements) {
        const key = `statement:${channel.name}:${statement}`;
        const earlier = this.#store.identity(key);
        if (earlier !== undefined) throw errors.bodyInvalid(`recon_import: statement ${statement} of ${channel.name} was reconciled already, in batch ${earlier}`);
        identities.push(key);
      }
      if (dailyFormats.has(channel.format)) {
        const dayKey = `day:${channel.name}:${batch.day}`;
        const earlier = this.#store.identity(dayKey);
        if (earlier !== undefined) throw errors.bodyInvalid(`recon_import: ${channel.name}'s statement of ${batch.day} was reconciled already, in batch ${earlier}`);
        identities.push(dayKey);
      }

      // What the import waited for our side after the files were read (all of the read when it started early).
      const ledgerStarted = performance.now();
      let ledgerDay: PackedLedgerDay;
      try {
        const started = early as { day: number; read: Promise<PackedLedgerDay> } | null;
        ledgerDay = await (started !== null && started.day === day ? started.read : readDay(day));
      } catch (error) {
        if (error instanceof LedgerDayError) throw errors.bodyInvalid(`recon_import: ${error.message}`);
        throw error;
      }
      batch.timingsMs.ledger = Math.round(performance.now() - ledgerStarted);
      batch.transfersRead = ledgerDay.transfersRead;

      const matchStarted = performance.now();
      const stored = this.#store.pool(channel.name);
      const pool = stored.filter((row) => row.businessDay < day);
      const matched = await worker.match({ type: 'match', day, ledger: ledgerDay.ledger, pool: packLedgerRows(pool), later: ledgerDay.later });
      batch.timingsMs.match = Math.round(performance.now() - matchStarted);

      const actionsStarted = performance.now();
      const actions = await runActions(matched.candidates, channel, this.inner, caller);
      const exceptions: ReconException[] = matched.exceptions;
      for (const exception of exceptions) {
        const outcome = actions.get(exception.n);
        if (outcome !== undefined) exception.action = { action: outcome.action, state: outcome.state, detail: outcome.detail, ...(outcome.transferId === undefined ? {} : { transferId: outcome.transferId }) };
        if (exception.action !== undefined) batch.actions[exception.action.state]++;
      }
      const actionIds = [...actions.values()].flatMap((outcome) => (outcome.transferId === undefined || outcome.state !== 'done' ? [] : [outcome.transferId]));
      batch.timingsMs.actions = Math.round(performance.now() - actionsStarted);
      const poolAfter = [...matched.carried, ...stored.filter((row) => row.businessDay >= day)];
      Object.assign(batch, {
        status: 'matched', ignoredRows: matched.ignored, poolIn: pool.length, poolOut: poolAfter.length, totals: matched.totals, exceptions: exceptions.length,
      } satisfies Partial<ReconBatch>);
      return await this.#stored(batch, exceptions, identities, poolAfter, actionIds, chained.ends);
    } finally {
      await worker.stop();
    }
  }

  /**
   * A page of a batch's exceptions, each with its manual resolution when the ledger holds it: one lookup of the
   * page's derived resolution ids (recon's own ids: read with the service's authority, whatever the caller may read).
   */
  async #exceptionsWithResolutions(query: ReconExceptionsQuery): Promise<Uint8Array> {
    const page = this.#store.exceptions(query);
    if (page.exceptions.length === 0) return json(page);
    const ids = page.exceptions.map((exception) => resolutionTransferId(query.batch, exception.n));
    const posted = new Map((await ledgerReadsOf(this.inner).lookupTransfers(ids)).map((transfer) => [transfer.id, transfer]));
    page.exceptions.forEach((exception, i) => {
      const transfer = posted.get(ids[i]!);
      if (transfer !== undefined) exception.resolution = { transferId: String(transfer.id), status: transfer.status, timestamp: String(transfer.timestamp) };
    });
    return json(page);
  }

  /**
   * OFX statements against the ends of their accounts' balance chains (ofx-chain.ts), in file order (a later file of
   * the same import chains to an earlier one): the problems that refuse the import, and the ends it leaves.
   */
  #chainOfx(channel: string, links: readonly OfxChainLink[], batch: string): { problems: string[]; ends: { account: string; end: OfxChainEnd }[] } {
    const ends = new Map<string, OfxChainEnd>();
    const problems: string[] = [];
    for (const link of links) {
      const problem = ofxChainProblem(link, ends.get(link.account) ?? this.#store.ofxChainEnd(channel, link.account));
      if (problem !== null) problems.push(`${link.file}: ${problem.code}: ${problem.locator}: ${problem.message}`);
      ends.set(link.account, { closingMinor: link.closingMinor, endDate: link.endDate, currency: link.currency, batch });
    }
    return { problems, ends: [...ends].map(([account, end]) => ({ account, end })) };
  }

  async #stored(batch: ReconBatch, exceptions: ReconException[], identities: string[], poolAfter: LedgerRow[], actionIds: string[], chainEnds: { account: string; end: OfxChainEnd }[] = []): Promise<{ reply: Uint8Array; detail: string; code: string }> {
    const storeStarted = performance.now();
    batch.timingsMs.store = 0;
    await this.#store.putBatch(batch, exceptions, identities, poolAfter, actionIds, chainEnds);
    batch.timingsMs.store = Math.round(performance.now() - storeStarted);
    const matched = (batch.totals.matched?.count ?? 0) + (batch.totals.matched_within_tolerance?.count ?? 0) + (batch.totals.matched_late?.count ?? 0);
    return { reply: json(batch), detail: `${batch.id}: ${batch.channel} ${batch.day}: ${batch.statementRows} rows, ${matched} matched, ${exceptions.length} exceptions`, code: 'ok' };
  }

  #channelNamed(request: ReconImportRequest): ChannelConfig {
    if (this.#channels.size === 0) throw errors.bodyInvalid('recon_import: reconciliation is not configured on this server (tally serve --recon-channels FILE)');
    const channel = this.#channels.get(request.channel);
    if (channel === undefined) throw errors.bodyInvalid(`recon_import: no channel ${JSON.stringify(request.channel)} (channels: ${[...this.#channels.keys()].join(', ')})`);
    return channel;
  }


}
