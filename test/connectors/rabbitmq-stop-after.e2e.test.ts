// The rabbitmq source's `stop_after` against a real rabbitmq-server (test/harness): a finite run reads exactly that
// many messages, acks every one of them before it ends, and leaves the rest of the queue for the next run.
import { join } from 'node:path';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from '../cli/harness.js';
import { rabbitmqAvailable, startRabbitmq, type RabbitmqServer } from '../harness/rabbitmq.js';
import { fileLines, pipelineFile } from './connector-runs.js';

const rabbitmq = rabbitmqAvailable();
const MESSAGES = 20_000;
const STOP_AFTER = 15_000;

let server: RabbitmqServer | undefined;
let connection: ChannelModel | undefined;
let channel: ConfirmChannel | undefined;

beforeAll(async () => {
  if (!rabbitmq.available) return;
  server = await startRabbitmq();
  const amqp = await import('amqplib');
  connection = await amqp.connect(server.url);
  channel = await connection.createConfirmChannel();
}, 180_000);
afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await server?.stop();
}, 120_000);
afterEach(async () => {
  await cleanup();
});

describe.skipIf(!rabbitmq.available)(rabbitmq.available ? 'rabbitmq source stop_after' : `rabbitmq source stop_after (skipped: ${rabbitmq.skipReason})`, () => {
  it('reads stop_after messages, acks all of them before it ends, and the next run reads on from there', { timeout: 240_000 }, async () => {
    const dir = await makeTempDir();
    await channel!.assertQueue('finite', { durable: true });
    for (let n = 0; n < MESSAGES; n++) channel!.sendToQueue('finite', Buffer.from(JSON.stringify({ n })), { persistent: true });
    await channel!.waitForConfirms();
    const output = join(dir, 'out.jsonl');
    const run = async (stopAfter: number): Promise<number[]> => {
      const file = await pipelineFile(dir, [
        'name: finite',
        `source: { type: rabbitmq, config: { url: "${server!.url}", queue: finite, stop_after: ${stopAfter} } }`,
        `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
      ]);
      const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 120_000 });
      expect(result.code, result.stderr).toBe(0);
      return (await fileLines(output)).map((line) => (JSON.parse(line) as { n: number }).n);
    };
    expect(await run(STOP_AFTER)).toEqual(Array.from({ length: STOP_AFTER }, (_, n) => n));
    // Acked before the run ended: the broker holds only the messages it did not read (those prefetched came back).
    expect((await channel!.checkQueue('finite')).messageCount).toBe(MESSAGES - STOP_AFTER);
    expect(await run(MESSAGES - STOP_AFTER)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n));
    expect((await channel!.checkQueue('finite')).messageCount).toBe(0);
  });
});
