// The mongodb source row of `npm run bench` (`mongodb-source`): an initial load, then a change stream, through Wire
// (mongodb → drop) beside the bare official driver doing the same reads in the same run. Half the records are
// documents read by the load: Wire's run ends there (`stop_after`); the bench then updates every document (untimed),
// and a second run of the same pipeline resumes from its checkpoint and reads the change stream of those updates
// (`fullDocument: updateLookup`), ending after them. The bare driver takes a resume token, reads the collection
// with one cursor in `_id` order, then (after the same updates) watches from its token until it has every change.
// Each side's time is the sum of its two phases, connections included, and loading the driver in each (each Wire
// run loads it; the bench process had it loaded before the bare timers start, so each bare phase adds
// `importSeconds`). The server is the protocol-level fake of test/harness/mongodb.ts in a process of its own, not a
// real MongoDB (none can be installed here).
import { join } from 'node:path';
import type { AnyBulkWriteOperation, Document, MongoClient } from 'mongodb';
import { startFakeProcess } from './lib/fake-process.js';
import { importSeconds } from './lib/import-time.js';
import { wirePipelineRun, type ConnectorRow, type WireRunOptions } from './lib/wire-pipeline-run.js';

/** Wire's batch size: the bare cursors and the bench's writes go in batches of the same size. */
const BATCH = 1024;

interface BenchDocument {
  _id: number;
  n: number;
  payload: string;
}

interface SourceBenchOptions extends WireRunOptions {
  readonly repeat: number;
}

async function connect(url: string): Promise<MongoClient> {
  const { MongoClient } = await import('mongodb');
  return MongoClient.connect(url);
}

/** Runs `work` on a new client; the seconds from connecting to closing. */
async function timed(url: string, work: (client: MongoClient) => Promise<void>): Promise<number> {
  const started = performance.now();
  const client = await connect(url);
  try {
    await work(client);
  } finally {
    await client.close();
  }
  return (performance.now() - started) / 1000;
}

async function writeAll(client: MongoClient, collection: string, documents: number, operation: (n: number) => AnyBulkWriteOperation<BenchDocument>): Promise<void> {
  const target = client.db('bench').collection<BenchDocument>(collection);
  for (let start = 0; start < documents; start += BATCH) {
    const operations: AnyBulkWriteOperation<BenchDocument>[] = [];
    for (let n = start; n < Math.min(documents, start + BATCH); n++) operations.push(operation(n));
    await target.bulkWrite(operations, { ordered: false });
  }
}

const insert = (n: number): AnyBulkWriteOperation<BenchDocument> => ({ insertOne: { document: { _id: n, n, payload: `p${(n * 7919) % 100_003}` } } });
const update = (n: number): AnyBulkWriteOperation<BenchDocument> => ({ updateOne: { filter: { _id: n }, update: { $set: { payload: `u${n}` } } } });

/** The bare load: a resume token first (as Wire takes it), then every document in `_id` order. */
async function bareLoad(client: MongoClient, collection: string, documents: number): Promise<Document> {
  const target = client.db('bench').collection(collection);
  const probe = target.watch([], { maxAwaitTimeMS: 1 });
  await probe.tryNext();
  const token = probe.resumeToken as Document;
  await probe.close();
  let read = 0;
  for await (const document of target.find({}).sort({ _id: 1 }).batchSize(BATCH)) if (document !== null) read++;
  if (read !== documents) throw new Error(`mongodb-source: the bare load read ${read} of ${documents} documents`);
  return token;
}

/** The bare change stream: from `token` until `changes` changes are read. */
async function bareChanges(client: MongoClient, collection: string, token: Document, changes: number): Promise<void> {
  const stream = client.db('bench').collection(collection).watch([], { resumeAfter: token, fullDocument: 'updateLookup', batchSize: BATCH });
  let read = 0;
  try {
    for await (const change of stream) if (change.operationType === 'update' && ++read === changes) break;
  } finally {
    await stream.close();
  }
}

export async function benchMongodbSource(o: SourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startFakeProcess(join(import.meta.dirname, 'lib', 'fake-mongodb-process.ts'));
  const client = await connect(server.url);
  const documents = Math.floor(records / 2);
  try {
    let wire = Infinity;
    let bare = Infinity;
    for (let i = 0; i < o.repeat; i++) {
      await writeAll(client, `bare${i}`, documents, insert);
      await writeAll(client, `wire${i}`, documents, insert);
      let token: Document | undefined;
      const bareLoadSeconds = await timed(server.url, async (c) => void (token = await bareLoad(c, `bare${i}`, documents)));
      const source = `{ type: mongodb, config: { url: "${server.url}", database: bench, collection: wire${i}, stop_after: ${documents} } }`;
      const wireLoadSeconds = await wirePipelineRun(o, `mongodb-source-${i}`, source, '{ type: drop }', documents);
      await writeAll(client, `bare${i}`, documents, update);
      await writeAll(client, `wire${i}`, documents, update);
      const bareStreamSeconds = await timed(server.url, (c) => bareChanges(c, `bare${i}`, token!, documents));
      const wireStreamSeconds = await wirePipelineRun(o, `mongodb-source-${i}`, source, '{ type: drop }', documents);
      bare = Math.min(bare, bareLoadSeconds + bareStreamSeconds + 2 * (await importSeconds('mongodb', o.dir)));
      wire = Math.min(wire, wireLoadSeconds + wireStreamSeconds);
    }
    return {
      name: 'mongodb-source',
      records: 2 * documents,
      wireSeconds: wire,
      bareSeconds: bare,
      baseline: 'mongodb driver: one find cursor in _id order, then a change stream (updateLookup), batches of 1024, + loading the driver for each (protocol-level fake server, not MongoDB)',
    };
  } finally {
    await client.close();
    server.stop();
  }
}
