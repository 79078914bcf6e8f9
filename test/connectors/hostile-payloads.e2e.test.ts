// What a broken or lying producer can put in a queue, a topic or a stream, read by each message source through
// `wire run` on a real server: a payload that is not JSON, one that is not UTF-8, an empty one, one nested deeper than
// any parser should follow. Each goes to the dead letter with its bytes as received, between valid records that reach
// the sink: never passed on as they are, never altered, never dropped silently.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DEPTH } from '../../src/core/json-scan.js';
import { cleanup, makeTempDir, startWire, waitFor } from '../cli/harness.js';
import { mosquittoAvailable, startMosquitto } from '../harness/mosquitto.js';
import { natsAvailable, startNats } from '../harness/nats.js';
import { rabbitmqAvailable, startRabbitmq } from '../harness/rabbitmq.js';
import { redisAvailable, startRedis } from '../harness/redis.js';
import type { TestServer } from '../harness/servers.js';
import { fileLines, pipelineFile, stopRun } from './connector-runs.js';

/** The payloads, in the order they are sent; `good` ones reach the sink, the others the dead letter. */
const PAYLOADS: { readonly what: string; readonly bytes: Buffer; readonly good: boolean }[] = [
  { what: 'a record', bytes: Buffer.from('{"n":1}'), good: true },
  { what: 'malformed JSON', bytes: Buffer.from('{"n":'), good: false },
  { what: 'invalid UTF-8', bytes: Buffer.from('{"s":"caf\xe9"}', 'latin1'), good: false },
  { what: 'empty', bytes: Buffer.alloc(0), good: false },
  { what: 'nested too deep', bytes: Buffer.from(`${'['.repeat(MAX_DEPTH + 1)}${']'.repeat(MAX_DEPTH + 1)}`), good: false },
  { what: 'two values', bytes: Buffer.from('{"n":9} {"n":10}'), good: false },
  { what: 'another record', bytes: Buffer.from('{"n":2}'), good: true },
];

let server: TestServer | undefined;
afterEach(async () => {
  await cleanup();
  await server?.stop();
  server = undefined;
});

interface Letter {
  readonly stage: string;
  readonly code: string;
  readonly record?: string;
  readonly raw_base64?: string;
}

/** Runs `source` into a file with a dead-letter file until both hold what they should; checks both. */
async function expectSorted(source: string): Promise<void> {
  const dir = await makeTempDir();
  const out = join(dir, 'out.jsonl');
  const dlq = join(dir, 'dlq.jsonl');
  const file = await pipelineFile(dir, [
    'name: hostile',
    `source: ${source}`,
    `sink: { type: file, config: { path: ${JSON.stringify(out)}, format: jsonl } }`,
    'on_error: dead_letter',
    `dead_letter: { type: file, config: { path: ${JSON.stringify(dlq)}, format: jsonl } }`,
  ]);
  const wire = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
  const bad = PAYLOADS.filter((p) => !p.good);
  await waitFor(async () => (await fileLines(out)).length >= 2 && (await fileLines(dlq)).length >= bad.length || wire.child.exitCode !== null, 60_000, 100);
  await stopRun(wire);
  expect(await fileLines(out)).toEqual(['{"n":1}', '{"n":2}']);
  const letters = (await fileLines(dlq)).map((l) => JSON.parse(l) as Letter);
  expect(letters.map((l) => [l.stage, l.code])).toEqual(bad.map(() => ['source', 'INVALID_INPUT']));
  // Each kept as received: as text when it is UTF-8, else its bytes.
  const kept = letters.map((l) => (l.raw_base64 !== undefined ? Buffer.from(l.raw_base64, 'base64') : Buffer.from(l.record!)));
  expect(kept.map((b) => b.toString('latin1'))).toEqual(bad.map((p) => p.bytes.toString('latin1')));
  expect(await readFile(out, 'utf8')).not.toContain('\ufffd');
}

const rabbitmq = rabbitmqAvailable();
describe.skipIf(!rabbitmq.available)(`rabbitmq source${rabbitmq.available ? '' : ` (skipped: ${rabbitmq.skipReason})`}`, () => {
  it('sends each hostile message to the dead letter as received, and the records around them to the sink', { timeout: 240_000 }, async () => {
    const broker = await startRabbitmq();
    server = broker;
    const amqp = await import('amqplib');
    const connection = await amqp.connect(broker.url);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('hostile', { durable: true });
      for (const p of PAYLOADS) channel.sendToQueue('hostile', p.bytes, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await expectSorted(`{ type: rabbitmq, config: { url: "${broker.url}", queue: hostile } }`);
  });
});

const mosquitto = mosquittoAvailable();
describe.skipIf(!mosquitto.available)(`mqtt source${mosquitto.available ? '' : ` (skipped: ${mosquitto.skipReason})`}`, () => {
  it('sends each hostile message to the dead letter as received, and the records around them to the sink', { timeout: 120_000 }, async () => {
    const broker = await startMosquitto();
    server = broker;
    const mqtt = await import('mqtt');
    // The source's persistent session is made first, so the broker keeps what is published before the run.
    const session = { clientId: 'wire-hostile', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } } as const;
    const subscribe = await mqtt.connectAsync(broker.url, session);
    await subscribe.subscribeAsync('hostile', { qos: 1 });
    await subscribe.endAsync();
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    for (const p of PAYLOADS) await client.publishAsync('hostile', p.bytes, { qos: 1 });
    await client.endAsync();
    await expectSorted(`{ type: mqtt, config: { url: "${broker.url}", topic: hostile, client_id: wire-hostile } }`);
  });
});

const redis = redisAvailable();
describe.skipIf(!redis.available)(`redis source${redis.available ? '' : ` (skipped: ${redis.skipReason})`}`, () => {
  it('sends each entry whose value field is not JSON to the dead letter, and the records around them to the sink', { timeout: 120_000 }, async () => {
    const started = await startRedis();
    server = started;
    const { Redis } = await import('ioredis');
    const client = new Redis(started.url);
    try {
      // Entries the redis sink would write (`value`: JSON text); ioredis sends a Buffer's bytes as they are.
      for (const p of PAYLOADS) await client.xadd('hostile', '*', 'value', p.bytes);
    } finally {
      client.disconnect();
    }
    await expectSorted(`{ type: redis, config: { url: "${started.url}", stream: hostile, block: 200 } }`);
  });
});

const nats = natsAvailable();
describe.skipIf(!nats.available)(`nats source${nats.available ? '' : ` (skipped: ${nats.skipReason})`}`, () => {
  it('sends each hostile message to the dead letter as received, and the records around them to the sink', { timeout: 120_000 }, async () => {
    const started = await startNats();
    server = started;
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
    const connection = await connect({ servers: started.url });
    try {
      await (await jetstreamManager(connection)).streams.add({ name: 'HOSTILE', subjects: ['hostile'] });
      const js = jetstream(connection);
      for (const p of PAYLOADS) await js.publish('hostile', p.bytes);
    } finally {
      await connection.close();
    }
    await expectSorted(`{ type: nats, config: { url: "${started.url}", stream: HOSTILE } }`);
  });
});
