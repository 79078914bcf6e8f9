// The redis source and sink against a real redis-server (test/harness): 100,000 records through each, a
// kill -9 of the pipeline after a checkpoint, a restart of the server mid-run; every record is checked by content.
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { fileLines, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';
import { fillStream, streamValues, tally } from './redis-records.js';

const redis = redisAvailable();
const RECORDS = 100_000;

let server: RedisServer | undefined;
let client: Redis | undefined;
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await cleanup();
  await server?.stop();
  server = undefined;
});

async function setup(): Promise<{ dir: string; state: string }> {
  server = await startRedis();
  const { Redis } = await import('ioredis');
  client = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
  const dir = await makeTempDir();
  return { dir, state: join(dir, 'state') };
}

describe.skipIf(!redis.available)(redis.available ? 'redis connectors on a real server' : `redis connectors (skipped: ${redis.skipReason})`, () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record is in the stream (duplicates reported)', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(dir, [
      'name: to-redis',
      'rate_limit: 25000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      `sink: { type: redis, config: { url: "${server!.url}", command: xadd, key: out } }`,
    ]);
    await killAfterCheckpoint('to-redis', dir, state, file);
    const atKill = await client!.xlen('out');
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await streamValues(client!, 'out'), RECORDS);
    console.log(`redis sink after kill -9: ${atKill} entries at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source: 100,000 entries, kill -9 after a checkpoint, rerun: the file holds each exactly once and nothing stays pending', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    await fillStream(client!, 'in', 0, RECORDS);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-redis',
      'rate_limit: 25000',
      `source: { type: redis, config: { url: "${server!.url}", stream: in, group: g, consumer: c1 } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-redis', dir, state, file);
    // The kill left entries delivered and not acknowledged: the rerun must read them again from its PEL.
    const pendingAtKill = ((await client!.xpending('in', 'g')) as [number])[0];
    expect(pendingAtKill).toBeGreaterThan(0);
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileLines(output)).length >= RECORDS || rerun.child.exitCode !== null, 240_000, 200);
    await stopRun(rerun);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`redis source after kill -9: ${pendingAtKill} pending at the kill, ${check.duplicates} duplicate(s) in the output`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The file sink resumes at its checkpointed length and the source skips pending entries the checkpoint covers.
    expect(check.duplicates).toBe(0);
    expect(((await client!.xpending('in', 'g')) as [number])[0]).toBe(0);
  });

  it('source and sink: redis-server restarted mid-run, the pipeline reconnects and loses nothing', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(dir, [
      'name: through-redis',
      `source: { type: redis, config: { url: "${server!.url}", stream: in, block: 200 } }`,
      `sink: { type: redis, config: { url: "${server!.url}", command: xadd, key: out } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const half = RECORDS / 2;
    await fillStream(client!, 'in', 0, half);
    await waitFor(async () => (await client!.xlen('out')) > half / 4 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    await fillStream(client!, 'in', half, RECORDS);
    await waitFor(async () => (await client!.xlen('out')) >= RECORDS || wire.child.exitCode !== null, 240_000, 200);
    await stopRun(wire);
    const check = tally(await streamValues(client!, 'out'), RECORDS);
    console.log(`redis restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(((await client!.xpending('in', 'wire')) as [number])[0]).toBe(0);
  });

  it('a server that stays down: the run fails after its reconnects, naming the server', { timeout: 120_000 }, async () => {
    const { dir, state } = await setup();
    const port = server!.port;
    client!.disconnect();
    client = undefined;
    await server!.stop();
    server = undefined;
    const file = await pipelineFile(dir, [
      'name: unreachable',
      `source: { type: redis, config: { url: "redis://127.0.0.1:${port}", stream: in, reconnect_attempts: 2 } }`,
      'sink: { type: drop }',
    ]);
    const result = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`redis at 127.0.0.1:${port} is unreachable after 2 reconnect attempt(s)`);
  });
});
