// Well-framed hostile input for the gateway: WebSocket binary messages that are msgpack (or nearly), each
// with the answer core/wire.ts and docs/PROTOCOL.md promise for it — an error code under the request id it
// could read (0 when none), a reply, or the socket closed with a given code. Built by hand where the
// client's codec cannot say it: uint64/int64 encodings of small numbers, broken envelopes, reserved
// bytes set in records. Pure: bytes and expectations, no sockets.

import { Packr } from 'msgpackr';
import { encodeAccountOperations, encodeAccounts, encodeIds, encodeTransfers, type AccountInput, type AccountOperationInput, type TransferInput } from '../../src/core/wire/records.js';
import { AccountLayout, AccountOperationLayout, TransferLayout } from '../../src/core/layout.js';
import type { ErrorCodeName } from '../../src/core/errors.js';
import { batchEventsMax, eventBytes, frameBytesMax } from '../../src/core/limits.js';
import { Operation, firstUnusedWireOperation } from '../../src/core/operations.js';
import type { ResultName } from '../../src/core/result-codes.js';
import { wireMsgpackOptions } from '../../src/core/wire/wire.js';
import type { Attempt } from './model.js';

const packr = new Packr({ ...wireMsgpackOptions });

/** What the gateway must do with a frame. */
export type RawExpect =
  | { error: ErrorCodeName; requestId: number }
  /** A reply under `requestId`; for a write, one result per event, each as listed. */
  | { reply: number; results?: readonly ResultName[] }
  /** The socket closed with one of these codes (no reply). */
  | { close: readonly number[] };

export interface RawFrame {
  /** A string goes out as a text frame. */
  bytes: Uint8Array | string;
  expect: RawExpect;
  why: string;
  /** Events carried by the frame, settled from its results (or as refused by its error). */
  attempts?: Attempt<unknown>[];
  /** How long its answer may take (default: socket-actions' frameReplyMsMax). */
  replyMsMax?: number;
}

/** WebSocket close codes: 1003 unsupported data (a text frame), 1006 dropped without a close frame. */
export const CloseCode = { unsupportedData: 1003, abnormal: 1006, policy: 1008 } as const;

/** A msgpack array of `values`, each packed on its own (so a piece may be hand-encoded bytes). */
function array(...pieces: Uint8Array[]): Uint8Array {
  return Buffer.concat([Uint8Array.of(0x90 | pieces.length), ...pieces]);
}

const pack = (value: unknown): Uint8Array => packr.pack(value);

/** msgpack uint64 (0xcf) of a small number: the widest encoding of a value that fits in a fixint. */
function uint64(value: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = 0xcf;
  new DataView(out.buffer).setBigUint64(1, BigInt(value));
  return out;
}

/** msgpack int64 (0xd3) of a small non-negative number. */
function int64(value: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = 0xd3;
  new DataView(out.buffer).setBigInt64(1, BigInt(value));
  return out;
}

export function requestBytes(requestId: number, operation: number, body: Uint8Array): Uint8Array {
  return pack([requestId, operation, body]);
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/**
 * Envelopes and bodies the gateway must refuse with a specific error, each under request id `id` where
 * the frame lets it be read. `anyId` is an account id to look up (the answer may be empty).
 */
export function brokenFrames(id: number, anyId: bigint): RawFrame[] {
  const ids = encodeIds([anyId]);
  const frame = (bytes: Uint8Array, error: ErrorCodeName, requestId: number, why: string): RawFrame => ({ bytes, expect: { error, requestId }, why });
  return [
    frame(Uint8Array.of(0xc1), 'frame_invalid', 0, 'not msgpack (0xc1 is never used)'),
    frame(Uint8Array.of(0x93, 0x01), 'frame_invalid', 0, 'an array cut short'),
    frame(pack(new Map([['op', 4]])), 'frame_invalid', 0, 'a map, not an array'),
    frame(pack([id, Operation.lookup_accounts]), 'frame_invalid', id, 'an array of two'),
    frame(pack([id, Operation.lookup_accounts, ids, 0]), 'frame_invalid', id, 'an array of four'),
    frame(pack([0, Operation.lookup_accounts, ids]), 'frame_invalid', 0, 'request id 0'),
    frame(pack([-id, Operation.lookup_accounts, ids]), 'frame_invalid', 0, 'a negative request id'),
    frame(pack([id + 0.5, Operation.lookup_accounts, ids]), 'frame_invalid', 0, 'a fractional request id'),
    frame(pack([2 ** 32, Operation.lookup_accounts, ids]), 'frame_invalid', 0, 'request id 2^32'),
    frame(pack([String(id), Operation.lookup_accounts, ids]), 'frame_invalid', 0, 'a string request id'),
    ...[0, 7, 8, 9, 17, 18, 19, 20, 39, 48, firstUnusedWireOperation, 255, 65535].map((op) => frame(pack([id, op, ids]), 'operation_unknown', id, `operation ${op}`)),
    frame(pack([id, 'lookup_accounts', ids]), 'operation_unknown', id, 'an operation by name'),
    frame(pack([id, Operation.query_transfers, ids]), 'body_invalid', id, 'a query filter of 16 bytes'),
    frame(pack([id, Operation.lookup_accounts, 'ids']), 'body_invalid', id, 'a string body'),
    frame(pack([id, Operation.lookup_accounts, null]), 'body_invalid', id, 'a nil body'),
    frame(pack([id, Operation.lookup_accounts, new Uint8Array(15)]), 'body_invalid', id, 'ids of 15 bytes'),
    frame(pack([id, Operation.lookup_accounts, new Uint8Array(0)]), 'batch_empty', id, 'no ids'),
    frame(pack([id, Operation.create_transfers, new Uint8Array(0)]), 'batch_empty', id, 'no transfers'),
    frame(pack([id, Operation.create_accounts, new Uint8Array(eventBytes + 1)]), 'body_invalid', id, 'a ragged account batch'),
    frame(pack([id, Operation.get_account_transfers, new Uint8Array(63)]), 'body_invalid', id, 'a history filter of 63 bytes'),
    frame(pack([id, Operation.close_day, new Uint8Array(3)]), 'body_invalid', id, 'a close_day body of 3 bytes'),
    frame(pack([id, Operation.get_trial_balance, new Uint8Array(4)]), 'body_invalid', id, 'a books query of 4 bytes'),
    frame(pack([id, Operation.get_bookkeeping_status, new Uint8Array(1)]), 'body_invalid', id, 'get_bookkeeping_status with a body'),
    frame(pack([id, Operation.approve_adjustment, new TextEncoder().encode('{"id":')]), 'body_invalid', id, 'an admin body that is not JSON'),
    frame(pack([id, Operation.approve_adjustment, json(['adj_1'])]), 'body_invalid', id, 'an admin body that is an array'),
    frame(pack([id, Operation.approve_adjustment, Uint8Array.of(0xff, 0xfe)]), 'body_invalid', id, 'an admin body that is not UTF-8'),
    frame(pack([id, Operation.get_snapshot_status, new Uint8Array(2)]), 'body_invalid', id, 'get_snapshot_status with a body'),
    frame(pack([id, Operation.submit_adjustment, new Uint8Array(2)]), 'body_invalid', id, 'a submission shorter than its header length'),
    frame(pack([id, Operation.recon_upload, new Uint8Array(2)]), 'body_invalid', id, 'a statement upload shorter than its header length'),
    frame(pack([id, Operation.get_recon_batch, json({ id: 'rcb_1' })]), 'body_invalid', id, 'a recon batch id that is no batch id'),
  ];
}

/** One create batch of `events` records larger than batchEventsMax: refused whole. */
export function oversizedBatch(id: number): RawFrame {
  return { bytes: pack([id, Operation.create_transfers, new Uint8Array((batchEventsMax + 1) * eventBytes)]), expect: { error: 'batch_too_large', requestId: id }, why: `${batchEventsMax + 1} transfers in one frame` };
}

/** Frames after which the socket must be closed: a text frame, and a frame above frameBytesMax. */
export function closingFrames(): RawFrame[] {
  return [
    { bytes: '[1,4,"text"]', expect: { close: [CloseCode.unsupportedData] }, why: 'a text frame' },
    { bytes: new Uint8Array(frameBytesMax + 1), expect: { close: [CloseCode.abnormal, CloseCode.policy] }, why: `a frame of ${frameBytesMax + 1} bytes` },
  ];
}

/**
 * Records with a reserved or output byte set: a reply whose one result is reserved_field. The events are
 * the caller's to track (their ids must never be stored).
 */
export function reservedFieldFrames(
  id: number,
  account: AccountInput,
  transfer: TransferInput,
  operation: AccountOperationInput,
): { frames: RawFrame[]; inputs: [AccountInput, TransferInput, AccountOperationInput] } {
  const accountBody = encodeAccounts([account]);
  accountBody[AccountLayout.reserved] = 1;
  const transferBody = encodeTransfers([transfer]);
  transferBody[TransferLayout.amountEffective] = 1;
  const operationBody = encodeAccountOperations([operation]);
  operationBody[AccountOperationLayout.tailStart + 3] = 1;
  const reserved = (requestId: number, op: number, body: Uint8Array, why: string): RawFrame => ({
    bytes: requestBytes(requestId, op, body),
    expect: { reply: requestId, results: ['reserved_field'] },
    why,
  });
  return {
    frames: [
      reserved(id, Operation.create_accounts, accountBody, 'an account with its reserved u32 set'),
      reserved(id + 1, Operation.create_transfers, transferBody, 'a transfer with its effective-amount word set on input'),
      reserved(id + 2, Operation.account_operations, operationBody, 'an account operation with a tail byte set'),
    ],
    inputs: [account, transfer, operation],
  };
}

/** An account operation of an unknown kind (number 9): flags_invalid. */
export function unknownKindFrame(id: number, operation: AccountOperationInput): RawFrame {
  const body = encodeAccountOperations([operation]);
  new DataView(body.buffer, body.byteOffset).setUint16(AccountOperationLayout.kind, 9, true);
  return { bytes: requestBytes(id, Operation.account_operations, body), expect: { reply: id, results: ['flags_invalid'] }, why: 'account operation kind 9' };
}

/**
 * Request id and operation as uint64 / int64 encodings of small numbers: msgpack allows any width, so the
 * gateway must answer them like the narrow form (issue #20, known defect 6).
 */
export function wideIntegerFrames(id: number, anyId: bigint): RawFrame[] {
  const ids = pack(encodeIds([anyId]));
  const op = Operation.lookup_accounts;
  return [
    { bytes: array(uint64(id), pack(op), ids), expect: { reply: id }, why: 'request id as uint64' },
    { bytes: array(pack(id + 1), uint64(op), ids), expect: { reply: id + 1 }, why: 'operation as uint64' },
    { bytes: array(int64(id + 2), int64(op), ids), expect: { reply: id + 2 }, why: 'request id and operation as int64' },
    { bytes: array(uint64(id + 3), uint64(op), ids), expect: { reply: id + 3 }, why: 'request id and operation as uint64' },
  ];
}
