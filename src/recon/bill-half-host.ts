// The import worker's side of a bill's later part read on another thread (bill-half.worker.ts, issue #17): a million-
// row bill's parse in two halves side by side, the machine's other core no longer idle through it.

import { Worker } from 'node:worker_threads';
import { reconImportHeapMb } from '../core/limits.js';
import type { BillHalfInput, BillHalfResult, BillSplit } from './statement-rows.js';
import { reconWorkerFile } from './worker-file.js';

/** The later part's worker ran out of its heap: the statement is too big for one import. */
export class BillHalfTooBig extends Error {}

/**
 * Starts reading the later part (BillSplit.start). `input.bytes` must be a SharedArrayBuffer's: the worker reads the
 * same memory (a million-row bill is hundreds of MB; a copy would double them).
 */
export const startBillHalf: BillSplit['start'] = (input: BillHalfInput) => {
  const worker = new Worker(reconWorkerFile('bill-half.worker'), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: reconImportHeapMb } });
  const result = new Promise<BillHalfResult>((resolve, reject) => {
    worker.once('message', (answer: BillHalfResult) => {
      resolve(answer);
      void worker.terminate();
    });
    worker.once('error', (error: Error & { code?: string }) => reject(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new BillHalfTooBig(error.message) : error));
    worker.once('exit', (code) => reject(new Error(`recon bill half worker ended (status ${code}) before it answered`)));
  });
  // A refusal of the first part leaves the result unread: its rejection is no unhandled one.
  result.catch(() => {});
  return { result, stop: () => void worker.terminate() };
};
