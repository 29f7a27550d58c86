// The wire protocol's version, agreed at the WebSocket upgrade (issue #16) as a subprotocol: the client offers
// `tally.v<N>` (Sec-WebSocket-Protocol), the server selects it when it speaks that version and refuses the upgrade
// otherwise (HTTP 426, naming both versions), and the client refuses a server that selected anything else. A
// socket that offers no `tally.*` subprotocol at all (raw frames: the benchmark, older clients) is taken as
// version 1, the frames documented in docs/PROTOCOL.md. Bump the version when a frame or reply changes shape.

export const protocolVersion = 1;
/** The subprotocol a client offers and a server selects. */
export const protocolName = `tally.v${protocolVersion}`;

export type ProtocolAgreement = { accepted: true; selected: string } | { accepted: false; why: string };

/** The server's answer to a Sec-WebSocket-Protocol header ('' when absent). */
export function agreeProtocol(offeredHeader: string): ProtocolAgreement {
  const offered = offeredHeader
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (offered.includes(protocolName)) return { accepted: true, selected: protocolName };
  const tally = offered.filter((p) => /^tally\./.test(p));
  if (tally.length === 0) return { accepted: true, selected: '' };
  return { accepted: false, why: `this Tally server speaks wire protocol ${protocolName}; the client offered ${tally.join(', ')}: use a client of the server's version (or a server of the client's)` };
}
