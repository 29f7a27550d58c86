// The core apply path: Ledger.execute of full batches (8,190 events) against 10k and 1M accounts,
// single-phase and two-phase, and lookups. Batches are prepared untimed; only execute/query is timed.
// Each task's digest covers every reply and the final balances of a sample of accounts.

import { Ledger } from '../../../../src/core/posting/ledger.js';
import { batchEventsMax } from '../../../../src/core/limits.js';
import { Operation } from '../../../../src/core/operations.js';
import { encodeAccounts, encodeIds, encodeTransfers, type TransferInput } from '../../../../src/core/wire/records.js';
import { TransferFlags } from '../../../../src/core/types.js';
import {
  Digest,
  Prng,
  benchAccountCode as code,
  benchLedgerId as ledgerId,
  clockStartNs,
  nsPerBatch,
  transferIdBase,
  type CoreBenchOptions,
  type MicroTask,
} from '../../bench-kit.js';

export type LedgerBenchOptions = CoreBenchOptions;

/** One shard's ledger with an in-memory journal and `accountCount` unruled accounts (ids 1..count). */
class Rig {
  readonly journal = new Map<number, Uint8Array>();
  readonly ledger = new Ledger({ shardIndex: 0, shardCount: 1, journal: { entry: (seq) => this.journal.get(seq) } });
  nowNs = clockStartNs;

  constructor(readonly accountCount: number) {
    for (let first = 1; first <= accountCount; first += batchEventsMax) {
      const count = Math.min(batchEventsMax, accountCount - first + 1);
      const accounts = Array.from({ length: count }, (_, i) => ({ id: BigInt(first + i), ledger: ledgerId, code }));
      const reply = this.execute(Operation.create_accounts, encodeAccounts(accounts));
      if (reply.some((byte) => byte !== 0)) throw new Error('benchmark accounts were not all created');
    }
  }

  execute(operation: number, body: Uint8Array): Uint8Array {
    const { seq, entry, reply } = this.ledger.execute(operation, body, this.nowNs);
    this.journal.set(seq, entry);
    this.nowNs += nsPerBatch;
    return reply;
  }

  /** Balances of up to 1,000 accounts spread over the id space, as raw lookup bytes. */
  sampleBalances(): Uint8Array {
    const step = Math.max(1, Math.floor(this.accountCount / 1000));
    const ids: bigint[] = [];
    for (let id = 1; id <= this.accountCount; id += step) ids.push(BigInt(id));
    return this.ledger.query(Operation.lookup_accounts, encodeIds(ids));
  }
}

function randomPair(prng: Prng, accountCount: number): [bigint, bigint] {
  const debit = prng.below(accountCount);
  const credit = (debit + 1 + prng.below(accountCount - 1)) % accountCount;
  return [BigInt(debit + 1), BigInt(credit + 1)];
}

function singlePhaseBatches(prng: Prng, accountCount: number, batches: number, events: number): Uint8Array[] {
  let id = transferIdBase;
  return Array.from({ length: batches }, () => {
    const transfers: TransferInput[] = [];
    for (let i = 0; i < events; i++) {
      const [debitAccountId, creditAccountId] = randomPair(prng, accountCount);
      transfers.push({ id: id++, debitAccountId, creditAccountId, amount: BigInt(1 + prng.below(1000)), ledger: ledgerId, code });
    }
    return encodeTransfers(transfers);
  });
}

/** Each batch opens events/2 holds and posts (half of) the holds of the batch before; the first only holds. */
function twoPhaseBatches(prng: Prng, accountCount: number, batches: number, events: number): Uint8Array[] {
  let id = transferIdBase;
  let holds: TransferInput[] = [];
  return Array.from({ length: batches + 1 }, () => {
    const posts = holds.map((hold): TransferInput => ({
      id: id++,
      debitAccountId: hold.debitAccountId,
      creditAccountId: hold.creditAccountId,
      amount: hold.amount / 2n,
      pendingId: hold.id,
      ledger: ledgerId,
      code,
      flags: TransferFlags.post_pending,
    }));
    holds = [];
    for (let i = 0; i < Math.floor(events / 2); i++) {
      const [debitAccountId, creditAccountId] = randomPair(prng, accountCount);
      const amount = BigInt(2 + prng.below(1000));
      holds.push({ id: id++, debitAccountId, creditAccountId, amount, ledger: ledgerId, code, flags: TransferFlags.pending, timeoutSeconds: 3600 });
    }
    return encodeTransfers([...holds, ...posts]);
  });
}

/** A task that executes one prepared batch per call and digests every reply. */
function batchTask(name: string, accountCount: number, calls: number, events: number, prepare: (prng: Prng) => Uint8Array[], warmBatches: number): MicroTask {
  let rig: Rig | null = null;
  let batches: Uint8Array[] = [];
  let next = 0;
  let body: Uint8Array = new Uint8Array(0);
  const digest = new Digest();
  let failures = 0;
  return {
    name,
    eventsPerCall: events,
    calls,
    setup() {
      rig = new Rig(accountCount);
      batches = prepare(new Prng(0x7a11e5));
      // Batches that set the stage (e.g. the first holds) run untimed.
      for (next = 0; next < warmBatches; next++) digest.update(rig.execute(Operation.create_transfers, batches[next]!));
    },
    beforeEach() {
      body = batches[next++]!;
    },
    call() {
      const reply = rig!.execute(Operation.create_transfers, body);
      for (let i = 0; i < reply.length; i += 4) if (reply[i] !== 0 || reply[i + 1] !== 0) failures++;
      digest.update(reply);
    },
    digest() {
      if (failures > 0) throw new Error(`${name}: ${failures} events failed; the benchmark measures the success path`);
      return digest.update(rig!.sampleBalances()).hex();
    },
    teardown() {
      rig = null;
      batches = [];
    },
  };
}

function lookupTask(accountCount: number, calls: number, events: number): MicroTask {
  let rig: Rig | null = null;
  let bodies: Uint8Array[] = [];
  let next = 0;
  const digest = new Digest();
  return {
    name: `query lookup_accounts ${events} ids (${accountCount.toLocaleString('en-US')} accounts)`,
    eventsPerCall: events,
    calls,
    setup() {
      rig = new Rig(accountCount);
      const prng = new Prng(0x100c);
      bodies = Array.from({ length: calls }, () => encodeIds(Array.from({ length: events }, () => BigInt(1 + prng.below(accountCount)))));
    },
    call() {
      digest.update(rig!.ledger.query(Operation.lookup_accounts, bodies[next++]!));
    },
    digest: () => digest.hex(),
    teardown() {
      rig = null;
      bodies = [];
    },
  };
}

export function ledgerTasks(options: LedgerBenchOptions): MicroTask[] {
  const events = options.batchEvents ?? batchEventsMax;
  const calls = options.calls;
  const tasks: MicroTask[] = [];
  for (const accountCount of options.accountCounts) {
    const accounts = accountCount.toLocaleString('en-US');
    tasks.push(batchTask(`execute ${events} transfers (${accounts} accounts)`, accountCount, calls, events, (prng) => singlePhaseBatches(prng, accountCount, calls, events), 0));
  }
  const smallest = Math.min(...options.accountCounts);
  const largest = Math.max(...options.accountCounts);
  tasks.push(
    batchTask(
      `execute ${events} holds + posts (${smallest.toLocaleString('en-US')} accounts)`,
      smallest,
      calls,
      events,
      (prng) => twoPhaseBatches(prng, smallest, calls, events),
      1,
    ),
  );
  tasks.push(lookupTask(largest, calls, events));
  return tasks;
}
