import { Type } from '@sinclair/typebox';
import type { Redis } from 'ioredis';
import { WireError } from '../../core/errors.js';
import { endpointOf, reconnectDelay, reconnectFields, type ReconnectConfig } from '../reconnect.js';

/** The connection settings every redis connector takes. */
export const redisConnectionFields = {
  url: Type.String({
    // A `${...}` reference is resolved later (on load, or on the node that runs the task).
    pattern: '^(rediss?://|\\$\\{)',
    default: 'redis://127.0.0.1:6379',
    // It may carry a password (`redis://:secret@host`): shown as "***" (security/secrets.ts).
    'x-wire-secret': true,
    description: 'The server, as `redis://[user:password@]host:port[/db]` (`rediss://` for TLS).',
  }),
  ...reconnectFields,
};

export interface RedisConnectionConfig extends ReconnectConfig {
  readonly url: string;
}

/**
 * A connected client. Commands issued while the connection is down wait for the reconnect (and those in flight
 * are sent again); once the reconnects are used up every waiting command fails with `failure()`.
 */
export interface RedisConnection {
  readonly client: Redis;
  /** Why the connection ended for good, or undefined while it lives. */
  failure(): WireError | undefined;
  /** Called on every reconnect after the first connect (a source re-reads its pending entries then). */
  onReconnect(listener: () => void): void;
  close(): void;
}

/** Where the url points, without its credentials: for errors and logs. */
export const redisEndpoint = (url: string): string => endpointOf(url, 6379);

/**
 * Opens a connection; resolves once it is ready. ioredis is imported here, not with the module: a run loads the
 * registry whether or not it uses redis (docs/performance.md, "Start-up").
 */
export async function connectRedis(config: RedisConnectionConfig, name: string): Promise<RedisConnection> {
  const { Redis } = await import('ioredis');
  const endpoint = redisEndpoint(config.url);
  let lastError: Error | undefined;
  let failure: WireError | undefined;
  let ready = false;
  const reconnectListeners: (() => void)[] = [];
  const client = new Redis(config.url, {
    connectionName: name,
    lazyConnect: true,
    // Commands wait through reconnects: the pipeline neither drops nor fails a write for a short outage.
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    autoResendUnfulfilledCommands: true,
    retryStrategy: (attempt) => (attempt > config.reconnect_attempts ? null : reconnectDelay(attempt, config.reconnect_max_delay)),
  });
  client.on('error', (error: Error) => {
    lastError = error;
  });
  client.on('ready', () => {
    if (ready) for (const listener of reconnectListeners) listener();
    ready = true;
  });
  client.on('end', () => {
    failure ??= new WireError(
      'UNAVAILABLE',
      `redis at ${endpoint} is unreachable after ${config.reconnect_attempts} reconnect attempt(s)` +
        (lastError === undefined ? '' : `: ${lastError.message}`),
      { endpoint, attempts: config.reconnect_attempts },
      lastError,
    );
  });
  const closed = new Promise<void>((resolve) => client.once('end', resolve));
  const up = new Promise<void>((resolve) => client.once('ready', resolve));
  // connect() rejects on the first failed attempt, while ioredis goes on retrying: readiness or the end decides.
  client.connect().catch((error: Error) => {
    lastError = error;
  });
  await Promise.race([up, closed]);
  if (!ready) throw failure!;
  return {
    client,
    failure: () => failure,
    onReconnect: (listener) => reconnectListeners.push(listener),
    close: () => {
      failure ??= new WireError('UNAVAILABLE', `redis connection to ${endpoint} is closed`, { endpoint });
      client.disconnect();
    },
  };
}

/** The error to report for a command that failed: the connection's end when it ended, else the command's own. */
export function redisError(connection: RedisConnection, what: string, error: unknown): WireError {
  const ended = connection.failure();
  if (ended !== undefined) return ended;
  if (error instanceof WireError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // A refused command (WRONGTYPE, NOGROUP, NOAUTH) will be refused again: not worth a retry.
  const code = /^(WRONGTYPE|NOGROUP|NOAUTH|WRONGPASS|NOPERM|ERR)/.test(message) ? 'INVALID_INPUT' : 'UNAVAILABLE';
  return new WireError(code, `redis ${what} failed: ${message}`, {}, error);
}
