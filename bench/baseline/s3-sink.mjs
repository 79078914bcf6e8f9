// Hand-written S3 writer, the baseline of the `s3-sink` bench row: node s3-sink.mjs ENDPOINT BUCKET PREFIX RECORDS
// OBJECT_BYTES. Makes the row's records (the generate source's `{ n, payload }`), writes each as a JSON line, and puts
// the lines in objects of OBJECT_BYTES (one PutObject each, as the sink does between checkpoints). Run in a process of
// its own, as each Wire run is, and timed from importing the client (as Wire's run loads it) to the last object's
// answer; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , endpoint, bucket, prefix, count, size] = process.argv;
const records = Number(count);
const objectBytes = Number(size);
const started = performance.now();
const s3 = await import('@aws-sdk/client-s3');
// s3rver's fixed credentials.
const client = new s3.S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
let lines = [];
let bytes = 0;
let seq = 0;
let written = 0;
const put = async () => {
  await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: `${prefix}${seq++}.jsonl`, Body: lines.join('') }));
  written += lines.length;
  lines = [];
  bytes = 0;
};
for (let n = 0; n < records; n++) {
  const line = JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` }) + '\n';
  lines.push(line);
  bytes += line.length;
  if (bytes >= objectBytes) await put();
}
if (lines.length > 0) await put();
const seconds = (performance.now() - started) / 1000;
client.destroy();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
