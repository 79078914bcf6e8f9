// What the s3 tests read back: every line of every object under a prefix (the numbered records of redis-records.ts).
import type { S3Client } from '@aws-sdk/client-s3';

export { payloadOf, tally } from './redis-records.js';

export async function s3Client(config: { endpoint: string; access_key_id: string; secret_access_key: string; region: string }): Promise<S3Client> {
  const s3 = await import('@aws-sdk/client-s3');
  return new s3.S3Client({
    endpoint: config.endpoint,
    forcePathStyle: true,
    region: config.region,
    credentials: { accessKeyId: config.access_key_id, secretAccessKey: config.secret_access_key },
  });
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  const s3 = await import('@aws-sdk/client-s3');
  await client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
}

/** The keys under `prefix`, in order. */
export async function objectKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const s3 = await import('@aws-sdk/client-s3');
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new s3.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

/** Every line of every object under `prefix`. */
export async function objectLines(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const s3 = await import('@aws-sdk/client-s3');
  const lines: string[] = [];
  for (const key of await objectKeys(client, bucket, prefix)) {
    const body = await (await client.send(new s3.GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    for (const line of body.split('\n')) if (line !== '') lines.push(line);
  }
  return lines;
}

export async function putObject(client: S3Client, bucket: string, key: string, body: string): Promise<void> {
  const s3 = await import('@aws-sdk/client-s3');
  await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}
