import { Type } from '@sinclair/typebox';

/** The reconnect settings of every connector that keeps a connection to a server (redis, rabbitmq, mqtt). */
export const reconnectFields = {
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

export interface ReconnectConfig {
  readonly reconnect_attempts: number;
  readonly reconnect_max_delay: number;
}

/** Backoff before reconnect `attempt` (from 1): doubling from 50 ms, capped. */
export function reconnectDelay(attempt: number, maxDelay: number): number {
  return Math.min(maxDelay, 50 * 2 ** Math.min(attempt - 1, 16));
}

/** Where a server url points, without its credentials: for errors and logs. */
export function endpointOf(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || String(defaultPort)}`;
  } catch {
    return '(unparseable url)';
  }
}
