import { setTimeout as sleep } from 'node:timers/promises';
import { Type } from '@sinclair/typebox';
import type { MongoClient } from 'mongodb';
import { WireError, type ErrorCode } from '../../core/errors.js';

/** The connection settings every mongodb connector takes. */
export const mongoConnectionFields = {
  url: Type.String({
    // A `${...}` reference is resolved later (on load, or on the node that runs the task).
    pattern: '^(mongodb(\\+srv)?://|\\$\\{)',
    default: 'mongodb://127.0.0.1:27017',
    'x-wire-secret': true,
    description: 'The deployment, as a MongoDB connection string (`mongodb://[user:password@]host:port/?replicaSet=rs0`).',
  }),
  database: Type.String({ minLength: 1, description: 'The database.' }),
  collection: Type.String({ minLength: 1, description: 'The collection.' }),
  reconnect_attempts: Type.Integer({
    minimum: 0,
    default: 20,
    description: 'Tries again, with backoff (doubling from 100 ms up to 5 s), after a network error or a primary stepping down, before the pipeline fails.',
  }),
};

export interface MongoConnectionConfig {
  readonly url: string;
  readonly reconnect_attempts: number;
}

/** Where a connection string points, without its credentials: for errors and logs. */
export function mongoEndpoint(url: string): string {
  const at = url.lastIndexOf('@');
  const rest = at < 0 ? url.replace(/^mongodb(\+srv)?:\/\//, '') : url.slice(at + 1);
  return rest.split(/[/?]/)[0] || '(unparseable url)';
}

/** Backoff before try `attempt` (from 1): doubling from 100 ms up to 5 s. */
export function mongoBackoff(attempt: number): number {
  return Math.min(5_000, 100 * 2 ** Math.min(attempt - 1, 16));
}

/** Errors a new try may not see: the network, a server selection timeout, a primary stepping down. */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  if (name === 'MongoNetworkError' || name === 'MongoNetworkTimeoutError' || name === 'MongoServerSelectionError' || name === 'MongoTopologyClosedError') return true;
  const labels = (error as { errorLabels?: unknown } | undefined)?.errorLabels;
  // ResetPool: the driver dropped its connections after a network error (a bulk write reports one this way).
  if (Array.isArray(labels) && ['RetryableWriteError', 'ResumableChangeStreamError', 'ResetPool'].some((label) => labels.includes(label))) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  // NotWritablePrimary, NotPrimaryNoSecondaryOk, PrimarySteppedDown, ShutdownInProgress, InterruptedDueToReplStateChange.
  return typeof code === 'number' && [10107, 13435, 189, 91, 11602, 11600].includes(code);
}

/** A driver error as a WireError whose code says what to do: fix the config, the credentials, or wait. */
export function mongoError(what: string, endpoint: string, error: unknown): WireError {
  if (error instanceof WireError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  let wireCode: ErrorCode = isTransient(error) ? 'UNAVAILABLE' : 'INVALID_INPUT';
  if (code === 18 || code === 13) wireCode = 'UNAUTHORIZED';
  return new WireError(wireCode, `mongodb at ${endpoint}: ${what} failed: ${message}`, { endpoint, ...(typeof code === 'number' ? { mongo_code: code } : {}) }, error);
}

/**
 * A connected client. The driver is imported here, not with the module: a run loads the registry whether or not
 * it uses mongodb. It retries nothing itself: each connector retries with `withRetries`, whose requests are
 * idempotent (writes by id, reads from a position).
 */
export async function connectMongo(config: MongoConnectionConfig, name: string, signal: AbortSignal): Promise<MongoClient> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(config.url, { appName: name, retryWrites: false, retryReads: false, serverSelectionTimeoutMS: 5_000 });
  await withRetries(config, mongoEndpoint(config.url), 'connect', signal, () => client.connect());
  return client;
}

/** Runs `request`, again after a backoff while it fails transiently, up to `reconnect_attempts` times. */
export async function withRetries<T>(config: MongoConnectionConfig, endpoint: string, what: string, signal: AbortSignal, request: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!isTransient(error) || attempt >= config.reconnect_attempts || signal.aborted) throw mongoError(what, endpoint, error);
      await sleep(mongoBackoff(attempt + 1), undefined, { signal }).catch(() => undefined);
    }
  }
}
