// The settlement store at `${dataDir}/settle` (LMDB, main thread; issue #18): fee strategy changes under maker–checker
// (kept for ever, decided ones too: the record of who changed which fee), the state the next run starts from
// (core/settle/settlement-run.ts's EarlierRuns, pruned to what a run can still be given), the channel days a run
// need not read again, the runs and each merchant's statement of each run. A run's record, its statements and the
// new state commit in one transaction, after its postings answered: a run is stored whole or not at all. Each write
// resolves once durable.

import { join } from 'node:path';
import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../core/assert.js';
import { errors } from '../core/errors.js';
import type { EarlierRuns, ReserveHold, CarriedAmount } from '../core/settle/settlement-run.js';
import type {
  SettleChangeStatus,
  SettleRunReply,
  SettleStatementPageLine,
  SettleStatementRunSummary,
  SettleStrategiesQuery,
  SettleStrategyChange,
} from '../core/wire/settle-bodies.js';
import { newestFirst, openDurableStore, writeDurably } from '../shards/storage/durable-side-store.js';

/** The databases, as shards/storage/store-catalog.ts lists them for snapshots. */
export const settleStoreDbs = ['changes', 'state', 'runs', 'statements', 'statementLines'] as const;

/** Statement lines per stored chunk: a page reads a chunk or two, a merchant of 100,000 lines is 100 chunks. */
const statementChunkLines = 1000;

/** EarlierRuns as stored: bigints as decimal text, maps and sets as arrays. */
interface StoredEarlierRuns {
  lastRunDate: number | null;
  lastRunBatches: [string, number][];
  settledDays: [string, string][];
  releasedItems: string[];
  reserves: (Omit<ReserveHold, 'amountMinor'> & { amountMinor: string })[];
  carried: (Omit<CarriedAmount, 'amountMinor'> & { amountMinor: string })[];
}

/** What the service keeps beside EarlierRuns: which channel days are done, which still hold items back. */
export interface SettleDays {
  /** JSON [channel, day] of channel days every merchant of which was settled with nothing held: never read again. */
  done: string[];
  /** JSON [channel, day] of settled channel days still holding unresolved items: read every run until released. */
  held: string[];
}

/**
 * Chains a failed run left unposted, by unit (unitKeyOf) and the batch they failed in. The ledger keeps a refused
 * transfer's id with its refusal, so the same ids would be refused again: the next run that date gives those units
 * the next batch (new ids; nothing of a refused linked chain posted), the others their same batch (their ids
 * answer exists).
 */
export interface SettleRetries {
  runDate: number;
  batches: [string, number][];
}

const stateKeys = { earlier: 'earlier', days: 'days', retries: 'retries' } as const;
const statementKey = (merchant: string, date: number, runId: string, channel: string): string => `${merchant}\u0000${date}\u0000${runId}\u0000${channel}`;
const linesPrefix = (merchant: string, date: number): string => `${merchant}\u0000${date}\u0000`;
const chunkKey = (merchant: string, date: number, chunk: number): string => `${linesPrefix(merchant, date)}${String(chunk).padStart(8, '0')}`;

/** A run's statement of one merchant and channel as stored: the summary, and its lines (stored in chunks apart). */
export interface StoredStatement {
  summary: SettleStatementRunSummary;
  lines: SettleStatementPageLine[];
}

export function encodeEarlierRuns(earlier: EarlierRuns): string {
  const stored: StoredEarlierRuns = {
    lastRunDate: earlier.lastRunDate ?? null,
    lastRunBatches: [...earlier.lastRunBatches],
    settledDays: [...earlier.settledDays].map(([key, minor]) => [key, String(minor)]),
    releasedItems: [...earlier.releasedItems],
    reserves: earlier.reserves.map((hold) => ({ ...hold, amountMinor: String(hold.amountMinor) })),
    carried: earlier.carried.map((carried) => ({ ...carried, amountMinor: String(carried.amountMinor) })),
  };
  return JSON.stringify(stored);
}

export function decodeEarlierRuns(text: string): EarlierRuns {
  const stored = JSON.parse(text) as StoredEarlierRuns;
  return {
    lastRunDate: stored.lastRunDate ?? undefined,
    lastRunBatches: new Map(stored.lastRunBatches),
    settledDays: new Map(stored.settledDays.map(([key, minor]) => [key, BigInt(minor)])),
    releasedItems: new Set(stored.releasedItems),
    reserves: stored.reserves.map((hold) => ({ ...hold, amountMinor: BigInt(hold.amountMinor) })),
    carried: stored.carried.map((carried) => ({ ...carried, amountMinor: BigInt(carried.amountMinor) })),
  };
}

export class SettleStore {
  readonly path: string;
  readonly #root: RootDatabase;
  readonly #changes: Database<string, string>;
  readonly #state: Database<string, string>;
  readonly #runs: Database<string, string>;
  readonly #statements: Database<string, string>;
  readonly #statementLines: Database<string, string>;
  #closed = false;

  private constructor(path: string, root: RootDatabase, dbs: Record<(typeof settleStoreDbs)[number], Database<string, string>>) {
    this.path = path;
    this.#root = root;
    this.#changes = dbs.changes;
    this.#state = dbs.state;
    this.#runs = dbs.runs;
    this.#statements = dbs.statements;
    this.#statementLines = dbs.statementLines;
  }

  static open(dataDir: string): SettleStore {
    const path = join(dataDir, 'settle');
    const { root, dbs } = openDurableStore(path, settleStoreDbs);
    return new SettleStore(path, root, dbs as Record<(typeof settleStoreDbs)[number], Database<string, string>>);
  }

  // ---- strategy changes ---------------------------------------------------------------------------------------------

  change(id: string): SettleStrategyChange | undefined {
    const text = this.#changes.get(id);
    return text === undefined ? undefined : (JSON.parse(text) as SettleStrategyChange);
  }

  /** A page of changes, newest first (ids increase with time). */
  changes(query: SettleStrategiesQuery): SettleStrategyChange[] {
    return newestFirst<SettleStrategyChange>(this.#changes, query.before, query.limit, (change) => (query.merchant === null || change.merchant === query.merchant) && (query.status === null || change.status === query.status));
  }


  /** Every change of one status, oldest first (the approved ones make the fee schedule). */
  changesWithStatus(status: SettleChangeStatus): SettleStrategyChange[] {
    const found: SettleStrategyChange[] = [];
    for (const { value } of this.#changes.getRange({})) {
      const change = JSON.parse(value) as SettleStrategyChange;
      if (change.status === status) found.push(change);
    }
    return found;
  }

  async putChange(change: SettleStrategyChange, expected: SettleChangeStatus | null): Promise<void> {
    await this.#write(() => {
      const current = this.change(change.id);
      // A decision stored only over the state it was made on: two checkers racing cannot both decide.
      if ((current?.status ?? null) !== expected) throw errors.bodyInvalid(`strategy change ${change.id} is ${current?.status ?? 'unknown'}, not ${expected ?? 'new'}`);
      this.#changes.putSync(change.id, JSON.stringify(change));
    });
  }

  // ---- runs ---------------------------------------------------------------------------------------------------------

  earlierRuns(): EarlierRuns | undefined {
    const text = this.#state.get(stateKeys.earlier);
    return text === undefined ? undefined : decodeEarlierRuns(text);
  }

  days(): SettleDays {
    const text = this.#state.get(stateKeys.days);
    return text === undefined ? { done: [], held: [] } : (JSON.parse(text) as SettleDays);
  }

  retries(): SettleRetries | undefined {
    const text = this.#state.get(stateKeys.retries);
    return text === undefined ? undefined : (JSON.parse(text) as SettleRetries);
  }

  run(id: string): SettleRunReply | undefined {
    const text = this.#runs.get(id);
    return text === undefined ? undefined : (JSON.parse(text) as SettleRunReply);
  }

  /** The merchant's statement summaries of run date `date`, every run and channel, in run order. */
  statements(merchant: string, date: number): SettleStatementRunSummary[] {
    const prefix = `${merchant}\u0000${date}\u0000`;
    const found: SettleStatementRunSummary[] = [];
    for (const { value } of this.#statements.getRange({ start: prefix, end: `${merchant}\u0000${date}\u0001` })) found.push(JSON.parse(value) as SettleStatementRunSummary);
    return found;
  }

  /**
   * Up to `limit` of the merchant's statement lines of `date` from position `after` (positions are chunk × 1000 +
   * index, in run order), and the position the next page starts at (null at the end).
   */
  statementLines(merchant: string, date: number, after: number, limit: number): { lines: SettleStatementPageLine[]; next: number | null } {
    const lines: SettleStatementPageLine[] = [];
    const firstChunk = Math.floor(after / statementChunkLines);
    for (const { key, value } of this.#statementLines.getRange({ start: chunkKey(merchant, date, firstChunk), end: `${merchant}\u0000${date}\u0001` })) {
      const chunk = Number(key.slice(key.lastIndexOf('\u0000') + 1));
      const stored = JSON.parse(value) as SettleStatementPageLine[];
      for (let i = chunk === firstChunk ? after % statementChunkLines : 0; i < stored.length; i++) {
        if (lines.length === limit) return { lines, next: chunk * statementChunkLines + i };
        lines.push(stored[i]!);
      }
    }
    return { lines, next: null };
  }

  /** The chunk after the last one stored for the merchant and date: where a new run's lines start. */
  #nextChunk(merchant: string, date: number): number {
    for (const key of this.#statementLines.getKeys({ start: `${merchant}\u0000${date}\u0001`, end: linesPrefix(merchant, date), reverse: true, limit: 1 })) {
      return Number(key.slice(key.lastIndexOf('\u0000') + 1)) + 1;
    }
    return 0;
  }

  /**
   * Stores a run whole: its record, its statements, and — when its postings all answered — the state the next run
   * starts from; a failed run (`next` is its retries) moves no state but the batches its refused chains take next.
   */
  async putRun(run: SettleRunReply, statements: readonly StoredStatement[], next: { earlier: EarlierRuns; days: SettleDays } | SettleRetries, date: number): Promise<void> {
    assert(this.run(run.id) === undefined, `run ${run.id} is new`);
    await this.#write(() => {
      this.#runs.putSync(run.id, JSON.stringify(run));
      // A merchant's lines of the run (every channel) go on from its last chunk of the date, a chunk of its own.
      const chunkOf = new Map<string, number>();
      let merchant: string | null = null;
      let lines: SettleStatementPageLine[] = [];
      const flush = (): void => {
        if (merchant === null || lines.length === 0) return;
        const chunk = chunkOf.get(merchant) ?? this.#nextChunk(merchant, date);
        this.#statementLines.putSync(chunkKey(merchant, date, chunk), JSON.stringify(lines));
        chunkOf.set(merchant, chunk + 1);
        lines = [];
      };
      for (const statement of statements) {
        const { summary } = statement;
        this.#statements.putSync(statementKey(summary.merchant, date, run.id, summary.channel), JSON.stringify(summary));
        if (merchant !== summary.merchant) {
          flush();
          merchant = summary.merchant;
        }
        for (const line of statement.lines) {
          lines.push(line);
          if (lines.length === statementChunkLines) flush();
        }
      }
      flush();
      if ('runDate' in next) {
        this.#state.putSync(stateKeys.retries, JSON.stringify(next));
        return;
      }
      this.#state.putSync(stateKeys.earlier, encodeEarlierRuns(next.earlier));
      this.#state.putSync(stateKeys.days, JSON.stringify(next.days));
      this.#state.removeSync(stateKeys.retries);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#root.close();
  }

  async #write(action: () => void): Promise<void> {
    if (this.#closed) throw errors.shuttingDown();
    await writeDurably(this.#root, this.path, 'settle store', action);
  }
}
