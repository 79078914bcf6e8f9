// The mqtt source's `stop_after` against a real mosquitto (test/harness): a finite run reads exactly that many
// QoS 1 messages and PUBACKs every one of them before it ends (so the broker never sends them again), and the next
// run of the same session reads on from there.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from '../cli/harness.js';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from '../harness/mosquitto.js';
import { fileLines, pipelineFile } from './connector-runs.js';

const mosquitto = mosquittoAvailable();
const MESSAGES = 20_000;
const STOP_AFTER = 15_000;

let server: MosquittoServer | undefined;

beforeAll(async () => {
  if (mosquitto.available) server = await startMosquitto();
}, 60_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);
afterEach(async () => {
  await cleanup();
});

describe.skipIf(!mosquitto.available)(mosquitto.available ? 'mqtt source stop_after' : `mqtt source stop_after (skipped: ${mosquitto.skipReason})`, () => {
  it('reads stop_after messages and PUBACKs all of them before it ends: the next run gets each of the rest once', { timeout: 240_000 }, async () => {
    const dir = await makeTempDir();
    const mqtt = await import('mqtt');
    // The pipeline's session exists (subscribed, offline) before the messages are published: the broker queues them.
    const session = await mqtt.connectAsync(server!.url, { clientId: 'finite', clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 } });
    await session.subscribeAsync('finite', { qos: 1 });
    await session.endAsync();
    const publisher = await mqtt.connectAsync(server!.url, { protocolVersion: 5 });
    for (let start = 0; start < MESSAGES; start += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => publisher.publishAsync('finite', JSON.stringify({ n: start + i }), { qos: 1 })));
    }
    await publisher.endAsync();
    const output = join(dir, 'out.jsonl');
    const run = async (stopAfter: number): Promise<number[]> => {
      const file = await pipelineFile(dir, [
        'name: finite',
        `source: { type: mqtt, config: { url: "${server!.url}", topic: finite, client_id: finite, stop_after: ${stopAfter} } }`,
        `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
      ]);
      const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 120_000 });
      expect(result.code, result.stderr).toBe(0);
      return (await fileLines(output)).map((line) => (JSON.parse(line) as { n: number }).n);
    };
    expect(await run(STOP_AFTER)).toEqual(Array.from({ length: STOP_AFTER }, (_, n) => n));
    // A message the first run read and did not PUBACK would come again here, ahead of the rest, as a duplicate.
    expect(await run(MESSAGES - STOP_AFTER)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n));
  });
});
