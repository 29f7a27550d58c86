// The per-account rate limit on create_transfers (core/rate-limits/account-rate-limit.ts), in front of the
// shards: events past it are answered `rate_limited` here and never reach a shard, so they are not
// remembered as failed ids (a retry later can succeed); the rest of the batch goes on.

import { assert } from '../../core/assert.js';
import { eventsPerSecondMax } from '../../core/limits.js';
import { AccountRateLimiter, mergeAccountRateReply } from '../../core/rate-limits/account-rate-limit.js';

/** Posts the admitted transfers (the rest of the shard set's create_transfers path). */
export type PostTransfers = (body: Uint8Array) => Promise<Uint8Array>;

export class AccountRateGate {
  readonly #limiter: AccountRateLimiter;
  readonly #post: PostTransfers;

  /** `eventsPerSecond`: transfer events per second per account, as debit or credit (checked by startShards). */
  constructor(eventsPerSecond: number, post: PostTransfers) {
    assert(Number.isInteger(eventsPerSecond) && eventsPerSecond >= 1 && eventsPerSecond <= eventsPerSecondMax, 'an account rate is a positive integer up to eventsPerSecondMax');
    this.#limiter = new AccountRateLimiter(eventsPerSecond);
    this.#post = post;
  }

  async createTransfers(body: Uint8Array): Promise<Uint8Array> {
    const limited = this.#limiter.admit(body, Date.now());
    const admitted = limited === null ? body : limited.admitted;
    const reply = admitted === null ? null : await this.#post(admitted);
    assert(limited !== null || reply !== null, 'a batch none of whose events was limited was posted');
    return limited === null ? reply! : mergeAccountRateReply(limited, reply);
  }
}
