// The mongodb source's initial load against the protocol-level fake (test/harness/mongodb.ts): each batch of the
// load is one find answered in one reply, not a find and a getMore per 101 documents; the next find goes out while the
// pipeline takes a batch (one ahead, no more), and a run stopped with one in flight ends cleanly.
import { afterEach, expect, it } from 'vitest';
import { MongoSource, mongoSourceDefinition } from '../../src/connectors/mongodb/source.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';

let fake: FakeMongo | undefined;
let source: MongoSource | undefined;
afterEach(async () => {
  await source?.close();
  await fake?.close();
});

/** A fake whose shop.orders holds `count` documents, _id 0 to count - 1. */
async function seeded(count: number): Promise<FakeMongo> {
  const server = await startFakeMongo();
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(server.url);
  await client.db('shop').collection<{ _id: number }>('orders').insertMany(Array.from({ length: count }, (_, n) => ({ _id: n })));
  await client.close();
  return server;
}

it('reads each batch of the load with one command', async () => {
  fake = await seeded(3000);
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

it('asks for the next batch of the load while the pipeline takes this one, one batch ahead and no more', async () => {
  fake = await seeded(5000);
  let finds = 0;
  fake.lie = (command, reply) => {
    if (command === 'find') finds++;
    return reply;
  };
  source = mongoSourceDefinition.create({ url: fake.url, database: 'shop', collection: 'orders', stop_after: 5000 }) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
  const reader = source.read(1000)[Symbol.asyncIterator]();
  const ids: unknown[] = [];
  const first = await reader.next();
  for (const record of first.value as { value: { id: unknown } }[]) ids.push(record.value.id);
  // The second find goes out while nothing asks for the second batch; a third does not.
  for (let waited = 0; finds < 2 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(finds).toBe(2);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(finds).toBe(2);
  for (let next = await reader.next(); next.done !== true; next = await reader.next()) for (const record of next.value) ids.push((record.value as { id: unknown }).id);
  expect(ids).toEqual(Array.from({ length: 5000 }, (_, n) => n));
});

it('stops with a find asked ahead in flight, and reads on from its position in the next run', async () => {
  fake = await seeded(3000);
  const config = { url: fake.url, database: 'shop', collection: 'orders', stop_after: 1000 };
  source = mongoSourceDefinition.create(config) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
  const firstRun = [];
  for await (const batch of source.read(1000)) firstRun.push(...batch);
  await source.close();
  expect(firstRun.map((record) => (record.value as { id: unknown }).id)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
  source = mongoSourceDefinition.create(config) as MongoSource;
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, from: firstRun.at(-1)!.position });
  const secondRun = [];
  for await (const batch of source.read(1000)) secondRun.push(...batch);
  expect(secondRun.map((record) => (record.value as { id: unknown }).id)).toEqual(Array.from({ length: 1000 }, (_, n) => 1000 + n));
});
