// The nats source reads each message's delivery (stream sequence, delivery sequence, count, pending) from its ack
// subject itself: both subject forms JetStream servers send, names that look like numbers, and subjects that are not
// ack subjects (refused, nothing read).
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsMsg } from '@nats-io/jetstream';
import { DeliveryInfo } from '../../src/connectors/nats/delivery.js';
import { ackSubjectOf } from '../../src/connectors/nats/source.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { createStream, fillStream } from './nats-records.js';

const nats = natsAvailable();
let server: NatsServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const timestamp = fc.bigInt({ min: 0n, max: 2n ** 63n }).map(String);

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const fields = (d: DeliveryInfo) => ({ deliveryCount: d.deliveryCount, streamSequence: d.streamSequence, deliverySequence: d.deliverySequence, pending: d.pending });

describe('DeliveryInfo', () => {
  it('reads the 9-token form: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>', () => {
    fc.assert(
      fc.property(name, name, count, count, count, timestamp, count, (stream, consumer, delivered, sseq, dseq, ts, pending) => {
        const d = new DeliveryInfo();
        expect(d.read(utf8(`$JS.ACK.${stream}.${consumer}.${delivered}.${sseq}.${dseq}.${ts}.${pending}`))).toBe(true);
        expect(fields(d)).toEqual({ deliveryCount: delivered, streamSequence: sseq, deliverySequence: dseq, pending });
      }),
      { seed: 1301, numRuns: 500 },
    );
  });

  it('reads the form with domain and account, with or without a token after <pending>', () => {
    fc.assert(
      fc.property(name, name, name, name, count, count, count, timestamp, count, fc.option(name), (domain, account, stream, consumer, delivered, sseq, dseq, ts, pending, more) => {
        const d = new DeliveryInfo();
        const subject = `$JS.ACK.${domain}.${account}.${stream}.${consumer}.${delivered}.${sseq}.${dseq}.${ts}.${pending}${more === null ? '' : `.${more}`}`;
        expect(d.read(utf8(subject))).toBe(true);
        expect(fields(d)).toEqual({ deliveryCount: delivered, streamSequence: sseq, deliverySequence: dseq, pending });
      }),
      { seed: 1302, numRuns: 500 },
    );
  });

  it('refuses what is not an ack subject and keeps what it read last', () => {
    const d = new DeliveryInfo();
    expect(d.read(utf8('$JS.ACK.S.C.2.17.18.1733300000000000000.5'))).toBe(true);
    for (const subject of [
      '',
      '_INBOX.abc.1',
      '$JS.NAK.S.C.1.2.3.4.5',
      '$JS.ACK.S.C.1.2.3.4', // 8 tokens
      '$JS.ACK.D.A.S.C.1.2.3.4.5'.slice(0, -2), // 10 tokens
      '$JS.ACK.S.C.1.x2.3.4.5', // a sequence that is not a number
      '$JS.ACK.S.C.1..3.4.5', // an empty sequence
      '$JS.ACK.S.C.1.2.3.4.-5',
      '$JS.ACK.S.C.1.9007199254740993.3.4.5', // a sequence past 2^53, which a number cannot hold exactly
      `$JS.ACK.S.C.1.2.${'9'.repeat(400)}.4.5`, // a lying server's 400-digit delivery sequence
      `$JS.ACK.S.C.${'9'.repeat(17)}.2.3.4.5`,
      `$JS.ACK.S.C.1.2.3.4.${'9'.repeat(17)}`,
    ]) {
      expect(d.read(utf8(subject)), subject).toBe(false);
    }
    expect(fields(d)).toEqual({ deliveryCount: 2, streamSequence: 17, deliverySequence: 18, pending: 5 });
  });
});

describe('ackSubjectOf', () => {
  it("takes the client's bytes of the reply subject, else encodes its reply string, else fails", () => {
    const bytes = utf8('$JS.ACK.S.C.1.2.3.4.5');
    expect(ackSubjectOf({ msg: { _msg: { reply: bytes } } } as unknown as JsMsg)).toBe(bytes);
    expect(ackSubjectOf({ reply: '$JS.ACK.S.C.1.2.3.4.5' } as unknown as JsMsg)).toEqual(bytes);
    expect(() => ackSubjectOf({ reply: '', subject: 'in.x' } as unknown as JsMsg)).toThrow(/in\.x has no ack subject/);
  });
});

describe.skipIf(!nats.available)(nats.available ? 'DeliveryInfo against nats-server' : `DeliveryInfo (skipped: ${nats.skipReason})`, () => {
  it('reads what the client reads from real deliveries, redeliveries included', { timeout: 60_000 }, async () => {
    server = await startNats();
    const { connect } = await import('@nats-io/transport-node');
    const { AckPolicy, jetstream, jetstreamManager } = await import('@nats-io/jetstream');
    const client = await connect({ servers: server.url });
    try {
      await createStream(client, 'IN', ['in.>']);
      await fillStream(client, 'IN', 'in.x', 0, 5);
      await (await jetstreamManager(client)).consumers.add('IN', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 1_000_000_000 });
      const consumer = await jetstream(client).consumers.get('IN', 'c');
      const d = new DeliveryInfo();
      const seen: number[] = [];
      // Five deliveries left unacked, then their redeliveries once ack_wait (1 s) passed.
      for await (const msg of await consumer.fetch({ max_messages: 10, expires: 4000 })) {
        // The bytes the nats source reads (see ackSubjectOf): the client's own, as it received them.
        const raw = (msg as unknown as { msg: { _msg: { reply: unknown } } }).msg._msg.reply;
        expect(raw).toBeInstanceOf(Uint8Array);
        expect(d.read(raw as Uint8Array)).toBe(true);
        const { deliveryCount, streamSequence, deliverySequence, pending } = msg.info;
        expect(fields(d)).toEqual({ deliveryCount, streamSequence, deliverySequence, pending });
        seen.push(d.deliveryCount);
      }
      expect(seen).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    } finally {
      await client.close();
    }
  });
});
