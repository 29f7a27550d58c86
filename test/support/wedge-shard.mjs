// Fault injection for shutdown tests, kept out of the server's own code: loaded into a server under test with
// `node --import <this file>` (ServerProcessOptions.nodeArgs), which runs it in the main thread and in every
// worker thread. On SIGUSR2 the main thread orders shard 0's worker to block its thread for good — a wedged
// shard, as an endless loop in its code would leave it: it answers nothing, not even control tasks — and
// prints {"msg":"test: shard 0 wedged"} on stdout once the worker confirms. Plain JavaScript: node runs it as is.

import { BroadcastChannel, isMainThread, workerData } from 'node:worker_threads';

const channel = new BroadcastChannel('tally-test:wedge-shard');
channel.unref(); // listening keeps nothing alive

if (isMainThread) {
  process.on('SIGUSR2', () => channel.postMessage('wedge'));
  channel.onmessage = ({ data }) => {
    if (data === 'wedged') process.stdout.write('{"msg":"test: shard 0 wedged"}\n');
  };
} else if (workerData?.shardIndex === 0 && workerData?.storageHealth !== undefined) {
  // Only a shard worker has storageHealth in its workerData (the bookkeeper and the snapshot copier do not).
  channel.onmessage = ({ data }) => {
    if (data !== 'wedge') return;
    channel.postMessage('wedged');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never woken
  };
}
