// The mqtt source and sink against a real mosquitto with persistence (test/harness), one broker for the file:
// 100,000 records through each with a kill -9 of the pipeline after a checkpoint, a restart of the broker mid-run,
// a broker that is not there. Every record is checked by content; duplicates are counted and printed.
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { freePort } from '../harness/servers.js';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from '../harness/mosquitto.js';
import { fileLines, linesSoFar, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';
import { payloadOf, tally } from './redis-records.js';

const mosquitto = mosquittoAvailable();
const RECORDS = 100_000;

let server: MosquittoServer | undefined;
const clients: MqttClient[] = [];

beforeAll(async () => {
  if (mosquitto.available) server = await startMosquitto();
}, 60_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await cleanup();
});

/** A client that keeps its session (and so what is queued for it) while it is away, reconnecting on its own. */
async function persistentClient(clientId: string): Promise<MqttClient> {
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync(server!.url, {
    clientId,
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 200,
  });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** The session the pipeline's source will resume exists before anything is published to it. */
async function prepareSession(clientId: string, topic: string): Promise<void> {
  const client = await persistentClient(clientId);
  await client.subscribeAsync(topic, { qos: 1 });
  await client.endAsync();
}

/** Every payload published to `topic` from now on (a persistent subscriber: nothing is missed across a restart). */
async function collect(topic: string, clientId: string): Promise<string[]> {
  const bodies: string[] = [];
  const client = await persistentClient(clientId);
  client.on('message', (_topic, payload) => bodies.push(payload.toString()));
  await client.subscribeAsync(topic, { qos: 1 });
  return bodies;
}

/** Publishes records `from..to-1` at QoS 1, waiting for the broker's PUBACKs. */
async function publish(topic: string, from: number, to: number): Promise<void> {
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync(server!.url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    for (let start = from; start < to; start += 5000) {
      const sent: Promise<unknown>[] = [];
      for (let n = start; n < Math.min(to, start + 5000); n++) sent.push(client.publishAsync(topic, JSON.stringify({ n, payload: payloadOf(n) }), { qos: 1 }));
      await Promise.all(sent);
    }
  } finally {
    await client.endAsync();
  }
}

const complete = (values: Iterable<string>): boolean => tally(values, RECORDS).missing.length === 0;

describe.skipIf(!mosquitto.available)(mosquitto.available ? 'mqtt connectors on a real broker' : `mqtt connectors (skipped: ${mosquitto.skipReason})`, () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: a subscriber gets every record (duplicates reported)', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    const out = await collect('sink/out', 'collector-sink');
    const file = await pipelineFile(dir, [
      'name: to-mqtt',
      'rate_limit: 25000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      `sink: { type: mqtt, config: { url: "${server!.url}", topic: sink/out } }`,
    ]);
    await killAfterCheckpoint('to-mqtt', dir, state, file);
    const atKill = out.length;
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    await waitFor(() => complete(out), 60_000, 100);
    const check = tally(out, RECORDS);
    console.log(`mqtt sink after kill -9: ${atKill} messages at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source: 100,000 messages, kill -9 after a checkpoint, rerun: the file holds every one (duplicates reported)', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    await prepareSession('wire-source-test', 'source/in');
    await publish('source/in', 0, RECORDS);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-mqtt',
      'rate_limit: 25000',
      `source: { type: mqtt, config: { url: "${server!.url}", topic: source/in, client_id: wire-source-test } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-mqtt', dir, state, file);
    const atKill = (await fileLines(output)).length;
    expect(atKill, 'the first run read everything before it was killed').toBeLessThan(RECORDS);
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => complete(await linesSoFar(output)) || rerun.child.exitCode !== null, 240_000, 200);
    await stopRun(rerun);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`mqtt source after kill -9: ${atKill} lines at the kill, ${check.duplicates} duplicate(s) in the output`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source and sink: the broker restarted mid-run (persistence on), the pipeline reconnects and loses nothing', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    await prepareSession('wire-through-test', 'through/in');
    const out = await collect('through/out', 'collector-through');
    const file = await pipelineFile(dir, [
      'name: through-mqtt',
      `source: { type: mqtt, config: { url: "${server!.url}", topic: through/in, client_id: wire-through-test } }`,
      `sink: { type: mqtt, config: { url: "${server!.url}", topic: through/out } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const half = RECORDS / 2;
    await publish('through/in', 0, half);
    await waitFor(() => out.length > half / 4 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    await publish('through/in', half, RECORDS);
    await waitFor(() => complete(out) || wire.child.exitCode !== null, 240_000, 200);
    await stopRun(wire);
    const check = tally(out, RECORDS);
    console.log(`mqtt restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('a broker that is not there: the run fails after its reconnects, naming it', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir();
    const port = await freePort();
    const file = await pipelineFile(dir, [
      'name: unreachable',
      `source: { type: mqtt, config: { url: "mqtt://127.0.0.1:${port}", topic: t, reconnect_attempts: 2 } }`,
      'sink: { type: drop }',
    ]);
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`mqtt broker at 127.0.0.1:${port} is unreachable after 2 reconnect attempt(s)`);
  });
});
