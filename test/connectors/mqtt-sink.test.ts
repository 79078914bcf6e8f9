// The mqtt sink against a real mosquitto whose max_packet_size is small: a record the broker can never take (a
// packet larger than the CONNACK's Maximum Packet Size, or a topic from the template with a wildcard or empty) goes
// to on_error as RecordsRefused, and the rest of the batch is published. Before, such a message made the broker
// drop the connection; the client sent it again on each reconnect, and the write never ended.
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsRefused } from '../../src/core/errors.js';
import { WireRecord } from '../../src/core/record.js';
import { MqttSink, mqttSinkDefinition } from '../../src/connectors/mqtt/sink.js';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from '../harness/mosquitto.js';

const mosquitto = mosquittoAvailable();
let server: MosquittoServer | undefined;
let client: MqttClient | undefined;
const opened: MqttSink[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await client?.endAsync(true);
  client = undefined;
  await server?.stop();
  server = undefined;
});

async function sink(config: Record<string, unknown>): Promise<MqttSink> {
  const s = mqttSinkDefinition.create({ url: server!.url, topic: 'out/{value.t}', reconnect_attempts: 3, ...config }) as MqttSink;
  opened.push(s);
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
  return s;
}

/** Subscribes to `out/#` and collects the `n` of every message. */
async function subscriber(): Promise<number[]> {
  const mqtt = await import('mqtt');
  client = await mqtt.connectAsync(server!.url, { clientId: 'test-reader', protocolVersion: 5 });
  const received: number[] = [];
  client.on('message', (_topic, payload) => received.push((JSON.parse(payload.toString()) as { n: number }).n));
  await client.subscribeAsync('out/#', { qos: 1 });
  return received;
}

/** Fails instead of hanging: a write that never ends is the bug this file guards against. */
async function settled(write: Promise<void>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    write.then(() => 'resolved', (e: unknown) => e),
    new Promise((resolve) => (timer = setTimeout(() => resolve('still running after 20 s'), 20_000))),
  ]);
  clearTimeout(timer);
  return outcome;
}

const batch = (): WireRecord[] => [
  WireRecord.fromValue({ n: 0, t: 'a' }, 0),
  WireRecord.fromValue({ n: 1, t: 'a', blob: 'x'.repeat(8192) }, 1),
  WireRecord.fromValue({ n: 2, t: '+' }, 2),
  WireRecord.fromValue({ n: 3, t: 'b/#' }, 3),
  WireRecord.fromValue({ n: 4, t: 'b' }, 4),
];

describe.skipIf(!mosquitto.available)(mosquitto.available ? 'mqtt sink: records the broker cannot take' : `mqtt sink (skipped: ${mosquitto.skipReason})`, () => {
  it('MQTT 5: a message over the maximum packet size and topics with wildcards are refused, the others published', { timeout: 60_000 }, async () => {
    server = await startMosquitto({ maxPacketSize: 4096 });
    const received = await subscriber();
    const s = await sink({});
    const error = await settled(s.write(batch()));
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records.map((r) => r.position)).toEqual([1, 2, 3]);
    expect((error as RecordsRefused).code).toBe('INVALID_INPUT');
    await s.write([WireRecord.fromValue({ n: 5, t: 'c' }, 5)]);
    // At the limit exactly (a 4,096-byte PUBLISH: 5 bytes of header, topic and id, 1 of properties, 4,083 of payload)
    // the broker takes it; one byte more is refused here, before the broker would drop the connection for it.
    const sized = (n: number, bytes: number): WireRecord => WireRecord.fromValue({ n, t: 'a', blob: 'x'.repeat(bytes - 25) }, n);
    expect(sized(6, 4083).json()).toHaveLength(4083);
    const edge = await settled(s.write([sized(6, 4083), sized(7, 4084)]));
    expect((edge as RecordsRefused).records.map((r) => r.position)).toEqual([7]);
    expect((edge as RecordsRefused).message).toMatch(/a message of 4097 bytes, over the broker's maximum packet size of 4096/);
    for (let i = 0; i < 200 && received.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    expect(received.sort()).toEqual([0, 4, 5, 6]);
  });

  it('MQTT 3.1.1: topics with wildcards are refused (the broker states no packet limit in this version)', { timeout: 60_000 }, async () => {
    server = await startMosquitto();
    const received = await subscriber();
    const s = await sink({ protocol_version: 4 });
    const error = await settled(s.write([batch()[0]!, batch()[2]!, batch()[4]!]));
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records.map((r) => r.position)).toEqual([2]);
    for (let i = 0; i < 200 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(received.sort()).toEqual([0, 4]);
  });
});
