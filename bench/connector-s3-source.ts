// The s3 source row of `npm run bench` (`s3-source`): N JSON lines preloaded into s3rver as objects of 10,000 lines,
// read by Wire (s3 → drop; the source ends after the last object) beside a bare @aws-sdk/client-s3 reader doing the
// same in the same run (bench/baseline/s3-source.mjs): ListObjectsV2, then each object whole with GetObject.
import { startS3 } from '../test/harness/s3.js';
import { bareProgramSeconds, sourceRecord, wireSourceSeconds, type SourceRunOptions } from './lib/source-run.js';
import type { ConnectorRow } from './lib/wire-pipeline-run.js';

interface S3SourceBenchOptions extends SourceRunOptions {
  readonly repeat: number;
}

const BUCKET = 'bench';
const PREFIX = 'lines/';
const LINES_PER_OBJECT = 10_000;

export async function benchS3Source(o: S3SourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startS3();
  const s3 = await import('@aws-sdk/client-s3');
  const c = server.config;
  const client = new s3.S3Client({ endpoint: c.endpoint, forcePathStyle: true, region: c.region, credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key } });
  try {
    await client.send(new s3.CreateBucketCommand({ Bucket: BUCKET }));
    for (let start = 0, seq = 0; start < records; start += LINES_PER_OBJECT, seq++) {
      const lines: string[] = [];
      for (let n = start; n < Math.min(records, start + LINES_PER_OBJECT); n++) lines.push(sourceRecord(n) + '\n');
      await client.send(new s3.PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${String(seq).padStart(6, '0')}.jsonl`, Body: lines.join('') }));
    }
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareProgramSeconds(o, 's3-source.mjs', [c.endpoint, BUCKET, PREFIX], records));
      const source = `{ type: s3, config: { bucket: ${BUCKET}, prefix: ${PREFIX}, endpoint: "${c.endpoint}", force_path_style: true, access_key_id: ${c.access_key_id}, secret_access_key: ${c.secret_access_key} } }`;
      wire.push(await wireSourceSeconds(o, `s3-source-${i}`, source, records));
    }
    return { name: 's3-source', records, wireSeconds: wire, bareSeconds: bare, baseline: '@aws-sdk/client-s3 ListObjectsV2, then GetObject of each 10,000-line object in turn, lines found; own process, timed from its import' };
  } finally {
    client.destroy();
    await server.stop();
  }
}
