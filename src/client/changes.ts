// The change stream of a replicated ledger (issue #15, docs/EVENTS.md): every journal entry a shard committed, read
// from that shard's JetStream stream and decoded into events — accounts created, transfers (payments, holds,
// posts, voids, reversals and their refusals) with both accounts' balances after, cross-shard credits landing on
// the payee's shard, account operations, expiries, day cuts. What the journal holds, in its order, from any seq.

import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { balancesAfterOffset, eventOffset, isCreditHalfResult, keepsBalancesAfter, readJournalHeader, resultsOffset } from '../core/posting/journal-entry.js';
import { JournalEntryKind } from '../core/operations.js';
import { TransferLayout, resultBytes } from '../core/layout.js';
import { resultName } from '../core/result-codes.js';
import { EntryParts, StreamHeader, firstMessageFrom, parsePart, streamNames } from '../core/wire/journal-parts.js';
import { decodeAccount, decodeAccountOperation, decodeTransfer } from '../core/wire/records.js';
import type { Account, AccountOperation, Transfer } from '../core/types.js';

/** The version of the event shapes below (docs/EVENTS.md); bumped when one changes. */
export const changeEventsVersion = 1;

export interface Balances {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

interface EventBase {
  /** The shard whose journal holds it, the entry's seq there and the event's index in the entry. */
  shard: number;
  seq: number;
  index: number;
  /** The business day (yyyymmdd) the entry belongs to; 0 before the first cut. */
  businessDay: number;
}

export type ChangeEvent =
  | (EventBase & { kind: 'account'; account: Account; result: string })
  /** `amountMoved`: what the ledger moved or held (a post or void of a whole hold names 0 and moves the hold's amount). */
  | (EventBase & { kind: 'transfer'; transfer: Transfer; amountMoved: bigint; result: string; debitAfter: Balances; creditAfter: Balances })
  /** The credit half of a cross-shard transfer, applied on the payee's shard (its debit half is a `transfer` on the payer's). */
  | (EventBase & { kind: 'credit_landed'; transfer: Transfer; amountMoved: bigint; result: string; debitAfter: Balances; creditAfter: Balances })
  | (EventBase & { kind: 'account_operation'; operation: AccountOperation; result: string })
  /** Holds whose timeout is at or before `timestamp` (ns) and that were neither posted nor voided expired here. */
  | (EventBase & { kind: 'expiry'; timestamp: bigint })
  | (EventBase & { kind: 'day_cut'; day: number });

/**
 * The events of one journal entry of `shard`. Entries that move nothing a consumer sees — votes on cross-shard chains
 * (their commit is an ordinary transfer entry), aborted votes, history flushes, hot-inbound summaries — give none.
 */
export function decodeJournalEntry(shard: number, entry: Uint8Array): ChangeEvent[] {
  const header = readJournalHeader(entry);
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  const base = (index: number): EventBase => ({ shard, seq: header.seq, index, businessDay: header.businessDay });
  const result = (index: number): string => {
    const code = view.getUint32(resultsOffset(header.count) + index * resultBytes, true) & 0xffff;
    return resultName(code) ?? `code_${code}`;
  };
  const balances = (index: number, side: 0 | 1): Balances => {
    const at = balancesAfterOffset(header.count, index) + side * 32;
    return { debitsPosted: view.getBigUint64(at, true), creditsPosted: view.getBigUint64(at + 8, true), debitsPending: view.getBigUint64(at + 16, true), creditsPending: view.getBigUint64(at + 24, true) };
  };
  const events: ChangeEvent[] = [];
  switch (header.operation) {
    case JournalEntryKind.create_accounts:
      for (let i = 0; i < header.count; i++) events.push({ ...base(i), kind: 'account', account: decodeAccount(view, eventOffset(i)), result: result(i) });
      break;
    case JournalEntryKind.create_transfers:
    case JournalEntryKind.apply_inbound: {
      if (!keepsBalancesAfter(header.operation)) break;
      for (let i = 0; i < header.count; i++) {
        // A transfer entry's credit half, carried for another shard's transfer in a chain group, is that credit landing.
        const creditHalf = isCreditHalfResult(view.getUint32(resultsOffset(header.count) + i * resultBytes, true));
        const kind = header.operation === JournalEntryKind.apply_inbound || creditHalf ? 'credit_landed' : 'transfer';
        const transfer = decodeTransfer(view, eventOffset(i));
        const amountMoved = view.getBigUint64(eventOffset(i) + TransferLayout.amountEffective, true);
        events.push({ ...base(i), kind, transfer, amountMoved, result: result(i), debitAfter: balances(i, 0), creditAfter: balances(i, 1) });
      }
      break;
    }
    case JournalEntryKind.account_operations:
      for (let i = 0; i < header.count; i++) events.push({ ...base(i), kind: 'account_operation', operation: decodeAccountOperation(view, eventOffset(i)), result: result(i) });
      break;
    case JournalEntryKind.expire_pending:
      events.push({ ...base(0), kind: 'expiry', timestamp: header.timestampBase });
      break;
    case JournalEntryKind.day_cut:
      events.push({ ...base(0), kind: 'day_cut', day: header.businessDay });
      break;
    default:
      break;
  }
  return events;
}

export interface ChangesOptions {
  /** NATS servers holding the ledger's streams (as `tally serve --nats`). */
  servers: readonly string[];
  /** The ledger's `--nats-cluster` (default `tally`). */
  cluster?: string;
  shard: number;
  /** The first journal seq wanted (default 1: everything the shard ever committed). */
  fromSeq?: number;
  /** Stop after this journal seq (default: follow new entries until stop()). */
  untilSeq?: number;
}

/**
 * The shard's events from `fromSeq` on, as its stream holds them, then as they come (until `stop()`). Each entry is
 * reassembled from its parts and decoded whole, so an event is never seen before the rest of its entry.
 */
export function subscribeChanges(options: ChangesOptions): { events: AsyncGenerator<ChangeEvent>; stop: () => Promise<void> } {
  const { stream } = streamNames(options.cluster ?? 'tally', options.shard);
  const fromSeq = options.fromSeq ?? 1;
  let nc: NatsConnection | null = null;
  let stopMessages: (() => void) | null = null;
  let stopped = false;
  async function* events(): AsyncGenerator<ChangeEvent> {
    if (options.untilSeq !== undefined && options.untilSeq < fromSeq) return;
    nc = await natsConnect({ servers: [...options.servers], name: `tally-changes-${options.shard}`, maxReconnectAttempts: -1 });
    const start = await firstMessageOf(await jetstreamManager(nc), stream, fromSeq);
    const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: 'by_start_sequence' as never, opt_start_seq: start });
    const messages = await consumer.consume({ max_messages: 64 });
    stopMessages = () => void messages.stop();
    if (stopped) messages.stop();
    const parts = new EntryParts();
    let last = fromSeq - 1;
    for await (const message of messages) {
      const seq = Number(message.headers?.get(StreamHeader.seq));
      const [part, count] = parsePart(message.headers?.get(StreamHeader.part) ?? '', message.seq);
      const entry = parts.add(seq, part, count, message.data);
      if (entry === null || seq <= last) continue;
      last = seq;
      yield* decodeJournalEntry(options.shard, entry);
      if (options.untilSeq !== undefined && seq >= options.untilSeq) break;
    }
    messages.stop();
  }
  return {
    events: events(),
    stop: async () => {
      stopped = true;
      stopMessages?.();
      await (nc as NatsConnection | null)?.close();
    },
  };
}

/** The stream sequence of the first message of journal entry `fromSeq` or later (entry seqs never decrease along a stream). */
async function firstMessageOf(jsm: JetStreamManager, stream: string, fromSeq: number): Promise<number> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0 || fromSeq <= 1) return Math.max(1, info.state.first_seq);
  return firstMessageFrom(fromSeq, info.state.first_seq, info.state.last_seq, async (streamSeq) => {
    const message = await jsm.streams.getMessage(stream, { seq: streamSeq }).catch(() => null);
    return message === null ? null : Number(message.header?.get(StreamHeader.seq));
  });
}
