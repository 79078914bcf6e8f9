// The mqtt source against a real mosquitto (Debian's 2.0.11 here), driven directly: what it holds when the broker
// sends more than the receive maximum allows. Mosquitto 2.0.11 honours a session's receive maximum until a PUBACK
// comes while more messages are queued for it; then it sends the whole queue at once.
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { pubackBytes } from '../../src/connectors/mqtt/link.js';
import { MqttSource, mqttSourceDefinition } from '../../src/connectors/mqtt/source.js';
import type { Batch } from '../../src/core/record.js';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from '../harness/mosquitto.js';

const mosquitto = mosquittoAvailable();
let server: MosquittoServer | undefined;
const opened: MqttSource[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await server?.stop();
  server = undefined;
});

/** Makes `clientId`'s persistent session subscribed to `topic`, then queues `count` QoS 1 messages for it. */
async function queueFor(clientId: string, topic: string, count: number): Promise<void> {
  const mqtt = await import('mqtt');
  const session = await mqtt.connectAsync(server!.url, { clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
  await session.subscribeAsync(topic, { qos: 1 });
  await session.endAsync();
  const publisher: MqttClient = await mqtt.connectAsync(server!.url, { protocolVersion: 5 });
  try {
    for (let start = 0; start < count; start += 500) {
      const sent: Promise<unknown>[] = [];
      for (let n = start; n < Math.min(count, start + 500); n++) sent.push(publisher.publishAsync(topic, JSON.stringify({ n }), { qos: 1 }));
      await Promise.all(sent);
    }
  } finally {
    await publisher.endAsync();
  }
}

/** A batch asked for and not yet come: kept across `readUntilQuiet` calls, so none is lost. */
let pending: Promise<IteratorResult<Batch>> | undefined;

/** The batches that come until none has come for `quietMs` (bounded: `limitMs` at most); the read stays open. */
async function readUntilQuiet(batches: AsyncIterator<Batch>, out: number[], quietMs: number, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<'quiet'>((resolve) => (timer = setTimeout(() => resolve('quiet'), quietMs)));
    const next = await Promise.race([pending ??= batches.next(), quiet]);
    clearTimeout(timer);
    if (next === 'quiet' || Date.now() > deadline) return;
    pending = undefined;
    if (next.done === true) throw new Error('the source ended');
    out.push(...next.value.map((r) => (r.value as { n: number }).n));
  }
}

describe.skipIf(!mosquitto.available)(mosquitto.available ? 'mqtt source' : `mqtt source (skipped: ${mosquitto.skipReason})`, () => {
  it('holds at most its receive maximum when the broker sends past it, and reads on as checkpoints settle them', { timeout: 120_000 }, async () => {
    server = await startMosquitto();
    await queueFor('flooded', 'flood', 3000);
    const source = mqttSourceDefinition.create({ url: server.url, topic: 'flood', client_id: 'flooded', receive_maximum: 200 }) as MqttSource;
    opened.push(source);
    await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
    const batches = source.read(100)[Symbol.asyncIterator]();
    pending = undefined;
    const read: number[] = [];
    await readUntilQuiet(batches, read, 1000, 20_000);
    expect(read).toHaveLength(200);
    // A checkpoint covers the first 100: their PUBACKs make the broker send the rest of its queue at once.
    await source.ack(100);
    await readUntilQuiet(batches, read, 1500, 20_000);
    // 100 settled, and at most the receive maximum (and the one message that went over it) unsettled.
    expect(read.length).toBeLessThanOrEqual(100 + 200 + 1);
    // Each checkpoint lets the next ones in, until every message has come once.
    for (let rounds = 0; read.length < 3000 && rounds < 100; rounds++) {
      await source.ack(read.length);
      await readUntilQuiet(batches, read, 500, 20_000);
    }
    expect([...read].sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, n) => n));
  });
});

describe('PUBACKs written after a checkpoint', () => {
  it('are the bytes mqtt.js writes for a successful PUBACK, in MQTT 5 and 3.1.1', async () => {
    const { default: mqttPacket } = await import('mqtt-packet');
    const ids = [1, 0x1234, 65_535];
    for (const protocolVersion of [5, 4] as const) {
      const expected = Buffer.concat(ids.map((messageId) => mqttPacket.generate({ cmd: 'puback', messageId, reasonCode: 0 }, { protocolVersion })));
      expect(pubackBytes(ids).equals(expected)).toBe(true);
    }
  });
});
