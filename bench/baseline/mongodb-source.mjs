// The official driver doing the mongodb-source row's reads, the baseline of that row, in a process of its own as Wire
// runs in its own (a driver in the bench process runs warm, its code compiled by the rounds and writes before it):
//   node mongodb-source.mjs load URL DATABASE COLLECTION DOCUMENTS: a resume token first (as Wire takes it), then every
//     document with one find cursor in `_id` order, batches of 1024; prints {"seconds","records","token"} (the token as
//     canonical extended JSON);
//   node mongodb-source.mjs changes URL DATABASE COLLECTION TOKEN CHANGES: a change stream from TOKEN (`updateLookup`,
//     batches of 1024) until CHANGES updates are read; prints {"seconds","records"}.
// Timed from importing the driver (as Wire's run loads it) to the client closed.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , mode, url, database, name, ...rest] = process.argv;
const started = performance.now();
const { BSON, MongoClient } = await import('mongodb');
const client = await MongoClient.connect(url);
const collection = client.db(database).collection(name);
let records = 0;
let token;
try {
  if (mode === 'load') {
    const probe = collection.watch([], { maxAwaitTimeMS: 1 });
    await probe.tryNext();
    token = probe.resumeToken;
    await probe.close();
    for await (const document of collection.find({}).sort({ _id: 1 }).batchSize(BATCH)) if (document !== null) records++;
  } else if (mode === 'changes') {
    const [from, wanted] = rest;
    const stream = collection.watch([], { resumeAfter: BSON.EJSON.parse(from, { relaxed: false }), fullDocument: 'updateLookup', batchSize: BATCH });
    try {
      for await (const change of stream) if (change.operationType === 'update' && ++records === Number(wanted)) break;
    } finally {
      await stream.close();
    }
  } else {
    throw new Error(`mongodb-source.mjs: no mode ${mode} (load or changes)`);
  }
} finally {
  await client.close();
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, records, ...(token === undefined ? {} : { token: BSON.EJSON.stringify(token, { relaxed: false }) }) }) + '\n');
