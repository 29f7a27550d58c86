// `tally settle …`'s command line (issue #18), parsed without a file or a server: what each subcommand is asked to
// do, and every mistake a usage error (exit 2) carrying the help of the subcommand at fault, before anything connects.

import { describe, expect, it } from 'vitest';
import {
  parseSettleArgs,
  settlePreviewUsage,
  settleReportUsage,
  settleRunUsage,
  settleStrategyUsage,
  settleUsage,
  type SettleCommandLine,
} from '../../../src/cli/settle-args.js';
import { settleCommand } from '../../../src/cli/settle.js';
import { UsageError } from '../../../src/cli/serve-options.js';

const id = 'ssc_0123456789abcdef0123';
const submit = ['strategy', 'submit', '--merchant', 'm-001', '--effective-from', '2026-12-01T00:00:00Z', '--file', 'fee.json', '--reason', 'new rate'];

describe('parseSettleArgs: what to do', () => {
  it.each<[string, string[], SettleCommandLine]>([
    ['preview', ['preview', '--date', '2026-03-02'], { kind: 'preview', date: '2026-03-02', after: null, limit: null, explain: false, json: false, connection: {} }],
    [
      'preview --explain --json with a server',
      ['preview', '--date', '2026-03-02', '--explain', '--json', '--url', 'ws://h:1', '--key', 'k', '--ca', 'ca.pem'],
      { kind: 'preview', date: '2026-03-02', after: null, limit: null, explain: true, json: true, connection: { url: 'ws://h:1', key: 'k', ca: 'ca.pem' } },
    ],
    [
      'preview a page',
      ['preview', '--date', '2026-03-02', '--after', 'm-007', '--limit', '400'],
      { kind: 'preview', date: '2026-03-02', after: 'm-007', limit: 400, explain: false, json: false, connection: {} },
    ],
    ['run', ['run', '--date', '2024-02-29'], { kind: 'run', date: '2024-02-29', json: false, connection: {} }],
    ['report', ['report', '--merchant', 'm-001', '--date', '2026-03-02'], { kind: 'report', merchant: 'm-001', date: '2026-03-02', csv: null, json: false, connection: {} }],
    ['report --csv', ['report', '--merchant', 'm-001', '--date', '2026-03-02', '--csv', 'out.csv'], { kind: 'report', merchant: 'm-001', date: '2026-03-02', csv: 'out.csv', json: false, connection: {} }],
    ['strategy submit for every product', submit, { kind: 'strategy-submit', strategyKind: 'fee', merchant: 'm-001', product: null, effectiveFrom: '2026-12-01T00:00:00Z', file: 'fee.json', reason: 'new rate', json: false, connection: {} }],
    [
      'strategy submit for one product',
      [...submit, '--product', 'card', '--json'],
      { kind: 'strategy-submit', strategyKind: 'fee', merchant: 'm-001', product: 'card', effectiveFrom: '2026-12-01T00:00:00Z', file: 'fee.json', reason: 'new rate', json: true, connection: {} },
    ],
    ['strategy approve', ['strategy', 'approve', id], { kind: 'strategy-approve', id, json: false, connection: {} }],
    ['strategy reject', ['strategy', 'reject', id], { kind: 'strategy-reject', id, reason: null, json: false, connection: {} }],
    ['strategy reject --reason', ['strategy', 'reject', id, '--reason', 'too low'], { kind: 'strategy-reject', id, reason: 'too low', json: false, connection: {} }],
    ['strategy list', ['strategy', 'list'], { kind: 'strategy-list', merchant: null, status: null, limit: null, json: false, connection: {} }],
    [
      'strategy list filtered',
      ['strategy', 'list', '--merchant', 'm-001', '--status', 'pending', '--limit', '50'],
      { kind: 'strategy-list', merchant: 'm-001', status: 'pending', limit: 50, json: false, connection: {} },
    ],
  ])('%s', (_, argv, expected) => {
    expect(parseSettleArgs(argv)).toEqual(expected);
  });
});

describe('parseSettleArgs: help', () => {
  it.each<[string[], string]>([
    [['--help'], settleUsage],
    [['-h'], settleUsage],
    [['preview', '--help'], settlePreviewUsage],
    [['run', '-h'], settleRunUsage],
    [['report', '--help'], settleReportUsage],
    [['strategy', '--help'], settleStrategyUsage],
    [['strategy', 'submit', '--help'], settleStrategyUsage],
    [['strategy', 'approve', '--help'], settleStrategyUsage],
  ])('%j prints its own help, even without the required flags', (argv, usage) => {
    expect(parseSettleArgs(argv)).toEqual({ kind: 'help', usage });
  });

  it('describes every subcommand and flag in the help texts', () => {
    expect(settleUsage).toMatch(/preview[\s\S]*run[\s\S]*report[\s\S]*strategy/);
    expect(settlePreviewUsage).toMatch(/--date[\s\S]*--explain[\s\S]*--json/);
    expect(settleReportUsage).toMatch(/--merchant[\s\S]*--csv FILE/);
    expect(settleStrategyUsage).toMatch(/submit[\s\S]*--effective-from[\s\S]*--file[\s\S]*--reason[\s\S]*approve ID[\s\S]*reject ID[\s\S]*list/);
  });
});

describe('parseSettleArgs: usage errors', () => {
  it.each<[string, string[], RegExp, string]>([
    ['no subcommand', [], /takes a subcommand: preview, run, report or strategy/, settleUsage],
    ['an unknown subcommand', ['settle'], /unknown subcommand "settle"/, settleUsage],
    ['preview without --date', ['preview'], /--date YYYY-MM-DD is required/, settlePreviewUsage],
    ['a compact date', ['preview', '--date', '20260302'], /--date must be written YYYY-MM-DD/, settlePreviewUsage],
    ['a date that is none', ['run', '--date', '2026-02-30'], /--date must be a real date/, settleRunUsage],
    ['29 February of a common year', ['run', '--date', '2025-02-29'], /--date must be a real date/, settleRunUsage],
    ['an unknown flag', ['run', '--date', '2026-03-02', '--explain'], /Unknown option '--explain'/, settleRunUsage],
    ['a stray argument', ['preview', '--date', '2026-03-02', 'extra'], /unexpected argument "extra"/, settlePreviewUsage],
    ['a flag without its value', ['preview', '--date'], /--date/, settlePreviewUsage],
    ['report without --merchant', ['report', '--date', '2026-03-02'], /--merchant is required/, settleReportUsage],
    ['a merchant the wire refuses', ['report', '--merchant', 'm 1', '--date', '2026-03-02'], /--merchant must be 1 to 64/, settleReportUsage],
    ['report --csv with --json', ['report', '--merchant', 'm', '--date', '2026-03-02', '--csv', 'o.csv', '--json'], /--csv and --json: choose one/, settleReportUsage],
    ['strategy without an action', ['strategy'], /takes an action: submit, approve, reject or list/, settleStrategyUsage],
    ['an unknown strategy action', ['strategy', 'delete', id], /unknown action "delete"/, settleStrategyUsage],
    ['submit without --reason', submit.slice(0, -2), /--reason TEXT is required/, settleStrategyUsage],
    ['submit with a blank reason', [...submit.slice(0, -1), '  '], /--reason must say why/, settleStrategyUsage],
    ['submit without --file', submit.filter((_, i) => i !== 6 && i !== 7), /--file STRATEGY.json is required/, settleStrategyUsage],
    ['submit without --effective-from', submit.filter((_, i) => i !== 4 && i !== 5), /--effective-from INSTANT is required/, settleStrategyUsage],
    ['an instant with an offset', submit.map((arg) => (arg === '2026-12-01T00:00:00Z' ? '2026-12-01T00:00:00+08:00' : arg)), /--effective-from must be an instant in UTC/, settleStrategyUsage],
    ['an instant that is none', submit.map((arg) => (arg === '2026-12-01T00:00:00Z' ? '2026-13-01T00:00:00Z' : arg)), /is no instant/, settleStrategyUsage],
    ['a product the wire refuses', [...submit, '--product', 'card/debit'], /--product must be 1 to 64/, settleStrategyUsage],
    ['approve without an id', ['strategy', 'approve'], /name one strategy change id/, settleStrategyUsage],
    ['approve with two ids', ['strategy', 'approve', id, id], /name one strategy change id \(ssc_…\), got 2/, settleStrategyUsage],
    ['an id of the wrong shape', ['strategy', 'approve', 'ssc_123'], /ssc_ and 20 hex digits/, settleStrategyUsage],
    ['approve with --reason', ['strategy', 'approve', id, '--reason', 'ok'], /strategy approve takes no --reason/, settleStrategyUsage],
    ['list with a positional', ['strategy', 'list', 'm-001'], /unexpected argument "m-001"/, settleStrategyUsage],
    ['list with --reason', ['strategy', 'list', '--reason', 'x'], /strategy list takes no --reason/, settleStrategyUsage],
    ['reject with --merchant', ['strategy', 'reject', id, '--merchant', 'm'], /strategy reject takes no --merchant/, settleStrategyUsage],
    ['an unknown status', ['strategy', 'list', '--status', 'done'], /--status is pending, approved, rejected/, settleStrategyUsage],
    ['a limit of 0', ['strategy', 'list', '--limit', '0'], /--limit must be an integer in 1\.\.1000/, settleStrategyUsage],
    ['a limit over a page', ['strategy', 'list', '--limit', '1001'], /--limit must be an integer in 1\.\.1000/, settleStrategyUsage],
  ])('%s', (_, argv, message, usage) => {
    let thrown: unknown;
    try {
      parseSettleArgs(argv);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toMatch(message);
    expect((thrown as UsageError).usage).toBe(usage);
  });
});

describe('settleCommand', () => {
  // No server listens on port 9: a connection attempt would fail with another error than a usage error.
  const nowhere = ['--url', 'ws://127.0.0.1:9'];

  it('refuses a bad date before connecting', async () => {
    await expect(settleCommand(['run', '--date', '2026-02-30', ...nowhere], {})).rejects.toSatisfy((error) => error instanceof UsageError && /--date must be a real date/.test(error.message));
  });

  it('refuses a strategy file that cannot be read before connecting', async () => {
    const argv = [...submit.map((arg) => (arg === 'fee.json' ? '/nonexistent/fee.json' : arg)), ...nowhere];
    await expect(settleCommand(argv, {})).rejects.toSatisfy((error) => error instanceof UsageError && /--file \/nonexistent\/fee\.json: cannot be read/.test(error.message));
  });
});
