// The s3 sink and source against a fake S3 server (@20minutes/s3rver, test/harness/s3.ts; not AWS): 100,000
// records with a kill -9 of the pipeline after a checkpoint, and the server restarted mid-run; every record is
// checked by content.
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { startS3, type S3Server } from '../harness/s3.js';
import { fileLines, killAfterCheckpoint, pipelineFile } from './connector-runs.js';
import { createBucket, objectKeys, objectLines, payloadOf, putObject, s3Client, tally } from './s3-records.js';

const RECORDS = 100_000;

let server: S3Server | undefined;
let client: S3Client | undefined;
afterEach(async () => {
  client?.destroy();
  client = undefined;
  await cleanup();
  await server?.stop();
  server = undefined;
});

async function setup(): Promise<{ dir: string; state: string; connection: string }> {
  server = await startS3();
  client = await s3Client(server.config);
  await createBucket(client, 'data');
  const dir = await makeTempDir();
  const c = server.config;
  const connection = `bucket: data, endpoint: "${c.endpoint}", force_path_style: true, access_key_id: ${c.access_key_id}, secret_access_key: ${c.secret_access_key}`;
  return { dir, state: join(dir, 'state'), connection };
}

const GENERATE = `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`;

describe('s3 connectors on a fake S3 server (s3rver)', () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record is in the objects exactly once', { timeout: 180_000 }, async () => {
    const { dir, state, connection } = await setup();
    const file = await pipelineFile(dir, [
      'name: to-s3',
      'rate_limit: 25000',
      GENERATE,
      `sink: { type: s3, config: { ${connection}, key: "out/{yyyy}{MM}{dd}/{partition}-{seq}.jsonl", max_bytes: 100000 } }`,
    ]);
    // A checkpoint past the first, so objects were written before the kill and after the checkpoint.
    await killAfterCheckpoint('to-s3', dir, state, file, { until: (c) => c.position !== null && (c.sink as { seq: number }).seq >= 3 });
    const atKill = (await objectLines(client!, 'data', 'out/')).length;
    expect(atKill).toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await objectLines(client!, 'data', 'out/'), RECORDS);
    console.log(`s3 sink after kill -9: ${atKill} records in objects at the kill, ${check.duplicates} duplicate(s) after the rerun`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('sink: the server restarted mid-run, the pipeline retries and every record is there once', { timeout: 180_000 }, async () => {
    const { dir, state, connection } = await setup();
    const file = await pipelineFile(dir, [
      'name: s3-restart',
      'rate_limit: 20000',
      GENERATE,
      `sink: { type: s3, config: { ${connection}, key: "out/{seq}.jsonl", max_bytes: 200000 } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await objectKeys(client!, 'data', 'out/').catch(() => [])).length >= 5 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    const ended = await wire.exited(120_000);
    expect(ended.code, wire.stderr()).toBe(0);
    const check = tally(await objectLines(client!, 'data', 'out/'), RECORDS);
    console.log(`s3 restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('source: objects under a prefix, kill -9 after a checkpoint, rerun: the file holds each record exactly once', { timeout: 180_000 }, async () => {
    const { dir, state, connection } = await setup();
    for (let o = 0; o < 20; o++) {
      const lines: string[] = [];
      for (let n = o * 5000; n < (o + 1) * 5000; n++) lines.push(JSON.stringify({ n, payload: payloadOf(n) }));
      await putObject(client!, 'data', `in/${String(o).padStart(4, '0')}.jsonl`, lines.join('\n') + '\n');
    }
    await putObject(client!, 'data', 'other/ignored.jsonl', '{"n":-1}\n');
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-s3',
      'rate_limit: 25000',
      `source: { type: s3, config: { ${connection}, prefix: in/ } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-s3', dir, state, file);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await fileLines(output), RECORDS);
    console.log(`s3 source after kill -9: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('source on the block path (no rate limit, a file sink): kill -9 after a checkpoint, rerun: each record exactly once', { timeout: 180_000 }, async () => {
    const { dir, state, connection } = await setup();
    for (let o = 0; o < 20; o++) {
      const lines: string[] = [];
      for (let n = o * 5000; n < (o + 1) * 5000; n++) lines.push(JSON.stringify({ n, payload: payloadOf(n) }));
      // Some objects end without a newline: their last line is a record all the same.
      await putObject(client!, 'data', `in/${String(o).padStart(4, '0')}.jsonl`, lines.join('\n') + (o % 3 === 0 ? '' : '\n'));
    }
    const output = join(dir, 'out.jsonl');
    const lines = (follow: boolean): string[] => [
      'name: from-s3-blocks',
      `source: { type: s3, config: { ${connection}, prefix: in/, follow: ${follow}, poll_interval: 100 } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ];
    // Following, the run does not end by itself: it is there to be killed after a checkpoint.
    await killAfterCheckpoint('from-s3-blocks', dir, state, await pipelineFile(dir, lines(true)));
    const rerun = await runWire(['run', '--data-dir', state, await pipelineFile(dir, lines(false), 'rerun.yaml')], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await fileLines(output), RECORDS);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('source: the server restarted mid-run, the pipeline retries and reads every record once', { timeout: 180_000 }, async () => {
    const { dir, state, connection } = await setup();
    for (let o = 0; o < 20; o++) {
      const lines: string[] = [];
      for (let n = o * 1000; n < (o + 1) * 1000; n++) lines.push(JSON.stringify({ n, payload: payloadOf(n) }));
      await putObject(client!, 'data', `in/${String(o).padStart(4, '0')}.jsonl`, lines.join('\n') + '\n');
    }
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: s3-source-restart',
      'rate_limit: 4000',
      `source: { type: s3, config: { ${connection}, prefix: in/ } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileLines(output)).length >= 2000 || wire.child.exitCode !== null, 120_000, 50);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    const ended = await wire.exited(120_000);
    expect(ended.code, wire.stderr()).toBe(0);
    const check = tally(await fileLines(output), 20_000);
    console.log(`s3 source restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
  });

  it('a server that is down: the run fails after its attempts, naming the bucket and endpoint', { timeout: 60_000 }, async () => {
    const { dir, state, connection } = await setup();
    await server!.stop();
    const endpoint = server!.endpoint;
    server = undefined;
    const file = await pipelineFile(dir, ['name: s3-down', GENERATE.replace(`${RECORDS}`, '10'), `sink: { type: s3, config: { ${connection}, attempts: 2 } }`]);
    const result = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 30_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`on data at ${endpoint} failed after 2 attempt(s)`);
  });
});
