// The recon service's side of one import worker (import.worker.ts, issue #17): starts it on the files, hands over
// our side of the day when asked, and turns what the worker says — or its death, say out of its heap — into
// promises. One worker per import, terminated by stop() once it answered or the import was refused.

import { Worker } from 'node:worker_threads';
import { errors } from '../core/errors.js';
import { reconImportHeapMb } from '../core/limits.js';
import type { ImportCommand, ImportEvent, ImportWorkerData } from './import-messages.js';
import type { StatementBytes } from './statement-files.js';
import { packedBuffers } from '../core/recon/packed-ledger-rows.js';
import { reconWorkerFile } from './worker-file.js';

type ReadEvent = Extract<ImportEvent, { type: 'read' }>;
type MatchedEvent = Extract<ImportEvent, { type: 'matched' }>;

export class ImportWorker {
  readonly #worker: Worker;
  readonly #events: ImportEvent[] = [];
  #waiting: ((event: ImportEvent) => void) | null = null;
  #ended: Error | null = null;
  readonly #onFirstDay: (day: number) => void;

  /**
   * `onFirstDay` hears the day of the statement's first row, once, before read() resolves (when a row has one).
   * Each file's bytes that are the whole of their own ArrayBuffer are transferred (the caller must not use them
   * afterwards); bytes in a SharedArrayBuffer (ReconStore.file gives such) are shared.
   */
  constructor(data: ImportWorkerData, onFirstDay: (day: number) => void = () => {}) {
    this.#onFirstDay = onFirstDay;
    // The files' bytes move to the worker (transferred, not copied: hundreds of MB): the caller gives them up. Bytes
    // that share their memory (a view into a bigger buffer, Node's pool) are copied instead: transferring would take
    // the rest of that memory away from its other users.
    // Bytes in a SharedArrayBuffer (ReconStore.file gives such) are shared as they are: a big bill's later part is
    // read from the same memory by a worker of the import's own (bill-half-host.ts).
    const shared = (file: StatementBytes): boolean => file.bytes.buffer instanceof SharedArrayBuffer;
    const owned = data.files.map((file) => (shared(file) || (file.bytes.byteOffset === 0 && file.bytes.byteLength === file.bytes.buffer.byteLength) ? file : { ...file, bytes: new Uint8Array(file.bytes) }));
    const transferList = [...new Set(owned.filter((file) => !shared(file)).map((file) => file.bytes.buffer as ArrayBuffer))];
    data = { ...data, files: owned };
    this.#worker = new Worker(reconWorkerFile('import.worker'), { workerData: data, transferList, resourceLimits: { maxOldGenerationSizeMb: reconImportHeapMb } });
    this.#worker.on('message', (event: ImportEvent) => this.#deliver(event));
    this.#worker.on('error', (error: Error & { code?: string }) => {
      // Out of its heap: the statement is too big for one import (the caller's to split). Anything else is ours.
      this.#end(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? tooBig() : new Error(`recon import worker failed: ${error.message}`));
    });
    this.#worker.on('exit', (code) => this.#end(new Error(`recon import worker ended (status ${code}) before it answered`)));
  }

  /** What reading the files found. */
  async read(): Promise<ReadEvent> {
    return (await this.#next('read')) as ReadEvent;
  }

  async match(command: ImportCommand): Promise<MatchedEvent> {
    this.#worker.postMessage(command, [command.ledger, command.pool, command.later].flatMap(packedBuffers));
    return (await this.#next('matched')) as MatchedEvent;
  }

  /** Ends the worker (after a refusal, or once it answered); resolves when it is gone. */
  async stop(): Promise<void> {
    await this.#worker.terminate();
  }

  #deliver(event: ImportEvent): void {
    if (event.type === 'first_day') {
      this.#onFirstDay(event.day);
      return;
    }
    if (this.#waiting !== null) {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting(event);
    } else this.#events.push(event);
  }

  #end(error: Error): void {
    this.#ended ??= error;
    if (this.#waiting !== null) {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting({ type: 'failed', message: '' });
    }
  }

  async #next(expected: ImportEvent['type']): Promise<ImportEvent> {
    const event = this.#events.shift() ?? (this.#ended === null ? await new Promise<ImportEvent>((resolve) => (this.#waiting = resolve)) : { type: 'failed' as const, message: '' });
    if (event.type === 'failed') throw this.#ended ?? (event.outOfMemory === true ? tooBig() : new Error(`recon import worker failed: ${event.message}`));
    if (event.type !== expected) throw new Error(`recon import worker: expected ${expected}, got ${event.type}`);
    return event;
  }
}

function tooBig(): Error {
  return errors.bodyInvalid(`recon_import: the import needs more than the ${reconImportHeapMb} MB heap an import may take: split the statement`);
}
