// The requests hot-outbound accounts change (core/hot/hot-outbound.ts), on their way to the shards:
// creating one opens its slices first; its debits go to the payee's shard's slice, and a slice out of money
// asks the keeper for a refill; looking one up adds the money its slices hold; closing one brings its slices'
// money home first, so the close sees all of it. With no hot-outbound account known, every request passes
// through unchanged.

import { assert } from '../../core/assert.js';
import { ErrorCode, TallyError } from '../../core/errors.js';
import { creditThenDebitCuts, routeHotDebits } from '../../core/hot/hot-outbound.js';
import { runLaterPart } from './later-part.js';
import { AccountLayout, AccountOperationLayout, QueryReplyLayout, TransferLayout, resultBytes } from '../../core/layout.js';
import { eventBytes } from '../../core/limits.js';
import { Operation } from '../../core/operations.js';
import { ResultCode } from '../../core/result-codes.js';
import { shardOfIdAt } from '../../core/routing.js';
import { AccountFlags, AccountOperationKind } from '../../core/types.js';
import { readU128 } from '../../core/u128.js';
import { hotOutboundAccountsIn, type Execute, type HotOutboundKeeper } from './hot-outbound-keeper.js';

/** What the requests need of the keeper. */
type KeeperFace = Pick<HotOutboundKeeper, 'routes' | 'openSlices' | 'register' | 'starved' | 'sliceBalances' | 'isHotOutbound' | 'recallForClose' | 'closeAnswered' | 'reserve' | 'settle' | 'released' | 'unsettled' | 'homeChanged'>;

export class HotOutboundRequests {
  readonly #keeper: KeeperFace;
  /** The shards, without hot routing (RequestRouting.execute). */
  readonly #execute: Execute;
  readonly #shardCount: number;

  constructor(keeper: KeeperFace, execute: Execute, shardCount: number) {
    assert(Number.isInteger(shardCount) && shardCount >= 1, 'a shard set has a shard');
    this.#keeper = keeper;
    this.#execute = execute;
    this.#shardCount = shardCount;
  }

  /** Hot-outbound accounts get their slices before they exist, and their debits are routed once they do. */
  async createAccounts(body: Uint8Array): Promise<Uint8Array> {
    const hot = hotOutboundAccountsIn(body);
    if (hot.length === 0) return this.#execute(Operation.create_accounts, body);
    await this.#keeper.openSlices(hot);
    const reply = await this.#execute(Operation.create_accounts, body);
    // Registered whether created now or before (a retry answers exists): the flag is the account's for good.
    await this.#keeper.register(hot.map((account) => account.id));
    return reply;
  }

  /** Debits of hot-outbound accounts go to the payee's shard's slice; a slice out of money asks for a refill. */
  async createTransfers(body: Uint8Array): Promise<Uint8Array> {
    if (this.#keeper.routes.size === 0) return this.#execute(Operation.create_transfers, body);
    const cuts = creditThenDebitCuts(body, this.#keeper.routes);
    if (cuts.length === 0) return this.#createTransfersPart(body);
    // A request that credits a hot account and then pays from it runs in parts, each once the one before it was
    // answered, so the payment is judged with the credit in (as one shard judges it). As with stages, a part that
    // fails leaves the earlier ones applied: the request answers as its failure, and a resend is safe (the ids).
    const bounds = [0, ...cuts, body.byteLength / eventBytes];
    const results = new Uint8Array((body.byteLength / eventBytes) * resultBytes);
    for (let part = 0; part + 1 < bounds.length; part++) {
      const run = (): Promise<Uint8Array> => this.#createTransfersPart(body.subarray(bounds[part]! * eventBytes, bounds[part + 1]! * eventBytes));
      results.set(part === 0 ? await run() : await runLaterPart(run, `part ${part + 1} of ${bounds.length - 1}`, () => false), bounds[part]! * resultBytes);
    }
    return results;
  }

  /** A request (or one part of it) whose debits of hot accounts the shard set routes and promises money for. */
  async #createTransfersPart(body: Uint8Array): Promise<Uint8Array> {
    const routed = routeHotDebits(body, this.#shardCount, this.#keeper.routes);
    if (routed.debits.size === 0) return this.#execute(Operation.create_transfers, routed.body);
    // Each place of a hot account (home, slices) is promised what the request takes from it before the request
    // goes (money moved first where one is short), so a payment is refused only when the account as a whole
    // cannot cover it, in request order, as one shard refuses it (issue #14, item 24).
    const reservations = await this.#keeper.reserve(routed.debits);
    let reply: Uint8Array;
    try {
      reply = await this.#execute(Operation.create_transfers, routed.body);
    } catch (error) {
      // overloaded refuses a request whole before any shard runs it: nothing was taken. Anything else may have.
      if (error instanceof TallyError && error.code === ErrorCode.overloaded) this.#keeper.released(reservations);
      else this.#keeper.unsettled(reservations);
      throw error;
    }
    assert(reply.byteLength === (body.byteLength / eventBytes) * resultBytes, 'a transfer reply holds one result per event');
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const replyView = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    this.#keeper.settle(reservations, replyView);
    for (const index of routed.rewritten) {
      if (replyView.getUint16(index * resultBytes, true) !== ResultCode.insufficient_funds) continue;
      const at = index * eventBytes;
      this.#keeper.starved(readU128(view, at + TransferLayout.debitAccountId), shardOfIdAt(view, at + TransferLayout.creditAccountId, this.#shardCount));
    }
    return reply;
  }

  /**
   * A close of a hot-outbound account runs on its home shard, which holds only the home account's part of its
   * money: the slices' money comes home first (HotOutboundKeeper.recallForClose), so that the close is refused
   * `nonzero_balance` whenever the account holds money anywhere, as on one shard, and no money is ever left in
   * the slices of a closed account. Slices never hold holds or freezes (only single-phase debits are routed to
   * them), so the home account's pending and frozen balances are the whole account's.
   */
  async accountOperations(body: Uint8Array): Promise<Uint8Array> {
    if (this.#keeper.routes.size === 0) return this.#execute(Operation.account_operations, body);
    const closing = this.#hotClosesIn(body);
    // A freeze takes a hot account's money at home without the set seeing how much: read home again after it.
    const touched = this.#hotAccountsIn(body);
    try {
      if (closing.length === 0) return await this.#execute(Operation.account_operations, body);
      await this.#keeper.recallForClose(closing);
      try {
        return await this.#execute(Operation.account_operations, body);
      } finally {
        this.#keeper.closeAnswered(closing);
      }
    } finally {
      this.#keeper.homeChanged(touched);
    }
  }

  /** The hot-outbound accounts `body`'s operations name. */
  #hotAccountsIn(body: Uint8Array): bigint[] {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const ids: bigint[] = [];
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
      const id = readU128(view, at + AccountOperationLayout.accountId);
      if (this.#keeper.isHotOutbound(id)) ids.push(id);
    }
    return ids;
  }

  /** The hot-outbound accounts `body` closes. */
  #hotClosesIn(body: Uint8Array): bigint[] {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const ids: bigint[] = [];
    for (let at = 0; at + eventBytes <= body.byteLength; at += eventBytes) {
      if (view.getUint16(at + AccountOperationLayout.kind, true) !== AccountOperationKind.close) continue;
      const id = readU128(view, at + AccountOperationLayout.accountId);
      if (this.#keeper.isHotOutbound(id)) ids.push(id);
    }
    return ids;
  }

  /** A hot-outbound account's lookup also shows the money its slices hold (available = its own + that). */
  async lookupAccounts(operation: typeof Operation.lookup_accounts | typeof Operation.lookup_ledger_accounts, body: Uint8Array): Promise<Uint8Array> {
    // Looked at before the lookup, as the shards answer it: an account registered meanwhile shows no slices yet.
    if (this.#keeper.routes.size === 0) return this.#execute(operation, body);
    return this.#withSliceBalances(await this.#execute(operation, body));
  }

  /** query_accounts: its rows of hot-outbound accounts show their slices' money too, as a lookup does. */
  async queryAccounts(body: Uint8Array): Promise<Uint8Array> {
    if (this.#keeper.routes.size === 0) return this.#execute(Operation.query_accounts, body);
    return this.#withSliceBalances(await this.#execute(Operation.query_accounts, body), QueryReplyLayout.bytes);
  }

  /** Fills in sliceBalances of the hot-outbound accounts among the account records from `from` on. */
  async #withSliceBalances(reply: Uint8Array, from = 0): Promise<Uint8Array> {
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    const hot: number[] = [];
    for (let at = from; at + eventBytes <= reply.byteLength; at += eventBytes) {
      if ((view.getUint16(at + AccountLayout.flags, true) & AccountFlags.hot_outbound) !== 0) hot.push(at);
    }
    if (hot.length === 0) return reply;
    const balances = await this.#keeper.sliceBalances(hot.map((at) => readU128(view, at + AccountLayout.id)));
    assert(balances.length === hot.length, 'one slice balance per hot-outbound account looked up');
    hot.forEach((at, index) => view.setBigUint64(at + AccountLayout.sliceBalances, balances[index]!, true));
    return reply;
  }
}
