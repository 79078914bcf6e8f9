// The mqtt source row of `npm run bench` (`mqtt-source`): QoS 1 messages queued by mosquitto for a persistent
// session, drained through Wire (mqtt → drop, `stop_after` the count) beside a bare mqtt.js subscriber doing the
// same in the same run (bench/baseline/mqtt-source.mjs, a process of its own): the same session (clean start off,
// MQTT 5, the same receive maximum as Wire's: its window of 6 batches of 1,024), every message PUBACKed (mqtt.js's
// own way: as it is handled) before the clock stops.
// The broker is a real mosquitto started by the test harness; once a run is over, its session must get nothing again.
import type { MqttClient } from 'mqtt';
import { startMosquitto } from '../test/harness/mosquitto.js';
import { bareProgramSeconds } from './lib/source-run.js';
import { wirePipelineRun, type ConnectorRow, type WireRunOptions } from './lib/wire-pipeline-run.js';

/** Wire's default window with one lane: (4 + 2 × 1) batches of 1,024 records, which is its default receive maximum. */
const RECEIVE_MAXIMUM = 6 * 1024;
const PUBLISH_BATCH = 1024;
/** How long a finished session is watched for messages sent again (unacknowledged ones come at once). */
const REDELIVERY_WATCH_MS = 1000;

interface SourceBenchOptions extends WireRunOptions {
  readonly repeat: number;
}

/** A persistent session of `clientId`, reading `topic` at QoS 1. */
async function session(url: string, clientId: string, topic?: string): Promise<MqttClient> {
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync(url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 3600, receiveMaximum: RECEIVE_MAXIMUM },
  });
  if (topic !== undefined) await client.subscribeAsync(topic, { qos: 1 });
  return client;
}

/** Makes the session (subscribed, then offline) and publishes `records` QoS 1 messages for it to queue. */
async function preload(url: string, clientId: string, topic: string, records: number): Promise<void> {
  await (await session(url, clientId, topic)).endAsync();
  const mqtt = await import('mqtt');
  const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    for (let start = 0; start < records; start += PUBLISH_BATCH) {
      const sent: Promise<unknown>[] = [];
      for (let n = start; n < Math.min(records, start + PUBLISH_BATCH); n++) sent.push(publisher.publishAsync(topic, JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` }), { qos: 1 }));
      await Promise.all(sent);
    }
  } finally {
    await publisher.endAsync();
  }
}

/** Messages the broker still holds for `clientId`'s session: it sends them again as soon as the session resumes. */
async function unacknowledged(url: string, clientId: string): Promise<number> {
  const client = await session(url, clientId);
  let again = 0;
  client.on('message', () => again++);
  await new Promise((resolve) => setTimeout(resolve, REDELIVERY_WATCH_MS));
  await client.endAsync();
  return again;
}

export async function benchMqttSource(o: SourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startMosquitto();
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await preload(server.url, `bench-bare-${i}`, `bench/bare/${i}`, records);
      await preload(server.url, `bench-wire-${i}`, `bench/wire/${i}`, records);
      bare.push(await bareProgramSeconds(o, 'mqtt-source.mjs', [server.url, `bench-bare-${i}`, String(records), String(RECEIVE_MAXIMUM)], records));
      const source = `{ type: mqtt, config: { url: "${server.url}", topic: bench/wire/${i}, client_id: bench-wire-${i}, stop_after: ${records} } }`;
      wire.push(await wirePipelineRun(o, `mqtt-source-${i}`, source, '{ type: drop }', records));
      for (const clientId of [`bench-bare-${i}`, `bench-wire-${i}`]) {
        const again = await unacknowledged(server.url, clientId);
        if (again !== 0) throw new Error(`mqtt-source: ${again} messages of ${clientId}'s session were not acknowledged`);
      }
    }
    return { name: 'mqtt-source', records, wireSeconds: wire, bareSeconds: bare, baseline: `mqtt.js QoS 1 subscriber, persistent session, receive maximum ${RECEIVE_MAXIMUM}, PUBACK as handled; own process, timed from its import` };
  } finally {
    await server.stop();
  }
}
