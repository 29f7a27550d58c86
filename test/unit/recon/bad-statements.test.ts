// Issue #17, bad input: whatever a channel's file holds, reading it ends in rows or in a report that refuses it with
// a clear reason — truncated at any point, broken or hostile XML (DOCTYPE, entity bombs, nesting), lines past the
// bound, formula-like cells, amounts with digits past the currency's scale — and never in a throw or a half-read.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseChannels } from '../../../src/core/recon/channel-config-parse.js';
import type { ChannelConfig } from '../../../src/core/recon/channel-config.js';
import { statementRows } from '../../../src/recon/statement-rows.js';

const fixtures = join(import.meta.dirname, '../../fixtures/statements');
const sample = (path: string): string => readFileSync(join(fixtures, path), 'utf8');

function channelOf(format: string, currency: string): ChannelConfig {
  return parseChannels({
    version: 1,
    channels: [{ name: 'c', format, currency, ledger: 1, timeZone: 'Asia/Shanghai', accounts: { clearing: '1' }, keys: [{ statement: 'merchantOrderNo', ledger: 'user_data_128', encode: 'sha256-128' }] }],
  }).channels[0]!;
}

const wechat = channelOf('wechatpay-tradebill', 'CNY');
const camt = channelOf('camt.053', 'EUR');
const mt940 = channelOf('mt940', 'EUR');
const bill = sample('wechatpay/gunsluo_tradebill_ALL_20210128.csv');
const camtText = sample('camt/camt053.v2.multi.statement.xml');
const mt940Text = sample('mt940/mt940_tests_jejik_generic.sta');

/** Problems of reading `text` as one file of the channel; rows must be absent or the report must refuse. */
function problemsOf(text: string, channel: ChannelConfig): string[] {
  const read = statementRows([{ name: 'f', text }], channel);
  return read.reports.flatMap((report) => report.problems.map((problem) => `${problem.code}: ${problem.message}`));
}

describe('bad statement files are refused with a reason', () => {
  it('the samples themselves read clean', () => {
    expect(problemsOf(bill, wechat)).toEqual([]);
    expect(problemsOf(camtText, camt)).toEqual([]);
    expect(problemsOf(mt940Text, mt940)).toEqual([]);
  });

  it('truncated at every tenth of the file: refused, never thrown (MT940: unless the cut ends a whole statement)', () => {
    for (const [text, channel] of [[bill, wechat], [camtText, camt], [mt940Text, mt940]] as const) {
      for (let tenth = 1; tenth < 10; tenth++) {
        const cut = text.slice(0, Math.floor((text.length * tenth) / 10));
        const problems = problemsOf(cut, channel);
        // Statements without a trailer (some banks write none) are whole once their closing balance is there.
        if (channel.format === 'mt940' && problems.length === 0) expect(cut, `mt940 cut at ${tenth}/10`).toMatch(/:62F:[^\n]*\n?$/);
        else expect(problems.length, `${channel.format} cut at ${tenth}/10`).toBeGreaterThan(0);
      }
    }
  });

  it('hostile XML: a DOCTYPE (entity expansion), nesting past the bound, not XML at all', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Document>&lol2;</Document>`;
    expect(problemsOf(bomb, camt).join()).toMatch(/DOCTYPE/);
    expect(problemsOf(`<Document>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</Document>`, camt).join()).toMatch(/deeper than/);
    expect(problemsOf('not xml at all', camt).length).toBeGreaterThan(0);
  });

  it('a line past the bound, a formula-like cell, an amount past the scale', () => {
    const lines = bill.split('\n');
    const long = [lines[0], `${lines[1]!.slice(0, -1)}${'x'.repeat(70_000)}\``, ...lines.slice(2)].join('\n');
    expect(problemsOf(long, wechat).length).toBeGreaterThan(0);
    const formula = bill.replace('`for testing', '`=1+cmd|calc!A0');
    expect(problemsOf(formula, wechat).join()).toMatch(/formula/);
    const inexact = bill.replace('`0.01,`0.00,`0,`0,', '`0.011,`0.00,`0,`0,');
    expect(problemsOf(inexact, wechat).length).toBeGreaterThan(0);
  });
});
