// The s3 sink's exactly-once parts against the fake S3 server (s3rver, not AWS): a restart deletes the objects a
// crash left after the checkpoint, and only those; object keys come from the template; large objects go multipart.
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { S3Sink, s3SinkDefinition } from '../../src/connectors/s3/sink.js';
import { checkObjectKey, objectKey, parseObjectKey } from '../../src/connectors/s3/object-key.js';
import { WireRecord } from '../../src/core/record.js';
import { startS3, type S3Server } from '../harness/s3.js';
import { createBucket, objectKeys, objectLines, putObject, s3Client } from './s3-records.js';

let server: S3Server | undefined;
let client: S3Client | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  client?.destroy();
  client = undefined;
  await server?.stop();
  server = undefined;
});

const TEMPLATE = 'out/{yyyy}{MM}{dd}/{partition}-{seq}.jsonl';
const TIME = Date.UTC(2026, 0, 2, 3, 4);

/** A sink opened (as the cluster task of source partition `partition`, when given) and begun. */
async function sink(config: Record<string, unknown>, committed?: { seq: number; time: number }, partition?: string): Promise<S3Sink> {
  const s = s3SinkDefinition.create({ ...server!.config, bucket: 'data', key: TEMPLATE, ...config }) as S3Sink;
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal, committed, partition });
  await s.begin();
  return s;
}

describe('s3 object keys', () => {
  it('fills the template and reads its seq and partition back', () => {
    const key = objectKey(TEMPLATE, { seq: 42, partition: 'p-1', time: TIME });
    expect(key).toBe('out/20260102/p-1-0000000042.jsonl');
    expect(parseObjectKey(TEMPLATE, key)).toEqual({ seq: 42, partition: 'p-1' });
    expect(parseObjectKey(TEMPLATE, 'out/20260102/notes.txt')).toBeUndefined();
  });

  it('refuses a template without {seq} or with an unknown placeholder', () => {
    expect(checkObjectKey('out/{partition}.jsonl', 'key').map((p) => p.message)).toEqual([expect.stringContaining('must hold {seq} once')]);
    expect(checkObjectKey('out/{day}-{seq}', 'key').map((p) => p.message)).toEqual([expect.stringContaining('unknown placeholder {day}')]);
  });
});

describe('s3 sink on a fake S3 server (s3rver)', () => {
  it('a restart deletes this partition\'s objects numbered from the checkpoint\'s on, and keeps the rest', { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    for (const [seq, partition] of [[0, '0'], [1, '0'], [2, '0'], [3, '0'], [3, '1']] as const) {
      await putObject(client, 'data', objectKey(TEMPLATE, { seq, partition, time: TIME }), `{"seq":${seq}}\n`);
    }
    await putObject(client, 'data', 'out/20260102/readme.txt', 'not an object of the sink');
    const s = await sink({}, { seq: 2, time: TIME });
    expect(await objectKeys(client, 'data')).toEqual([
      'out/20260102/0-0000000000.jsonl',
      'out/20260102/0-0000000001.jsonl',
      'out/20260102/1-0000000003.jsonl',
      'out/20260102/readme.txt',
    ]);
    // The replay is written under the checkpoint's number and time.
    await s.write([WireRecord.fromValue({ n: 1 })]);
    await s.flush();
    expect(s.checkpoint()).toMatchObject({ seq: 3 });
    expect(await objectLines(client, 'data', 'out/20260102/0-0000000002')).toEqual(['{"n":1}']);
    await s.close();
  });

  it('a fresh run deletes nothing and numbers its objects after the highest of its partition', { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    await putObject(client, 'data', objectKey(TEMPLATE, { seq: 7, partition: '0', time: TIME }), '{"old":7}\n');
    const s = await sink({});
    await s.write([WireRecord.fromValue({ n: 1 })]);
    await s.flush();
    await s.close();
    const keys = await objectKeys(client, 'data');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe('out/20260102/0-0000000007.jsonl');
    expect(keys[1]).toMatch(/\/0-0000000008\.jsonl$/);
  });

  it("in a cluster, {partition} is the task's source partition: the tasks of one pipeline write and clean up apart", { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    // Task `a/1` (its id URI-encoded in keys) crashed after its checkpoint at seq 1; task `b` has objects 0 and 1.
    for (const [seq, partition] of [[0, 'a%2F1'], [1, 'a%2F1'], [0, 'b'], [1, 'b']] as const) {
      await putObject(client, 'data', objectKey(TEMPLATE, { seq, partition, time: TIME }), `{"seq":${seq}}\n`);
    }
    const a = await sink({}, { seq: 1, time: TIME }, 'a/1');
    await a.write([WireRecord.fromValue({ task: 'a' })]);
    await a.flush();
    await a.close();
    const b = await sink({}, undefined, 'b');
    await b.write([WireRecord.fromValue({ task: 'b' })]);
    await b.flush();
    await b.close();
    const keys = await objectKeys(client, 'data');
    expect(keys.filter((k) => k.includes('/a%2F1-'))).toEqual(['out/20260102/a%2F1-0000000000.jsonl', 'out/20260102/a%2F1-0000000001.jsonl']);
    expect(await objectLines(client, 'data', 'out/20260102/a%2F1-0000000001')).toEqual(['{"task":"a"}']);
    expect(keys.filter((k) => k.includes('/b-')).map((k) => k.slice(-16))).toEqual(['0000000000.jsonl', '0000000001.jsonl', '0000000002.jsonl']);
    expect(await objectLines(client, 'data', 'out/20260102/b-0000000001')).toEqual(['{"seq":1}']);
  });

  it('a configured partition wins over the task\'s', { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    const s = await sink({ partition: 'mine' }, undefined, 'orders-3');
    await s.write([WireRecord.fromValue({ n: 1 })]);
    await s.flush();
    await s.close();
    expect((await objectKeys(client, 'data')).map((k) => k.replace(/^out\/\d{8}\//, ''))).toEqual(['mine-0000000000.jsonl']);
  });

  it('keeps the order of records written as values and as the bytes a source read, across writes, one line each', { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    const s = await sink({});
    const raw = (n: number): WireRecord => WireRecord.fromRaw(new TextEncoder().encode(`{"n":${n},"raw":true}`));
    await s.write([WireRecord.fromValue({ n: 0 }), raw(1), raw(2), WireRecord.fromValue({ n: 3, text: 'é\n' })]);
    await s.write([raw(4)]);
    await s.write([WireRecord.fromValue({ n: 5 }), WireRecord.fromValue({ n: 6 })]);
    await s.flush();
    await s.close();
    expect(await objectKeys(client, 'data')).toHaveLength(1);
    expect((await objectLines(client, 'data')).map((l) => JSON.parse(l) as unknown)).toEqual([
      { n: 0 },
      { n: 1, raw: true },
      { n: 2, raw: true },
      { n: 3, text: 'é\n' },
      { n: 4, raw: true },
      { n: 5 },
      { n: 6 },
    ]);
  });

  it('closes objects at max_bytes and sends a large one as a multipart upload', { timeout: 60_000 }, async () => {
    server = await startS3();
    client = await s3Client(server.config);
    await createBucket(client, 'data');
    const s3 = await import('@aws-sdk/client-s3');
    const sent: string[] = [];
    const send = s3.S3Client.prototype.send;
    vi.spyOn(s3.S3Client.prototype, 'send').mockImplementation(function (this: S3Client, command: { constructor: { name: string } }) {
      sent.push(command.constructor.name);
      return (send as (c: unknown) => Promise<unknown>).call(this, command);
    } as typeof send);
    const s = await sink({ max_bytes: 6 * 1024 * 1024, part_size: 5 * 1024 * 1024 });
    const big = 'x'.repeat(1000);
    for (let b = 0; b < 8; b++) await s.write(Array.from({ length: 1000 }, (_, i) => WireRecord.fromValue({ n: b * 1000 + i, big })));
    await s.flush();
    await s.close();
    const keys = await objectKeys(client, 'data');
    expect(keys).toHaveLength(2);
    expect(sent.filter((name) => name === 'UploadPartCommand')).toHaveLength(2);
    expect(sent.filter((name) => name === 'CompleteMultipartUploadCommand')).toHaveLength(1);
    const lines = await objectLines(client, 'data');
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual(Array.from({ length: 8000 }, (_, i) => i));
  });
});
