// `tally keys new`: makes an API key. The secret is random, printed once to stdout and never stored; the
// keys file (created when absent) gets the key's id, scopes, rate and the SHA-256 of the secret. A server
// reads the file at start (`tally serve --keys FILE`), so a new key works after a restart.

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { eventsPerSecondMax } from '../core/limits.js';
import { hashSecret, isKeyId, newSecret, parseKeysFile, parseScopes, type ApiKey } from '../gateway/auth.js';
import { integerOption, parseFlags } from './option-values.js';
import { UsageError } from './serve-options.js';

export const keysUsage = `usage: tally keys new --id ID --scopes read,post[,admin] [--file FILE] [--events-per-second N]

  --id ID               the key's name, shown in the audit log (letters, digits, ._:@-; at most 64)
  --scopes LIST         what the key may do, comma-separated: read (lookups, books), post (writes),
                        admin (day cut, adjustments, audit log, snapshots); scopes do not imply each other
  --file FILE           the keys file to add it to, created when absent
                                                  (env TALLY_KEYS, default ./tally-keys.json)
  --events-per-second N the key's own rate, 1..${eventsPerSecondMax}; absent: the server's --key-rate
  -h, --help            print this help

Prints the new secret once on stdout (present it as "Authorization: Bearer <secret>", or TALLY_API_KEY
for the tally commands); only its SHA-256 is written to the file.`;

const defaultFile = './tally-keys.json';

/** Resolves with the exit status. */
export async function keysCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') {
    console.log(keysUsage);
    return 0;
  }
  if (subcommand !== 'new') throw new UsageError(subcommand === undefined ? 'tally keys needs a subcommand' : `unknown keys subcommand ${JSON.stringify(subcommand)}`, keysUsage);
  const { values } = parseFlags(rest, flags, (message) => new UsageError(message, keysUsage));
  if (values.help) {
    console.log(keysUsage);
    return 0;
  }
  const file = values.file ?? env.TALLY_KEYS ?? defaultFile;
  const secret = newSecret();
  const key = newKey(values, secret);
  writeKeysFile(file, [...existingKeys(file, key.id), key]);
  console.log(secret);
  console.error(`tally: key ${JSON.stringify(key.id)} (${key.scopes.join(', ')}) added to ${file}. Its secret, printed on stdout, is shown this once: it is not stored anywhere (the file keeps only its SHA-256). Restart the server to load it.`);
  return 0;
}

const flags = {
  id: { type: 'string' },
  scopes: { type: 'string' },
  file: { type: 'string' },
  'events-per-second': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function newKey(values: { id?: string; scopes?: string; 'events-per-second'?: string }, secret: string): ApiKey {
  if (values.id === undefined) throw new UsageError('--id is required', keysUsage);
  if (!isKeyId(values.id)) throw new UsageError(`--id must be 1–64 of letters, digits and ._:@- (starting with a letter or digit), got ${JSON.stringify(values.id)}`, keysUsage);
  if (values.scopes === undefined) throw new UsageError('--scopes is required, e.g. --scopes read,post', keysUsage);
  let scopes;
  try {
    scopes = parseScopes(values.scopes.split(',').map((scope) => scope.trim()), '--scopes');
  } catch (error) {
    throw new UsageError((error as Error).message.replace('"scopes" must be', 'must be'), keysUsage);
  }
  const rate = values['events-per-second'];
  const eventsPerSecond = rate === undefined ? 0 : integerOption('--events-per-second', rate, 1, eventsPerSecondMax, (message) => new UsageError(message, keysUsage));
  return { id: values.id, scopes, sha256: hashSecret(secret), eventsPerSecond };
}

/** The keys already in `file` (none when it does not exist); refuses a file that does not check, or a taken id. */
function existingKeys(file: string, id: string): ApiKey[] {
  if (!existsSync(file)) return [];
  let keys: ApiKey[];
  try {
    keys = parseKeysFile(readFileSync(file, 'utf8'), file);
  } catch (error) {
    throw new UsageError(`cannot add to the keys file: ${(error as Error).message}`, keysUsage);
  }
  if (keys.some((key) => key.id === id)) throw new UsageError(`key id ${JSON.stringify(id)} is already in ${file}`, keysUsage);
  return keys;
}

/** Writes the file whole and renames it into place, so a reader (or a crash) never sees half a file. */
function writeKeysFile(file: string, keys: readonly ApiKey[]): void {
  const entries = keys.map(({ id, scopes, sha256, eventsPerSecond }) => (eventsPerSecond === 0 ? { id, scopes, sha256 } : { id, scopes, sha256, eventsPerSecond }));
  const text = `${JSON.stringify({ keys: entries }, null, 2)}\n`;
  parseKeysFile(text, file); // what we write must be what the server accepts
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}
