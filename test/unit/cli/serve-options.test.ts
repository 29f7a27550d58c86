// `tally serve` options: flags over TALLY_* variables over defaults; invalid values name their option.

import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UsageError, parseServeArgs } from '../../../src/cli/serve-options.js';

const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const command = parseServeArgs(argv, env);
  if (command.kind !== 'serve') throw new Error('expected serve');
  return command.options;
};

const dayDefaults = {
  dayCut: { cutTime: '00:00', timeZone: 'UTC', scheduled: true },
  chartPath: null,
  hotInbound: { applyIntervalMs: 100, autoMarkCreditsPerSecond: 1000, unmarkQuietSeconds: 60 },
  hotOutbound: { refillMs: 100, compensateMs: 5000 },
};

describe('tally serve options', () => {
  it('defaults', () => {
    expect(serve([])).toEqual({ port: 3000, host: '127.0.0.1', dataDir: './data', shardCount: Math.min(availableParallelism(), 64), ...dayDefaults });
  });

  it('reads the environment', () => {
    const env = { TALLY_PORT: '4000', TALLY_HOST: '0.0.0.0', TALLY_DATA: '/var/tally', TALLY_SHARDS: '4' };
    expect(serve([], env)).toEqual({ port: 4000, host: '0.0.0.0', dataDir: '/var/tally', shardCount: 4, ...dayDefaults });
  });

  it('prefers flags to the environment', () => {
    const options = serve(['--port', '0', '--host', '::1', '--data', 'd', '--shards', '2'], { TALLY_PORT: '4000', TALLY_SHARDS: '8' });
    expect(options).toEqual({ port: 0, host: '::1', dataDir: 'd', shardCount: 2, ...dayDefaults });
  });

  it('reads the hot-inbound settings from flags, then the environment', () => {
    const options = serve(['--hot-apply-ms', '250', '--hot-threshold', '0'], { TALLY_HOT_APPLY_MS: '50', TALLY_HOT_UNMARK_QUIET: '5' });
    expect(options.hotInbound).toEqual({ applyIntervalMs: 250, autoMarkCreditsPerSecond: 0, unmarkQuietSeconds: 5 });
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
