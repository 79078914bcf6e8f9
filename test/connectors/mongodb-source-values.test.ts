// The mongodb source's record values share the driver's documents instead of copying them (relaxedJsonOwned): a
// value's parts must still stay apart, so a transform changing one in place changes nothing else.
import { afterEach, expect, it } from 'vitest';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
let source: MongoSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
});

it("keeps a read's id apart from its document's _id, and the value as relaxed extended JSON", async () => {
  fake = await startFakeMongo();
  const { BSON, MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(fake.url);
  await client
    .db('shop')
    .collection<{ _id: { region: string; n: number }; when: Date; tags: string[] }>('orders')
    .insertOne({ _id: { region: 'eu', n: 1 }, when: new Date(0), tags: ['a'] });
  await client.close();
  source = mongoSourceDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', stop_after: 1 }) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
  const batches = [];
  for await (const batch of source.read(10)) batches.push(...batch);
  expect(batches).toHaveLength(1);
  const value = batches[0]!.value as { id: { region: string }; document: { _id: { region: string } } };
  expect(value).toEqual({
    operation: 'read',
    database: 'shop',
    collection: 'orders',
    id: { region: 'eu', n: 1 },
    document: { _id: { region: 'eu', n: 1 }, when: { $date: '1970-01-01T00:00:00Z' }, tags: ['a'] },
  });
  expect(value).toEqual(BSON.EJSON.serialize(value, { relaxed: true }));
  value.id.region = 'us';
  expect(value.document._id.region).toBe('eu');
});
