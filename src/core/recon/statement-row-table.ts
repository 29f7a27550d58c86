// A batch's statement rows as the matcher reads them (issue #17). A million rows held as StatementRow objects were
// most of a big import's heap (~500 bytes each, and their text cells kept the whole decoded bill alive): here a
// row is a few typed-array slots holding what every row is compared by — key, direction, amounts, status,
// currency, dates, serial and refund numbers — and the whole row is made again only for the few a record needs
// (an exception, a group of several rows), by the file it came from (`RowRemaker`). Rows of small statements keep
// their objects. Row i (0-based) is the batch's row number i + 1.

import { assert } from '../assert.js';
import { rowStatuses, type RowDirection, type RowStatus, type StatementRow } from './statement-row.js';

/** What the matcher and the import read of a batch's rows, by index (row i is row number i + 1). */
export interface StatementRowSource {
  readonly length: number;
  /** Row i made whole (a fresh object for a packed row: callers keep it only as long as they need it). */
  row(i: number): StatementRow;
  key128(i: number): bigint;
  direction(i: number): RowDirection;
  amountMinor(i: number): bigint;
  feeMinor(i: number): bigint;
  status(i: number): RowStatus;
  currency(i: number): string;
  channelSerialNo(i: number): string;
  refundNo(i: number): string;
  transactionTimeMs(i: number): number | null;
  bookingDate(i: number): number;
  valueDate(i: number): number;
  statementKey(i: number): string;
}

/** The rows a caller gives, as a source: a table as it is, objects through rowSourceOf. */
export function asRowSource(rows: readonly StatementRow[] | StatementRowSource): StatementRowSource {
  return Array.isArray(rows) ? rowSourceOf(rows as readonly StatementRow[]) : (rows as StatementRowSource);
}

/** Rows held as objects (small statements, tests). */
export function rowSourceOf(rows: readonly StatementRow[]): StatementRowSource {
  return {
    length: rows.length,
    row: (i) => rows[i]!,
    key128: (i) => rows[i]!.key128,
    direction: (i) => rows[i]!.direction,
    amountMinor: (i) => rows[i]!.amountMinor,
    feeMinor: (i) => rows[i]!.feeMinor,
    status: (i) => rows[i]!.status,
    currency: (i) => rows[i]!.currency,
    channelSerialNo: (i) => rows[i]!.channelSerialNo,
    refundNo: (i) => rows[i]!.refundNo,
    transactionTimeMs: (i) => rows[i]!.transactionTimeMs,
    bookingDate: (i) => rows[i]!.bookingDate,
    valueDate: (i) => rows[i]!.valueDate,
    statementKey: (i) => rows[i]!.statementKey,
  };
}

/**
 * Makes a packed row whole again from its file: the row at `line` of that file, read as the first time (same
 * reader, same cells), less what the batch gave it (rowNo, key128, statementKey: the table puts those back).
 */
export type RowRemaker = (line: number) => StatementRow;

const amountMax = 2n ** 63n - 1n;
/** Distinct currencies a table packs (more: the rows are kept whole, a statement of many currencies is small). */
const currenciesMax = 255;
const initialCapacity = 1024;
/** Bit 0 of a packed row's kind: its direction; bits 1–3: its status (index in rowStatuses). */
const debitBit = 1;

export class StatementRowTable implements StatementRowSource {
  #length = 0;
  #capacity = 0;
  /** Per row: the file (index into #files), or −1 for a row kept whole in #kept. */
  #file = new Int32Array(0);
  #line = new Uint32Array(0);
  #kind = new Uint8Array(0);
  #currency = new Uint8Array(0);
  #amount = new BigInt64Array(0);
  #fee = new BigInt64Array(0);
  #timeMs = new Float64Array(0);
  #bookingDate = new Int32Array(0);
  #valueDate = new Int32Array(0);
  #key: bigint[] = [];
  #serial: string[] = [];
  #refundNo: string[] = [];
  readonly #kept = new Map<number, StatementRow>();
  /** The file of each row of a file kept whole (it did not fit the packing, or its file is not packed): its statement key follows the file's. */
  readonly #keptOfFile = new Map<number, number>();
  readonly #currencies: string[] = [];
  readonly #files: { remake: RowRemaker; statementKey: string }[] = [];

  get length(): number {
    return this.#length;
  }

  /** A file whose rows are packed (addPacked) and made whole again by `remake`; returns its number. */
  addFile(remake: RowRemaker): number {
    this.#files.push({ remake, statementKey: '' });
    return this.#files.length - 1;
  }

  /** The statement key of every packed row of `file` (a bill's identity is known only once it is read). */
  setStatementKey(file: number, statementKey: string): void {
    this.#files[file]!.statementKey = statementKey;
    for (const [i, of] of this.#keptOfFile) if (of === file) this.#kept.get(i)!.statementKey = statementKey;
  }

  /**
   * Appends a row kept whole; it is numbered here (rowNo = its place). `file`: the file (addFile) whose statement key
   * it takes when one is set (a bill's row not packed).
   */
  addKept(row: StatementRow, file?: number): void {
    const i = this.#grow();
    row.rowNo = i + 1;
    this.#kept.set(i, row);
    this.#file[i] = -1;
    if (file !== undefined) this.#keptOfFile.set(i, file);
  }

  /**
   * Appends `row`, read at `line` of `file`, packed: only its compared fields stay. `serial` and `refundNo` are the
   * row's, as strings that hold no larger text (the caller copies them out of the file's text). A row that does
   * not fit the packing (an amount of 2^63 or more, a 256th currency) is kept whole instead.
   */
  addPacked(file: number, line: number, row: StatementRow, serial: string, refundNo: string): void {
    let currency = this.#currencies.indexOf(row.currency);
    if (currency < 0 && this.#currencies.length < currenciesMax) currency = this.#currencies.push(row.currency) - 1;
    if (currency < 0 || row.amountMinor > amountMax || row.feeMinor > amountMax || line > 0xffff_ffff) {
      this.addKept(row, file);
      return;
    }
    assert(serial === row.channelSerialNo && refundNo === row.refundNo, 'a packed row keeps its own serial and refund numbers');
    const i = this.#grow();
    this.#file[i] = file;
    this.#line[i] = line;
    this.#kind[i] = (row.direction === 'debit' ? debitBit : 0) | (rowStatuses.indexOf(row.status) << 1);
    this.#currency[i] = currency;
    this.#amount[i] = row.amountMinor;
    this.#fee[i] = row.feeMinor;
    this.#timeMs[i] = row.transactionTimeMs ?? NaN;
    this.#bookingDate[i] = row.bookingDate;
    this.#valueDate[i] = row.valueDate;
    this.#key[i] = row.key128;
    this.#serial[i] = serial;
    this.#refundNo[i] = refundNo;
  }

  /**
   * The rows of a table that holds one file's rows alone (a later part of a bill, read on another thread), as
   * columns to pass between threads (the typed arrays' buffers may be transferred) and append to the table of the
   * file's first part (appendPart).
   */
  part(): StatementRowTablePart {
    // One file's rows, or none (a part whose header let no row be read).
    assert(this.#files.length === 1 || (this.#files.length === 0 && this.#length === 0), 'a part is one file\'s rows');
    const length = this.#length;
    const kept: [number, StatementRow][] = [];
    for (const [i, row] of this.#kept) {
      assert(this.#keptOfFile.get(i) === 0, 'a part keeps rows of its file only');
      kept.push([i, row]);
    }
    return {
      length, kept, currencies: [...this.#currencies],
      line: this.#line.slice(0, length), kind: this.#kind.slice(0, length), currency: this.#currency.slice(0, length),
      amount: this.#amount.slice(0, length), fee: this.#fee.slice(0, length), timeMs: this.#timeMs.slice(0, length),
      bookingDate: this.#bookingDate.slice(0, length), valueDate: this.#valueDate.slice(0, length),
      key: this.#key.slice(0, length), serial: this.#serial.slice(0, length), refundNo: this.#refundNo.slice(0, length),
    };
  }

  /** Appends the first `count` rows of `part` (StatementRowTable.part, of the same file's later part) as rows of `file`, in order. */
  appendPart(file: number, part: StatementRowTablePart, count = part.length): void {
    assert(file >= 0 && file < this.#files.length, 'a part is appended to a file of the table');
    assert(count >= 0 && count <= part.length, 'a part gives at most its rows');
    const kept = new Map(part.kept);
    for (let k = 0; k < count; k++) {
      const whole = kept.get(k);
      if (whole !== undefined) {
        this.addKept(whole, file);
        continue;
      }
      const name = part.currencies[part.currency[k]!]!;
      let currency = this.#currencies.indexOf(name);
      if (currency < 0 && this.#currencies.length < currenciesMax) currency = this.#currencies.push(name) - 1;
      // A 256th currency across both parts: the row is kept whole, as addPacked would (made whole from its line).
      if (currency < 0) {
        const row = this.#files[file]!.remake(part.line[k]!);
        row.key128 = part.key[k]!;
        this.addKept(row, file);
        continue;
      }
      const i = this.#grow();
      this.#file[i] = file;
      this.#line[i] = part.line[k]!;
      this.#kind[i] = part.kind[k]!;
      this.#currency[i] = currency;
      this.#amount[i] = part.amount[k]!;
      this.#fee[i] = part.fee[k]!;
      this.#timeMs[i] = part.timeMs[k]!;
      this.#bookingDate[i] = part.bookingDate[k]!;
      this.#valueDate[i] = part.valueDate[k]!;
      this.#key[i] = part.key[k]!;
      this.#serial[i] = part.serial[k]!;
      this.#refundNo[i] = part.refundNo[k]!;
    }
  }

  row(i: number): StatementRow {
    const kept = this.#kept.get(i);
    if (kept !== undefined) return kept;
    this.#check(i);
    const file = this.#files[this.#file[i]!]!;
    const row = file.remake(this.#line[i]!);
    row.rowNo = i + 1;
    row.key128 = this.#key[i]!;
    row.statementKey = file.statementKey;
    assert(row.amountMinor === this.#amount[i] && row.channelSerialNo === this.#serial[i], 'a row made again reads as it did the first time');
    return row;
  }

  key128(i: number): bigint {
    return this.#packed(i) ? this.#key[i]! : this.#kept.get(i)!.key128;
  }

  direction(i: number): RowDirection {
    return this.#packed(i) ? ((this.#kind[i]! & debitBit) !== 0 ? 'debit' : 'credit') : this.#kept.get(i)!.direction;
  }

  amountMinor(i: number): bigint {
    return this.#packed(i) ? this.#amount[i]! : this.#kept.get(i)!.amountMinor;
  }

  feeMinor(i: number): bigint {
    return this.#packed(i) ? this.#fee[i]! : this.#kept.get(i)!.feeMinor;
  }

  status(i: number): RowStatus {
    return this.#packed(i) ? rowStatuses[this.#kind[i]! >> 1]! : this.#kept.get(i)!.status;
  }

  currency(i: number): string {
    return this.#packed(i) ? this.#currencies[this.#currency[i]!]! : this.#kept.get(i)!.currency;
  }

  channelSerialNo(i: number): string {
    return this.#packed(i) ? this.#serial[i]! : this.#kept.get(i)!.channelSerialNo;
  }

  refundNo(i: number): string {
    return this.#packed(i) ? this.#refundNo[i]! : this.#kept.get(i)!.refundNo;
  }

  transactionTimeMs(i: number): number | null {
    if (!this.#packed(i)) return this.#kept.get(i)!.transactionTimeMs;
    const ms = this.#timeMs[i]!;
    return Number.isNaN(ms) ? null : ms;
  }

  bookingDate(i: number): number {
    return this.#packed(i) ? this.#bookingDate[i]! : this.#kept.get(i)!.bookingDate;
  }

  valueDate(i: number): number {
    return this.#packed(i) ? this.#valueDate[i]! : this.#kept.get(i)!.valueDate;
  }

  statementKey(i: number): string {
    return this.#packed(i) ? this.#files[this.#file[i]!]!.statementKey : this.#kept.get(i)!.statementKey;
  }

  #packed(i: number): boolean {
    this.#check(i);
    return this.#file[i]! >= 0;
  }

  #check(i: number): void {
    assert(Number.isInteger(i) && i >= 0 && i < this.#length, 'a row index within the table');
  }

  /** The next row's index, with room for it. */
  #grow(): number {
    if (this.#length === this.#capacity) {
      const capacity = Math.max(initialCapacity, this.#capacity * 2);
      this.#file = grown(this.#file, capacity);
      this.#line = grown(this.#line, capacity);
      this.#kind = grown(this.#kind, capacity);
      this.#currency = grown(this.#currency, capacity);
      this.#amount = grown(this.#amount, capacity);
      this.#fee = grown(this.#fee, capacity);
      this.#timeMs = grown(this.#timeMs, capacity);
      this.#bookingDate = grown(this.#bookingDate, capacity);
      this.#valueDate = grown(this.#valueDate, capacity);
      this.#capacity = capacity;
    }
    return this.#length++;
  }
}

/** A one-file table's rows as columns (StatementRowTable.part): structured-cloneable. */
export interface StatementRowTablePart {
  length: number;
  /** Rows kept whole, by their index in the part. */
  kept: [number, StatementRow][];
  currencies: string[];
  line: Uint32Array;
  kind: Uint8Array;
  currency: Uint8Array;
  amount: BigInt64Array;
  fee: BigInt64Array;
  timeMs: Float64Array;
  bookingDate: Int32Array;
  valueDate: Int32Array;
  key: bigint[];
  serial: string[];
  refundNo: string[];
}

/** The buffers of a part's typed columns: to transfer with it. */
export function partBuffers(part: StatementRowTablePart): ArrayBuffer[] {
  return [part.line, part.kind, part.currency, part.amount, part.fee, part.timeMs, part.bookingDate, part.valueDate].map((column) => column.buffer as ArrayBuffer);
}

type Column = Int32Array | Uint32Array | Uint8Array | Float64Array | BigInt64Array;

/** A copy of `from` with room for `capacity` values. */
function grown<C extends Column>(from: C, capacity: number): C {
  const to = new (from.constructor as new (length: number) => C)(capacity);
  (to as unknown as { set(values: C): void }).set(from);
  return to;
}
