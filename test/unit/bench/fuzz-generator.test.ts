// The fuzzer's request stream (bench/fuzz/generator.ts) without a server: the same seed draws the same
// actions with the same records, another seed others; a family left out is never drawn; events broken on
// purpose carry the result the field checks give; a linked chain left open ends its batch.

import { describe, expect, it } from 'vitest';
import { TransferFlags } from '../../../src/core/types.js';
import type { World } from '../../../bench/fuzz/events.js';
import { familyList, familyNames, type Family } from '../../../bench/fuzz/families.js';
import { Generator, describeAction, type Action } from '../../../bench/fuzz/generator.js';
import { Model } from '../../../bench/fuzz/model.js';
import { Random } from '../../../bench/fuzz/random.js';

const paths = { dataDir: '/fuzz/data', snapshots: '/fuzz/snapshots', dataLink: '/fuzz/link', nonEmptyDir: '/fuzz/full', plainFile: '/fuzz/file' };
const steps = 1500;

function draw(seed: number, families: Iterable<Family> = familyNames, ledgers = 3): { actions: Action[]; model: Model } {
  const model = new Model(2);
  const world: World = { shardCount: 2, ledgers: Array.from({ length: ledgers }, (_, i) => i + 1), families: new Set(families) };
  const generator = new Generator(new Random(seed), model, world, paths, 100);
  return { actions: Array.from({ length: steps }, () => generator.next()), model };
}

/** An action as text, records included (bigints as strings). */
const text = (action: Action): string => `${describeAction(action)} ${JSON.stringify(action, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;

describe('fuzz generator', () => {
  it('draws the same actions, records included, from the same seed', () => {
    expect(draw(42).actions.map(text)).toEqual(draw(42).actions.map(text));
    expect(draw(43).actions.map(text)).not.toEqual(draw(42).actions.map(text));
  });

  it.each([
    ['kill', (a: Action) => a.kind === 'restart'],
    ['wire', (a: Action) => a.kind === 'raw' && a.frames.some((f) => /not msgpack|an array|operation \d+/.test(f.why))],
    ['day-cut', (a: Action) => a.kind === 'close_day'],
    ['auth', (a: Action) => a.kind === 'refused'],
    ['adjustments', (a: Action) => a.kind.startsWith('adjustment_')],
  ] as const)('never draws the %s family when it is left out, and does when it is in', (family, isOf) => {
    const without = familyNames.filter((f) => f !== family && f !== 'sigterm');
    expect(draw(7, without).actions.filter(isOf)).toEqual([]);
    expect(draw(7, [...without, family]).actions.filter(isOf).length).toBeGreaterThan(0);
  });

  it('expects the field-check result of every event broken on purpose', () => {
    const { actions } = draw(9, familyList('accounts,transfers', '--only'));
    const broken = actions.flatMap((a) => (a.kind === 'create_transfers' || a.kind === 'create_accounts' ? a.events : [])).filter((e) => e.expect !== null && e.expect.is !== 'not-ok');
    expect(broken.length).toBeGreaterThan(20);
    for (const e of broken) expect(e.expect!.is).not.toBe('ok');
  });

  it('ends a batch at a linked chain left open', () => {
    const { actions } = draw(11, familyList('transfers,chains,cross-chains', '--only'));
    for (const action of actions) {
      if (action.kind !== 'create_transfers') continue;
      const linked = action.events.map((e) => (e.attempt.input.flags & TransferFlags.linked) !== 0);
      const open = linked.findIndex((l, i) => l && i === linked.length - 1);
      if (open >= 0) expect(action.events[open]!.expect?.is).toBe('not-ok');
    }
  });

  it('sets up a bank on every ledger first', () => {
    const { actions, model } = draw(3, familyNames, 150);
    const banks = actions.slice(0, 2).flatMap((a) => (a.kind === 'create_accounts' ? a.events : []));
    expect(banks).toHaveLength(150);
    expect(new Set(banks.map((e) => model.accounts.get(e.attempt.input.id)!.role))).toEqual(new Set(['bank']));
  });
});
