// A ledger service that answers some operations itself and passes the rest to the service it wraps (the admin
// service, the recon service): the statistics the gateway reports, the shard count and closing all come from the
// inner service. Subclasses implement execute.

import type { Caller, LedgerService } from './ledger-service.js';

export abstract class LedgerServiceWrapper implements LedgerService {
  protected readonly inner: LedgerService;

  readonly transitStats?: LedgerService['transitStats'];
  readonly coalescingStats?: LedgerService['coalescingStats'];
  readonly chainStats?: LedgerService['chainStats'];
  readonly hotInboundStats?: LedgerService['hotInboundStats'];
  readonly hotOutboundStats?: LedgerService['hotOutboundStats'];
  readonly shardLoad?: LedgerService['shardLoad'];
  readonly observeShardWrites?: LedgerService['observeShardWrites'];
  readonly bookkeepingLag?: LedgerService['bookkeepingLag'];
  readonly daysStatus?: LedgerService['daysStatus'];
  readonly replicationStatus?: LedgerService['replicationStatus'];

  constructor(inner: LedgerService) {
    this.inner = inner;
    this.transitStats = inner.transitStats?.bind(inner);
    this.coalescingStats = inner.coalescingStats?.bind(inner);
    this.chainStats = inner.chainStats?.bind(inner);
    this.hotInboundStats = inner.hotInboundStats?.bind(inner);
    this.hotOutboundStats = inner.hotOutboundStats?.bind(inner);
    this.shardLoad = inner.shardLoad?.bind(inner);
    this.observeShardWrites = inner.observeShardWrites?.bind(inner);
    this.bookkeepingLag = inner.bookkeepingLag?.bind(inner);
    this.daysStatus = inner.daysStatus?.bind(inner);
    this.replicationStatus = inner.replicationStatus?.bind(inner);
  }

  get shardCount(): number {
    return this.inner.shardCount;
  }

  abstract execute(operation: number, body: Uint8Array, caller?: Caller): Promise<Uint8Array>;

  /** Closes the inner service; a wrapper's own store is closed by its owner, after the gateway. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
