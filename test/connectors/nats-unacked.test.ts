// The nats source's unacknowledged messages: an ack goes to the last message at or before the checkpoint's stream
// sequence (sequences may have gaps: a filtered consumer, deleted messages), whatever the arrays went through (growth,
// moves to the front), checked against a plain list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Unacked } from '../../src/connectors/nats/unacked.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const subjectOf = (seq: number, size: number): string => `$JS.ACK.S.C.1.${seq}.${seq}.0.0.${'x'.repeat(size)}`;

describe('Unacked', () => {
  it('takes up to a sequence and gives the last one taken, as a list would', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ ackBack: fc.integer({ min: 0, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const unacked = new Unacked();
        const model: { seq: number; subject: string }[] = [];
        let seq = 0;
        for (const o of ops) {
          if ('push' in o) {
            for (let i = 0; i < 40; i++) {
              seq += o.push;
              const subject = subjectOf(seq, (o.size + i) % 3000);
              unacked.push(seq, utf8(subject));
              model.push({ seq, subject });
            }
          } else {
            const upTo = seq - o.ackBack;
            let end = 0;
            while (end < model.length && model[end]!.seq <= upTo) end++;
            const expected = end === 0 ? undefined : model[end - 1];
            model.splice(0, end);
            expect(unacked.takeUpTo(upTo)).toEqual(expected);
          }
        }
        expect(unacked.takeUpTo(seq)).toEqual(model.at(-1));
        expect(unacked.takeUpTo(seq)).toBeUndefined();
      }),
      { seed: 1303, numRuns: 200 },
    );
  });

  it('clear forgets every message', () => {
    const unacked = new Unacked();
    unacked.push(1, utf8(subjectOf(1, 0)));
    unacked.clear();
    expect(unacked.takeUpTo(10)).toBeUndefined();
    unacked.push(11, utf8(subjectOf(11, 0)));
    expect(unacked.takeUpTo(11)).toEqual({ seq: 11, subject: subjectOf(11, 0) });
  });
});
