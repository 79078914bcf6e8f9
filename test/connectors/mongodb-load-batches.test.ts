// The mongodb source's initial load against the protocol-level fake (test/harness/mongodb.ts): each batch of the
// load is one find answered in one reply, not a find and a getMore per 101 documents.
import { afterEach, expect, it } from 'vitest';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
let source: MongoSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
});

it('reads each batch of the load with one command', async () => {
  fake = await startFakeMongo();
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(fake.url);
  await client.db('shop').collection<{ _id: number }>('orders').insertMany(Array.from({ length: 3000 }, (_, n) => ({ _id: n })));
  await client.close();
  source = mongoSourceDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', stop_after: 3000 }) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
  const reader = source.read(1000)[Symbol.asyncIterator]();
  await reader.next();
  const before = fake.stats.commands;
  const second = await reader.next();
  expect(second.value).toHaveLength(1000);
  // One find; a monitoring heartbeat of the driver may fall in between.
  expect(fake.stats.commands - before).toBeLessThanOrEqual(2);
});
