// The record codec (src/core/wire/records.ts) at full batch size: the client's encode of a request, and
// its decode of replies (results, lookups). Inputs are built untimed; each digest covers the last
// output, which is the same on every call.

import { batchEventsMax } from '../../../../src/core/limits.js';
import {
  decodeAccountStates,
  decodeResults,
  decodeTransferStates,
  encodeAccountStates,
  encodeAccounts,
  encodeResults,
  encodeTransferStates,
  encodeTransfers,
  type AccountInput,
  type ResultInput,
  type TransferInput,
} from '../../../../src/core/wire/records.js';
import type { AccountState, TransferState } from '../../../../src/core/types.js';
import { Digest, Prng, type MicroTask } from '../../bench-kit.js';

export interface RecordsBenchOptions {
  calls: number;
  /** Records per call (batchEventsMax in the real benchmark). */
  records?: number;
}

function transfers(prng: Prng, count: number): TransferInput[] {
  return Array.from({ length: count }, (_, i) => ({
    id: (1n << 64n) + BigInt(i),
    debitAccountId: BigInt(1 + prng.below(1_000_000)),
    creditAccountId: BigInt(1 + prng.below(1_000_000)),
    amount: BigInt(1 + prng.below(1_000_000)),
    ledger: 1,
    code: 1 + prng.below(100),
    userData64: BigInt(prng.below(1 << 30)),
  }));
}

function transferStates(prng: Prng, count: number): TransferState[] {
  return transfers(prng, count).map((t) => ({
    pendingId: 0n,
    userData128: 0n,
    userData64: 0n,
    userData32: 0,
    timeoutSeconds: 0,
    flags: 0,
    ...t,
    timestamp: 1_700_000_000_000_000_000n + BigInt(prng.below(1 << 30)),
    status: 'posted',
    amountPosted: 0n,
    amountReversed: BigInt(prng.below(10)),
  }));
}

function accountStates(prng: Prng, count: number): AccountState[] {
  return Array.from({ length: count }, (_, i) => ({
    id: BigInt(i + 1),
    ledger: 1,
    code: 1,
    flags: 2,
    userData128: 0n,
    userData64: 0n,
    userData32: 0,
    timestamp: 1_700_000_000_000_000_000n + BigInt(i),
    debitsPosted: BigInt(prng.below(1 << 30)),
    creditsPosted: BigInt(prng.below(1 << 30)) + (1n << 31n),
    debitsPending: 0n,
    creditsPending: 0n,
    frozen: BigInt(prng.below(100)),
    status: 'active',
  }));
}

/** A task whose every call maps the same input to the same output; the digest covers that output. */
function codecTask<I, O>(name: string, records: number, calls: number, input: (prng: Prng) => I, run: (input: I) => O, bytesOf: (output: O) => Uint8Array): MicroTask {
  let prepared: I | null = null;
  let output: O | null = null;
  return {
    name,
    eventsPerCall: records,
    calls,
    setup() {
      prepared = input(new Prng(0xc0dec));
    },
    call() {
      output = run(prepared!);
    },
    digest: () => new Digest().update(bytesOf(output!)).hex(),
    teardown() {
      prepared = null;
      output = null;
    },
  };
}

export function recordsTasks(options: RecordsBenchOptions): MicroTask[] {
  const n = options.records ?? batchEventsMax;
  const calls = options.calls;
  const resultNames: ResultInput['result'][] = ['ok', 'ok', 'ok', 'exists', 'insufficient_funds'];
  return [
    codecTask(`encodeTransfers ${n}`, n, calls, (prng) => transfers(prng, n), encodeTransfers, (bytes) => bytes),
    codecTask(
      `encodeAccounts ${n}`,
      n,
      calls,
      (): AccountInput[] => Array.from({ length: n }, (_, i) => ({ id: BigInt(i + 1), ledger: 1, code: 1, flags: 2 })),
      encodeAccounts,
      (bytes) => bytes,
    ),
    codecTask(
      `decodeResults ${n}`,
      n,
      calls,
      (prng) => encodeResults(Array.from({ length: n }, () => ({ result: resultNames[prng.below(resultNames.length)]! }))),
      decodeResults,
      (results) => new TextEncoder().encode(results.map((r) => r.code).join()),
    ),
    codecTask(`decodeTransferStates ${n}`, n, calls, (prng) => encodeTransferStates(transferStates(prng, n)), decodeTransferStates, encodeTransferStates),
    codecTask(`decodeAccountStates ${n}`, n, calls, (prng) => encodeAccountStates(accountStates(prng, n)), decodeAccountStates, encodeAccountStates),
  ];
}
