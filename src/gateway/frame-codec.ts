// Server side of the frame format (core/wire/wire.ts): decodes requests, encodes replies and errors.
// decodeRequest and readRequest report every malformed input as a TallyError and never throw anything else.

import { Packr, Unpackr } from 'msgpackr';
import { TallyError, errors, type ErrorCodeName } from '../core/errors.js';
import { errorFrame, parseRequestFrame, replyFrame, requestIdOf, wireMsgpackOptions, type RequestFrame } from '../core/wire/wire.js';

const packr = new Packr({ ...wireMsgpackOptions });
const unpackr = new Unpackr({ ...wireMsgpackOptions });

/** A request that failed its checks, with the id to answer it under (0 when it could not be read). */
export interface RequestFault {
  requestId: number;
  error: TallyError;
}

function unpack(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes);
  } catch (error) {
    throw errors.frameInvalid(`not a msgpack value (${error instanceof Error ? error.message.slice(0, 80) : 'unreadable'})`);
  }
}

/** Decodes and checks one request frame (shape, operation, body size); returns the fault instead of throwing. */
export function readRequest(bytes: Uint8Array): RequestFrame | RequestFault {
  let value: unknown;
  try {
    value = unpack(bytes);
    return parseRequestFrame(value);
  } catch (error) {
    return { requestId: requestIdOf(value), error: asTallyError(error) };
  }
}

/** Decodes and checks one request frame; throws TallyError (frame_invalid, operation_unknown, body_invalid, batch_*). */
export function decodeRequest(bytes: Uint8Array): RequestFrame {
  const frame = readRequest(bytes);
  if ('error' in frame) throw frame.error;
  return frame;
}

export function encodeReply(requestId: number, body: Uint8Array): Uint8Array {
  return packr.pack(replyFrame(requestId, body));
}

/** `message` is the reason without the `code: ` prefix (see errorReason); the client adds it back. */
export function encodeError(requestId: number, code: ErrorCodeName, message: string): Uint8Array {
  return packr.pack(errorFrame(requestId, code, message));
}

// Checks only ever throw TallyError; anything else reaching here is a defect in a check, reported
// as frame_invalid so a hostile frame can never take the gateway down.
function asTallyError(error: unknown): TallyError {
  return error instanceof TallyError ? error : errors.frameInvalid('unreadable frame');
}
