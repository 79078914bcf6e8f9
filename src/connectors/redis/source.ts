import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, Source, SourceOpenOptions } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { payloadRecord } from '../payload-record.js';
import { connectRedis, redisConnectionFields, redisError, type RedisConnection } from './connection.js';
import { compareStreamIds, streamIdOf } from './stream-id.js';

export const RedisSourceSchema = Type.Object(
  {
    ...redisConnectionFields,
    stream: Type.String({ minLength: 1, description: 'The stream to read.' }),
    group: Type.String({ minLength: 1, default: 'wire', description: 'The consumer group; created (with the stream) when missing.' }),
    consumer: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'This reader\'s name in the group; by default the pipeline\'s name. A restarted pipeline must keep it: it first reads again the entries delivered to it and not yet acknowledged.',
      }),
    ),
    start: Type.Union([Type.Literal('earliest'), Type.Literal('latest')], {
      default: 'earliest',
      description: 'Where a group created by this source starts: the whole stream, or only entries added from now on.',
    }),
    block: Type.Integer({
      minimum: 1,
      default: 1000,
      description: 'Milliseconds one read waits for new entries before asking again (and noticing a stop).',
    }),
  },
  { additionalProperties: false },
);

export type RedisSourceConfig = Static<typeof RedisSourceSchema>;

/**
 * One entry of an XREADGROUP answer: its id and its fields (null for a pending entry since deleted from the stream),
 * as bytes: a `value` that is not UTF-8 is then seen as such, not decoded into U+FFFD and passed on.
 */
type StreamEntry = [id: Buffer, fields: Buffer[] | null];
type ReadReply = [stream: Buffer, entries: StreamEntry[]][] | null;

/**
 * Reads a stream through a consumer group. An entry is XACKed only once the engine's checkpoint covers it (`ack`),
 * so everything delivered and not yet acknowledged stays in the consumer's pending entries list (PEL). On open the
 * consumer first reads its PEL again (a crash left it there), skipping what the checkpoint already covers, then
 * new entries. Positions are entry ids, delivered in increasing order.
 *
 * A read that spans a reconnect is thrown away and the PEL read again from the last entry delivered: its answer
 * may have been lost with the connection while the server recorded the entries as delivered.
 */
export class RedisSource implements Source {
  private reader: RedisConnection | undefined;
  private commander: RedisConnection | undefined;
  private signal: AbortSignal = new AbortController().signal;
  /** The checkpoint's position: pending entries up to it are already in the sink. */
  private from: string | undefined;
  /** Ids delivered and not yet XACKed, in delivery (= id) order, from `head`. */
  private delivered: string[] = [];
  private head = 0;
  private lastDelivered: string | undefined;
  /** Reading the PEL (after `cursor`) rather than new entries. */
  private recovering = true;
  private cursor = '0';
  /** The last read of new entries got fewer than it asked for: nothing more is waiting in the stream. */
  private caughtUp = false;
  /** Bumped on each reconnect of the reader. */
  private connectionEpoch = 0;
  private closed = false;
  private consumer = '';

  constructor(private readonly config: RedisSourceConfig) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    this.from = streamIdOf(options.from);
    this.consumer = this.config.consumer ?? options.pipeline;
    const name = `wire:${options.pipeline}:${this.consumer}`;
    this.commander = await connectRedis(this.config, name);
    try {
      this.reader = await connectRedis(this.config, name);
    } catch (error) {
      this.commander.close();
      throw error;
    }
    this.reader.onReconnect(() => this.connectionEpoch++);
    const { stream, group, start } = this.config;
    try {
      await this.commander.client.xgroup('CREATE', stream, group, start === 'earliest' ? '0' : '$', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
        await this.close();
        throw redisError(this.commander, `XGROUP CREATE ${stream} ${group}`, error);
      }
    }
    options.signal.addEventListener('abort', () => this.reader?.close(), { once: true });
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const count = Math.max(1, Math.floor(maxRecords));
    while (!this.closed && !this.signal.aborted) {
      const epoch = this.connectionEpoch;
      const reply = await this.readOnce(count);
      if (reply === 'stopped') return;
      if (epoch !== this.connectionEpoch) {
        this.recoverFrom(this.lastDelivered ?? this.from ?? '0');
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      this.caughtUp = !this.recovering && entries.length < count;
      if (this.recovering) {
        if (entries.length === 0) this.recovering = false;
        else this.cursor = entries[entries.length - 1]![0].toString('latin1');
      }
      const batch = await this.take(entries);
      if (batch.length > 0) yield batch;
    }
  }

  /** Every delivered id up to `position` (the last record the checkpoint covers) is XACKed. */
  async ack(position: Position): Promise<void> {
    const upTo = streamIdOf(position);
    if (upTo === undefined) return;
    let end = this.head;
    while (end < this.delivered.length && compareStreamIds(this.delivered[end]!, upTo) <= 0) end++;
    if (end === this.head) return;
    const ids = this.delivered.slice(this.head, end);
    await this.xack(ids);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.delivered.length) {
      this.delivered = this.delivered.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Caught up with the stream, with entries delivered and not yet XACKed: the engine checkpoints as soon as they are
   * in the sink instead of at its next periodic checkpoint, so a quiet stream's pending list empties at once. While
   * entries keep coming faster than they are read, the periodic checkpoint acknowledges them in bulk (as it does the
   * last entries when they happened to fill a read: only a short read tells that none are waiting).
   */
  awaitingAck(): boolean {
    return this.caughtUp && this.head < this.delivered.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader?.close();
    this.commander?.close();
  }

  private recoverFrom(cursor: string): void {
    this.recovering = true;
    this.cursor = cursor;
  }

  private async readOnce(count: number): Promise<ReadReply | 'stopped'> {
    const reader = this.reader!;
    const { stream, group, block } = this.config;
    const consumer = this.consumer;
    try {
      // The PEL is read without blocking (its answer is whatever is pending); new entries are waited for.
      const reply = this.recovering
        ? await reader.client.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, this.cursor)
        : await reader.client.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', count, 'BLOCK', block, 'STREAMS', stream, '>');
      return reply as ReadReply;
    } catch (error) {
      if (this.closed || this.signal.aborted) return 'stopped';
      throw redisError(reader, `XREADGROUP ${stream}`, error);
    }
  }

  /** The records of these entries; those the checkpoint already covers, or deleted since, are XACKed instead. */
  private async take(entries: readonly StreamEntry[]): Promise<Batch> {
    const batch: WireRecord[] = [];
    const settled: string[] = [];
    for (const [idBytes, fields] of entries) {
      const id = idBytes.toString('latin1');
      if (fields === null || (this.from !== undefined && compareStreamIds(id, this.from) <= 0)) {
        settled.push(id);
        continue;
      }
      if (this.lastDelivered !== undefined && compareStreamIds(id, this.lastDelivered) <= 0) {
        throw new WireError('INTERNAL', `redis source: entry ${id} delivered after ${this.lastDelivered}`);
      }
      batch.push(recordOf(id, fields));
      this.delivered.push(id);
      this.lastDelivered = id;
    }
    if (settled.length > 0) await this.xack(settled);
    return batch;
  }

  private async xack(ids: readonly string[]): Promise<void> {
    const commander = this.commander!;
    const { stream, group } = this.config;
    try {
      for (let i = 0; i < ids.length; i += 10_000) await commander.client.xack(stream, group, ...ids.slice(i, i + 10_000));
    } catch (error) {
      throw redisError(commander, `XACK ${stream}`, error);
    }
  }
}

/**
 * An entry's record: an entry with a `value` field (what the redis sink writes) holds the record as JSON text,
 * and its `key` field the record's key; any other entry becomes an object of its fields.
 */
function recordOf(id: string, fields: readonly Buffer[]): WireRecord {
  let raw: Buffer | undefined;
  let key: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString();
    if (name === 'value') raw = fields[i + 1]!;
    else if (name === 'key') key = fields[i + 1]!.toString();
  }
  // A `value` that is not JSON (or not UTF-8) becomes an unreadable record, for on_error.
  const record = raw === undefined ? WireRecord.fromValue(fieldsObject(fields), id) : payloadRecord(raw, 'json', id);
  record.key = key;
  return record;
}

/** An entry written by something other than the redis sink: an object of its fields, as text. */
function fieldsObject(fields: readonly Buffer[]): Record<string, string> {
  const value: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) value[fields[i]!.toString()] = fields[i + 1]!.toString();
  return value;
}

export const redisSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'redis',
  description:
    'Reads a Redis stream through a consumer group (XREADGROUP); entries are XACKed once a checkpoint covers them, and a restarted pipeline reads its pending entries first.',
  schema: RedisSourceSchema,
  example: { url: 'redis://127.0.0.1:6379', stream: 'orders', group: 'wire', consumer: 'wire-1' },
  create: (config) => new RedisSource(resolveConfig('redis source', RedisSourceSchema, config)),
  // The group decides which entries this source gets and the stream their ids: the url is left out (it may hold a password).
  identity: (config) => {
    const { stream, group } = resolveConfig('redis source', RedisSourceSchema, config);
    return { label: `${stream} (group ${group})`, key: { stream, group } };
  },
  describePosition: (_config, position) => `after entry ${JSON.stringify(position)}`,
  notes: [
    'Delivery: at-least-once from Redis, exactly-once into a sink that resumes from its checkpoint (the file sink). An entry is',
    'XACKed only after the checkpoint that covers it is saved, so a crash leaves it in the consumer\'s pending entries list;',
    'the restarted pipeline (same `group` and `consumer`) reads that list first and XACKs at once the entries its checkpoint',
    'already covers. An entry with a `value` field is read as that JSON text (and its `key` field as the record\'s key); any other',
    'entry becomes an object of its fields. A `value` that is not JSON (malformed, empty, not UTF-8, nested deeper than 1,000)',
    'goes to `on_error` as its bytes, before any transform. Entries pending for another consumer name are not claimed: keep `consumer` stable.',
    'A lost connection is retried with backoff (`reconnect_attempts`); a read that spans a reconnect is read again from the',
    'pending list. Reads wait for the engine (`XREADGROUP COUNT` = the batch size): nothing is prefetched. Once a read comes',
    'back short (the stream is caught up), the engine checkpoints as soon as what was read is in the sink, so the entries are',
    'XACKed then rather than at the next periodic checkpoint.',
    '',
    'Tested against a real redis-server 7.0 (test/connectors/redis*.test.ts): 100,000 entries with a kill -9 after a checkpoint',
    '(every record in the output exactly once, nothing left pending) and a server restart mid-run (nothing lost).',
    'Runnable examples: `examples/redis-orders.yaml`, `examples/redis-to-postgres.yaml`.',
  ].join('\n'),
};
