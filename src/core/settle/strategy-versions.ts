// The versions of one strategy over time: each takes effect at an accounting time (ns since the epoch, the
// posting's 账务成功时间, DOMAIN.md §1) and stays in force until the next one does. The version in force at a
// posting's accounting time is the one that applies, so re-running an old day applies that day's rules.
// A history is refused when two versions take effect at the same instant, a version number repeats, or a higher
// version takes effect earlier than a lower one (an edit that would rewrite the past). Never reads the clock.

import { assert } from '../assert.js';
import { strategyLabel, type CheckedStrategy } from './rules.js';
import { SettleError } from './settle-errors.js';
import { strategyVersionsMax } from './settle-limits.js';

export interface StrategyVersion {
  /** Accounting time (ns since the Unix epoch, UTC) from which this version applies, inclusive. */
  readonly effectiveFromNs: bigint;
  readonly strategy: CheckedStrategy;
}

/** Versions of one strategy, in increasing effective time (and so in increasing version number). */
export interface StrategyHistory {
  readonly id: string;
  readonly versions: readonly StrategyVersion[];
}

/** Orders and checks the versions of one strategy; throws SettleError on the first problem. */
export function buildStrategyHistory(versions: readonly StrategyVersion[]): StrategyHistory {
  if (versions.length === 0) throw new SettleError('history_empty', 'a strategy needs at least one version');
  if (versions.length > strategyVersionsMax) {
    throw new SettleError('history_too_long', `${versions.length} versions exceed ${strategyVersionsMax}`);
  }
  const id = versions[0]!.strategy.id;
  const other = versions.find((version) => version.strategy.id !== id);
  if (other !== undefined) {
    throw new SettleError('mixed_strategies', `versions of ${id} and ${other.strategy.id} in one history`);
  }
  const sorted = [...versions].sort((a, b) => (a.effectiveFromNs < b.effectiveFromNs ? -1 : a.effectiveFromNs > b.effectiveFromNs ? 1 : 0));
  const numbers = new Set<number>();
  sorted.forEach((version, i) => {
    const label = strategyLabel(version.strategy);
    if (numbers.has(version.strategy.version)) throw new SettleError('duplicate_version', `${label} is given twice`);
    numbers.add(version.strategy.version);
    const previous = sorted[i - 1];
    if (previous === undefined) return;
    if (previous.effectiveFromNs === version.effectiveFromNs) {
      const other = strategyLabel(previous.strategy);
      throw new SettleError('duplicate_effective_time', `${other} and ${label} both take effect at ${version.effectiveFromNs} ns`);
    }
    if (previous.strategy.version > version.strategy.version) {
      const other = strategyLabel(previous.strategy);
      throw new SettleError('version_order', `${label} takes effect at ${version.effectiveFromNs} ns, after ${other} (${previous.effectiveFromNs} ns): a higher version must take effect later`);
    }
  });
  return { id, versions: sorted };
}

/** The version in force at `accountingTimeNs`: the last whose effective time is at or before it. */
export function versionInForce(history: StrategyHistory, accountingTimeNs: bigint): StrategyVersion {
  const { versions } = history;
  assert(versions.length > 0, 'a built history has a version');
  const first = versions[0]!;
  if (accountingTimeNs < first.effectiveFromNs) {
    throw new SettleError('no_version_in_force', `no version of ${history.id} is in force at ${accountingTimeNs} ns: the first, ${strategyLabel(first.strategy)}, takes effect at ${first.effectiveFromNs} ns`);
  }
  // Binary search for the last version with effectiveFromNs <= accountingTimeNs: versions[low] always qualifies.
  let low = 0;
  let high = versions.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (versions[middle]!.effectiveFromNs <= accountingTimeNs) low = middle;
    else high = middle - 1;
  }
  const found = versions[low]!;
  assert(found.effectiveFromNs <= accountingTimeNs, 'the version in force took effect by then');
  return found;
}
