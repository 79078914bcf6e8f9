import { Type } from '@sinclair/typebox';
import type { BaseOptions } from '@platformatic/kafka';
import { WireError } from '../../core/errors.js';

/** The connection settings every kafka connector takes. */
export const kafkaConnectionFields = {
  brokers: Type.Array(Type.String({ minLength: 1, description: 'host:port' }), {
    minItems: 1,
    description: 'Bootstrap brokers (`host:port`); the client learns the rest of the cluster from them.',
  }),
  client_id: Type.String({ minLength: 1, default: 'wire', description: 'The client id the brokers see (logs, quotas).' }),
  sasl: Type.Optional(
    Type.Object(
      {
        mechanism: Type.Union([Type.Literal('PLAIN'), Type.Literal('SCRAM-SHA-256'), Type.Literal('SCRAM-SHA-512')], {
          description: 'The SASL mechanism.',
        }),
        username: Type.String({ minLength: 1, description: 'The SASL user.' }),
        password: Type.String({ 'x-wire-secret': true, description: 'The SASL password (e.g. `${file:/run/secrets/kafka}`).' }),
      },
      { additionalProperties: false, description: 'SASL authentication (not verified against a server here: the test server has none).' },
    ),
  ),
  tls: Type.Boolean({ default: false, description: 'Connect with TLS (system CAs).' }),
  reconnect_attempts: Type.Integer({
    minimum: 0,
    default: 20,
    description: 'Retries of a request that failed for want of a broker (down, unreachable, leader moving), with backoff, before the pipeline fails.',
  }),
  reconnect_max_delay: Type.Integer({
    minimum: 1,
    default: 2000,
    description: 'Longest wait in milliseconds between two retries (the wait doubles from 50 ms up to it).',
  }),
};

export interface KafkaConnectionConfig {
  readonly brokers: string[];
  readonly client_id: string;
  readonly sasl?: { readonly mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; readonly username: string; readonly password: string };
  readonly tls: boolean;
  readonly reconnect_attempts: number;
  readonly reconnect_max_delay: number;
}

/** Backoff before retry `attempt` (from 1): doubling from 50 ms, capped. */
export function retryDelay(attempt: number, maxDelay: number): number {
  return Math.min(maxDelay, 50 * 2 ** Math.min(attempt - 1, 16));
}

/** The options every client (producer, consumer) is made with. */
export function clientOptions(config: KafkaConnectionConfig, suffix: string): BaseOptions {
  return {
    clientId: `${config.client_id}-${suffix}`,
    bootstrapBrokers: config.brokers,
    retries: config.reconnect_attempts,
    retryDelay: (_client, _operation, attempt) => retryDelay(attempt, config.reconnect_max_delay),
    connectTimeout: 5000,
    ...(config.tls ? { tls: {} } : {}),
    ...(config.sasl === undefined ? {} : { sasl: { mechanism: config.sasl.mechanism, username: config.sasl.username, password: config.sasl.password } }),
  };
}

/** The innermost messages of an error and of those it gathers (the client wraps retried failures in MultipleErrors). */
function messagesOf(error: unknown, out: string[] = [], depth = 0): string[] {
  if (!(error instanceof Error) || depth > 4) return out;
  const inner = (error as { errors?: unknown }).errors;
  const cause = (error as { cause?: unknown }).cause;
  if (Array.isArray(inner) && inner.length > 0) messagesOf(inner[inner.length - 1], out, depth + 1);
  else if (cause instanceof Error) messagesOf(cause, out, depth + 1);
  else out.push(error.message);
  return out;
}

/** Whether the client gave up on this error as not worth retrying (a refused request, not a missing broker). */
export function refused(error: unknown): boolean {
  const find = (error as { findBy?: (key: string, value: unknown) => unknown } | undefined)?.findBy;
  return typeof find === 'function' && find.call(error, 'canRetry', false) !== undefined && find.call(error, 'canRetry', false) !== null;
}

/** A client failure as a WireError naming the brokers and the request; a failure after every retry is UNAVAILABLE. */
export function kafkaError(config: KafkaConnectionConfig, what: string, error: unknown, attempts = config.reconnect_attempts): WireError {
  if (error instanceof WireError) return error;
  const endpoint = config.brokers.join(',');
  const detail = messagesOf(error).join('; ') || String(error);
  if (refused(error)) return new WireError('INVALID_INPUT', `kafka ${what} refused by ${endpoint}: ${detail}`, { brokers: config.brokers }, error);
  return new WireError(
    'UNAVAILABLE',
    `kafka at ${endpoint}: ${what} failed after ${attempts} retr${attempts === 1 ? 'y' : 'ies'}: ${detail}`,
    { brokers: config.brokers, attempts },
    error,
  );
}
