// GET /metrics is read from every part of the server at scrape time: a part that cannot answer (the bookkeeping
// worker down or halted, a shard restarting) must cost its own gauges only, never the whole scrape.

import { describe, expect, it } from 'vitest';
import { errors } from '../../../src/core/errors.js';
import type { LedgerService } from '../../../src/gateway/ledger-service.js';
import { GatewayMetrics } from '../../../src/gateway/metrics.js';

/** A service whose every figure is fine, but for the parts `broken` names, which fail. */
function service(broken: { lag?: boolean; hot?: boolean; load?: boolean; chains?: boolean }): LedgerService {
  return {
    shardCount: 2,
    execute: () => Promise.resolve(new Uint8Array(0)),
    close: () => Promise.resolve(),
    transitStats: () => ({ inFlight: 3, delivered: 10, delayMsP50: 1, delayMsP99: 2, reconciles: 0, returned: 4 }),
    chainStats: () => {
      if (broken.chains) throw new Error('chains: not ready');
      return { groups: 1, roundsAborted: 0, chainsCommitted: 4, chainsFailed: 0 };
    },
    shardLoad: () => {
      if (broken.load) throw new Error('shard set closed');
      return [{ shard: 0, tasksOutstanding: 5 }];
    },
    bookkeepingLag: () => (broken.lag ? Promise.reject(errors.shardUnavailable(-1, 'bookkeeping: worker restarting')) : Promise.resolve([{ shard: 0, lag: 7 }])),
    hotInboundStats: () =>
      broken.hot
        ? Promise.reject(errors.shardUnavailable(1, 'stopped'))
        : Promise.resolve({ accounts: 2, creditsBuffered: '0', creditsBufferedCount: 0, creditsApplied: 0, delayMsP50: 0, delayMsP99: 0, delayMsMax: 0, shardsNotAnswering: [] }),
    daysStatus: () => ({ lastClosedDay: 20261204, lastReportPassed: true, failedReports: 0 }),
  };
}

describe('GatewayMetrics', () => {
  it('serves every figure when every part answers', async () => {
    const text = await new GatewayMetrics(service({})).text();
    expect(text).toMatch(/tally_bookkeeping_lag_entries\{shard="0"\} 7/);
    expect(text).toMatch(/tally_hot_inbound_accounts 2/);
    expect(text).toMatch(/tally_last_closed_day 20261204/);
  });

  // Regression (issue #20, 3): the bookkeeping worker failing in a loop made every scrape answer 500.
  it('serves the rest when a part fails, leaving that part’s gauges without a stale sample', async () => {
    const broken: Parameters<typeof service>[0] = {};
    const metrics = new GatewayMetrics(service(broken));
    expect(await metrics.text()).toMatch(/tally_bookkeeping_lag_entries\{shard="0"\} 7/);
    Object.assign(broken, { lag: true, load: true, chains: true });
    const text = await metrics.text();
    expect(text).not.toMatch(/tally_bookkeeping_lag_entries\{/);
    expect(text).not.toMatch(/tally_shard_tasks_outstanding\{/);
    expect(text).not.toMatch(/tally_chains\{/);
    expect(text).toMatch(/tally_transit_in_flight 3/);
    expect(text).toMatch(/tally_transit_returned 4/);
    expect(text).toMatch(/tally_last_closed_day 20261204/);
    // The shards' hot-inbound figures failing: a gauge without labels reads 0 once reset (prom-client).
    expect(await new GatewayMetrics(service({ hot: true })).text()).toMatch(/tally_hot_inbound_accounts 0\n[\s\S]*tally_last_closed_day 20261204/);
  });
});
