// `tally serve` options: flags over TALLY_* variables over defaults; invalid values name their option.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, parseServeArgs } from '../../../src/cli/serve-options.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tally-serve-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
}
const keysFile = file('keys.json', JSON.stringify({ keys: [{ id: 'ops', scopes: ['read', 'post', 'admin'], sha256: 'ab'.repeat(32), eventsPerSecond: 500 }] }));
const keyEntries = [{ id: 'ops', scopes: ['read', 'post', 'admin'], sha256: 'ab'.repeat(32), eventsPerSecond: 500 }];

const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseServeArgs(argv, env);
  if (command.kind !== 'serve') throw new Error('expected serve');
  return command.options;
};

const dayDefaults = {
  dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: true },
  chartPath: null,
  reconChannels: null,
  settleConfig: null,
  hotInbound: { applyIntervalMs: 100, autoMarkCreditsPerSecond: 1000, unmarkQuietSeconds: 60 },
  hotOutbound: { refillMs: 100, compensateMs: 5000 },
  keys: null,
  tls: null,
  keyRate: 0,
  accountRate: 0,
  backup: null,
  logLevel: 'info',
  shutdownDeadlineMs: 10_000,
  checkpoint: { entries: 128, seconds: 60, countGapMs: 5_000 },
  idCache: { transferIds: 2_000_000, idsOther: 262_144 },
  replication: null,
};

describe('tally serve options', () => {
  it('defaults', () => {
    expect(serve([])).toEqual({ port: 3000, host: '127.0.0.1', dataDir: './data', shardCount: Math.min(availableParallelism(), 64), ...dayDefaults });
  });

  it('reads the environment', () => {
    const env = { TALLY_PORT: '4000', TALLY_HOST: '0.0.0.0', TALLY_DATA: '/var/tally', TALLY_SHARDS: '4', TALLY_KEYS: keysFile, TALLY_KEY_RATE: '1000', TALLY_ACCOUNT_RATE: '50' };
    expect(serve([], env)).toEqual({
      port: 4000, host: '0.0.0.0', dataDir: '/var/tally', shardCount: 4, ...dayDefaults,
      keys: { path: keysFile, entries: keyEntries }, keyRate: 1000, accountRate: 50,
    });
  });

  it('prefers flags to the environment', () => {
    const options = serve(['--port', '0', '--host', '::1', '--data', 'd', '--shards', '2'], { TALLY_PORT: '4000', TALLY_SHARDS: '8' });
    expect(options).toEqual({ port: 0, host: '::1', dataDir: 'd', shardCount: 2, ...dayDefaults });
  });

  it('reads replicated mode from flags, then the environment; its other options need --nats', () => {
    expect(serve(['--nats', 'nats://127.0.0.1:4222,nats://127.0.0.1:4223', '--node', 'a-1'], { TALLY_NATS_CLUSTER: 'books', TALLY_NATS_ACK_MS: '800' }).replication).toEqual({
      servers: ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223'],
      cluster: 'books',
      node: 'a-1',
      replicas: 0,
      ackWaitMs: 800,
    });
    expect(serve([], { TALLY_NATS: 'nats://10.0.0.5:4222', TALLY_NODE: 'b', TALLY_NATS_REPLICAS: '3' }).replication).toMatchObject({ servers: ['nats://10.0.0.5:4222'], node: 'b', replicas: 3, cluster: 'tally' });
    expect(() => serve(['--node', 'a'])).toThrow(/--node needs --nats/);
    expect(() => serve(['--nats', 'http://x'])).toThrow(/not a NATS URL/);
    expect(() => serve(['--nats', 'nats://h:1', '--nats-cluster', 'a.b'])).toThrow(/--nats-cluster/);
    expect(() => serve(['--nats', 'nats://h:1', '--nats-replicas', '9'])).toThrow(/--nats-replicas/);
    expect(() => serve(['--nats', 'nats://h:1', '--node', 'bad name'])).toThrow(/--node/);
  });

  it('reads the hot-inbound settings from flags, then the environment', () => {
    const options = serve(['--hot-apply-ms', '250', '--hot-threshold', '0'], { TALLY_HOT_APPLY_MS: '50', TALLY_HOT_UNMARK_QUIET: '5' });
    expect(options.hotInbound).toEqual({ applyIntervalMs: 250, autoMarkCreditsPerSecond: 0, unmarkQuietSeconds: 5 });
  });

  it('reads scheduled backups and the log level, refusing timing without a directory', () => {
    expect(serve(['--backup-dir', '/b', '--backup-hourly', '3']).backup).toEqual({ dir: '/b', everyMinutes: 60, hourly: 3, daily: 7 });
    expect(serve([], { TALLY_BACKUP_DIR: '/b', TALLY_BACKUP_EVERY_MINUTES: '5', TALLY_BACKUP_DAILY: '0' }).backup).toEqual({ dir: '/b', everyMinutes: 5, hourly: 24, daily: 0 });
    expect(() => serve(['--backup-hourly', '3'])).toThrow(/--backup-hourly needs --backup-dir/);
    expect(() => serve(['--backup-dir', '/b', '--backup-every-minutes', '0'])).toThrow(/--backup-every-minutes must be an integer in 1\.\./);
    expect(serve(['--log-level', 'warn']).logLevel).toBe('warn');
    expect(() => serve(['--log-level', 'loud'])).toThrow(/--log-level must be one of error, warn, info, debug/);
  });

  it('reads the checkpoint cadence from flags, then the environment, then a config file, naming the flag when out of range', () => {
    expect(serve(['--checkpoint-entries', '64', '--checkpoint-seconds', '5'], { TALLY_CHECKPOINT_ENTRIES: '9', TALLY_CHECKPOINT_SECONDS: '9' }).checkpoint).toEqual({ entries: 64, seconds: 5, countGapMs: 5_000 });
    expect(serve([], { TALLY_CHECKPOINT_ENTRIES: '9', TALLY_CHECKPOINT_SECONDS: '7' }).checkpoint).toEqual({ entries: 9, seconds: 7, countGapMs: 5_000 });
    expect(() => serve(['--checkpoint-entries', '0'])).toThrow(/--checkpoint-entries must be an integer in 1\.\.65536/);
    expect(() => serve(['--checkpoint-seconds', '86401'])).toThrow(/--checkpoint-seconds must be an integer in 1\.\.86400/);
  });

  it('reads the shutdown deadline from the flag, then the environment, in 1 ms..1 h', () => {
    expect(serve(['--shutdown-deadline-ms', '2500'], { TALLY_SHUTDOWN_DEADLINE_MS: '900' }).shutdownDeadlineMs).toBe(2500);
    expect(serve([], { TALLY_SHUTDOWN_DEADLINE_MS: '900' }).shutdownDeadlineMs).toBe(900);
    expect(() => serve(['--shutdown-deadline-ms', '0'])).toThrow(/--shutdown-deadline-ms must be an integer in 1\.\.3600000/);
    expect(() => serve(['--shutdown-deadline-ms', '3600001'])).toThrow(/--shutdown-deadline-ms/);
  });

  it('reads the id cache sizes from flags, then the environment, then a config file', () => {
    expect(serve(['--cache-transfer-ids', '5000'], { TALLY_CACHE_TRANSFER_IDS: '7', TALLY_CACHE_IDS_OTHER: '9' }).idCache).toEqual({ transferIds: 5000, idsOther: 9 });
    expect(() => serve(['--cache-ids-other', '0'])).toThrow(/--cache-ids-other must be an integer in 1\.\.134217728/);
    expect(() => serve([], { TALLY_CACHE_TRANSFER_IDS: '134217729' })).toThrow(/--cache-transfer-ids/);
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-config-'));
    try {
      const file = path.join(dir, 'tally.json');
      writeFileSync(file, JSON.stringify({ 'cache-transfer-ids': 4096, 'cache-ids-other': '1024' }));
      expect(serve(['--config', file], { TALLY_CACHE_IDS_OTHER: '2048' }).idCache).toEqual({ transferIds: 4096, idsOther: 2048 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a config file below flags and the environment, with paths from its directory', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-config-'));
    try {
      const file = path.join(dir, 'tally.json');
      writeFileSync(file, JSON.stringify({ port: 4000, data: 'ledger-data', 'day-cut': '23:30', 'backup-dir': '/abs/backups', 'log-level': 'debug', 'checkpoint-entries': 512, 'checkpoint-seconds': '30' }));
      const options = serve(['--config', file, '--port', '4001'], { TALLY_DAY_CUT: '22:00' });
      expect(options.port).toBe(4001); // flag over file
      expect(options.dayCut.cutTime).toBe('22:00'); // environment over file
      expect(options.dataDir).toBe(path.join(dir, 'ledger-data')); // relative to the file
      expect(options.backup?.dir).toBe('/abs/backups');
      expect(options.logLevel).toBe('debug');
      expect(options.checkpoint).toEqual({ entries: 512, seconds: 30, countGapMs: 5_000 });
      expect(serve([], { TALLY_CONFIG: file }).port).toBe(4000);
      writeFileSync(file, JSON.stringify({ prot: 1 }));
      expect(() => serve(['--config', file])).toThrow(/unknown option "prot"/);
      writeFileSync(file, '[1]');
      expect(() => serve(['--config', file])).toThrow(/not a JSON object/);
      expect(() => serve(['--config', path.join(dir, 'absent.json')])).toThrow(/--config .*absent\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('asks for help', () => {
    expect(parseServeArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseServeArgs(['-h'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [['--port', 'abc'], /--port must be an integer in 0\.\.65535, got "abc"/],
    [['--port', '65536'], /--port/],
    [['--port', '-1'], /--port/],
    [['--port', '80.5'], /--port/],
    [['--shards', '0'], /--shards must be an integer in 1\.\.64/],
    [['--shards', '65'], /--shards/],
    [['--host', ''], /--host must not be empty/],
    [['--data', ' '], /--data must not be empty/],
    [['--verbose'], /Unknown option '--verbose'/],
    [['extra'], /positional/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseServeArgs(argv, {})).toThrow(UsageError);
    expect(() => parseServeArgs(argv, {})).toThrow(message);
  });

  describe('keys, TLS and rates', () => {
    const cert = file('cert.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const key = file('key.pem', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');

    it('reads --keys, --tls-cert/--tls-key, --key-rate and --account-rate over their variables', () => {
      const options = serve(['--keys', keysFile, '--tls-cert', cert, '--tls-key', key, '--key-rate', '0', '--account-rate', '7'], { TALLY_KEY_RATE: '9', TALLY_KEYS: '/nonexistent' });
      expect(options).toMatchObject({ keys: { path: keysFile, entries: keyEntries }, tls: { certFile: cert, keyFile: key }, keyRate: 0, accountRate: 7 });
      expect(serve([], { TALLY_TLS_CERT: cert, TALLY_TLS_KEY: key }).tls).toEqual({ certFile: cert, keyFile: key });
    });

    it.each(['0.0.0.0', '10.1.2.3', '::', 'example.com'])('refuses --host %s without --keys: authentication would be off for the network', (host) => {
      expect(() => serve(['--host', host])).toThrow(UsageError);
      expect(() => serve(['--host', host])).toThrow(`--host ${host} is not a loopback address: give --keys FILE`);
    });

    it.each(['127.0.0.1', '127.0.0.2', '::1', 'localhost'])('serves %s without keys (authentication off)', (host) => {
      expect(serve(['--host', host]).keys).toBeNull();
    });

    it.each([
      [['--keys', '/nonexistent/keys.json'], /--keys: cannot read \/nonexistent\/keys\.json/],
      [['--keys', file('dup.json', JSON.stringify({ keys: [keyEntries[0], { ...keyEntries[0], sha256: 'cd'.repeat(32) }] }))], /--keys: .*dup\.json: keys\[1\] \("ops"\): duplicate id/],
      [['--keys', file('scope.json', JSON.stringify({ keys: [{ ...keyEntries[0], scopes: ['root'] }] }))], /keys\[0\] \("ops"\): unknown scope "root"/],
      [['--keys', file('hex.json', JSON.stringify({ keys: [{ ...keyEntries[0], sha256: 'xyz' }] }))], /"sha256" must be 64 hex digits/],
      [['--tls-cert', cert], /--tls-cert and --tls-key go together/],
      [['--tls-key', key], /--tls-cert and --tls-key go together/],
      [['--tls-cert', keysFile, '--tls-key', key], /--tls-cert: .* is not a PEM file/],
      [['--tls-cert', cert, '--tls-key', '/nonexistent/key.pem'], /--tls-key: cannot read/],
      [['--key-rate', '1e3'], /--key-rate must be an integer in 0\.\.1000000000/],
      [['--account-rate', 'fast'], /--account-rate must be an integer/],
    ])('refuses %j', (argv, message) => {
      expect(() => serve(argv)).toThrow(UsageError);
      expect(() => serve(argv)).toThrow(message);
    });
  });

  it('checks environment values like flags, naming the flag', () => {
    expect(() => parseServeArgs([], { TALLY_SHARDS: 'many' })).toThrow(/--shards/);
  });

  it('day cut, time zone and chart of accounts', () => {
    expect(serve(['--day-cut', '23:30', '--time-zone', 'Asia/Shanghai'])).toMatchObject({ dayCut: { cutTime: '23:30', timeZone: 'Asia/Shanghai', scheduled: true } });
    expect(serve([], { TALLY_DAY_CUT: 'manual' })).toMatchObject({ dayCut: { scheduled: false } });
    expect(() => serve(['--day-cut', '25:00'])).toThrow(/--day-cut/);
    expect(() => serve(['--time-zone', 'Mars/Olympus'])).toThrow(/--time-zone/);
    expect(() => serve(['--chart', '/nonexistent/chart.json'])).toThrow(/--chart/);
    expect(() => serve(['--hot-apply-ms', '0'])).toThrow(/--hot-apply-ms must be an integer in 1\.\.1000/);
    expect(() => serve(['--hot-apply-ms', '1001'])).toThrow(/--hot-apply-ms/);
    expect(() => serve([], { TALLY_HOT_THRESHOLD: 'lots' })).toThrow(/--hot-threshold/);
    expect(() => serve(['--hot-unmark-quiet', '0'])).toThrow(/--hot-unmark-quiet/);
    expect(() => serve(['--hot-refill-ms', '0'])).toThrow(/--hot-refill-ms/);
    expect(() => serve([], { TALLY_HOT_COMPENSATE_MS: 'soon' })).toThrow(/--hot-compensate-ms/);
    expect(serve(['--chart', 'config/chart-of-accounts.default.json'])).toMatchObject({ chartPath: 'config/chart-of-accounts.default.json' });
  });
});
