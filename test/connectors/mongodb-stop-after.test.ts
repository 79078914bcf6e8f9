// The mongodb source's `stop_after` against the protocol-level fake (test/harness/mongodb.ts): reading ends once that
// many records are read, across the load and the change stream, and never past it within a batch.
import { afterEach, describe, expect, it } from 'vitest';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import type { Batch, Position } from '../../src/core/record.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
let source: MongoSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
  source = undefined;
  fake = undefined;
});

async function readAll(stopAfter: number, from?: Position): Promise<Batch[]> {
  source = mongoSourceDefinition.create({ url: fake!.url, database: 'shop', collection: 'orders', max_await: 100, stop_after: stopAfter }) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, ...(from === undefined ? {} : { from }) });
  const batches: Batch[] = [];
  for await (const batch of source.read(100)) batches.push(batch);
  await source.close();
  source = undefined;
  return batches;
}

async function insert(from: number, to: number): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(fake!.url);
  try {
    await client.db('shop').collection<{ _id: number }>('orders').insertMany(Array.from({ length: to - from }, (_, i) => ({ _id: from + i })));
  } finally {
    await client.close();
  }
}

describe('mongodb source stop_after', () => {
  it('ends the load after stop_after documents, mid-batch, and a run from its last position reads the changes after', async () => {
    fake = await startFakeMongo();
    await insert(0, 250);
    const load = await readAll(130);
    const loaded = load.flat();
    expect(load.map((batch) => batch.length)).toEqual([100, 30]);
    expect(loaded.map((record) => (record.value as { id: number }).id)).toEqual(Array.from({ length: 130 }, (_, n) => n));
    // Below the load's cursor: only the change stream sees them.
    await insert(-50, 0);
    // From the 130th document: the other 120 of the load, then 30 of the 50 inserts from the change stream.
    const rest = (await readAll(150, loaded[loaded.length - 1]!.position)).flat();
    expect(rest.map((record) => (record.value as { operation: string; id: number }).id)).toEqual([
      ...Array.from({ length: 120 }, (_, n) => 130 + n),
      ...Array.from({ length: 30 }, (_, n) => -50 + n),
    ]);
    expect(rest.slice(120).every((record) => (record.value as { operation: string }).operation === 'insert')).toBe(true);
  });
});
