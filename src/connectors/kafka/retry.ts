import { kafkaError, refused, retryDelay, type KafkaConnectionConfig } from './connection.js';

/**
 * Runs `attempt` until it succeeds, retrying with backoff up to `reconnect_attempts` times (a broker down, a leader
 * moving), then fails (at once for a request the broker refused) with a WireError naming the brokers. `before` runs before each retry (drop stale metadata).
 */
export async function withRetry<T>(
  config: KafkaConnectionConfig,
  what: string,
  signal: AbortSignal,
  attempt: () => Promise<T>,
  before?: () => void,
): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= config.reconnect_attempts || signal.aborted || refused(error)) throw kafkaError(config, what, error);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, retryDelay(tries + 1, config.reconnect_max_delay));
        signal.addEventListener('abort', done, { once: true });
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
      before?.();
    }
  }
}
