// The transfer ids of a settlement run, derived from what the posting is, so re-running a run yields the same ids
// and the ledger refuses the second copy (id exists) instead of paying twice. Pure: no hash package, no clock.
//
// A posting's key is the JSON text of [merchant id, channel, cycle, run date, batch, role] (JSON makes the join
// unambiguous whatever the names hold). Its id is a u128 laid out as, from the high bits down:
//   bits 127..96  settlementIdTag, 0x53544c01 ('STL' then 1): marks a settlement id. It is neither the system
//                 range's 0xffffffff nor the slice tag 0x534c4301, which the ledger keeps for ids it derives itself;
//   bits  95..64  the run date as the number yyyymmdd (below 2^27): ids of different run dates never collide;
//   bits  63..0   FNV-1a 64 of the key's UTF-8 bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
// Two keys of one run date could still share the 64-bit hash (about one chance in 10^10 for a run of 10^5
// postings); PostingIds refuses that within a run rather than let one posting pose as another.

import { assert } from '../assert.js';
import { isBusinessDay, type BusinessDay } from '../business-day.js';
import { SettleError } from './settle-errors.js';

export const settlementIdTag = 0x5354_4c01;

const fnvOffsetBasis64 = 0xcbf2_9ce4_8422_2325n;
const fnvPrime64 = 0x100_0000_01b3n;
const utf8 = new TextEncoder();

/** FNV-1a, 64 bits, of the UTF-8 bytes of `text`. */
export function fnv1a64(text: string): bigint {
  let hash = fnvOffsetBasis64;
  for (const byte of utf8.encode(text)) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * fnvPrime64);
  return hash;
}

export interface PostingKeyParts {
  readonly merchantId: string;
  readonly channel: string;
  readonly cycle: string;
  readonly runDate: BusinessDay;
  /** 1 for a run date's first run that posts for this merchant and channel, 2 for a later one that day, … */
  readonly batch: number;
  readonly role: string;
}

export function postingKeyOf(parts: PostingKeyParts): string {
  return JSON.stringify([parts.merchantId, parts.channel, parts.cycle, parts.runDate, parts.batch, parts.role]);
}

/** The id of the posting with these parts, by the layout above. */
export function postingIdOf(parts: PostingKeyParts): bigint {
  assert(isBusinessDay(parts.runDate), 'a run date is a yyyymmdd date');
  return (BigInt(settlementIdTag) << 96n) | (BigInt(parts.runDate) << 64n) | fnv1a64(postingKeyOf(parts));
}

/** The ids handed out in one run: refuses a second key landing on an id already given. */
export class PostingIds {
  readonly #keys = new Map<bigint, string>();

  /** `derive` is postingIdOf; a test passes a coarser one to reach the refusal. */
  constructor(private readonly derive: (parts: PostingKeyParts) => bigint = postingIdOf) {}

  take(parts: PostingKeyParts): bigint {
    const key = postingKeyOf(parts);
    const id = this.derive(parts);
    const earlier = this.#keys.get(id);
    assert(earlier !== key, 'a run derives each posting key once');
    if (earlier !== undefined) {
      throw new SettleError('posting_id_collision', `postings ${earlier} and ${key} derive the same id ${id.toString(16)}: change a name (merchant or channel id) of one`);
    }
    this.#keys.set(id, key);
    return id;
  }
}
