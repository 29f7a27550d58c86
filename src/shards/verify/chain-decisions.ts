// Linked chains across shards, as the journals decided them (tally verify): every voter of a group decided
// the same way, a group committed anywhere has a commit record in the chain log (DATA/chains: presumed abort,
// the coordinator logs a commit before any shard hears it), and a group aborted anywhere has none. A vote
// still in doubt at the end of a journal is a note: the next start decides it from the log.

import { JournalEntryFlags, type JournalEntryHeader } from '../../core/posting/journal-entry.js';
import { JournalEntryKind } from '../../core/operations.js';
import type { ChainLog } from '../chains/chain-log.js';
import type { Problems } from './problems.js';

interface GroupDecisions {
  committed: number[];
  aborted: number[];
}

export class ChainDecisions {
  readonly #groups = new Map<bigint, GroupDecisions>();
  readonly #inDoubt: { shard: number; group: bigint }[] = [];

  /** After entry `header` of `shard` replayed: the group in doubt before and after it. */
  observe(shard: number, header: JournalEntryHeader, before: bigint | null, after: bigint | null): void {
    if (before === null || after !== null) return;
    const commits = ((header.flags ?? 0) & JournalEntryFlags.commitsPrepared) !== 0;
    // The ledger asserts that the entry after a vote decides it: a commit or an abort_chains entry.
    if (!commits && header.operation !== JournalEntryKind.abort_chains) return;
    const decisions = this.#groups.get(before) ?? { committed: [], aborted: [] };
    (commits ? decisions.committed : decisions.aborted).push(shard);
    this.#groups.set(before, decisions);
  }

  /** The journal of `shard` ends with a vote on `group` and no decision. */
  endShard(shard: number, group: bigint | null): void {
    if (group !== null) this.#inDoubt.push({ shard, group });
  }

  get groupCount(): number {
    return this.#groups.size;
  }

  finish(log: ChainLog | null, problems: Problems, warnings: string[]): void {
    for (const [group, { committed, aborted }] of this.#groups) {
      const name = `chain group 0x${group.toString(16)}`;
      if (committed.length > 0 && aborted.length > 0) problems.add('chains', `${name} committed on shard ${committed.join(', ')} but aborted on shard ${aborted.join(', ')}`);
      if (log === null) continue;
      const logged = log.isCommitted(group);
      if (committed.length > 0 && !logged) problems.add('chains', `${name} committed on shard ${committed.join(', ')}, but the chain log holds no commit for it`);
      if (aborted.length > 0 && logged) problems.add('chains', `${name} aborted on shard ${aborted.join(', ')}, although the chain log committed it`);
    }
    if (log === null && this.#groups.size > 0) warnings.push(`chains: no chain log (DATA/chains) to check ${this.#groups.size} decided cross-shard chain groups against`);
    for (const { shard, group } of this.#inDoubt) {
      const decision = log === null ? 'no chain log: it aborts' : log.isCommitted(group) ? 'the log holds its commit: it commits' : 'the log holds no commit: it aborts';
      warnings.push(`shard ${shard} ends with a vote on chain group 0x${group.toString(16)} and no decision yet; at the next start ${decision}`);
    }
  }
}
