// The frame format: requests and replies round-trip between the client and gateway codecs, every
// malformed frame is refused with its catalog code, and no input whatsoever makes decoding throw
// anything but a TallyError (fast-check; the seed is printed on failure).

import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeReply, encodeRequest } from '../../../src/client/frame-codec.js';
import { TallyError } from '../../../src/core/errors.js';
import { requestIdMax } from '../../../src/core/limits.js';
import { Operation, firstUnusedWireOperation } from '../../../src/core/operations.js';
import { decodeRequest, encodeError, encodeReply, readRequest } from '../../../src/gateway/frame-codec.js';

const plain = new Packr({ useRecords: false });
const pack = (value: unknown) => plain.pack(value);

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TallyError);
    return (error as TallyError).code;
  }
  return 'no error';
}

describe('request frames', () => {
  it('round-trip from the client encoder to the gateway decoder', () => {
    const body = new Uint8Array(128).fill(7);
    const frame = decodeRequest(encodeRequest(42, Operation.create_transfers, body));
    expect(frame).toEqual({ requestId: 42, operation: Operation.create_transfers, body: expect.any(Uint8Array) });
    expect([...frame.body]).toEqual([...body]);
  });

  it('give the decoded body its own bytes, so the frame buffer may be reused or neutered', () => {
    const bytes = encodeRequest(1, Operation.lookup_accounts, new Uint8Array(16).fill(1));
    const frame = decodeRequest(bytes);
    bytes.fill(0);
    expect(frame.body.every((b) => b === 1)).toBe(true);
    expect(frame.body.byteOffset).toBe(0);
    expect(frame.body.buffer.byteLength).toBe(16);
  });

  it.each([1, 2 ** 31, requestIdMax])('accept request id %d', (requestId) => {
    expect(decodeRequest(encodeRequest(requestId, Operation.lookup_accounts, new Uint8Array(16))).requestId).toBe(requestId);
  });

  const refused: [string, unknown, string][] = [
    ['not an array', { requestId: 1 }, 'frame_invalid'],
    ['an array of 2', [1, 4], 'frame_invalid'],
    ['an array of 4', [1, 4, new Uint8Array(16), 0], 'frame_invalid'],
    ['request id 0', [0, 4, new Uint8Array(16)], 'frame_invalid'],
    ['a negative request id', [-1, 4, new Uint8Array(16)], 'frame_invalid'],
    ['a fractional request id', [1.5, 4, new Uint8Array(16)], 'frame_invalid'],
    ['a request id past u32', [2 ** 32, 4, new Uint8Array(16)], 'frame_invalid'],
    ['a u64 request id', [2n ** 60n, 4, new Uint8Array(16)], 'frame_invalid'],
    ['a string request id', ['1', 4, new Uint8Array(16)], 'frame_invalid'],
    ['operation 0', [1, 0, new Uint8Array(16)], 'operation_unknown'],
    ['operation 7 (journal only)', [1, 7, new Uint8Array(128)], 'operation_unknown'],
    ['a fractional operation', [1, 4.5, new Uint8Array(16)], 'operation_unknown'],
    ['a string operation', [1, 'lookup_accounts', new Uint8Array(16)], 'operation_unknown'],
    ['a string body', [1, 4, 'ids'], 'body_invalid'],
    ['an array body', [1, 4, [1, 2]], 'body_invalid'],
    ['a nil body', [1, 4, null], 'body_invalid'],
    ['a body of 100 bytes for a write', [1, 2, new Uint8Array(100)], 'body_invalid'],
    ['an empty write', [1, 1, new Uint8Array(0)], 'batch_empty'],
    ['8191 events', [1, 2, new Uint8Array(8191 * 128)], 'batch_too_large'],
    ['an empty lookup', [1, 5, new Uint8Array(0)], 'batch_empty'],
    ['ids of 15 bytes', [1, 5, new Uint8Array(15)], 'body_invalid'],
    ['a filter of 65 bytes', [1, 6, new Uint8Array(65)], 'body_invalid'],
  ];
  it.each(refused)('refuse %s', (_name, value, code) => {
    expect(codeOf(() => decodeRequest(pack(value)))).toBe(code);
  });

  it.each([
    ['empty input', new Uint8Array(0)],
    ['a truncated array', new Uint8Array([0x93, 0x01])],
    ['trailing bytes', Uint8Array.from([...encodeRequest(1, 4, new Uint8Array(16)), 0x00])],
    ['the reserved byte 0xc1', new Uint8Array([0xc1])],
  ])('refuse %s as frame_invalid', (_name, bytes) => {
    expect(codeOf(() => decodeRequest(bytes))).toBe('frame_invalid');
  });

  it('report the request id of a frame that is readable but wrong, and 0 when it is not', () => {
    expect(readRequest(pack([9, 99, new Uint8Array(16)]))).toMatchObject({ requestId: 9, error: { code: 'operation_unknown' } });
    expect(readRequest(new Uint8Array([0xc1]))).toMatchObject({ requestId: 0, error: { code: 'frame_invalid' } });
  });
});

/**
 * Every msgpack encoding that can hold `value`, as [name, bytes]: clients in other languages often write
 * fixed-width integers (a Go uint64, a Java long), and some write floats for whole numbers.
 */
function integerEncodings(value: bigint): [string, number[]][] {
  const be = (bytes: number, v: bigint, signed: boolean): number[] => {
    const view = new DataView(new ArrayBuffer(bytes));
    if (bytes === 1) signed ? view.setInt8(0, Number(v)) : view.setUint8(0, Number(v));
    if (bytes === 2) signed ? view.setInt16(0, Number(v)) : view.setUint16(0, Number(v));
    if (bytes === 4) signed ? view.setInt32(0, Number(v)) : view.setUint32(0, Number(v));
    if (bytes === 8) signed ? view.setBigInt64(0, v) : view.setBigUint64(0, v);
    return [...new Uint8Array(view.buffer)];
  };
  const fits = (bits: number, signed: boolean) => (signed ? value >= -(2n ** BigInt(bits - 1)) && value < 2n ** BigInt(bits - 1) : value >= 0n && value < 2n ** BigInt(bits));
  const all: [string, number[]][] = [];
  if (value >= 0n && value <= 127n) all.push(['positive fixint', [Number(value)]]);
  if (value >= -32n && value < 0n) all.push(['negative fixint', [Number(value) & 0xff]]);
  for (const [name, tag, bits] of [['uint8', 0xcc, 8], ['uint16', 0xcd, 16], ['uint32', 0xce, 32], ['uint64', 0xcf, 64]] as const) {
    if (fits(bits, false)) all.push([name, [tag, ...be(bits / 8, value, false)]]);
  }
  for (const [name, tag, bits] of [['int8', 0xd0, 8], ['int16', 0xd1, 16], ['int32', 0xd2, 32], ['int64', 0xd3, 64]] as const) {
    if (fits(bits, true)) all.push([name, [tag, ...be(bits / 8, value, true)]]);
  }
  const float = Number(value);
  if (BigInt(Math.fround(float)) === value) {
    const view = new DataView(new ArrayBuffer(4));
    view.setFloat32(0, float);
    all.push(['float32', [0xca, ...new Uint8Array(view.buffer)]]);
  }
  if (BigInt(float) === value) {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, float);
    all.push(['float64', [0xcb, ...new Uint8Array(view.buffer)]]);
  }
  return all;
}

const bin8 = (bytes: number): number[] => [0xc4, bytes, ...new Uint8Array(bytes)];
const lookupBody = bin8(16);

describe('integer fields in every msgpack encoding', () => {
  // A request id or operation is read by its value: any integer encoding of it (and a float whose value is
  // a whole number) is that value; out of range is refused with the field's code, never wrapped or rounded.
  const requestIds = [1n, 127n, 128n, 255n, 256n, 32767n, 65535n, 65536n, BigInt(requestIdMax)];
  const accepted = requestIds.flatMap((id) => integerEncodings(id).map(([name, bytes]) => [`${id} as ${name}`, id, bytes] as const));
  it.each(accepted)('read request id %s', (_name, id, idBytes) => {
    const frame = decodeRequest(Uint8Array.from([0x93, ...idBytes, Operation.lookup_accounts, ...lookupBody]));
    expect(frame).toMatchObject({ requestId: Number(id), operation: Operation.lookup_accounts });
  });

  const operations = [Operation.create_transfers, Operation.lookup_accounts, Operation.get_snapshot_status].map(BigInt);
  const bodyFor = (op: bigint) => (op === BigInt(Operation.create_transfers) ? [0xc5, 0, 128, ...new Uint8Array(128)] : op === BigInt(Operation.get_snapshot_status) ? bin8(0) : lookupBody);
  const operationCases = operations.flatMap((op) => integerEncodings(op).map(([name, bytes]) => [`${op} as ${name}`, op, bytes] as const));
  it.each(operationCases)('read operation %s', (_name, op, opBytes) => {
    const frame = decodeRequest(Uint8Array.from([0x93, 0x07, ...opBytes, ...bodyFor(op)]));
    expect(frame).toMatchObject({ requestId: 7, operation: Number(op) });
  });

  const badRequestIds = [0n, -1n, -32n, BigInt(requestIdMax) + 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, -(2n ** 63n)];
  const refusedIds = badRequestIds.flatMap((id) => integerEncodings(id).map(([name, bytes]) => [`${id} as ${name}`, bytes] as const));
  it.each(refusedIds)('refuse request id %s as frame_invalid', (_name, idBytes) => {
    expect(codeOf(() => decodeRequest(Uint8Array.from([0x93, ...idBytes, Operation.lookup_accounts, ...lookupBody])))).toBe('frame_invalid');
  });

  // 2^32 + 4 and 2^64 + 4 (mod) would read as lookup_accounts if a wide integer were truncated.
  const badOperations = [0n, -1n, 7n, BigInt(firstUnusedWireOperation), 256n + 4n, 2n ** 32n + 4n, 2n ** 53n + 4n, 2n ** 64n - 1n, -(2n ** 63n) + 4n];
  const refusedOperations = badOperations.flatMap((op) => integerEncodings(op).map(([name, bytes]) => [`${op} as ${name}`, bytes] as const));
  it.each(refusedOperations)('refuse operation %s as operation_unknown', (_name, opBytes) => {
    const bytes = Uint8Array.from([0x93, 0x07, ...opBytes, ...lookupBody]);
    expect(readRequest(bytes)).toMatchObject({ requestId: 7, error: { code: 'operation_unknown' } });
  });

  it.each([
    ['a fractional float32', [0xca, 0x3f, 0xc0, 0x00, 0x00]],
    ['a float64 NaN', [0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]],
    ['a float64 infinity', [0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]],
  ])('refuse %s as a request id or an operation', (_name, field) => {
    expect(codeOf(() => decodeRequest(Uint8Array.from([0x93, ...field, 0x04, ...lookupBody])))).toBe('frame_invalid');
    expect(codeOf(() => decodeRequest(Uint8Array.from([0x93, 0x01, ...field, ...lookupBody])))).toBe('operation_unknown');
  });

  it.each([
    ['fixarray and bin8', [0x93], bin8(16)],
    ['array16 and bin16', [0xdc, 0, 3], [0xc5, 0, 16, ...new Uint8Array(16)]],
    ['array32 and bin32', [0xdd, 0, 0, 0, 3], [0xc6, 0, 0, 0, 16, ...new Uint8Array(16)]],
  ])('read a frame written with %s', (_name, header, body) => {
    const frame = decodeRequest(Uint8Array.from([...header, 0xcf, 0, 0, 0, 0, 0, 0, 0, 9, 0xd3, 0, 0, 0, 0, 0, 0, 0, 4, ...body]));
    expect(frame).toMatchObject({ requestId: 9, operation: Operation.lookup_accounts });
    expect(frame.body.byteLength).toBe(16);
  });

  const replyIds = [0n, 1n, 300n, BigInt(requestIdMax)].flatMap((id) => integerEncodings(id).map(([name, bytes]) => [`${id} as ${name}`, id, bytes] as const));
  it.each(replyIds)('read reply request id %s, with status 0 as uint64', (_name, id, idBytes) => {
    const reply = decodeReply(Uint8Array.from([0x93, ...idBytes, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0, 0xc4, 1, 5]));
    expect(reply).toMatchObject({ requestId: Number(id), body: expect.any(Uint8Array) });
  });

  it.each(integerEncodings(0n).map(([name, bytes]) => [name, bytes] as const))('read reply status 0 as %s', (_name, statusBytes) => {
    expect(decodeReply(Uint8Array.from([0x93, 0x01, ...statusBytes, 0xc4, 1, 5])).error).toBeUndefined();
  });

  it.each([-1n, BigInt(requestIdMax) + 1n, 2n ** 64n - 1n].flatMap((id) => integerEncodings(id).map(([name, bytes]) => [`${id} as ${name}`, bytes] as const)))(
    'refuse reply request id %s',
    (_name, idBytes) => {
      expect(codeOf(() => decodeReply(Uint8Array.from([0x93, ...idBytes, 0x00, 0xc4, 1, 5])))).toBe('frame_invalid');
    },
  );
});

describe('reply frames', () => {
  it('round-trip a reply body', () => {
    const reply = decodeReply(encodeReply(3, new Uint8Array([1, 2, 3, 4])));
    expect(reply.requestId).toBe(3);
    expect(reply.error).toBeUndefined();
    expect(reply.error ? [] : [...reply.body]).toEqual([1, 2, 3, 4]);
  });

  it('round-trip an error as a TallyError with the same code and message', () => {
    const reply = decodeReply(encodeError(3, 'overloaded', 'too many requests'));
    expect(reply.requestId).toBe(3);
    expect(reply.error).toBeInstanceOf(TallyError);
    expect(reply.error?.code).toBe('overloaded');
    expect(reply.error?.message).toBe('overloaded: too many requests');
  });

  it.each([
    ['not msgpack', new Uint8Array([0xc1])],
    ['not an array', pack('hello')],
    ['a negative request id', pack([-1, 0, new Uint8Array()])],
    ['status 1', pack([1, 1, new Uint8Array()])],
    ['a code with a binary message', pack([1, 'overloaded', new Uint8Array()])],
  ])('refuse a reply that is %s', (_name, bytes) => {
    expect(codeOf(() => decodeReply(bytes))).toBe('frame_invalid');
  });

  it('turn an error code the client does not know into frame_invalid, keeping the code in the message', () => {
    expect(decodeReply(pack([1, 'brand_new_code', 'why'])).error?.message).toBe('frame_invalid: unknown error code brand_new_code: why');
    const reply = decodeReply(pack([1, 'brand_new_code', 'why']));
    expect(reply.error?.code).toBe('frame_invalid');
  });
});

describe('fuzz: decoding never throws anything but TallyError', () => {
  const onlyTallyErrors = (decode: (bytes: Uint8Array) => unknown) => (bytes: Uint8Array) => {
    try {
      decode(bytes);
    } catch (error) {
      if (!(error instanceof TallyError)) throw error;
    }
  };
  const anyValue = fc.anything({
    withBigInt: true,
    withBoxedValues: false,
    withMap: true,
    withSet: false,
    withDate: true,
    withTypedArray: true,
    withNullPrototype: true,
    withObjectString: true,
  });
  const nearFrames = fc.tuple(
    fc.oneof(fc.integer(), fc.double(), fc.bigInt(), fc.constant(0), fc.constant(requestIdMax + 1), anyValue),
    fc.oneof(fc.integer({ min: -2, max: 9 }), fc.double(), anyValue),
    fc.oneof(fc.uint8Array({ maxLength: 600 }), anyValue),
  );
  const runs = { numRuns: 2000 };
  /** Packs what msgpack can carry; values it cannot (e.g. bigints past 64 bits) are skipped. */
  const packed = (decode: (bytes: Uint8Array) => unknown) => (value: unknown) => {
    let bytes: Uint8Array;
    try {
      bytes = pack(value);
    } catch {
      return;
    }
    onlyTallyErrors(decode)(bytes);
  };

  it('random bytes into decodeRequest', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), onlyTallyErrors(decodeRequest)), runs);
  });

  it('random msgpack values into decodeRequest', () => {
    fc.assert(fc.property(anyValue, packed(decodeRequest)), runs);
  });

  it('near-miss [id, operation, body] frames into decodeRequest', () => {
    fc.assert(fc.property(nearFrames, packed(decodeRequest)), runs);
  });

  it('valid frames with random bytes flipped into decodeRequest', () => {
    const frame = encodeRequest(77, Operation.create_transfers, new Uint8Array(256));
    const flips = fc.array(fc.tuple(fc.nat(frame.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(flips, (changes) => {
        const bytes = Uint8Array.from(frame);
        for (const [at, value] of changes) bytes[at] = value;
        onlyTallyErrors(decodeRequest)(bytes);
      }),
      runs,
    );
  });

  it('msgpack extension values of every type, alone and as any field of a frame', () => {
    const ext = fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
      .map(([type, payload]) => [0xc7, payload.length, type, ...payload]);
    const field = fc.oneof(ext, fc.constant([0x01]), fc.constant([0x04]), fc.constant([0xc4, 16, ...new Uint8Array(16)]));
    const frames = fc.oneof(
      ext,
      fc.tuple(field, field, field).map((fields) => [0x93, ...fields.flat()]),
    );
    fc.assert(fc.property(frames, (bytes) => onlyTallyErrors(decodeRequest)(Uint8Array.from(bytes))), runs);
  });

  it('random bytes and values into decodeReply', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), onlyTallyErrors(decodeReply)), runs);
    fc.assert(fc.property(anyValue, packed(decodeReply)), runs);
    fc.assert(fc.property(nearFrames, packed(decodeReply)), runs);
  });
});
