import { Type, type Static } from '@sinclair/typebox';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { ComponentDefinition, Source, SourceOpenOptions, SourcePartition } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { messageCounterOf, MessageWindow, stopAfterField } from '../message-window.js';
import { payloadRecord } from '../payload-record.js';
import { AmqpLink, amqpConnectionFields } from './link.js';

/** AMQP's basic.qos takes a 16-bit count. */
const MAX_PREFETCH = 65_535;

export const RabbitmqSourceSchema = Type.Object(
  {
    ...amqpConnectionFields,
    queue: Type.String({ minLength: 1, description: 'The queue to consume.' }),
    declare: Type.Boolean({
      default: true,
      description: 'Declare the queue (durable) when missing; false: it must exist, and a missing queue fails the run.',
    }),
    prefetch: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PREFETCH,
        description:
          'Messages the broker may send ahead of acknowledgements (basic.qos). By default the engine\'s window: the records it holds between read and sink.',
      }),
    ),
    format: Type.Union([Type.Literal('json'), Type.Literal('text')], {
      default: 'json',
      description: 'json: a message\'s body is the record\'s JSON value. text: the body is a string value (UTF-8).',
    }),
    consumers: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'Competing consumers of the queue, each a task of its own in a cluster (the broker shares the messages out).',
    }),
    ...stopAfterField,
  },
  { additionalProperties: false },
);

export type RabbitmqSourceConfig = Static<typeof RabbitmqSourceSchema>;

/**
 * Consumes a queue with manual acknowledgements. A message is acked (basic.ack, `multiple`) only once the engine's
 * checkpoint covers it: a crash or a lost connection leaves it unacked, and the broker delivers it again. The
 * prefetch bounds what the broker pushes ahead; once a quarter of it waits for a checkpoint the source asks the
 * engine for one (`awaitingAck`), so the stream never stalls on the periodic checkpoint, and the acks come back
 * before the broker has sent the rest (asked at half, the broker stood idle for every checkpoint: 0.43× a bare
 * consumer acking at half the prefetch, `npm run bench` rabbitmq-source).
 */
export class RabbitmqSource implements Source {
  private link: AmqpLink<Channel> | undefined;
  private readonly window = new MessageWindow<ConsumeMessage>();
  private prefetch = 0;
  private signal: AbortSignal = new AbortController().signal;

  constructor(private readonly config: RabbitmqSourceConfig) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    this.window.startAfter(messageCounterOf('rabbitmq', options.from));
    this.prefetch = Math.min(MAX_PREFETCH, this.config.prefetch ?? Math.max(1, options.window ?? 1024));
    const name = `wire:${options.pipeline}:source`;
    this.link = new AmqpLink(this.config, name, (model, generation) => this.consume(model, generation));
    this.link.onDown((generation) => this.window.drop(generation));
    options.signal.addEventListener('abort', () => this.window.wake(), { once: true });
    await this.link.open();
  }

  read(maxRecords: number): AsyncIterable<Batch> {
    const link = this.link!;
    return this.window.batches(maxRecords, this.signal, () => link.failure(), (message, position) => this.recordOf(message, position), this.config.stop_after);
  }

  /** Acks on the live channel every message delivered on it up to `position`; those of a lost channel are redelivered. */
  async ack(position: Position): Promise<void> {
    const now = this.link?.now();
    const settled = this.window.settle(messageCounterOf('rabbitmq', position), now?.generation);
    const last = settled[settled.length - 1];
    if (last === undefined || now === undefined) return;
    try {
      now.channel.ack(last, true);
    } catch {
      // The channel closed under the ack: its unacked messages go back to the queue and come again.
      this.link?.down(now);
    }
  }

  awaitingAck(): boolean {
    return this.window.unsettled * 4 >= this.prefetch;
  }

  async close(): Promise<void> {
    this.window.wake();
    await this.link?.close();
  }

  private async consume(model: ChannelModel, generation: number): Promise<Channel> {
    const channel = await model.createChannel();
    const { queue } = this.config;
    if (this.config.declare) await channel.assertQueue(queue, { durable: true });
    else await channel.checkQueue(queue);
    await channel.prefetch(this.prefetch);
    await channel.consume(
      queue,
      (message) => {
        // null: the broker cancelled the consumer (the queue was deleted): consume again on a new channel.
        if (message === null) this.link?.now()?.channel.close().catch(() => undefined);
        else this.window.deliver(message, generation);
      },
      { noAck: false },
    );
    return channel;
  }

  private recordOf(message: ConsumeMessage, position: number): WireRecord {
    const record = payloadRecord(message.content, this.config.format, position);
    const key: unknown = message.properties.headers?.['wire-key'];
    if (typeof key === 'string') record.key = key;
    return record;
  }
}

export const rabbitmqSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'rabbitmq',
  description:
    'Consumes a RabbitMQ queue with manual acks: a message is acked only once a checkpoint covers it, and the prefetch is bounded by the engine\'s window.',
  schema: RabbitmqSourceSchema,
  example: { url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'orders' },
  create: (config) => new RabbitmqSource(resolveConfig('rabbitmq source', RabbitmqSourceSchema, config)),
  // The queue decides which messages this source gets; positions only count them. The url may hold a password.
  identity: (config) => {
    const { queue } = resolveConfig('rabbitmq source', RabbitmqSourceSchema, config);
    return { label: `queue ${queue}`, key: { queue } };
  },
  describePosition: (_config, position) => `after message ${JSON.stringify(position)} (counted from the first run)`,
  partitions: async (config): Promise<SourcePartition[]> => {
    const { consumers } = resolveConfig('rabbitmq source', RabbitmqSourceSchema, config);
    return Array.from({ length: consumers }, (_, i) => ({ id: String(i), config }));
  },
  notes: [
    'Delivery: at-least-once. A message is acked (basic.ack with `multiple`) only after the checkpoint that covers it is saved;',
    'until then the broker holds it as unacked, and a crash, a kill -9 or a lost connection puts it back in the queue to be',
    'delivered again (so the sink may see it twice: RabbitMQ keeps no offset a restarted run could skip to). Messages delivered',
    'on a connection that was lost are never acked on the next one (their delivery tags died with it): they come again.',
    'The prefetch (basic.qos) is the engine\'s window unless `prefetch` says otherwise; once a quarter of it waits for a checkpoint',
    'the source asks the engine for one at once. A lost connection is retried with backoff (`reconnect_attempts`,',
    '`reconnect_max_delay`); a wrong password, or a missing queue with `declare: false`, fails the run at once.',
    'The body is the record (JSON, or a string with `format: text`); a `wire-key` header (what the rabbitmq sink writes) is',
    'its key. `consumers: N` makes N tasks in a cluster, competing consumers of the one queue. Use durable queues and',
    'persistent messages for anything that must outlive a broker restart. A body that is not JSON (malformed, empty, not',
    'UTF-8, nested deeper than 1,000), or not UTF-8 with `format: text`, goes to `on_error` as its bytes, before any transform.',
    '',
    'Tested against a real rabbitmq-server 3.10 (test/connectors/rabbitmq.e2e.test.ts): 100,000 messages with a kill -9 after',
    'a checkpoint (none missing, duplicates counted and printed) and a broker restart mid-run (nothing lost).',
    'Runnable example: `examples/rabbitmq-orders.yaml`.',
  ].join('\n'),
};
