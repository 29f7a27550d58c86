// `tally keys new`: a random secret printed once, only its hash kept, the file created or appended to and
// always one the server accepts; a taken id or a bad option is refused with the file untouched.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keysCommand } from '../../../src/cli/keys.js';
import { UsageError } from '../../../src/cli/serve-options.js';
import { KeyRing, hashSecret, readKeysFile } from '../../../src/gateway/auth.js';

let dir: string;
let printed: string[];
let noted: string[];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tally-keys-'));
  printed = [];
  noted = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void noted.push(line));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('tally keys new', () => {
  it('creates the file, stores the hash only, and prints the secret once with a note', async () => {
    const file = path.join(dir, 'keys.json');
    expect(await keysCommand(['new', '--id', 'ops-alice', '--scopes', 'read,post,admin', '--file', file, '--events-per-second', '50000'], {})).toBe(0);
    expect(printed).toHaveLength(1);
    const secret = printed[0]!;
    expect(secret).toMatch(/^tk_[A-Za-z0-9_-]{43}$/);
    expect(noted.join('\n')).toMatch(/key "ops-alice" \(read, post, admin\) added to .*keys\.json.*not stored/);
    expect(readFileSync(file, 'utf8')).not.toContain(secret);
    expect(readKeysFile(file)).toEqual([{ id: 'ops-alice', scopes: ['read', 'post', 'admin'], sha256: hashSecret(secret), eventsPerSecond: 50000 }]);
    expect(new KeyRing(readKeysFile(file)).authenticate(`Bearer ${secret}`)?.caller.keyId).toBe('ops-alice');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('appends to an existing file, and reads TALLY_KEYS when --file is absent', async () => {
    const file = path.join(dir, 'from-env.json');
    await keysCommand(['new', '--id', 'a', '--scopes', 'read'], { TALLY_KEYS: file });
    await keysCommand(['new', '--id', 'b', '--scopes', 'post, read'], { TALLY_KEYS: file });
    expect(readKeysFile(file).map((k) => [k.id, k.scopes, k.eventsPerSecond])).toEqual([
      ['a', ['read'], 0],
      ['b', ['post', 'read'], 0],
    ]);
    expect(readFileSync(file, 'utf8')).not.toContain('eventsPerSecond'); // absent = the server's --key-rate
  });

  it.each([
    [['new', '--scopes', 'read'], /--id is required/],
    [['new', '--id', 'x y', '--scopes', 'read'], /--id must be 1–64/],
    [['new', '--id', 'x'], /--scopes is required/],
    [['new', '--id', 'x', '--scopes', 'read,write'], /unknown scope "write"/],
    [['new', '--id', 'x', '--scopes', 'read,read'], /listed twice/],
    [['new', '--id', 'x', '--scopes', 'read', '--events-per-second', '0'], /--events-per-second must be an integer in 1\.\./],
    [['rotate'], /unknown keys subcommand "rotate"/],
    [[], /tally keys needs a subcommand/],
  ])('refuses %j', async (argv, message) => {
    const file = path.join(dir, 'keys.json');
    const error = await keysCommand([...argv, ...(argv[0] === 'new' ? ['--file', file] : [])], {}).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect(existsSync(file)).toBe(false);
    expect(printed).toEqual([]);
  });

  it('refuses a taken id, and a file that does not check, leaving the file as it was', async () => {
    const file = path.join(dir, 'keys.json');
    await keysCommand(['new', '--id', 'ops', '--scopes', 'admin', '--file', file], {});
    const before = readFileSync(file, 'utf8');
    await expect(keysCommand(['new', '--id', 'ops', '--scopes', 'read', '--file', file], {})).rejects.toThrow(/key id "ops" is already in/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const broken = path.join(dir, 'broken.json');
    writeFileSync(broken, '{"keys":[{"id":"a"}]}');
    await expect(keysCommand(['new', '--id', 'b', '--scopes', 'read', '--file', broken], {})).rejects.toThrow(/cannot add to the keys file: .*keys\[0\] \("a"\)/);
    expect(printed).toHaveLength(1); // only the first key's secret was ever shown
  });
});
