// The load bench's options: the workloads by default, the PostgreSQL baseline on by default with
// its own duration defaulting to --duration, and every refusal naming the option.
import { describe, expect, it } from 'vitest';
import { baselineConnectionsFor, LoadUsageError, parseLoadArgs, servicesShape, type LoadOptions } from '../../../bench/load/options.js';

function options(argv: string[], env: NodeJS.ProcessEnv = {}): LoadOptions {
  const command = parseLoadArgs(argv, env);
  if (command.kind !== 'run') throw new Error('expected a run');
  return command.options;
}

describe('parseLoadArgs', () => {
  it('defaults to the issue workloads, batch 1, 100 and 8190, and the PostgreSQL baseline as long as --duration', () => {
    const o = options(['--duration', '3']);
    expect(o.workloads).toEqual(['uniform', 'zipf', 'hot-credit', 'hot-debit', 'cross-shard']);
    expect(o.batchSizes).toEqual([1, 100, 8190]);
    expect(o).toMatchObject({ baseline: 'pg', baselineDurationSeconds: 3, baselineConnections: null, zipfExponent: 1, svgPath: null });
    expect(baselineConnectionsFor(o)).toBe(4);
  });

  it('takes the new flags, and keeps the old ones', () => {
    const o = options(['--workloads', 'same-shard,cross-shard', '--baseline', 'none', '--baseline-duration', '2', '--zipf-exponent', '0.9', '--svg', 'x.svg', '--no-day-cut-phase', '--connections', '8']);
    expect(o).toMatchObject({ workloads: ['same-shard', 'cross-shard'], baseline: 'none', baselineDurationSeconds: 2, zipfExponent: 0.9, svgPath: 'x.svg', dayCutPhase: false });
    expect(baselineConnectionsFor(o)).toBe(8);
    expect(baselineConnectionsFor(options(['--baseline-connections', '16']))).toBe(16);
    expect(options([], { TALLY_BENCH_BASELINE: 'none' }).baseline).toBe('none');
  });

  it('adds the services phase (issue #19: 32 sockets × 8 in flight, 1–5 transfers a request) on --services or TALLY_BENCH_SERVICES=1', () => {
    expect(options([]).services).toBe(false);
    expect(options(['--services']).services).toBe(true);
    expect(options([], { TALLY_BENCH_SERVICES: '1' }).services).toBe(true);
    expect(servicesShape).toEqual({ connections: 32, inFlight: 8, batchEventsMin: 1, batchEventsMax: 5 });
  });

  it('sustained mode: uniform and hot-credit unless --workloads says otherwise, no baseline, a reading every 15 s', () => {
    expect(options([])).toMatchObject({ sustainSeconds: null, sustainEverySeconds: 15 });
    expect(options(['--sustain', '600'])).toMatchObject({ sustainSeconds: 600, sustainEverySeconds: 15, workloads: ['uniform', 'hot-credit'], baseline: 'none' });
    expect(options(['--sustain', '40', '--workloads', 'uniform', '--sustain-every', '5'])).toMatchObject({ sustainSeconds: 40, sustainEverySeconds: 5, workloads: ['uniform'] });
    expect(options([], { TALLY_BENCH_SUSTAIN: '86400', TALLY_BENCH_SUSTAIN_EVERY: '60' })).toMatchObject({ sustainSeconds: 86400, sustainEverySeconds: 60 });
    expect(options(['--sustain', '40', '--data-dir', '/tmp/kept'])).toMatchObject({ dataDir: '/tmp/kept' });
    expect(options([])).toMatchObject({ dataDir: null });
    // The baseline's account limit does not apply: there is no baseline in a sustained run.
    expect(options(['--sustain', '60', '--accounts', '20000000']).baseline).toBe('none');
  });

  it.each([
    [['--sustain', '0'], /--sustain must be seconds in 1\.\.86400/],
    [['--sustain', '86401'], /--sustain must be seconds in 1\.\.86400/],
    [['--sustain', '60', '--sustain-every', '0.5'], /--sustain-every must be seconds in 1\.\.3600/],
    [['--baseline', 'mysql'], /--baseline takes pg or none/],
    [['--accounts', '20000000', '--workloads', 'uniform'], /PostgreSQL baseline loads 3\.\.10000000 accounts/],
    [['--accounts', '6000000', '--baseline', 'none'], /zipf workload draws over at most 5000000 accounts/],
    [['--workloads', 'uniform,hot'], /--workloads takes/],
    [['--shards', '1'], /cross-shard workload needs --shards 2/],
    [['--connections', '100'], /--baseline-connections N or --baseline none/],
    [['--baseline-connections', '91'], /--baseline-connections must be an integer in 1\.\.90/],
    [['--baseline-duration', '0'], /--baseline-duration must be seconds/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseLoadArgs(argv, {})).toThrow(LoadUsageError);
    expect(() => parseLoadArgs(argv, {})).toThrow(message);
  });
});
