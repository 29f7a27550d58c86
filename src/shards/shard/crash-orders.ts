// Fault injection for crash tests: a worker thread told to crash exits at once, between two turns of its
// event loop, losing its memory as a killed process would (its LMDB store keeps what was committed).
//
// Why not Worker.terminate(): it stops a thread wherever it is, and when that is inside lmdb-js's native
// write start the native module cannot throw and aborts the whole process (FATAL napi_throw; reproduced
// with a bare worker putting in a loop). An order handled on the thread's own event loop never lands
// inside native code. Orders travel on a BroadcastChannel, which is process-local: nothing outside the
// process can send one.

import { BroadcastChannel, threadId, isMainThread } from 'node:worker_threads';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';

const channelName = 'tally:crash-orders';
/** How long crashThread waits for the thread to exit before it gives up. */
const crashWaitMsMax = 10_000;
/** Orders are repeated this often: a channel hears only messages posted after it opened. */
const crashOrderRepeatMs = 20;

/** Called once by a worker entry: exit with code 1 when ordered to crash. */
export function obeyCrashOrders(): void {
  if (isMainThread) return;
  const channel = new BroadcastChannel(channelName);
  channel.onmessage = (message) => {
    if ((message as { data: unknown }).data === threadId) process.exit(1);
  };
  channel.unref(); // listening keeps nothing alive
}

/**
 * Orders `worker` to crash and resolves once it exited. A thread still loading its module is not
 * listening yet (and must not be stopped then: Node 20 can abort the process), so the order is repeated
 * until the thread exits; rejects when it did not within crashWaitMsMax.
 */
export async function crashThread(worker: Worker): Promise<void> {
  const channel = new BroadcastChannel(channelName);
  const exited = once(worker, 'exit');
  const order = (): void => channel.postMessage(worker.threadId);
  const repeat = setInterval(order, crashOrderRepeatMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`thread ${worker.threadId} did not obey a crash order within ${crashWaitMsMax} ms`)), crashWaitMsMax);
  });
  try {
    order();
    await Promise.race([exited, timeout]);
  } finally {
    clearInterval(repeat);
    clearTimeout(timer);
    channel.close();
  }
}
