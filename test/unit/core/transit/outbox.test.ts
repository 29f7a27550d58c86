// The outbox against a plain list model: instructions staged for several peers per batch, some unstaged
// (failed chains), committed, acknowledged in pieces, fetched in windows; an acknowledged floor from the store.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventBytes } from '../../../../src/core/limits.js';
import { InstructionLayout as I, Outbox, pairSeqOf } from '../../../../src/core/transit/transit.js';

const from = 0;
const peers = [1, 2, 3];

interface Sent {
  peer: number;
  pairSeq: number;
  marker: number;
}

function record(marker: number): DataView {
  const view = new DataView(new ArrayBuffer(eventBytes + 8));
  view.setUint32(8, marker, true);
  return view;
}

/** (peer, pairSeq, marker) of every instruction in a concatenation. */
function read(bytes: Uint8Array): Sent[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Sent[] = [];
  for (let at = 0; at < bytes.byteLength; at += I.bytes) {
    out.push({ peer: view.getUint16(at + I.toShard, true), pairSeq: pairSeqOf(bytes.subarray(at)), marker: view.getUint32(at, true) });
  }
  return out;
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('batch' as const), peers: fc.array(fc.constantFrom(...peers), { maxLength: 12 }), unstage: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('ack' as const), peer: fc.constantFrom(...peers), back: fc.nat({ max: 6 }) }),
  fc.record({ kind: fc.constant('fetch' as const), peer: fc.constantFrom(...peers), back: fc.nat({ max: 8 }), countMax: fc.integer({ min: 1, max: 10 }) }),
);

describe('Outbox', () => {
  it('retains, acknowledges and hands out exactly what a plain list would', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5 }), { minLength: 3, maxLength: 3 }), fc.array(step, { minLength: 20, maxLength: 200 }), (floor, steps) => {
        const acknowledgedFloor = [0, ...floor];
        const outbox = new Outbox(acknowledgedFloor);
        // Replay after a restart: the counters start at the floor, as the journal would rebuild them.
        peers.forEach((peer) => (outbox.pairSeqLast[peer] = acknowledgedFloor[peer]!));
        let model: Sent[] = [];
        const acknowledged = [...acknowledgedFloor];
        let marker = 0;
        for (const s of steps) {
          if (s.kind === 'batch') {
            const staged: Sent[] = [];
            for (const peer of s.peers) {
              outbox.stage(peer, from, 1, 0, record(++marker), 8);
              staged.push({ peer, pairSeq: outbox.pairSeqLast[peer]!, marker });
            }
            for (let k = 0; k < Math.min(s.unstage, staged.length); k++) {
              outbox.unstageLast();
              staged.pop();
            }
            const batch = outbox.commitStaged();
            expect(batch === null ? [] : read(batch)).toEqual(staged);
            model.push(...staged);
          } else if (s.kind === 'ack') {
            const pairSeq = Math.max(0, outbox.pairSeqLast[s.peer]! - s.back);
            outbox.acknowledge(s.peer, pairSeq);
            acknowledged[s.peer] = Math.max(acknowledged[s.peer]!, pairSeq);
            model = model.filter((m) => m.peer !== s.peer || m.pairSeq > acknowledged[s.peer]!);
          } else {
            const after = Math.max(0, outbox.pairSeqLast[s.peer]! - s.back);
            const expected = model.filter((m) => m.peer === s.peer && m.pairSeq > after).slice(0, s.countMax);
            expect(read(outbox.after(s.peer, after, s.countMax))).toEqual(expected);
          }
          expect(outbox.retainedCount).toBe(model.length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
