// The matching key of a statement row (issue #17): the field a channel's configuration names, turned into the u128
// our postings carry (user_data_128, …) the same way upstream systems derive it. `sha256-128`: the first 16 bytes of
// the SHA-256 of the trimmed UTF-8 text, big-endian; `decimal` and `hex`: the id itself when it fits in 128 bits.
// 0n means "no key": an empty field, or one that is no such number.

import { referenceOf } from '../client/references.js';
import type { MatchKey } from '../core/recon/channel-config.js';
import type { StatementRow } from '../core/recon/statement-row.js';

/** The key of a statement field's text: the client's referenceOf, so upstream systems and recon derive the same. */
export function keyOf(text: string, encode: MatchKey['encode']): bigint {
  return referenceOf(text, encode);
}

/**
 * A row's key: that of the first key (in the channel's priority order) whose statement field is non-empty, 0n when
 * none. Only keys compared with the first key's ledger field count: our postings are keyed by that one field
 * (core/recon/ledger-rows.ts), so a key read from another would be compared with the wrong number.
 */
export function rowKeyer(keys: readonly MatchKey[]): (row: StatementRow) => bigint {
  const usable = keys.filter((key) => key.ledger === keys[0]?.ledger);
  return (row) => {
    const key = usable.find((k) => row[k.statement].trim() !== '');
    return key === undefined ? 0n : keyOf(row[key.statement], key.encode);
  };
}
