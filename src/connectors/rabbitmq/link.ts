import { Type } from '@sinclair/typebox';
import type { Channel, ChannelModel } from 'amqplib';
import { WireError, type ErrorCode } from '../../core/errors.js';
import { endpointOf, reconnectDelay, reconnectFields, type ReconnectConfig } from '../reconnect.js';

/** The connection settings every rabbitmq connector takes. */
export const amqpConnectionFields = {
  url: Type.String({
    // A `${...}` reference is resolved later (on load, or on the node that runs the task).
    pattern: '^(amqps?://|\\$\\{)',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    // It carries the password (`amqp://user:secret@host`): shown as "***" (security/secrets.ts).
    'x-wire-secret': true,
    description: 'The broker, as `amqp://user:password@host:port[/vhost]` (`amqps://` for TLS).',
  }),
  ...reconnectFields,
};

export interface AmqpConnectionConfig extends ReconnectConfig {
  readonly url: string;
}

export const amqpEndpoint = (url: string): string => endpointOf(url, 5672);

/** A channel of the current connection, and which connection it is (bumped on every reconnect). */
export interface LinkChannel<C extends Channel> {
  readonly channel: C;
  readonly generation: number;
}

/**
 * One connection and one channel to a broker, made again (with backoff) when either closes. `setup` makes the
 * channel on each new connection (declares, prefetch, consumes). Once the reconnects are used up, or the broker
 * refuses what `setup` asks (a missing queue, a wrong password), `failure()` says why and every wait ends with it.
 */
export class AmqpLink<C extends Channel> {
  private current: LinkChannel<C> | undefined;
  private model: ChannelModel | undefined;
  private generation = 0;
  private failed: WireError | undefined;
  private closed = false;
  private waiters: { resolve: (link: LinkChannel<C>) => void; reject: (error: WireError) => void }[] = [];
  private readonly downListeners: ((generation: number) => void)[] = [];
  private readonly endpoint: string;
  private wakeSleep: (() => void) | undefined;

  constructor(
    private readonly config: AmqpConnectionConfig,
    private readonly name: string,
    private readonly setup: (model: ChannelModel, generation: number) => Promise<C>,
  ) {
    this.endpoint = amqpEndpoint(config.url);
  }

  /** Connects (with the same retries as a reconnect); throws the failure when it cannot. */
  async open(): Promise<void> {
    await this.connectLoop();
  }

  /** Called when a connection is lost, with its generation: what was delivered on it is the broker's again. */
  onDown(listener: (generation: number) => void): void {
    this.downListeners.push(listener);
  }

  failure(): WireError | undefined {
    return this.failed;
  }

  /** The channel now, if the link is up. */
  now(): LinkChannel<C> | undefined {
    return this.current;
  }

  /** The channel once the link is up (waiting through a reconnect); rejects once the link has failed for good. */
  channel(): Promise<LinkChannel<C>> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.current !== undefined) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new WireError('UNAVAILABLE', `rabbitmq connection to ${this.endpoint} is closed`, { endpoint: this.endpoint }));
    this.wakeSleep?.();
    const model = this.model;
    const channel = this.current?.channel;
    this.model = undefined;
    this.current = undefined;
    // The channel first: its close-ok comes after the broker has taken every ack sent on it. A connection.close
    // goes out ahead of frames still queued on a channel, and the broker drops those (their messages come again).
    await channel?.close().catch(() => {
      // Already closed with its connection: what it had not sent is the broker's again.
    });
    if (model !== undefined) {
      await model.close().catch(() => {
        // Already closed by the broker or the network: nothing is left to close.
      });
    }
  }

  private async connectLoop(): Promise<void> {
    const amqp = await import('amqplib');
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw this.failed!;
      let model: ChannelModel | undefined;
      try {
        model = await amqp.connect(this.config.url, { clientProperties: { connection_name: this.name }, timeout: 10_000 });
        // An error event precedes the close that reconnects; unhandled, it would crash the process.
        model.on('error', ignore);
        const generation = this.generation + 1;
        const channel = await this.setup(model, generation);
        if (this.closed) {
          await model.close().catch(() => undefined);
          throw this.failed!;
        }
        this.generation = generation;
        this.model = model;
        const link = { channel, generation };
        this.current = link;
        const down = (): void => this.down(link);
        model.once('close', down);
        channel.on('error', ignore);
        channel.once('close', down);
        for (const waiter of this.waiters.splice(0)) waiter.resolve(link);
        return;
      } catch (error) {
        if (this.closed) throw this.failed!;
        await model?.close().catch(() => undefined);
        const refused = refusal(error);
        if (refused !== undefined) throw this.fail(new WireError(refused, `rabbitmq at ${this.endpoint} refused: ${message(error)}`, { endpoint: this.endpoint }, error));
        if (attempt >= this.config.reconnect_attempts) {
          throw this.fail(
            new WireError(
              'UNAVAILABLE',
              `rabbitmq at ${this.endpoint} is unreachable after ${this.config.reconnect_attempts} reconnect attempt(s): ${message(error)}`,
              { endpoint: this.endpoint, attempts: this.config.reconnect_attempts },
              error,
            ),
          );
        }
        await this.sleep(reconnectDelay(attempt + 1, this.config.reconnect_max_delay));
      }
    }
  }

  /** The connection or its channel closed: forget it and connect again (a consumer cancelled by the broker too). */
  down(link: LinkChannel<C>): void {
    if (this.current !== link) return;
    this.current = undefined;
    const model = this.model;
    this.model = undefined;
    // A channel closed by the broker leaves its connection open: close it, its deliveries go back to the queue.
    void model?.close().catch(() => undefined);
    for (const listener of this.downListeners) listener(link.generation);
    if (this.closed) return;
    this.connectLoop().catch(() => {
      // connectLoop has recorded the failure and rejected every waiter with it.
    });
  }

  private fail(error: WireError): WireError {
    this.failed ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failed);
    return this.failed;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

function ignore(): void {}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A broker's answer that another try would get again: a wrong password, a missing or mismatched queue. */
function refusal(error: unknown): ErrorCode | undefined {
  // Channel and connection closes carry the AMQP reply code; a refused handshake says it in its message.
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const text = message(error);
  if (code === 403 || /ACCESS[-_]REFUSED/.test(text)) return 'UNAUTHORIZED';
  if (code === 404 || /NOT[-_]FOUND/.test(text)) return 'NOT_FOUND';
  if (code === 406 || /PRECONDITION[-_]FAILED/.test(text)) return 'INVALID_INPUT';
  return undefined;
}
