import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Writes one object: a PutObject, or a multipart upload in parts of `partSize` bytes when it is larger than one
 * part (aborted on failure, so no parts are left billed). Resolves once S3 has the whole object.
 */
export async function putObject(client: S3Client, bucket: string, key: string, body: Buffer, partSize: number): Promise<void> {
  const s3 = await import('@aws-sdk/client-s3');
  if (body.length <= partSize) {
    await client.send(new s3.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
    return;
  }
  const created = await client.send(new s3.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: 'application/x-ndjson' }));
  const uploadId = created.UploadId!;
  try {
    const parts: { ETag: string; PartNumber: number }[] = [];
    for (let offset = 0, number = 1; offset < body.length; offset += partSize, number++) {
      const part = await client.send(
        new s3.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body.subarray(offset, offset + partSize) }),
      );
      parts.push({ ETag: part.ETag!, PartNumber: number });
    }
    await client.send(new s3.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await client.send(new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}
