// What a shard reports when it closes a business day: its detail accounts' closing balances summed
// per (ledger, account code) — the detail side of 总分核对 — and each system (transit, suspense)
// account individually, so transit accounts that did not net to zero can be named. Pure.

import { accountStaticBytes, balanceStride, Balance } from '../accounts/account-table.js';
import { assert } from '../assert.js';
import type { ClosedDay } from '../posting/ledger.js';
import { AccountLayout as A } from '../layout.js';
import type { LedgerState } from '../posting/ledger-state.js';
import { isSystemIdAt } from '../accounts/system-accounts.js';
import { readU128, viewOf } from '../u128.js';

/** Closing totals of the accounts of one ledger and code on one shard (decimal strings: they cross threads as JSON). */
export interface CodeClosing {
  ledger: number;
  code: number;
  accounts: number;
  debitsPosted: string;
  creditsPosted: string;
}

export interface SystemAccountClosing {
  id: string;
  /** SystemAccountKind: 1 transit-out, 2 transit-in, 3 suspense. */
  kind: number;
  ledger: number;
  from: number;
  to: number;
  debitsPosted: string;
  creditsPosted: string;
}

export interface ShardDayClose {
  shard: number;
  day: number;
  dayBegun: number;
  cutSeq: number;
  cutTimestamp: string;
  codes: CodeClosing[];
  systemAccounts: SystemAccountClosing[];
  /** At the cut: per peer shard, the last pair sequence issued to it, and the last applied from it. */
  transitIssued: number[];
  transitApplied: number[];
}

/** Sums a closed day's balances per (ledger, code) and lists the system accounts. O(accounts). */
export function summarizeClosedDay(state: LedgerState, closed: ClosedDay): ShardDayClose {
  assert(closed.balances.length === closed.accountCount * balanceStride, 'closing balances cover every account slot');
  const statics = viewOf(state.accounts.statics);
  const byCode = new Map<number, { ledger: number; code: number; accounts: number; debits: bigint; credits: bigint }>();
  const systemAccounts: SystemAccountClosing[] = [];
  for (let slot = 0; slot < closed.accountCount; slot++) {
    const at = slot * accountStaticBytes;
    const debits = closed.balances[slot * balanceStride + Balance.debitsPosted]!;
    const credits = closed.balances[slot * balanceStride + Balance.creditsPosted]!;
    const ledger = statics.getUint32(at + A.ledger, true);
    if (isSystemIdAt(statics, at + A.id)) {
      systemAccounts.push({
        id: readU128(statics, at + A.id).toString(),
        kind: statics.getUint8(at + 6),
        ledger,
        from: statics.getUint8(at + 4),
        to: statics.getUint8(at + 5),
        debitsPosted: debits.toString(),
        creditsPosted: credits.toString(),
      });
      continue;
    }
    const code = statics.getUint16(at + A.code, true);
    const key = ledger * 0x1_0000 + code;
    const row = byCode.get(key) ?? { ledger, code, accounts: 0, debits: 0n, credits: 0n };
    row.accounts++;
    row.debits += debits;
    row.credits += credits;
    byCode.set(key, row);
  }
  const codes = [...byCode.values()]
    .sort((a, b) => a.ledger - b.ledger || a.code - b.code)
    .map((r) => ({ ledger: r.ledger, code: r.code, accounts: r.accounts, debitsPosted: r.debits.toString(), creditsPosted: r.credits.toString() }));
  return {
    shard: state.shardIndex,
    day: closed.day,
    dayBegun: closed.dayBegun,
    cutSeq: closed.cutSeq,
    cutTimestamp: closed.cutTimestamp.toString(),
    codes,
    systemAccounts,
    transitIssued: [...closed.transitMarks.subarray(0, state.shardCount)],
    transitApplied: [...closed.transitMarks.subarray(state.shardCount)],
  };
}
