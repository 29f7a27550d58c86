// Which version of a strategy applies at a posting's accounting time: the last one in force by then. Edges: the
// instant a version takes effect, the nanosecond before, before the first version, and histories refused.

import { describe, expect, it } from 'vitest';
import { loadStrategy } from '../../../../src/core/settle/rule-check.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { buildStrategyHistory, versionInForce, type StrategyVersion } from '../../../../src/core/settle/strategy-versions.js';
import { refusal } from './refusal.js';

const version = (id: string, number: number, effectiveFromNs: bigint): StrategyVersion => ({
  effectiveFromNs,
  strategy: loadStrategy({ id, version: number, inputs: { amount: 'integer' }, outputs: ['fee'], instructions: [{ let: 'fee', expr: String(number) }] }),
});

const refused = (run: () => unknown): SettleError => refusal(SettleError, run);

const history = buildStrategyHistory([version('fee/a', 3, 3_000n), version('fee/a', 1, 1_000n), version('fee/a', 2, 2_000n)]);

describe('versionInForce', () => {
  it.each([
    [1_000n, 1],
    [1_999n, 1],
    [2_000n, 2],
    [2_999n, 2],
    [3_000n, 3],
    [10n ** 30n, 3],
  ])('at %s ns applies version %s', (accountingTimeNs, expected) => {
    expect(versionInForce(history, accountingTimeNs).strategy.version).toBe(expected);
  });

  it('refuses a time before the first version, naming it', () => {
    const error = refused(() => versionInForce(history, 999n));
    expect(error.code).toBe('no_version_in_force');
    expect(error.message).toBe('no_version_in_force: no version of fee/a is in force at 999 ns: the first, fee/a v1, takes effect at 1000 ns');
  });

  it('keeps a single version in force from its start on', () => {
    const single = buildStrategyHistory([version('fee/b', 7, 0n)]);
    expect(versionInForce(single, 0n).strategy.version).toBe(7);
    expect(refused(() => versionInForce(single, -1n)).code).toBe('no_version_in_force');
  });
});

describe('buildStrategyHistory refuses', () => {
  it.each([
    ['no versions', [], 'history_empty', 'a strategy needs at least one version'],
    ['two strategies', [version('fee/a', 1, 1n), version('fee/b', 2, 2n)], 'mixed_strategies', 'versions of fee/a and fee/b in one history'],
    ['two versions at one instant', [version('fee/a', 1, 5n), version('fee/a', 2, 5n)], 'duplicate_effective_time', 'fee/a v1 and fee/a v2 both take effect at 5 ns'],
    ['a version number twice', [version('fee/a', 1, 5n), version('fee/a', 1, 6n)], 'duplicate_version', 'fee/a v1 is given twice'],
    ['a higher version taking effect earlier', [version('fee/a', 2, 5n), version('fee/a', 1, 6n)], 'version_order', 'fee/a v1 takes effect at 6 ns, after fee/a v2 (5 ns)'],
  ] as const)('%s', (_what, versions, code, words) => {
    const error = refused(() => buildStrategyHistory(versions));
    expect(error.code).toBe(code);
    expect(error.message).toContain(words);
  });
});
