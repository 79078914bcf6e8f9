import { Type } from '@sinclair/typebox';
import type { S3Client } from '@aws-sdk/client-s3';
import { WireError } from '../../core/errors.js';

/** The connection settings every s3 connector takes. */
export const s3ConnectionFields = {
  bucket: Type.String({ minLength: 3, description: 'The bucket.' }),
  region: Type.String({ minLength: 1, default: 'us-east-1', description: 'The region of the bucket.' }),
  endpoint: Type.Optional(
    Type.String({ pattern: '^(https?://|\\$\\{)', description: 'An S3-compatible endpoint instead of AWS (`http://127.0.0.1:9000` for MinIO or a test server).' }),
  ),
  force_path_style: Type.Boolean({ default: false, description: 'Address the bucket in the path (`endpoint/bucket/key`), as most S3-compatible servers want.' }),
  access_key_id: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'With `secret_access_key`; without them the AWS default chain (environment, profile, role) is used. Shown as "***".' })),
  secret_access_key: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'Shown as "***".' })),
  attempts: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'Tries of each request (the SDK backs off exponentially between them) before the pipeline fails.',
  }),
};

export interface S3ConnectionConfig {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly force_path_style: boolean;
  readonly access_key_id?: string;
  readonly secret_access_key?: string;
  readonly attempts: number;
}

/** A client for the config. The SDK is imported here, not with the module: a run loads the registry whether or not it uses s3. */
export async function s3Client(config: S3ConnectionConfig): Promise<S3Client> {
  const { S3Client: Client } = await import('@aws-sdk/client-s3');
  const { access_key_id, secret_access_key } = config;
  return new Client({
    region: config.region,
    ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
    forcePathStyle: config.force_path_style,
    maxAttempts: config.attempts,
    ...(access_key_id !== undefined && secret_access_key !== undefined
      ? { credentials: { accessKeyId: access_key_id, secretAccessKey: secret_access_key } }
      : {}),
  });
}

/** What failed, as a WireError: a refused request (403, 404) will be refused again; anything else is UNAVAILABLE. */
export function s3Error(config: S3ConnectionConfig, what: string, error: unknown): WireError {
  if (error instanceof WireError) return error;
  const where = config.endpoint ?? `AWS ${config.region}`;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (status === 403 || status === 401) return new WireError('UNAUTHORIZED', `s3 ${what} on ${config.bucket} at ${where} was refused: ${message}`, { status }, error);
  if (status === 404) return new WireError('NOT_FOUND', `s3 ${what} on ${config.bucket} at ${where}: ${message}`, { status }, error);
  return new WireError(
    'UNAVAILABLE',
    `s3 ${what} on ${config.bucket} at ${where} failed after ${config.attempts} attempt(s): ${message}`,
    { attempts: config.attempts, ...(status === undefined ? {} : { status }) },
    error,
  );
}
