// The settlement configuration (`--settle-config`): the example in config/ reads, and every rule refuses a file that
// breaks it, naming the JSON path of the offending value.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calendarCovers, readSettleConfig } from '../../../../src/core/settle/settle-config.js';
import { SettleError } from '../../../../src/core/settle/settle-errors.js';
import { repoRoot } from '../../../support/server-process.js';

const example = JSON.parse(readFileSync(join(repoRoot(), 'config', 'settle.example.json'), 'utf8')) as Record<string, unknown>;
type Json = Record<string, unknown>;
const clone = (): Json => structuredClone(example);
const channel0 = (doc: Json): Json => (doc.channels as Json[])[0]!;
const merchant0 = (doc: Json): Json => (doc.merchants as Json[])[0]!;

function refusal(change: (doc: Json) => void): string {
  const doc = clone();
  change(doc);
  try {
    readSettleConfig(doc);
  } catch (error) {
    expect(error).toBeInstanceOf(SettleError);
    expect((error as SettleError).code).toBe('config_invalid');
    return (error as Error).message;
  }
  throw new Error('the config was taken');
}

describe('readSettleConfig', () => {
  it('reads the example: accounts by role, codes to products, merchants by number, terms, calendar', () => {
    const config = readSettleConfig(example);
    expect(config.ledger).toBe(156);
    expect(config.channels[0]).toMatchObject({ name: 'wechat', inTransitAccountId: 1001n, feeIncomeAccountId: 1002n, payoutAccountId: 1003n, recon: 'wechat-main' });
    expect([...config.channels[0]!.payments]).toEqual([[1101, 'qr'], [1102, 'app']]);
    expect([...config.channels[0]!.refunds]).toEqual([[1201, 'qr'], [1202, 'app']]);
    expect(config.merchantsByNumber.get(2)?.id).toBe('m-books');
    expect(config.terms.get('m-coffee')).toMatchObject({ cycleText: 'D1', minimumPayoutMinor: 10000n, reserveBps: 1000, reserveDays: 90 });
    expect(config.terms.get('m-books')).toMatchObject({ cycleText: 'T+1', minimumPayoutMinor: 0n, reserveBps: 0 });
    expect(config.accounts.transferCodes.payout).toBe(805);
    expect(config.accounts.merchants.get('m-books')).toEqual({ availableAccountId: 2011n, reserveAccountId: 2012n });
    expect([...config.accounts.receivers]).toEqual([['agent-east', 3001n], ['platform', 3002n]]);
    expect(config.terms.get('m-books')?.split).toEqual([{ receiver: 'agent-east', share: { bps: 300 } }, { receiver: 'platform', share: { ratio: '0.015' } }]);
    expect(config.terms.get('m-coffee')?.split).toBeUndefined();
    expect(calendarCovers(config, 20261001)).toBe(true);
    expect(calendarCovers(config, 20280101)).toBe(false);
  });

  it('refuses each broken rule, naming where', () => {
    expect(refusal((doc) => (doc.version = 2))).toContain('$.version');
    expect(refusal((doc) => (doc.extra = 1))).toContain('$.extra: is no field here');
    expect(refusal((doc) => (doc.ledger = 0))).toContain('$.ledger');
    expect(refusal((doc) => delete (doc.transferCodes as Json).fee)).toContain('$.transferCodes.fee');
    expect(refusal((doc) => ((doc.calendar as Json).holidays = ['2026-02-30']))).toContain('$.calendar');
    expect(refusal((doc) => (doc.channels = []))).toContain('$.channels: names no channel');
    expect(refusal((doc) => (channel0(doc).inTransitAccount = 1001))).toContain('$.channels[0].inTransitAccount: must be an account id as a decimal string');
    expect(refusal((doc) => (channel0(doc).inTransitAccount = '0'))).toContain('$.channels[0].inTransitAccount');
    expect(refusal((doc) => (channel0(doc).payoutAccount = (2n ** 128n).toString()))).toContain('over the largest id');
    expect(refusal((doc) => (channel0(doc).payments = {}))).toContain('$.channels[0].payments: names no code');
    expect(refusal((doc) => (channel0(doc).payments = { '70000': 'qr' }))).toContain('$.channels[0].payments.70000');
    expect(refusal((doc) => (channel0(doc).refunds = { '1101': 'qr' }))).toContain('is a payment code too');
    expect(refusal((doc) => (channel0(doc).payments = { '802': 'qr' }))).toContain("settlement's fee code");
    expect(refusal((doc) => (channel0(doc).name = 'we chat'))).toContain('$.channels[0].name');
    expect(refusal((doc) => (doc.channels as Json[]).push(structuredClone(channel0(doc))))).toContain('channel wechat is given at $.channels[0].name too');
    expect(refusal((doc) => (merchant0(doc).number = 0))).toContain('$.merchants[0].number');
    expect(refusal((doc) => (merchant0(doc).cycle = 'W1'))).toContain('$.merchants[0]');
    expect(refusal((doc) => (merchant0(doc).minimumPayoutMinor = '-1'))).toContain('$.merchants[0].minimumPayoutMinor');
    expect(refusal((doc) => (merchant0(doc).reserveDays = 0))).toContain('reserveDays must be at least 1');
    expect(refusal((doc) => ((doc.merchants as Json[])[1]!.number = 1))).toContain('merchant number 1 is given at $.merchants[0].number too');
    expect(refusal((doc) => (merchant0(doc).reserveAccount = '1001'))).toContain('account 1001 is given at $.channels[0].inTransitAccount too');
    const receivers = (doc: Json): Json[] => doc.receivers as Json[];
    expect(refusal((doc) => (receivers(doc)[1]!.name = 'agent-east'))).toContain('$.receivers[1].name: receiver agent-east is given twice');
    expect(refusal((doc) => (receivers(doc)[0]!.account = '2001'))).toContain('account 2001 is given at $.merchants[0].availableAccount too');
    expect(refusal((doc) => (merchant0(doc).split = [{ receiver: 'nobody', bps: 10 }]))).toContain('$.merchants[0].split[0].receiver: nobody is not in $.receivers');
    expect(refusal((doc) => (merchant0(doc).split = [{ receiver: 'platform', bps: 10, ratio: '0.1' }]))).toContain('$.merchants[0].split[0]: gives its share as bps or as ratio');
    expect(refusal((doc) => (merchant0(doc).split = [{ receiver: 'platform', bps: 9000 }, { receiver: 'agent-east', ratio: '0.2' }]))).toContain('$.merchants[0]');
    expect(refusal((doc) => (merchant0(doc).split = [{ receiver: 'platform', ratio: 'a lot' }]))).toContain('$.merchants[0]');
  });
});
