// The fee schedule a run charges by, and the merchants' reserve strategies, built from the approved strategy changes
// only (maker–checker: a change nobody approved never applies). Each (merchant, product) — product null: every other product of the merchant — has one
// strategy history; an approved change is a version of it from its effective time. A candidate change is checked by
// building the schedule with it: a document that does not parse or check, a history it would break (a version given
// twice, a higher version taking effect earlier, two versions at one instant) or a fee contract it misses (inputs
// other than amount and refund, no output fee) is refused with the strategy's line and reason.

import { buildFeeSchedule, type FeeSchedule, type MerchantFeeStrategies } from '../core/settle/fee-schedule.js';
import { checkRunStrategyContract, type RunStrategyKind } from '../core/settle/run-strategies.js';
import { loadStrategy } from '../core/settle/rule-check.js';
import { buildStrategyHistory, type StrategyHistory, type StrategyVersion } from '../core/settle/strategy-versions.js';
import { parseInstantNs, type SettleStrategyChange } from '../core/wire/settle-bodies.js';

const kindOf = (change: SettleStrategyChange): string => change.kind ?? 'fee';

/** The strategy versions of a set of changes, grouped by merchant and product. */
function versionsByMerchant(changes: readonly SettleStrategyChange[]): Map<string, Map<string | null, StrategyVersion[]>> {
  const byMerchant = new Map<string, Map<string | null, StrategyVersion[]>>();
  for (const change of changes) {
    let byProduct = byMerchant.get(change.merchant);
    if (byProduct === undefined) byMerchant.set(change.merchant, (byProduct = new Map()));
    let versions = byProduct.get(change.product);
    if (versions === undefined) byProduct.set(change.product, (versions = []));
    versions.push({ effectiveFromNs: parseInstantNs(change.effectiveFrom, `strategy change ${change.id}: effectiveFrom`), strategy: loadStrategy(change.strategy) });
  }
  return byMerchant;
}

/** The fee schedule of these (approved) changes' fee strategies; throws SettleError or StrategyError on the first misfit. */
export function feeScheduleOf(changes: readonly SettleStrategyChange[]): FeeSchedule {
  const merchants: MerchantFeeStrategies[] = [];
  for (const [merchantId, byProduct] of versionsByMerchant(changes.filter((change) => kindOf(change) === 'fee'))) {
    const histories = new Map<string, StrategyHistory>();
    let otherProducts: StrategyHistory | undefined;
    for (const [product, versions] of byProduct) {
      const history = buildStrategyHistory(versions);
      if (product === null) otherProducts = history;
      else histories.set(product, history);
    }
    merchants.push({ merchantId, byProduct: histories, otherProducts });
  }
  return buildFeeSchedule(merchants);
}

/** Each merchant's strategy of one run kind of these (approved) changes, checked against that kind's contract. */
export function runStrategiesOf(kind: RunStrategyKind, changes: readonly SettleStrategyChange[]): Map<string, StrategyHistory> {
  const histories = new Map<string, StrategyHistory>();
  for (const [merchantId, byProduct] of versionsByMerchant(changes.filter((change) => kindOf(change) === kind))) {
    const history = buildStrategyHistory(byProduct.get(null) ?? []);
    for (const version of history.versions) checkRunStrategyContract(kind, merchantId, version.strategy);
    histories.set(merchantId, history);
  }
  return histories;
}
