// What a server holds after a fault, read through a fresh client: every account and every transfer a test
// sent that the server has. The crash and full-disk specs compare it with what was acknowledged.

import { expect } from 'vitest';
import { connect } from '../../src/client/client.js';
import type { AccountState, TransferState } from '../../src/core/types.js';

export interface ReadBack {
  accounts: AccountState[];
  transfers: Map<bigint, TransferState>;
}

/** Every account of `accountIds` (all must exist) and those of `transferIds` the server has. */
export async function readBack(url: string, accountIds: readonly bigint[], transferIds: readonly bigint[]): Promise<ReadBack> {
  const client = await connect({ url, timeoutMs: 30_000 });
  try {
    const accounts = await client.lookupAccounts(accountIds);
    expect(accounts.length).toBe(accountIds.length);
    const found = await client.lookupTransfers(transferIds);
    return { accounts, transfers: new Map(found.map((t) => [t.id, t])) };
  } finally {
    await client.close();
  }
}
