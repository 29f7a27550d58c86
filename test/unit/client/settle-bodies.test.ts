// The client's settlement bodies (issue #18) are read back by the readers the gateway and the settle service use
// (core/wire/settle-bodies.ts): every encoder round-trips, a wrong JavaScript type is a TypeError naming the
// argument before anything is sent, and a value of the right type that the wire refuses is the server's body_invalid.

import { describe, expect, it } from 'vitest';
import {
  encodeSettleApproval,
  encodeSettleRejection,
  encodeSettleRunDate,
  encodeSettleStatementQuery,
  encodeSettleStrategiesFilter,
  encodeSettleStrategySubmission,
  type SettleStrategyInput,
} from '../../../src/client/settle.js';
import { parseBusinessDay } from '../../../src/core/business-day.js';
import {
  checkSettleBody,
  parseInstantNs,
  readSettleChangeId,
  readSettleRunQuery,
  readSettleStatementQuery,
  readSettleStrategiesQuery,
  readSettleStrategySubmission,
  settleChangesPageMax,
  type SettleOperationName,
} from '../../../src/core/wire/settle-bodies.js';

const changeId = 'ssc_0123456789abcdef0123';
const strategy = { id: 'fee/card', version: 3, inputs: ['amount'], steps: [{ let: 'fee', value: { mul: ['amount', '0.006'] } }] };
const submission: SettleStrategyInput = { merchant: 'm-001', product: 'card', effectiveFrom: '2026-12-01T00:00:00Z', strategy, reason: 'new card rate from December' };

const bodyInvalid = (run: () => unknown, message: RegExp): void => {
  expect(run).toThrow(expect.objectContaining({ code: 'body_invalid', message: expect.stringMatching(message) }));
};

describe('submit_settle_strategy', () => {
  it('round-trips merchant, product, instant, document and reason', () => {
    expect(readSettleStrategySubmission(encodeSettleStrategySubmission(submission))).toEqual({
      kind: 'fee', merchant: 'm-001', product: 'card', effectiveFromNs: parseInstantNs('2026-12-01T00:00:00Z', 'test'), strategy, reason: 'new card rate from December',
    });
  });

  it('takes a reserve strategy for the merchant, never for one product', () => {
    const { product: _product, ...merchantWide } = submission;
    expect(readSettleStrategySubmission(encodeSettleStrategySubmission({ ...merchantWide, kind: 'reserve' })).kind).toBe('reserve');
    expect(() => readSettleStrategySubmission(encodeSettleStrategySubmission({ ...submission, kind: 'reserve' }))).toThrow(/leave product out/);
    expect(() => readSettleStrategySubmission(encodeSettleStrategySubmission({ ...submission, kind: 'payout' as 'fee' }))).toThrow(/kind must be one of fee, reserve, settlement/);
  });

  it.each([
    ['left out', (({ product: _product, ...rest }) => rest)(submission)],
    ['null', { ...submission, product: null }],
  ])('leaves product out when %s: the strategy of every product without its own', (_, input) => {
    const body = encodeSettleStrategySubmission(input);
    expect(JSON.parse(new TextDecoder().decode(body))).not.toHaveProperty('product');
    expect(readSettleStrategySubmission(body).product).toBeNull();
  });

  it('keeps a fractional instant to the nanosecond', () => {
    expect(readSettleStrategySubmission(encodeSettleStrategySubmission({ ...submission, effectiveFrom: '2026-12-01T08:30:00.123456789Z' })).effectiveFromNs).toBe(
      BigInt(Date.UTC(2026, 11, 1, 8, 30)) * 1_000_000n + 123_456_789n,
    );
  });

  it.each<[string, unknown, RegExp]>([
    ['no input', null, /submitSettleStrategy: pass/],
    ['merchant not a string', { ...submission, merchant: 7 }, /merchant must be a string/],
    ['product not a string', { ...submission, product: 1 }, /product must be a string/],
    ['effectiveFrom a Date', { ...submission, effectiveFrom: new Date() }, /effectiveFrom must be an ISO instant string/],
    ['strategy an array', { ...submission, strategy: [] }, /strategy must be a strategy document/],
    ['strategy null', { ...submission, strategy: null }, /strategy must be a strategy document/],
    ['reason blank', { ...submission, reason: '  ' }, /reason must be a non-empty string/],
    ['reason missing', { ...submission, reason: undefined }, /reason must be a non-empty string/],
  ])('refuses %s with a TypeError', (_, input, message) => {
    expect(() => encodeSettleStrategySubmission(input as SettleStrategyInput)).toThrow(TypeError);
    expect(() => encodeSettleStrategySubmission(input as SettleStrategyInput)).toThrow(message);
  });

  it.each<[string, Partial<SettleStrategyInput>, RegExp]>([
    ['a merchant with a space', { merchant: 'm 1' }, /field merchant must be 1 to 64/],
    ['an instant with an offset', { effectiveFrom: '2026-12-01T00:00:00+01:00' }, /effectiveFrom must be an instant in UTC/],
    ['an instant with no zone', { effectiveFrom: '2026-12-01T00:00:00' }, /effectiveFrom must be an instant in UTC/],
    ['a date that is none', { effectiveFrom: '2026-02-30T00:00:00Z' }, /is no instant/],
  ])('leaves %s to the server (body_invalid)', (_, change, message) => {
    const body = encodeSettleStrategySubmission({ ...submission, ...change });
    bodyInvalid(() => readSettleStrategySubmission(body), message);
  });
});

describe('approve_settle_strategy and reject_settle_strategy', () => {
  it('round-trip the id, and the rejection reason or its absence', () => {
    expect(readSettleChangeId(encodeSettleApproval(changeId), 'approve_settle_strategy')).toEqual({ id: changeId });
    expect(readSettleChangeId(encodeSettleRejection(changeId, 'rate too low'), 'reject_settle_strategy')).toEqual({ id: changeId, reason: 'rate too low' });
    expect(readSettleChangeId(encodeSettleRejection(changeId), 'reject_settle_strategy')).toEqual({ id: changeId, reason: null });
  });

  it('refuse an empty or missing id, or a reason that is no string, with a TypeError', () => {
    expect(() => encodeSettleApproval('')).toThrow(/approveSettleStrategy: id must be/);
    expect(() => encodeSettleApproval(undefined as unknown as string)).toThrow(TypeError);
    expect(() => encodeSettleRejection(changeId, 5 as unknown as string)).toThrow(/rejectSettleStrategy: reason must be a string/);
  });

  it('leave an id of the wrong shape to the server', () => {
    bodyInvalid(() => readSettleChangeId(encodeSettleApproval('ssc_xyz'), 'approve_settle_strategy'), /strategy change id/);
    // A rejection body read as an approval: the reason is a field approve does not take.
    bodyInvalid(() => readSettleChangeId(encodeSettleRejection(changeId, 'no'), 'approve_settle_strategy' as never), /unknown field "reason"/);
  });
});

describe('get_settle_strategies', () => {
  it('sends an empty filter as {}: every merchant and status, newest first, a full page', () => {
    expect(readSettleStrategiesQuery(encodeSettleStrategiesFilter())).toEqual({ merchant: null, status: null, before: null, limit: settleChangesPageMax });
    expect(readSettleStrategiesQuery(encodeSettleStrategiesFilter({}))).toEqual({ merchant: null, status: null, before: null, limit: settleChangesPageMax });
  });

  it('round-trips every field', () => {
    expect(readSettleStrategiesQuery(encodeSettleStrategiesFilter({ merchant: 'm-001', status: 'pending', before: changeId, limit: 10 }))).toEqual({
      merchant: 'm-001', status: 'pending', before: changeId, limit: 10,
    });
  });

  it('refuses a filter that is no object with a TypeError, and passes a misspelt field on for the server to name', () => {
    expect(() => encodeSettleStrategiesFilter('pending' as never)).toThrow(/getSettleStrategies: filter must be an object/);
    bodyInvalid(() => readSettleStrategiesQuery(encodeSettleStrategiesFilter({ merchnt: 'm-001' } as never)), /unknown field "merchnt"/);
    bodyInvalid(() => readSettleStrategiesQuery(encodeSettleStrategiesFilter({ status: 'done' as never })), /field status must be one of/);
    bodyInvalid(() => readSettleStrategiesQuery(encodeSettleStrategiesFilter({ limit: 0 })), /field limit must be an integer/);
  });
});

describe('settle_preview, settle_run and get_settle_statement', () => {
  it.each(['settle_preview', 'settle_run'] as const)('%s round-trips the run date', (operation) => {
    const body = encodeSettleRunDate('2026-03-02', operation === 'settle_run' ? 'settleRun' : 'settlePreview');
    expect(readSettleRunQuery(body, operation)).toEqual({ date: parseBusinessDay('2026-03-02'), after: null, limit: 100 });
    const paged = encodeSettleRunDate('2026-03-02', 'settlePreview', { after: 'm-007', limit: 400 });
    expect(readSettleRunQuery(paged, 'settle_preview')).toEqual({ date: parseBusinessDay('2026-03-02'), after: 'm-007', limit: 400 });
    expect(() => readSettleRunQuery(encodeSettleRunDate('2026-03-02', 'settleRun', { limit: 401 }), 'settle_run')).toThrow(/limit/);
  });

  it('get_settle_statement round-trips merchant and date', () => {
    expect(readSettleStatementQuery(encodeSettleStatementQuery('m-001', '2026-03-02'))).toEqual({ merchant: 'm-001', date: parseBusinessDay('2026-03-02'), after: 0, limit: 2000 });
    expect(readSettleStatementQuery(encodeSettleStatementQuery('m-001', '2026-03-02', 3001, 50))).toEqual({ merchant: 'm-001', date: parseBusinessDay('2026-03-02'), after: 3001, limit: 50 });
  });

  it('refuse a date or merchant that is no string with a TypeError naming the call', () => {
    expect(() => encodeSettleRunDate(20260302 as unknown as string, 'settleRun')).toThrow(/settleRun: date must be a string/);
    expect(() => encodeSettleRunDate(undefined as unknown as string, 'settlePreview')).toThrow(/settlePreview: date must be a string/);
    expect(() => encodeSettleStatementQuery(undefined as unknown as string, '2026-03-02')).toThrow(/getSettleStatement: merchant must be a string/);
    expect(() => encodeSettleStatementQuery('m-001', null as unknown as string)).toThrow(/getSettleStatement: date must be a string/);
  });

  it.each(['2026-02-30', '20260302', '2026-3-2', ''])('leave the date %j to the server (body_invalid)', (date) => {
    bodyInvalid(() => readSettleRunQuery(encodeSettleRunDate(date, 'settleRun'), 'settle_run'), /date/);
    bodyInvalid(() => readSettleStatementQuery(encodeSettleStatementQuery('m-001', date)), /date/);
  });
});

describe('every body the client builds passes the gateway check', () => {
  it.each<[SettleOperationName, Uint8Array]>([
    ['submit_settle_strategy', encodeSettleStrategySubmission(submission)],
    ['approve_settle_strategy', encodeSettleApproval(changeId)],
    ['reject_settle_strategy', encodeSettleRejection(changeId, 'no')],
    ['get_settle_strategies', encodeSettleStrategiesFilter({ status: 'approved' })],
    ['settle_preview', encodeSettleRunDate('2026-03-02', 'settlePreview')],
    ['settle_run', encodeSettleRunDate('2026-03-02', 'settleRun')],
    ['get_settle_statement', encodeSettleStatementQuery('m-001', '2026-03-02')],
  ])('%s', (operation, body) => {
    expect(() => checkSettleBody(operation, body)).not.toThrow();
  });
});
