// The mongodb source resumed from a change's position (the checkpoint of a run past its initial load) goes on with
// the changes after that change: it does not read the collection again.
import { afterEach, expect, it } from 'vitest';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import type { Position, WireRecord } from '../../src/core/record.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
const sources: MongoSource[] = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
  await fake?.close();
});

async function read(count: number, from?: Position): Promise<WireRecord[]> {
  const source = mongoSourceDefinition.create({ url: fake!.url, database: 'shop', collection: 'orders', max_await: 100, stop_after: count }) as MongoSource;
  sources.push(source);
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, ...(from === undefined ? {} : { from }) });
  const records: WireRecord[] = [];
  for await (const batch of source.read(100)) records.push(...batch);
  return records;
}

it("resumes from a change's position with the changes after it, not the load again", async () => {
  fake = await startFakeMongo();
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(fake.url);
  try {
    const orders = client.db('shop').collection<{ _id: number; v: number }>('orders');
    await orders.insertMany([0, 1, 2].map((n) => ({ _id: n, v: 0 })));
    const loaded = await read(3);
    expect(loaded.map((r) => (r.value as { operation: string }).operation)).toEqual(['read', 'read', 'read']);
    for (const n of [0, 1, 2]) await orders.updateOne({ _id: n }, { $set: { v: 1 } });
    const changes = await read(3, loaded.at(-1)!.position);
    expect(changes.map((r) => [(r.value as { operation: string }).operation, r.key])).toEqual([['update', '0'], ['update', '1'], ['update', '2']]);
    const rest = await read(2, changes[0]!.position);
    expect(rest.map((r) => [(r.value as { operation: string }).operation, r.key])).toEqual([['update', '1'], ['update', '2']]);
    expect(mongoSourceDefinition.describePosition!({}, changes[0]!.position!)).toMatch(/^after change /);
  } finally {
    await client.close();
  }
});
