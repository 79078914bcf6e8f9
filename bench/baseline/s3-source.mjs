// Hand-written S3 reader, the baseline of the `s3-source` bench row: node s3-source.mjs ENDPOINT BUCKET PREFIX.
// ListObjectsV2 under the prefix, then each object whole with GetObject, in key order, its lines found (not parsed:
// Wire checks each line is JSON without building it). Timed from importing the client (as Wire's run loads it) to the
// last object's lines; prints {"seconds","records"}.
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , endpoint, bucket, prefix] = process.argv;
const started = performance.now();
const s3 = await import('@aws-sdk/client-s3');
// s3rver's fixed credentials.
const client = new s3.S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
const keys = [];
let token;
do {
  const page = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
  for (const object of page.Contents ?? []) keys.push(object.Key);
  token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
} while (token !== undefined);
let records = 0;
for (const key of keys) {
  const answer = await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from((await answer.Body?.transformToByteArray()) ?? []);
  for (let at = body.indexOf(0x0a); at !== -1; at = body.indexOf(0x0a, at + 1)) records++;
}
const seconds = (performance.now() - started) / 1000;
client.destroy();
process.stdout.write(JSON.stringify({ seconds, records }) + '\n');
