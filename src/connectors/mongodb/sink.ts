import { Type, type Static } from '@sinclair/typebox';
import type { AnyBulkWriteOperation, BulkWriteResult, Collection, Document, MongoClient } from 'mongodb';
import { RecordsRefused, WireError } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { compileKeyTemplate, type KeyTemplate } from '../key-template.js';
import { checkIdOption, PositionIds } from '../position-id.js';
import { connectMongo, mongoConnectionFields, mongoEndpoint, withRetries } from './connection.js';

export const MongoSinkSchema = Type.Object(
  {
    ...mongoConnectionFields,
    id: Type.String({
      minLength: 1,
      default: 'position',
      description:
        '`position`: `_id` made from the pipeline and the source position, so a replay after a crash overwrites the same documents. ' +
        '`auto`: the record\'s own `_id` if it has one, else a new ObjectId (a replay adds duplicates). Or a template (`{key}`, `{value.order_id}`).',
    }),
    mode: Type.Union([Type.Literal('replace'), Type.Literal('update'), Type.Literal('insert')], {
      default: 'replace',
      description:
        'replace: the record becomes the document with its `_id` (an upsert). update: its fields are `$set` on the document (created when missing). ' +
        'insert: insert only; a document with the same `_id` already there counts as written (a replay).',
    }),
  },
  { additionalProperties: false },
);

export type MongoSinkConfig = Static<typeof MongoSinkSchema>;

/** Duplicate key: in insert mode, the document of a replayed record is there already. */
const DUPLICATE_KEY = 11000;

/**
 * Writes each batch as one unordered `bulkWrite` of upserts by `_id`; `write` resolves once the server answered
 * every operation (with the deployment's default write concern: use `w=majority` in the url for a replica set).
 * Operations refused for good (a document validation error) come back as `RecordsRefused`, the rest stay written.
 */
export class MongoSink implements Sink {
  /** Documents take the value's fields (BSON): no JSON of the whole value is ever written. */
  readonly writesFields = true;
  private client: MongoClient | undefined;
  private collection: Collection | undefined;
  private readonly endpoint: string;
  private readonly id: KeyTemplate | undefined;
  private positionIds = new PositionIds('');
  private signal: AbortSignal = new AbortController().signal;

  constructor(private readonly config: MongoSinkConfig) {
    this.endpoint = mongoEndpoint(config.url);
    this.id = config.id === 'position' || config.id === 'auto' ? undefined : compileKeyTemplate(config.id);
  }

  async open(options: SinkOpenOptions): Promise<void> {
    this.signal = options.signal;
    this.positionIds = new PositionIds(options.pipeline);
    this.client = await connectMongo(this.config, `wire:${options.pipeline}:sink`, options.signal);
    this.collection = this.client.db(this.config.database).collection(this.config.collection);
  }

  async write(batch: Batch): Promise<void> {
    const operations: AnyBulkWriteOperation[] = [];
    const written: WireRecord[] = [];
    const refused: WireRecord[] = [];
    let reason: string | undefined;
    for (const record of batch) {
      const value = record.value;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        refused.push(record);
        reason ??= 'a record whose value is not an object cannot be a document';
        continue;
      }
      operations.push(this.operation(record, value as Document));
      written.push(record);
    }
    if (operations.length > 0) {
      const failed = await withRetries(this.config, this.endpoint, 'bulkWrite', this.signal, () => this.bulk(operations));
      for (const { index, code, errmsg } of failed) {
        if (code === DUPLICATE_KEY && this.config.mode === 'insert') continue;
        refused.push(written[index]!);
        reason ??= `${code}: ${errmsg}`;
      }
    }
    if (refused.length > 0) {
      throw new RecordsRefused(refused, new WireError('INVALID_INPUT', `mongodb at ${this.endpoint} refused ${refused.length} document(s): ${reason}`, { endpoint: this.endpoint }));
    }
  }

  /** Every write is answered by the time it resolves: nothing is left to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.close();
  }

  /**
   * The operations the server refused one by one (empty when all were written); a whole-request failure throws, and
   * so does a reply that does not account for every operation sent (a broken or lying server): the batch is then
   * sent again, which the ids make harmless, rather than taken as written.
   */
  private async bulk(operations: AnyBulkWriteOperation[]): Promise<{ index: number; code: number; errmsg: string }[]> {
    let result: BulkWriteResult;
    let list: { index?: unknown; code?: unknown; errmsg?: unknown; message?: unknown }[] = [];
    try {
      result = await this.collection!.bulkWrite(operations, { ordered: false });
    } catch (error) {
      const writeErrors = (error as { name?: string; writeErrors?: unknown }).name === 'MongoBulkWriteError' ? (error as { writeErrors: unknown }).writeErrors : undefined;
      if (writeErrors === undefined) throw error;
      list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as typeof list;
      // No operation of its own failed: the request as a whole did (the network), and is sent again.
      if (list.length === 0) throw error;
      result = (error as { result: BulkWriteResult }).result;
    }
    const failed = new Map<number, { index: number; code: number; errmsg: string }>();
    for (const e of list) {
      const { index } = e;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= operations.length) {
        throw new WireError('INTERNAL', `mongodb at ${this.endpoint} answered a write error that names no operation sent (index ${String(index)} of ${operations.length})`, {
          endpoint: this.endpoint,
        });
      }
      const errmsg = typeof e.errmsg === 'string' ? e.errmsg : typeof e.message === 'string' ? e.message : '';
      failed.set(index, { index, code: typeof e.code === 'number' ? e.code : -1, errmsg });
    }
    const accounted = result.insertedCount + result.upsertedCount + result.matchedCount + failed.size;
    if (accounted !== operations.length) {
      throw new WireError('INTERNAL', `mongodb at ${this.endpoint} accounted for ${accounted} of ${operations.length} operations in its bulk write reply`, {
        endpoint: this.endpoint,
      });
    }
    return [...failed.values()];
  }

  private operation(record: WireRecord, value: Document): AnyBulkWriteOperation {
    const id = this.id !== undefined ? this.id(record) : this.config.id === 'position' ? this.positionIds.next(record) : undefined;
    // The driver types `_id` loosely (any): ids here are strings from templates or positions, or the record's own.
    const _id = (id ?? value._id) as Document['_id'];
    if (_id === undefined) return { insertOne: { document: { ...value } } };
    const { _id: ignored, ...fields } = value;
    void ignored;
    switch (this.config.mode) {
      case 'insert':
        return { insertOne: { document: { ...fields, _id } } };
      case 'update':
        return { updateOne: { filter: { _id }, update: { $set: fields }, upsert: true } };
      case 'replace':
        return { replaceOne: { filter: { _id }, replacement: fields, upsert: true } };
    }
  }
}

export const mongoSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'mongodb',
  description: 'Writes records as documents of a MongoDB collection: one unordered bulkWrite of upserts by _id per batch.',
  schema: MongoSinkSchema,
  example: { url: 'mongodb://127.0.0.1:27017/?replicaSet=rs0&w=majority', database: 'shop', collection: 'orders', id: '{value.order_id}' },
  check: (config): ConfigProblem[] => checkIdOption(config.id),
  create: (config) => new MongoSink(resolveConfig('mongodb sink', MongoSinkSchema, config)),
  notes: [
    'Delivery: with `id: position` (the default) or an id template, every record is written under the same `_id` each time, so',
    'the replay after a crash overwrites what it wrote before: the collection ends with each record once. With `id: auto` it is',
    'at-least-once. A batch is one unordered bulkWrite; its write resolves once the server answered every operation, as durable as',
    'the write concern in the url makes it (`w=majority` on a replica set). Operations refused for good (document validation)',
    'go where `on_error` says while the rest stay written; a network error or a primary stepping down sends the batch again',
    '(`reconnect_attempts`), which the ids make harmless. A record whose value is not an object is refused. A reply that does not',
    'account for every operation sent (counts short, a write error naming no operation) fails the write instead of counting as written.',
    '',
    'Not verified against a real MongoDB: none can be installed on these machines. The tests (test/connectors/mongodb*.test.ts)',
    'run the official driver (7.8) against a protocol-level fake of the wire protocol (test/harness/mongodb.ts): 100,000',
    'records with a kill -9 after a checkpoint (none missing, none twice) and the fake stopped and started mid-run (nothing lost).',
  ].join('\n'),
};
