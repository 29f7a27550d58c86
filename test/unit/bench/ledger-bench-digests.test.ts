// The micro-benchmarks also run as tests: a scaled-down copy of each workload, untimed, must keep
// producing the same digest. A digest that moves means the ledger or the codec now answers
// differently; if that change is intended, update the digest here (and expect new ones in bench output).

import { describe, expect, test } from 'vitest';
import { runUntimed } from '../../../bench/micro/bench-kit.js';
import { ledgerTasks } from '../../../bench/micro/core/posting/ledger.bench.js';
import { recordsTasks } from '../../../bench/micro/core/wire/records.bench.js';
import { vouchersTasks } from '../../../bench/micro/core/books/vouchers.bench.js';
import { idIndexTasks } from '../../../bench/micro/shards/shard/id-index.bench.js';

const pinned: Record<string, string> = {
  'execute 64 transfers (100 accounts)': '1c17f1a6',
  'execute 64 transfers (5,000 accounts)': '2ed391e1',
  'execute 64 holds + posts (100 accounts)': '9e3a82ae',
  'query lookup_accounts 64 ids (5,000 accounts)': '1eb741ab',
  'encodeTransfers 64': '9fc27106',
  'encodeAccounts 64': 'afd9e405',
  'decodeResults 64': '3a31b1f6',
  'decodeTransferStates 64': '3965adbe',
  'decodeAccountStates 64': 'f68952bf',
  'subjectVoucherOf 64 transfers (5,000 accounts)': '7868040f',
  'id index: derive 64 sorted ids': '9fd23f0c',
  'id index: derive 64 interleaved ids': 'bdd24cdb',
  'id index: derive 64 counted ids': 'afd3e11e',
};

describe('micro-benchmark workloads, scaled down', () => {
  const tasks = [...ledgerTasks({ accountCounts: [100, 5000], calls: 3, batchEvents: 64 }), ...recordsTasks({ calls: 2, records: 64 }), ...vouchersTasks({ accountCounts: [5000], calls: 3, batchEvents: 64 }), ...idIndexTasks({ calls: 2, ids: 64 })];

  test('every task has a pinned digest', () => {
    expect(tasks.map((t) => t.name).sort()).toEqual(Object.keys(pinned).sort());
  });

  test.each(tasks.map((t) => [t.name, t] as const))('%s keeps its digest', (name, task) => {
    expect(runUntimed(task)).toBe(pinned[name]);
  });
});
