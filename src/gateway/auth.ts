// API keys: the keys file (strictly checked), secrets and their hashes, and who a connection is. The server
// keeps only SHA-256 hashes of secrets and compares them in constant time against every key, so neither
// the file nor the timing of a check reveals a secret. It never stores or logs a secret.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { assert } from '../core/assert.js';
import { apiKeysMax, eventsPerSecondMax } from '../core/limits.js';
import type { Caller, Scope } from './ledger-service.js';
import { scopeNames } from './scopes.js';

/** One entry of the keys file: `{"id":"ops-alice","scopes":["read","post","admin"],"sha256":"…","eventsPerSecond":50000}`. */
export interface ApiKey {
  readonly id: string;
  readonly scopes: readonly Scope[];
  /** Lower-case hex SHA-256 of the secret. */
  readonly sha256: string;
  /** The key's own rate in events per second; 0 = the server's default (--key-rate). */
  readonly eventsPerSecond: number;
}

/** Bytes of random secret material: 256 bits, as base64url after the `tk_` prefix. */
const secretBytes = 32;
const secretPrefix = 'tk_';
const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$/;
const sha256Pattern = /^[0-9a-fA-F]{64}$/;
const entryFields = new Set(['id', 'scopes', 'sha256', 'eventsPerSecond']);

/** The caller of every connection when authentication is off (loopback only). */
export const anonymousCaller: Caller = { keyId: 'anonymous', scopes: new Set<Scope>(scopeNames) };

/** A new secret: `tk_` + 32 random bytes in base64url. Shown once; only its hash is kept. */
export function newSecret(): string {
  return secretPrefix + randomBytes(secretBytes).toString('base64url');
}

/** Lower-case hex SHA-256 of a secret, as the keys file stores it. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A key id as the keys file allows it: 1–64 of letters, digits and `._:@-`, starting with a letter or digit. */
export function isKeyId(id: unknown): id is string {
  return typeof id === 'string' && idPattern.test(id);
}

/** Reads and checks a keys file; the error names the file and the entry. */
export function readKeysFile(path: string): ApiKey[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseKeysFile(text, path);
}

/**
 * Parses a keys file strictly: `{"keys":[…]}` and nothing else; each entry a known id, known scopes, a hex
 * SHA-256 and an optional rate. Duplicate ids or hashes, unknown fields or an empty list are refused.
 */
export function parseKeysFile(text: string, source: string): ApiKey[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${source}: must be an object {"keys":[…]}`);
  const unknown = Object.keys(value).filter((field) => field !== 'keys');
  if (unknown.length > 0) throw new Error(`${source}: unknown field ${JSON.stringify(unknown[0])} (only "keys")`);
  const entries = (value as { keys?: unknown }).keys;
  if (!Array.isArray(entries)) throw new Error(`${source}: "keys" must be an array`);
  if (entries.length > apiKeysMax) throw new Error(`${source}: ${entries.length} keys, more than ${apiKeysMax} (apiKeysMax)`);
  const keys = entries.map((entry, index) => parseEntry(entry, `${source}: keys[${index}]`));
  checkUnique(keys, source);
  return keys;
}

function parseEntry(entry: unknown, where: string): ApiKey {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where}: must be an object`);
  const { id, scopes, sha256, eventsPerSecond = 0 } = entry as Record<string, unknown>;
  if (!isKeyId(id)) throw new Error(`${where}: "id" must be 1–64 of letters, digits and ._:@- (starting with a letter or digit), got ${JSON.stringify(id)}`);
  const named = `${where} (${JSON.stringify(id)})`;
  const extra = Object.keys(entry).find((field) => !entryFields.has(field));
  if (extra !== undefined) throw new Error(`${named}: unknown field ${JSON.stringify(extra)} (known: ${[...entryFields].join(', ')})`);
  return { id, scopes: parseScopes(scopes, named), sha256: parseSha256(sha256, named), eventsPerSecond: parseRate(eventsPerSecond, named) };
}

/** Scopes as a list: non-empty, known, no repeats. Shared with `tally keys new`. */
export function parseScopes(scopes: unknown, where: string): Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) throw new Error(`${where}: "scopes" must be a non-empty array of ${scopeNames.join(', ')}`);
  for (const scope of scopes) {
    if (!scopeNames.includes(scope as Scope)) throw new Error(`${where}: unknown scope ${JSON.stringify(scope)} (known: ${scopeNames.join(', ')})`);
  }
  if (new Set(scopes).size !== scopes.length) throw new Error(`${where}: a scope is listed twice in ${JSON.stringify(scopes)}`);
  return scopes as Scope[];
}

function parseSha256(sha256: unknown, where: string): string {
  if (typeof sha256 !== 'string' || !sha256Pattern.test(sha256)) throw new Error(`${where}: "sha256" must be 64 hex digits (the SHA-256 of the secret), got ${JSON.stringify(sha256)}`);
  return sha256.toLowerCase();
}

function parseRate(rate: unknown, where: string): number {
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 0 || rate > eventsPerSecondMax) {
    throw new Error(`${where}: "eventsPerSecond" must be an integer in 0..${eventsPerSecondMax} (0 = the server's --key-rate), got ${JSON.stringify(rate)}`);
  }
  return rate;
}

function checkUnique(keys: readonly ApiKey[], source: string): void {
  const ids = new Map<string, number>();
  const hashes = new Map<string, number>();
  keys.forEach((key, index) => {
    const sameId = ids.get(key.id);
    if (sameId !== undefined) throw new Error(`${source}: keys[${index}] (${JSON.stringify(key.id)}): duplicate id, also keys[${sameId}]`);
    const sameHash = hashes.get(key.sha256);
    if (sameHash !== undefined) throw new Error(`${source}: keys[${index}] (${JSON.stringify(key.id)}): the same secret hash as keys[${sameHash}]`);
    ids.set(key.id, index);
    hashes.set(key.sha256, index);
  });
}

/** A key that authenticated a connection: its caller and its own rate (0 = the server default). */
export interface AuthenticatedKey {
  readonly caller: Caller;
  readonly eventsPerSecond: number;
}

/** The keys a server accepts, by hash. */
export class KeyRing {
  readonly #hashes: Buffer[];
  readonly #keys: AuthenticatedKey[];

  constructor(readonly keys: readonly ApiKey[]) {
    assert(new Set(keys.map((key) => key.id)).size === keys.length, 'key ids are unique (parseKeysFile checked)');
    this.#hashes = keys.map((key) => Buffer.from(key.sha256, 'hex'));
    this.#keys = keys.map((key) => ({ caller: { keyId: key.id, scopes: new Set(key.scopes) }, eventsPerSecond: key.eventsPerSecond }));
    assert(this.#hashes.every((hash) => hash.byteLength === 32), 'every hash is 32 bytes');
  }

  /**
   * The key an `Authorization: Bearer <secret>` header names, or null. Every key is compared (in constant
   * time), whichever matches, so the time taken says nothing about which key or how much of it matched.
   */
  authenticate(authorization: string): AuthenticatedKey | null {
    const secret = bearerSecret(authorization);
    if (secret === null) return null;
    const hash = createHash('sha256').update(secret, 'utf8').digest();
    let found = -1;
    for (let i = 0; i < this.#hashes.length; i++) if (timingSafeEqual(hash, this.#hashes[i]!)) found = i;
    return found < 0 ? null : this.#keys[found]!;
  }
}

/** The secret of an `Authorization: Bearer <secret>` header value (scheme case-insensitive), or null. */
export function bearerSecret(authorization: string): string | null {
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match === null ? null : match[1]!;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** True for `localhost` and addresses in 127.0.0.0/8 or ::1: a server there is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  if (family === 0) return false;
  return loopback.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
