// The s3 sink behind a proxy that answers for the fake S3 server (s3rver) as a failing or lying S3 would: requests
// answered 500/503 and then served are retried, and every object is there once; a server that keeps failing fails the
// write with a WireError; a DeleteObjects answered 200 with errors for some keys is not taken as the objects deleted.
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { S3Sink, s3SinkDefinition } from '../../src/connectors/s3/sink.js';
import { objectKey } from '../../src/connectors/s3/object-key.js';
import { WireError } from '../../src/core/errors.js';
import { WireRecord } from '../../src/core/record.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startS3, type S3Server } from '../harness/s3.js';
import { createBucket, objectKeys, objectLines, putObject, s3Client } from './s3-records.js';

let server: S3Server | undefined;
let proxy: FaultProxy | undefined;
let client: S3Client | undefined;
const sinks: S3Sink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  client?.destroy();
  client = undefined;
  await proxy?.close();
  proxy = undefined;
  await server?.stop();
  server = undefined;
});

const TEMPLATE = 'out/{yyyy}{MM}{dd}/{partition}-{seq}.jsonl';
const TIME = Date.UTC(2026, 0, 2, 3, 4);

async function setup(): Promise<void> {
  server = await startS3();
  client = await s3Client(server.config);
  await createBucket(client, 'data');
  proxy = await startFaultProxy(server.config.endpoint);
}

async function sink(config: Record<string, unknown>, committed?: { seq: number; time: number }): Promise<S3Sink> {
  const s = s3SinkDefinition.create({ ...server!.config, endpoint: proxy!.url, bucket: 'data', key: TEMPLATE, ...config }) as S3Sink;
  sinks.push(s);
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal, committed });
  await s.begin();
  return s;
}

const slowDown = { status: 503, body: '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>' };
const internal = { status: 500, body: '<?xml version="1.0"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>' };

describe('s3 sink against a failing or lying S3', () => {
  it('uploads answered 500 and 503 and then served: every object is written, each record once', { timeout: 60_000 }, async () => {
    await setup();
    const s = await sink({ max_bytes: 20, attempts: 4 });
    const failed: string[] = [];
    // The first two tries of every upload fail, one way and then the other.
    const tries = new Map<string, number>();
    proxy!.fault = (req) => {
      if (req.method !== 'PUT') return undefined;
      const n = (tries.get(req.url!) ?? 0) + 1;
      tries.set(req.url!, n);
      if (n > 2) return undefined;
      failed.push(req.url!);
      return n === 1 ? internal : slowDown;
    };
    await s.write(Array.from({ length: 6 }, (_, n) => WireRecord.fromValue({ n, pad: 'xxxxxxxx' })));
    await s.flush();
    expect(failed.length).toBeGreaterThanOrEqual(6);
    const keys = await objectKeys(client!, 'data');
    const lines = (await Promise.all(keys.map((k) => objectLines(client!, 'data', k)))).flat();
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('an S3 that keeps answering 503: the write fails with UNAVAILABLE after its attempts, naming the object', { timeout: 60_000 }, async () => {
    await setup();
    const s = await sink({ attempts: 2 });
    proxy!.fault = (req) => (req.method === 'PUT' ? slowDown : undefined);
    await s.write([WireRecord.fromValue({ n: 1 })]);
    const failure = await s.flush().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(WireError);
    expect(failure).toMatchObject({ code: 'UNAVAILABLE' });
    expect((failure as WireError).message).toMatch(/upload of out\/.*failed after 2 attempt\(s\)/);
    expect(await objectKeys(client!, 'data')).toEqual([]);
  });

  it('a DeleteObjects answered 200 with errors for some keys: the restart fails instead of leaving them to be read twice', { timeout: 60_000 }, async () => {
    await setup();
    for (const seq of [0, 1, 2, 3]) await putObject(client!, 'data', objectKey(TEMPLATE, { seq, partition: '0', time: TIME }), `{"seq":${seq}}\n`);
    const stale = objectKey(TEMPLATE, { seq: 3, partition: '0', time: TIME });
    proxy!.fault = (req) =>
      req.method === 'POST' && req.url!.includes('delete')
        ? {
            status: 200,
            body: `<?xml version="1.0"?><DeleteResult><Error><Key>${stale}</Key><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error></DeleteResult>`,
          }
        : undefined;
    const opening = sink({}, { seq: 2, time: TIME }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const failure = await opening;
    expect(failure).toBeInstanceOf(WireError);
    expect((failure as WireError).message).toContain(`${stale}: InternalError`);
  });
});
