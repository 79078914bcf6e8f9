// The rabbitmq source and sink against a real rabbitmq-server (test/harness), one broker for the file (it takes
// seconds to start): 100,000 records through each with a kill -9 of the pipeline after a checkpoint, a restart of
// the broker mid-run, a broker that is not there. Every record is checked by content; duplicates are counted.
import { join } from 'node:path';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { freePort } from '../harness/servers.js';
import { rabbitmqAvailable, startRabbitmq, type RabbitmqServer } from '../harness/rabbitmq.js';
import { fileLines, linesSoFar, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';
import { payloadOf, tally } from './redis-records.js';

const rabbitmq = rabbitmqAvailable();
const RECORDS = 100_000;

let server: RabbitmqServer | undefined;
let connection: ChannelModel | undefined;
let channel: ConfirmChannel | undefined;

async function connectClient(): Promise<void> {
  const amqp = await import('amqplib');
  connection = await amqp.connect(server!.url);
  // Errors come before the close that a broker restart causes; the test reconnects after it.
  connection.on('error', () => undefined);
  channel = await connection.createConfirmChannel();
}

async function closeClient(): Promise<void> {
  await connection?.close().catch(() => undefined);
  connection = undefined;
  channel = undefined;
}

beforeAll(async () => {
  if (!rabbitmq.available) return;
  server = await startRabbitmq();
  await connectClient();
}, 180_000);
afterAll(async () => {
  await closeClient();
  await server?.stop();
}, 120_000);
afterEach(async () => {
  await cleanup();
});

/** Publishes records `from..to-1` as persistent messages to a durable queue, waiting for the broker's confirms. */
async function fillQueue(queue: string, from: number, to: number): Promise<void> {
  await channel!.assertQueue(queue, { durable: true });
  for (let start = from; start < to; start += 5000) {
    for (let n = start; n < Math.min(to, start + 5000); n++) {
      channel!.sendToQueue(queue, Buffer.from(JSON.stringify({ n, payload: payloadOf(n) })), { persistent: true });
    }
    await channel!.waitForConfirms();
  }
}

async function queueLength(queue: string): Promise<number> {
  return (await channel!.checkQueue(queue)).messageCount;
}

/**
 * Consumes `queue` into `bodies` until the client's connection closes, acking each message once it is in `bodies`: a
 * message the broker sent as the connection closed (a restart) goes back to the queue, not lost with an auto-ack.
 */
async function collect(queue: string, bodies: string[]): Promise<void> {
  await channel!.assertQueue(queue, { durable: true });
  const consumer = channel!;
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    bodies.push(message.content.toString());
    consumer.ack(message);
  });
}

/** Takes every message out of `queue`, as text. */
async function drainQueue(queue: string): Promise<string[]> {
  const bodies: string[] = [];
  const expected = await queueLength(queue);
  await collect(queue, bodies);
  await waitFor(() => bodies.length >= expected, 60_000, 20);
  return bodies;
}

const complete = (values: Iterable<string>): boolean => tally(values, RECORDS).missing.length === 0;

describe.skipIf(!rabbitmq.available)(rabbitmq.available ? 'rabbitmq connectors on a real broker' : `rabbitmq connectors (skipped: ${rabbitmq.skipReason})`, () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record is in the queue (duplicates reported)', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    const file = await pipelineFile(dir, [
      'name: to-rabbitmq',
      'rate_limit: 25000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      `sink: { type: rabbitmq, config: { url: "${server!.url}", routing_key: sink-out, declare_queue: sink-out } }`,
    ]);
    await killAfterCheckpoint('to-rabbitmq', dir, state, file);
    const atKill = await queueLength('sink-out');
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await drainQueue('sink-out'), RECORDS);
    console.log(`rabbitmq sink after kill -9: ${atKill} messages at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source: 100,000 messages, kill -9 after a checkpoint, rerun: the file holds every one (duplicates reported)', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    await fillQueue('source-in', 0, RECORDS);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-rabbitmq',
      'rate_limit: 25000',
      `source: { type: rabbitmq, config: { url: "${server!.url}", queue: source-in } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-rabbitmq', dir, state, file);
    // The kill left messages delivered and not acked: the broker has them back in the queue for the rerun.
    const readyAfterKill = await queueLength('source-in');
    expect(readyAfterKill).toBeGreaterThan(0);
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => complete(await linesSoFar(output)) || rerun.child.exitCode !== null, 240_000, 200);
    await stopRun(rerun);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`rabbitmq source after kill -9: ${readyAfterKill} back in the queue, ${check.duplicates} duplicate(s) in the output`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source and sink: the broker restarted mid-run, the pipeline reconnects and loses nothing', { timeout: 300_000 }, async () => {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    await channel!.assertQueue('through-in', { durable: true });
    const file = await pipelineFile(dir, [
      'name: through-rabbitmq',
      `source: { type: rabbitmq, config: { url: "${server!.url}", queue: through-in } }`,
      `sink: { type: rabbitmq, config: { url: "${server!.url}", routing_key: through-out, declare_queue: through-out } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const half = RECORDS / 2;
    const out: string[] = [];
    await collect('through-out', out);
    await fillQueue('through-in', 0, half);
    await waitFor(() => out.length > half / 4 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await closeClient();
    await server!.restart();
    await connectClient();
    await collect('through-out', out);
    await fillQueue('through-in', half, RECORDS);
    await waitFor(() => complete(out) || wire.child.exitCode !== null, 240_000, 200).catch(async (error: unknown) => {
      // What is where, to tell a stuck pipeline from a lost message.
      const missing = tally(out, RECORDS).missing;
      const where = `${out.length} out, ${missing.length} missing (first ${missing.slice(0, 5).join(', ')}), through-in ${await queueLength('through-in')}, through-out ${await queueLength('through-out')}`;
      throw new Error(`${String(error)}: ${where}\n${wire.stderr().slice(-3000)}`);
    });
    await stopRun(wire);
    const check = tally(out, RECORDS);
    console.log(`rabbitmq restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('a broker that is not there: the run fails after its reconnects, naming it', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir();
    const port = await freePort();
    const file = await pipelineFile(dir, [
      'name: unreachable',
      `source: { type: rabbitmq, config: { url: "amqp://guest:guest@127.0.0.1:${port}", queue: q, reconnect_attempts: 2 } }`,
      'sink: { type: drop }',
    ]);
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`rabbitmq at 127.0.0.1:${port} is unreachable after 2 reconnect attempt(s)`);
  });
});
