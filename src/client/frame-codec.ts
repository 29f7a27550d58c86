// Client side of the frame format (core/wire/wire.ts): encodes requests, decodes replies and error frames.
// Imports msgpackr and core only, never the gateway (and so never uWS).

import { Packr, Unpackr } from 'msgpackr';
import { errors } from '../core/errors.js';
import { parseReplyFrame, requestFrame, wireMsgpackOptions, type ReplyFrame } from '../core/wire/wire.js';

const packr = new Packr({ ...wireMsgpackOptions });
const unpackr = new Unpackr({ ...wireMsgpackOptions });

export function encodeRequest(requestId: number, operation: number, body: Uint8Array): Uint8Array {
  return packr.pack(requestFrame(requestId, operation, body));
}

/** Decodes a reply or error frame; anything malformed throws TallyError('frame_invalid'). */
export function decodeReply(bytes: Uint8Array): ReplyFrame {
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch (error) {
    throw errors.frameInvalid(`reply is not a msgpack value (${error instanceof Error ? error.message.slice(0, 80) : 'unreadable'})`);
  }
  return parseReplyFrame(value);
}
