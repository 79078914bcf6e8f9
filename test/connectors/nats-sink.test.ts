// The nats sink against a real nats-server whose max_payload is small: a record the client refuses for what it is
// (too large, or a subject with white space from the template) goes to on_error as RecordsRefused; the rest of the
// batch is published. Before, such a record failed the whole write, again at every retry, until the run failed.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsRefused } from '../../src/core/errors.js';
import { WireRecord } from '../../src/core/record.js';
import { NatsSink, natsSinkDefinition } from '../../src/connectors/nats/sink.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { createStream, streamValues } from './nats-records.js';

const nats = natsAvailable();
let server: NatsServer | undefined;
let client: NatsConnection | undefined;
const opened: NatsSink[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await client?.close();
  client = undefined;
  await server?.stop();
  server = undefined;
});

async function sink(config: Record<string, unknown>): Promise<NatsSink> {
  const s = natsSinkDefinition.create({ url: server!.url, subject: 'out.{value.region}', ...config }) as NatsSink;
  opened.push(s);
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
  return s;
}

/** Four records: two that fit, one larger than 4 KiB, one whose subject would hold a space. */
const batch = (): WireRecord[] => [
  WireRecord.fromValue({ n: 0, region: 'eu' }, 0),
  WireRecord.fromValue({ n: 1, region: 'eu', blob: 'x'.repeat(8192) }, 1),
  WireRecord.fromValue({ n: 2, region: 'e u' }, 2),
  WireRecord.fromValue({ n: 3, region: 'us' }, 3),
];

describe.skipIf(!nats.available)(nats.available ? 'nats sink: records the server cannot take' : `nats sink (skipped: ${nats.skipReason})`, () => {
  it('jetstream: the too large and the badly addressed records are refused, the others stored', async () => {
    server = await startNats({ maxPayload: 4096 });
    const { connect } = await import('@nats-io/transport-node');
    client = await connect({ servers: server.url });
    await createStream(client, 'OUT', ['out.>']);
    const s = await sink({});
    const error = await s.write(batch()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records.map((r) => r.position)).toEqual([1, 2]);
    expect((error as RecordsRefused).code).toBe('INVALID_INPUT');
    expect((error as RecordsRefused).message).toMatch(/max_payload/);
    expect((await streamValues(client, 'OUT')).map((v) => (JSON.parse(v) as { n: number }).n)).toEqual([0, 3]);
  });

  it('core: the same records are refused, the others published', async () => {
    server = await startNats({ maxPayload: 4096 });
    const { connect } = await import('@nats-io/transport-node');
    client = await connect({ servers: server.url });
    const received: number[] = [];
    const subscription = client.subscribe('out.>', {
      callback: (_err, msg) => {
        received.push((msg.json() as { n: number }).n);
      },
    });
    await client.flush();
    const s = await sink({ mode: 'core' });
    const error = await s.write(batch()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records.map((r) => r.position)).toEqual([1, 2]);
    await s.flush();
    await client.flush();
    expect(received).toEqual([0, 3]);
    subscription.unsubscribe();
  });
});
