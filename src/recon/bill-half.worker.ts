// The later part of a big WeChat Pay bill, read on a thread of its own while the import worker reads the first part
// (statement-rows.ts splitBillRows, host bill-half-host.ts). The bill's bytes are shared, not copied (a
// SharedArrayBuffer); the part's rows go back as columns whose buffers are transferred.

import { parentPort, workerData } from 'node:worker_threads';
import { assert } from '../core/assert.js';
import { partBuffers } from '../core/recon/statement-row-table.js';
import { readBillHalf, type BillHalfInput } from './statement-rows.js';

assert(parentPort !== null, 'bill-half.worker.ts runs as a worker thread');
const result = readBillHalf(workerData as BillHalfInput);
parentPort.postMessage(result, 'table' in result ? partBuffers(result.table) : []);
// Kept alive until the host, holding the answer, terminates it: a message posted just before a worker exits could be lost.
parentPort.on('message', () => {});
