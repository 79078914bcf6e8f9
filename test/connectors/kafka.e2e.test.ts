// The kafka source and sink through `wire run`, against the Kafka-protocol test server (test/harness/kafka.ts,
// librdkafka's mock cluster, 3 brokers): 100,000 records through each with a kill -9 after a checkpoint, a broker
// taken down and brought back mid-run, and a cluster that cannot be reached. Every record is checked by content.
import { join } from 'node:path';
import type { Producer } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { kafkaAvailable, startKafka, type KafkaServer } from '../harness/kafka.js';
import { fileLines, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';
import { committedOffsets, partitionLeaders, produceRange, producerFor, readTopic, tally } from './kafka-records.js';

const kafka = await kafkaAvailable();
const RECORDS = 100_000;

let server: KafkaServer | undefined;
let producer: Producer<string, string, string, string> | undefined;
afterEach(async () => {
  await producer?.close();
  producer = undefined;
  await cleanup();
  await server?.stop();
  server = undefined;
});

async function setup(topics: Record<string, number>): Promise<{ dir: string; state: string; brokers: string }> {
  server = await startKafka(kafka.binary, { topics });
  producer = await producerFor(server.bootstrap);
  const dir = await makeTempDir();
  return { dir, state: join(dir, 'state'), brokers: JSON.stringify(server.brokers) };
}

const values = async (topic: string): Promise<string[]> => (await readTopic(server!.bootstrap, topic)).map((m) => m.value);

describe.skipIf(!kafka.available)(kafka.available ? 'kafka connectors on the Kafka-protocol test server' : `kafka connectors (skipped: ${kafka.skipReason})`, () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record is in the topic (duplicates reported)', { timeout: 180_000 }, async () => {
    const { dir, state, brokers } = await setup({ out: 4 });
    const file = await pipelineFile(dir, [
      'name: to-kafka',
      'rate_limit: 40000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      'transforms: [{ type: key, config: { expr: "concat(\'k\', n % 8)" } }]',
      `sink: { type: kafka, config: { brokers: ${brokers}, topic: out } }`,
    ]);
    await killAfterCheckpoint('to-kafka', dir, state, file);
    const atKill = (await values('out')).length;
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const messages = await readTopic(server!.bootstrap, 'out');
    const check = tally(messages.map((m) => m.value), RECORDS);
    console.log(`kafka sink after kill -9: ${atKill} messages at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The key came from the record's key.
    for (const m of messages.slice(0, 100)) expect(m.key).toBe(`k${(JSON.parse(m.value) as { n: number }).n % 8}`);
  });

  it('source: 100,000 messages, kill -9 after a checkpoint, rerun: the file holds each exactly once; the group has the offsets', { timeout: 180_000 }, async () => {
    const { dir, state, brokers } = await setup({ in: 4 });
    await produceRange(producer!, 'in', 0, RECORDS);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-kafka',
      'rate_limit: 40000',
      `source: { type: kafka, config: { brokers: ${brokers}, topic: in, group: g, fetch_max_wait: 100 } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-kafka', dir, state, file);
    const atKill = (await fileLines(output)).length;
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileLines(output)).length >= RECORDS || rerun.child.exitCode !== null, 120_000, 200);
    await stopRun(rerun);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`kafka source after kill -9: ${atKill} lines at the kill, ${check.duplicates} duplicate(s) in the output`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The file sink resumes at its checkpointed length and the source at the checkpoint's offsets.
    expect(check.duplicates).toBe(0);
    // The stop's last checkpoint covered everything: its offsets (each partition's end) reached the group.
    const committed = await committedOffsets(server!.bootstrap, 'g', 'in', 4);
    expect(committed.reduce((a, b) => a + b, 0)).toBe(RECORDS);
  });

  it('source and sink: a broker taken down mid-run and brought back, the pipeline reconnects and loses nothing', { timeout: 180_000 }, async () => {
    const { dir, state, brokers } = await setup({ in: 4, out: 4 });
    // Every record is produced before the run: the test's own client never writes while brokers go down (a stalled
    // producer here would look like a stalled pipeline). The rate limit keeps records flowing through the outages.
    await produceRange(producer!, 'in', 0, RECORDS);
    const file = await pipelineFile(dir, [
      'name: through-kafka',
      'rate_limit: 8000',
      `source: { type: kafka, config: { brokers: ${brokers}, topic: in, fetch_max_wait: 100 } }`,
      `sink: { type: kafka, config: { brokers: ${brokers}, topic: out } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const progress = async (what: string, want: number, ms: number): Promise<void> => {
      let seen = 0;
      await waitFor(async () => (seen = (await values('out')).length) >= want || wire.child.exitCode !== null, ms, 250).catch((err: Error) => {
        throw new Error(`${err.message} (${what}: ${seen} of ${want} records in out; run exit ${wire.child.exitCode})\n${wire.stderr()}`);
      });
    };
    await progress('before the outages', RECORDS / 8, 60_000);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    expect((await values('out')).length, 'the run wrote everything before the first outage').toBeLessThan(RECORDS);
    // Every broker leads some partitions of both topics: each is down in turn while records flow.
    for (const id of [1, 2, 3]) {
      server!.down(id);
      await new Promise((r) => setTimeout(r, 1500));
      server!.up(id);
    }
    await progress('after the outages', RECORDS, 90_000);
    await stopRun(wire);
    const check = tally(await values('out'), RECORDS);
    console.log(`kafka brokers down and up mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('the leader of a partition down mid-run, then back: the source and the sink wait for it and lose nothing', { timeout: 240_000 }, async () => {
    const { dir, state, brokers } = await setup({ in: 4, out: 4 });
    const total = 40_000;
    await produceRange(producer!, 'in', 0, total);
    // The mock cannot move leadership (its `down` keeps the broker the leader): the partitions it leads wait for it.
    // Take down a broker that leads partitions of both topics, so the source and the sink both wait.
    const inLeaders = await partitionLeaders(server!.bootstrap, 'in');
    const outLeaders = await partitionLeaders(server!.bootstrap, 'out');
    const leader = inLeaders.find((id) => outLeaders.includes(id));
    expect(leader, `no broker leads partitions of both topics (in: ${inLeaders}, out: ${outLeaders})`).toBeDefined();
    const file = await pipelineFile(dir, [
      'name: leader-down',
      'rate_limit: 8000',
      `source: { type: kafka, config: { brokers: ${brokers}, topic: in, group: g, fetch_max_wait: 100 } }`,
      `sink: { type: kafka, config: { brokers: ${brokers}, topic: out } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await values('out')).length > total / 4 || wire.child.exitCode !== null, 120_000, 100);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    expect((await values('out')).length, 'the run wrote everything before the leader went down').toBeLessThan(total);
    server!.down(leader!);
    // Long enough for several rounds of both clients' retries against a leader that refuses connections.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(wire.child.exitCode, `the run gave up while the leader was down:\n${wire.stderr()}`).toBeNull();
    server!.up(leader!);
    await waitFor(async () => (await values('out')).length >= total || wire.child.exitCode !== null, 120_000, 250);
    await stopRun(wire);
    const check = tally(await values('out'), total);
    console.log(`kafka partition leader (broker ${leader}) down 6 s mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The stop's checkpoint covered every record, and its offsets reached the group: the source skipped nothing.
    const committed = await committedOffsets(server!.bootstrap, 'g', 'in', 4);
    expect(committed.reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('brokers that cannot be reached: the run fails after its retries, naming them', { timeout: 60_000 }, async () => {
    const dir = await makeTempDir();
    const file = await pipelineFile(dir, [
      'name: unreachable',
      'source: { type: kafka, config: { brokers: ["127.0.0.1:1"], topic: in, reconnect_attempts: 2 } }',
      'sink: { type: drop }',
    ]);
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain('kafka at 127.0.0.1:1: metadata of topic in failed after 2 retries');
  });
});
