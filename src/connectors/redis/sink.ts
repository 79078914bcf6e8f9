import { Type, type Static } from '@sinclair/typebox';
import type { ChainableCommander } from 'ioredis';
import type { ComponentDefinition, ConfigProblem, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { connectRedis, redisConnectionFields, redisError, type RedisConnection } from './connection.js';
import { checkKeyTemplate, compileKeyTemplate, type KeyTemplate } from '../key-template.js';

export const RedisSinkSchema = Type.Object(
  {
    ...redisConnectionFields,
    command: Type.Union([Type.Literal('xadd'), Type.Literal('lpush'), Type.Literal('rpush'), Type.Literal('set'), Type.Literal('publish')], {
      default: 'xadd',
      description:
        'xadd: append each record to a stream (fields `value`, and `key` when the record has one). lpush/rpush: push it onto a list. ' +
        'set: store it under a key. publish: send it on a channel (at most once: Redis keeps nothing for absent subscribers).',
    }),
    key: Type.String({
      minLength: 1,
      description:
        'The stream, list, key or channel, as a template: `{key}` is the record\'s key, `{id}` its id, `{value.field}` a field of its value (`user:{value.id}`).',
    }),
    maxlen: Type.Optional(Type.Integer({ minimum: 1, description: 'xadd: trims the stream to about this many entries (`MAXLEN ~`).' })),
    ttl: Type.Optional(Type.Integer({ minimum: 1, description: 'set: seconds until the key expires.' })),
  },
  { additionalProperties: false },
);

export type RedisSinkConfig = Static<typeof RedisSinkSchema>;

/**
 * Writes each batch as one pipeline of commands; `write` resolves once Redis answered every one of them, so a
 * record acknowledged is in Redis (as durable as its persistence settings make it). Commands wait through a
 * reconnect; a batch written again after a failure may be there twice (at-least-once).
 */
export class RedisSink implements Sink {
  private connection: RedisConnection | undefined;
  private readonly key: KeyTemplate;

  constructor(private readonly config: RedisSinkConfig) {
    this.key = compileKeyTemplate(config.key);
  }

  async open(options: SinkOpenOptions): Promise<void> {
    this.connection = await connectRedis(this.config, `wire:${options.pipeline}:sink`);
  }

  async write(batch: Batch): Promise<void> {
    const connection = this.connection!;
    const pipeline = connection.client.pipeline();
    for (const record of batch) this.add(pipeline, record);
    let results: [error: Error | null, result: unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      throw redisError(connection, this.config.command.toUpperCase(), error);
    }
    if (results === null) throw redisError(connection, this.config.command.toUpperCase(), new Error('the pipeline was discarded'));
    const failed = results.find(([error]) => error !== null);
    if (failed !== undefined) throw redisError(connection, this.config.command.toUpperCase(), failed[0]);
  }

  /** Every write is confirmed by the time it resolves: nothing is left to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.connection?.close();
  }

  private add(pipeline: ChainableCommander, record: WireRecord): void {
    const { command, maxlen, ttl } = this.config;
    const key = this.key(record);
    const value = record.json();
    switch (command) {
      case 'xadd': {
        const trim = maxlen === undefined ? [] : ['MAXLEN', '~', maxlen];
        const fields = record.key === undefined ? ['value', value] : ['value', value, 'key', record.key];
        pipeline.xadd(key, ...trim, '*', ...fields);
        return;
      }
      case 'lpush':
        pipeline.lpush(key, value);
        return;
      case 'rpush':
        pipeline.rpush(key, value);
        return;
      case 'set':
        if (ttl === undefined) pipeline.set(key, value);
        else pipeline.set(key, value, 'EX', ttl);
        return;
      case 'publish':
        pipeline.publish(key, value);
        return;
    }
  }
}

export const redisSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'redis',
  description: 'Writes records to Redis: XADD to a stream, LPUSH/RPUSH to a list, SET under a key template, or PUBLISH; pipelined per batch.',
  schema: RedisSinkSchema,
  example: { url: 'redis://127.0.0.1:6379', command: 'set', key: 'order:{value.id}', ttl: 3600 },
  check: (config): ConfigProblem[] => (typeof config.key === 'string' ? checkKeyTemplate(config.key, 'key') : []),
  create: (config) => new RedisSink(resolveConfig('redis sink', RedisSinkSchema, config)),
  notes: [
    'Delivery: at-least-once. A batch is sent as one pipeline and its write resolves only once Redis answered every command;',
    'a command refused (WRONGTYPE) fails the write. After a crash the records since the last checkpoint are written again:',
    'XADD, LPUSH, RPUSH and PUBLISH may then repeat some, SET overwrites the same key. How durable an answered write is depends',
    "on the server's persistence (`appendfsync`). Commands wait through a reconnect (resent if in flight, so a repeat is possible).",
    '',
    'Tested against a real redis-server 7.0 (test/connectors/redis.e2e.test.ts): 100,000 records with a kill -9 after a',
    'checkpoint (none missing; the duplicates are counted and printed) and a server restart mid-run (nothing lost).',
  ].join('\n'),
};
