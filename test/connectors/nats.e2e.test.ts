// The nats source and sink against a real nats-server with JetStream (test/harness): 100,000 records through
// each, a kill -9 of the pipeline after a checkpoint, a restart of the server mid-run; every record is checked
// by content.
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { fileLines, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';
import { ackPending, createStream, reconnected, fillStream, streamLength, streamValues, tally } from './nats-records.js';

const nats = natsAvailable();
const RECORDS = 100_000;
/** The server-restart run is about reconnecting, not volume: fewer records keep the suite short. */
const RESTART_RECORDS = 20_000;

let server: NatsServer | undefined;
let client: NatsConnection | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await cleanup();
  await server?.stop();
  server = undefined;
});

async function setup(): Promise<{ dir: string; state: string }> {
  server = await startNats();
  const { connect } = await import('@nats-io/transport-node');
  client = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const dir = await makeTempDir();
  return { dir, state: join(dir, 'state') };
}

describe.skipIf(!nats.available)(nats.available ? 'nats connectors on a real server' : `nats connectors (skipped: ${nats.skipReason})`, () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record is in the stream (duplicates reported)', { timeout: 180_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(dir, [
      'name: to-nats',
      'rate_limit: 25000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      `sink: { type: nats, config: { url: "${server!.url}", subject: out.records, stream: OUT, stream_subjects: [out.>] } }`,
    ]);
    await killAfterCheckpoint('to-nats', dir, state, file);
    const atKill = await streamLength(client!, 'OUT');
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await streamValues(client!, 'OUT'), RECORDS);
    console.log(`nats sink after kill -9: ${atKill} messages at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('source: 100,000 messages, kill -9 after a checkpoint, rerun: the file holds each exactly once and nothing stays unacked', { timeout: 180_000 }, async () => {
    const { dir, state } = await setup();
    await createStream(client!, 'IN', ['in.>']);
    await fillStream(client!, 'IN', 'in.records', 0, RECORDS);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-nats',
      'rate_limit: 25000',
      `source: { type: nats, config: { url: "${server!.url}", stream: IN, durable: c1 } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-nats', dir, state, file);
    // The kill left messages delivered and not acknowledged: the rerun must read them again at once.
    const pendingAtKill = await ackPending(client!, 'IN', 'c1');
    expect(pendingAtKill).toBeGreaterThan(0);
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileLines(output)).length >= RECORDS || rerun.child.exitCode !== null, 120_000, 200);
    await stopRun(rerun);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`nats source after kill -9: ${pendingAtKill} unacked at the kill, ${check.duplicates} duplicate(s) in the output`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The file sink resumes at its checkpointed length and the source restarts the consumer after the checkpoint.
    expect(check.duplicates).toBe(0);
    expect(await ackPending(client!, 'IN', 'c1')).toBe(0);
  });

  it('source and sink: nats-server restarted mid-run, the pipeline reconnects and loses nothing', { timeout: 180_000 }, async () => {
    const { dir, state } = await setup();
    await createStream(client!, 'IN', ['in.>']);
    const file = await pipelineFile(dir, [
      'name: through-nats',
      `source: { type: nats, config: { url: "${server!.url}", stream: IN } }`,
      `sink: { type: nats, config: { url: "${server!.url}", subject: out.records, stream: OUT, stream_subjects: [out.>] } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const half = RESTART_RECORDS / 2;
    await fillStream(client!, 'IN', 'in.records', 0, half);
    await waitFor(async () => (await streamLength(client!, 'OUT').catch(() => 0)) > half / 4 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    await reconnected(client!, 'IN');
    await fillStream(client!, 'IN', 'in.records', half, RESTART_RECORDS);
    await waitFor(async () => (await streamLength(client!, 'OUT').catch(() => 0)) >= RESTART_RECORDS || wire.child.exitCode !== null, 120_000, 200);
    await stopRun(wire);
    const check = tally(await streamValues(client!, 'OUT'), RESTART_RECORDS);
    console.log(`nats restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(await ackPending(client!, 'IN', 'through-nats')).toBe(0);
  });

  it('a server that stays down: the run fails after its reconnects, naming the server', { timeout: 60_000 }, async () => {
    const { dir, state } = await setup();
    const port = server!.port;
    await client!.close();
    client = undefined;
    await server!.stop();
    server = undefined;
    const file = await pipelineFile(dir, [
      'name: unreachable',
      `source: { type: nats, config: { url: "nats://127.0.0.1:${port}", stream: IN, reconnect_attempts: 2 } }`,
      'sink: { type: drop }',
    ]);
    const result = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`nats at 127.0.0.1:${port} is unreachable after 2 reconnect attempt(s)`);
  });
});
