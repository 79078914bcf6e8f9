import { Type } from '@sinclair/typebox';
import type { NatsConnection } from '@nats-io/transport-node';
import { WireError } from '../../core/errors.js';

/** The connection settings every nats connector takes. */
export const natsConnectionFields = {
  url: Type.String({
    // A `${...}` reference is resolved later (on load, or on the node that runs the task).
    pattern: '^(nats|tls)://|^\\$\\{',
    default: 'nats://127.0.0.1:4222',
    description: 'The server, as `nats://host:port` (`tls://` for TLS); several may be given, separated by commas.',
  }),
  user: Type.Optional(Type.String({ description: 'User name, with `password`.' })),
  password: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'Password of `user`; shown as "***".' })),
  token: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'An authentication token instead of user and password; shown as "***".' })),
  reconnect_attempts: Type.Integer({
    minimum: 0,
    default: 20,
    description: 'Reconnects tried, with backoff, after the connection is lost (or cannot be made) before the pipeline fails.',
  }),
  reconnect_max_delay: Type.Integer({
    minimum: 1,
    default: 2000,
    description: 'Longest wait in milliseconds between two reconnects (the wait doubles from 50 ms up to it).',
  }),
};

export interface NatsConnectionConfig {
  readonly url: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  readonly reconnect_attempts: number;
  readonly reconnect_max_delay: number;
}

/** A connected client and what became of it. */
export interface NatsLink {
  readonly connection: NatsConnection;
  /** Why the connection ended for good, or undefined while it lives. */
  failure(): WireError | undefined;
  /** Called on every reconnect (a source starts its reads again from what it delivered last). */
  onReconnect(listener: () => void): void;
  close(): Promise<void>;
}

/** Where the url points, without credentials: for errors and logs. */
export function natsEndpoint(url: string): string {
  return url
    .split(',')
    .map((one) => {
      try {
        const parsed = new URL(one.trim());
        return `${parsed.hostname}:${parsed.port || '4222'}`;
      } catch {
        return '(unparseable url)';
      }
    })
    .join(',');
}

/** Backoff before reconnect `attempt` (from 1): doubling from 50 ms, capped. */
export function natsReconnectDelay(attempt: number, maxDelay: number): number {
  return Math.min(maxDelay, 50 * 2 ** Math.min(attempt - 1, 16));
}

/**
 * Connects; resolves once connected, or fails with UNAVAILABLE after `reconnect_attempts` tries. The client is
 * imported here, not with the module: a run loads the registry whether or not it uses nats (docs/performance.md).
 */
export async function connectNats(config: NatsConnectionConfig, name: string): Promise<NatsLink> {
  const { connect } = await import('@nats-io/transport-node');
  const endpoint = natsEndpoint(config.url);
  const unreachable = (cause: unknown): WireError =>
    new WireError(
      'UNAVAILABLE',
      `nats at ${endpoint} is unreachable after ${config.reconnect_attempts} reconnect attempt(s)` +
        (cause instanceof Error ? `: ${cause.message}` : ''),
      { endpoint, attempts: config.reconnect_attempts },
      cause,
    );
  let attempt = 0;
  let connection: NatsConnection | undefined;
  for (;;) {
    try {
      connection = await connect({
        servers: config.url.split(',').map((s) => s.trim()),
        name,
        user: config.user,
        pass: config.password,
        token: config.token,
        maxReconnectAttempts: config.reconnect_attempts,
        reconnectDelayHandler: () => natsReconnectDelay(++attempt, config.reconnect_max_delay),
        // The client would otherwise give up after its 20 s default without counting attempts.
        timeout: 5000,
      });
      break;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'AUTHORIZATION_VIOLATION' || /authorization/i.test(String((error as Error).message))) {
        throw new WireError('UNAUTHORIZED', `nats at ${endpoint} refused the credentials: ${(error as Error).message}`, { endpoint }, error);
      }
      if (++attempt > config.reconnect_attempts) throw unreachable(error);
      await new Promise((resolve) => setTimeout(resolve, natsReconnectDelay(attempt, config.reconnect_max_delay)));
    }
  }
  attempt = 0;
  const live = connection;
  let failure: WireError | undefined;
  const listeners: (() => void)[] = [];
  void (async () => {
    for await (const status of live.status()) {
      if (status.type === 'reconnect') {
        attempt = 0;
        for (const listener of listeners) listener();
      }
    }
  })();
  void live.closed().then((error) => {
    failure ??= error instanceof Error ? unreachable(error) : new WireError('UNAVAILABLE', `nats connection to ${endpoint} is closed`, { endpoint });
  });
  return {
    connection: live,
    failure: () => failure,
    onReconnect: (listener) => listeners.push(listener),
    close: async () => {
      failure ??= new WireError('UNAVAILABLE', `nats connection to ${endpoint} is closed`, { endpoint });
      if (!live.isClosed()) await live.close();
    },
  };
}

/** The error to report for an operation that failed: the connection's end when it ended, else the operation's own. */
export function natsError(link: NatsLink, what: string, error: unknown): WireError {
  const ended = link.failure();
  if (ended !== undefined) return ended;
  if (error instanceof WireError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WireError('UNAVAILABLE', `nats ${what} failed: ${message}`, {}, error);
}

/**
 * Runs a JetStream API call, again with backoff while it fails and the connection lives: right after a server
 * restart the first requests time out while JetStream loads its streams. The connection's end, or the last
 * failure after `reconnect_attempts` tries, is thrown.
 */
export async function withNatsRetry<T>(link: NatsLink, config: NatsConnectionConfig, what: string, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (link.failure() !== undefined || attempt > config.reconnect_attempts || error instanceof WireError) throw natsError(link, what, error);
      await new Promise((resolve) => setTimeout(resolve, natsReconnectDelay(attempt, config.reconnect_max_delay)));
    }
  }
}
