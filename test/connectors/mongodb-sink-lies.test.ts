// The mongodb sink against a server whose bulk write replies lie or leave fields out (the protocol-level fake's
// `lie` hook rewrites its true reply): a write resolves only for what the reply accounts for, and a reply that
// cannot be matched to the operations sent fails the write with a WireError (the engine sends the batch again, which
// the ids make harmless), never with a TypeError, never as a refusal of records that were not named.
import type { Document } from 'bson';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoSink, mongoSinkDefinition } from '../../src/connectors/mongodb/sink.js';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import { WireRecord, type Batch } from '../../src/core/record.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
const sinks: MongoSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
  await fake?.close();
  fake = undefined;
});

async function sink(mode: 'replace' | 'update' | 'insert'): Promise<MongoSink> {
  fake ??= await startFakeMongo();
  const s = mongoSinkDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', mode, reconnect_attempts: 0 }) as MongoSink;
  sinks.push(s);
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
  return s;
}

const batch = (count: number): Batch => Array.from({ length: count }, (_, i) => WireRecord.fromValue({ n: i }, i));

/** What `write` ends with: 'written', or what it threw. */
async function outcome(s: MongoSink, records: Batch): Promise<unknown> {
  try {
    await s.write(records);
    return 'written';
  } catch (error) {
    return error;
  }
}

/** Lies to every `command` reply with `rewrite`. */
function lieTo(command: string, rewrite: (reply: Document) => Document): void {
  fake!.lie = (name, reply) => (name === command ? rewrite(reply) : reply);
}

describe('mongodb sink: bulk write replies that lie', () => {
  it.each(['replace', 'update'] as const)('%s: a reply that says ok and nothing of what it wrote is not taken as every document written', async (mode) => {
    const s = await sink(mode);
    lieTo('update', () => ({ ok: 1 }));
    const result = await outcome(s, batch(3));
    expect(result).toBeInstanceOf(WireError);
    expect(result).not.toBeInstanceOf(RecordsRefused);
    expect((result as WireError).message).toMatch(/accounted for 0 of 3 operations/);
  });

  it('insert: a reply that counts fewer documents than were sent fails the write', async () => {
    const s = await sink('insert');
    lieTo('insert', (reply) => ({ ...reply, n: 1 }));
    const result = await outcome(s, batch(3));
    expect(result).toBeInstanceOf(WireError);
    expect((result as WireError).message).toMatch(/accounted for 1 of 3 operations/);
  });

  it.each([
    ['without an index', { code: 121, errmsg: 'Document failed validation' }],
    ['with an index past the operations sent', { index: 7, code: 121, errmsg: 'Document failed validation' }],
    ['with an index that is not a number', { index: 'zero', code: 121, errmsg: 'Document failed validation' }],
  ])('a write error %s fails the write instead of refusing a record that does not exist', async (_what, writeError) => {
    const s = await sink('insert');
    lieTo('insert', () => ({ n: 2, writeErrors: [writeError], ok: 1 }));
    const result = await outcome(s, batch(3));
    expect(result).toBeInstanceOf(WireError);
    expect(result).not.toBeInstanceOf(RecordsRefused);
    expect((result as WireError).message).toMatch(/write error that names no operation sent/);
  });

  it('a write error without a code or message still refuses its own record, and only it', async () => {
    const s = await sink('insert');
    const records = batch(3);
    lieTo('insert', () => ({ n: 2, writeErrors: [{ index: 1 }], ok: 1 }));
    const result = await outcome(s, records);
    expect(result).toBeInstanceOf(RecordsRefused);
    expect((result as RecordsRefused).records).toEqual([records[1]]);
  });

  it('the truth still writes: every document there', async () => {
    const s = await sink('replace');
    expect(await outcome(s, batch(3))).toBe('written');
    expect(fake!.documents('shop.orders')).toHaveLength(3);
  });
});
