import { Type, type Static } from '@sinclair/typebox';
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import { RecordsRefused, WireError } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { checkKeyTemplate, compileKeyTemplate, type KeyTemplate } from '../key-template.js';
import { AmqpLink, amqpConnectionFields, amqpEndpoint, type LinkChannel } from './link.js';

export const RabbitmqSinkSchema = Type.Object(
  {
    ...amqpConnectionFields,
    exchange: Type.String({ default: '', description: 'The exchange to publish to; `""` is the default exchange, which routes by queue name.' }),
    routing_key: Type.String({
      minLength: 1,
      description:
        'The routing key, as a template: `{key}` is the record\'s key, `{id}` its id, `{value.field}` a field of its value (with the default exchange: the queue).',
    }),
    declare_queue: Type.Optional(Type.String({ minLength: 1, description: 'A durable queue declared on open (when missing).' })),
    persistent: Type.Boolean({ default: true, description: 'Persistent messages (delivery mode 2): a durable queue keeps them through a broker restart.' }),
  },
  { additionalProperties: false },
);

export type RabbitmqSinkConfig = Static<typeof RabbitmqSinkSchema>;

interface Published {
  /** Records the broker did not confirm: the channel closed first (sent again on the next), or it nacked them. */
  readonly unconfirmed: WireRecord[];
  readonly nacked: number;
  /** Records the broker confirmed after returning them: no queue matched their routing key. */
  readonly returned: WireRecord[];
}

/**
 * Publishes each record on a confirm channel with `mandatory`; `write` resolves once the broker confirmed every
 * message of the batch (publisher confirms), so a record acknowledged is in a queue (on disk for a persistent
 * message in a durable queue). Messages left unconfirmed by a lost connection are published again on the next
 * one (at-least-once: one may then be there twice); a message no queue takes is refused, not dropped.
 */
export class RabbitmqSink implements Sink {
  private link: AmqpLink<ConfirmChannel> | undefined;
  private readonly routingKey: KeyTemplate;
  /** Message ids the broker returned (unroutable), for the batch being written. */
  private readonly returned = new Set<string>();

  constructor(private readonly config: RabbitmqSinkConfig) {
    this.routingKey = compileKeyTemplate(config.routing_key);
  }

  async open(options: SinkOpenOptions): Promise<void> {
    this.link = new AmqpLink(this.config, `wire:${options.pipeline}:sink`, (model) => this.confirmChannel(model));
    await this.link.open();
  }

  async write(batch: Batch): Promise<void> {
    const link = this.link!;
    let remaining: readonly WireRecord[] = batch;
    const refused: WireRecord[] = [];
    while (remaining.length > 0) {
      const published = await this.publish(await link.channel(), remaining);
      refused.push(...published.returned);
      if (published.nacked > 0) {
        throw new WireError('UNAVAILABLE', `rabbitmq at ${amqpEndpoint(this.config.url)} refused (nacked) ${published.nacked} message(s)`, {
          exchange: this.config.exchange,
        });
      }
      remaining = published.unconfirmed;
    }
    if (refused.length > 0) {
      const { exchange } = this.config;
      const reason = new WireError('INVALID_INPUT', `rabbitmq returned the message: no queue is bound to exchange "${exchange}" with its routing key`, { exchange });
      throw new RecordsRefused(refused, reason);
    }
  }

  /** Every write is confirmed by the time it resolves: nothing is left to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    await this.link?.close();
  }

  private async confirmChannel(model: ChannelModel): Promise<ConfirmChannel> {
    const channel = await model.createConfirmChannel();
    if (this.config.declare_queue !== undefined) await channel.assertQueue(this.config.declare_queue, { durable: true });
    channel.on('return', (message: Message) => {
      const id: unknown = message.properties.messageId;
      if (typeof id === 'string') this.returned.add(id);
    });
    return channel;
  }

  /** Publishes the records and waits for every confirm, or for the channel to close. */
  private async publish(link: LinkChannel<ConfirmChannel>, records: readonly WireRecord[]): Promise<Published> {
    const { channel } = link;
    const { exchange, persistent } = this.config;
    this.returned.clear();
    const unconfirmed: WireRecord[] = [];
    let nacked = 0;
    let waiting = records.length;
    let allSettled: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (allSettled = resolve));
    const settle = (record: WireRecord, error: unknown): void => {
      if (error !== null && error !== undefined) {
        unconfirmed.push(record);
        // amqplib reports a nack as an Error saying so; a closed channel as another.
        if (error instanceof Error && /nack/i.test(error.message)) nacked++;
      }
      if (--waiting === 0) allSettled();
    };
    for (const record of records) {
      const routingKey = this.routingKey(record);
      const headers = record.key === undefined ? undefined : { 'wire-key': record.key };
      const options = { persistent, mandatory: true, messageId: record.id, contentType: 'application/json', headers };
      let flowing: boolean;
      try {
        flowing = channel.publish(exchange, routingKey, Buffer.from(record.json()), options, (error: unknown) => settle(record, error));
      } catch (error) {
        // The channel closed between two publishes: the rest is published again on the next one.
        if (this.link?.now() !== link) {
          for (let i = records.indexOf(record); i < records.length; i++) settle(records[i]!, error);
          break;
        }
        throw error;
      }
      // The socket's buffer is full: wait for it to drain (or the channel to close) before publishing more.
      if (!flowing) await drainedOrClosed(channel);
    }
    await settled;
    const returned = records.filter((record) => this.returned.has(record.id));
    return { unconfirmed, nacked, returned };
  }
}

/** Resolves once the channel can take more (or has closed), leaving no listener behind. */
function drainedOrClosed(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

export const rabbitmqSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'rabbitmq',
  description: 'Publishes records to a RabbitMQ exchange with publisher confirms: a write resolves only once the broker confirmed every message.',
  schema: RabbitmqSinkSchema,
  example: { url: 'amqp://guest:guest@127.0.0.1:5672', routing_key: 'orders', declare_queue: 'orders' },
  check: (config): ConfigProblem[] => (typeof config.routing_key === 'string' ? checkKeyTemplate(config.routing_key, 'routing_key') : []),
  create: (config) => new RabbitmqSink(resolveConfig('rabbitmq sink', RabbitmqSinkSchema, config)),
  notes: [
    'Delivery: at-least-once. Messages go out on a confirm channel; a write resolves only once the broker confirmed every',
    'message of the batch (for a persistent message to a durable queue, once it is on disk). Messages are published',
    '`mandatory`: one that no queue takes comes back and its record is refused (to `on_error`), never dropped silently. A nack',
    'fails the write (the engine retries it); messages left unconfirmed by a lost connection are published again once it is',
    'back (reconnects with backoff, `reconnect_attempts`), so a message may then be there twice. Each message carries the',
    'record\'s id as `message-id`, its JSON value as body, and its key (if any) in a `wire-key` header.',
    '',
    'Tested against a real rabbitmq-server 3.10 (test/connectors/rabbitmq.e2e.test.ts): 100,000 records with a kill -9 after a',
    'checkpoint (none missing, duplicates counted and printed) and a broker restart mid-run (nothing lost).',
  ].join('\n'),
};
