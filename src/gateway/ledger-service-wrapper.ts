// A ledger service that answers some operations itself and passes the rest to the service it wraps (the admin
// service, the recon service): the statistics the gateway reports, the shard count and closing all come from the
// inner service. Subclasses implement execute.

import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../core/admin/audit-log.js';
import { TallyError } from '../core/errors.js';
import type { Caller, LedgerService } from './ledger-service.js';

/** Where a wrapper's audit records go (the admin store). */
export interface ServiceAudit {
  record(entry: AuditEntry): Promise<void>;
}

/** What an audited action answers: the reply, the audit record's detail, and its code (default ok). */
export interface AuditedOutcome {
  reply: Uint8Array;
  detail: string;
  code?: string;
}

/** Characters of an action's detail kept in its audit record. */
const auditDetailCharsMax = 300;

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

  /** Runs an action and records it in `audit` whatever its outcome, before the reply. */
  protected async audited(audit: ServiceAudit, operation: number, keyId: string, action: () => Promise<AuditedOutcome>): Promise<Uint8Array> {
    let outcome: AuditedOutcome;
    try {
      outcome = await action();
    } catch (error) {
      const code = error instanceof TallyError ? error.code : 'internal';
      await audit.record({ kind: 'admin', keyId, operation, code, detail: (error as Error).message.slice(0, auditDetailCharsMax) });
      throw error;
    }
    await audit.record({ kind: 'admin', keyId, operation, code: outcome.code ?? 'ok', detail: outcome.detail.slice(0, auditDetailCharsMax) });
    return outcome.reply;
  }

  #idLast = 0n;

  /** `prefix_` + 12 hex digits of ms + 8 random: increasing within this process, random across processes. */
  protected newTimeOrderedId(prefix: string): string {
    let id = (BigInt(Date.now()) << 32n) | BigInt(randomBytes(4).readUInt32BE(0));
    if (id <= this.#idLast) id = this.#idLast + 1n;
    this.#idLast = id;
    return `${prefix}_${id.toString(16).padStart(20, '0')}`;
  }

  /** Closes the inner service; a wrapper's own store is closed by its owner, after the gateway. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
