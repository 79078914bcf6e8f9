// The mongodb source row of `npm run bench` (`mongodb-source`): an initial load, then a change stream, through Wire
// (mongodb → drop) beside the bare official driver doing the same reads in the same run. Half the records are
// documents read by the load: Wire's run ends there (`stop_after`); the bench then updates every document (untimed),
// and a second run of the same pipeline resumes from its checkpoint and reads the change stream of those updates
// (`fullDocument: updateLookup`), ending after them. The bare driver (bench/baseline/mongodb-source.mjs) takes a resume
// token, reads the collection with one cursor in `_id` order, then (after the same updates) watches from its token
// until it has every change. Each side's time is the sum of its two phases, connections included, and loading the
// driver in each: each phase of either side is a process of its own, as a Wire run is. (The bare phases ran in the
// bench process until session 10: the driver there was loaded before its timers and its code compiled warm by the
// bench's writes and earlier rounds, which no Wire run had; adding the time to load the driver made up for only the
// first.) The server is the protocol-level fake of test/harness/mongodb.ts in a process of its own, not a
// real MongoDB (none can be installed here).
import { join } from 'node:path';
import type { AnyBulkWriteOperation, MongoClient } from 'mongodb';
import { startFakeProcess } from './lib/fake-process.js';
import { jsonLines, runChild } from './lib/child.js';
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

/** Runs a phase of the bare driver (bench/baseline/mongodb-source.mjs) in a process of its own; its report. */
async function bareRun(o: SourceBenchOptions, args: readonly string[], records: number): Promise<{ seconds: number; token?: string }> {
  const result = await runChild(process.execPath, [join(import.meta.dirname, 'baseline', 'mongodb-source.mjs'), ...args], {
    cwd: o.dir,
    tmpDir: o.dir,
    timeoutMs: 10 * 60_000,
    label: `mongodb-source-bare-${args[0]}`,
  });
  const report = jsonLines(result.stdout)[0];
  if (result.code !== 0 || report === undefined) throw new Error(`mongodb-source.mjs ${args[0]} failed (${result.code}):\n${result.stderr.slice(-2000)}`);
  if (Number(report.records) !== records) throw new Error(`mongodb-source.mjs ${args[0]} read ${String(report.records)} of ${records} records`);
  return { seconds: Number(report.seconds), ...(typeof report.token === 'string' ? { token: report.token } : {}) };
}

export async function benchMongodbSource(o: SourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startFakeProcess(join(import.meta.dirname, 'lib', 'fake-mongodb-process.ts'));
  const client = await connect(server.url);
  const documents = Math.floor(records / 2);
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await writeAll(client, `bare${i}`, documents, insert);
      await writeAll(client, `wire${i}`, documents, insert);
      const load = await bareRun(o, ['load', server.url, 'bench', `bare${i}`, String(documents)], documents);
      const source = `{ type: mongodb, config: { url: "${server.url}", database: bench, collection: wire${i}, stop_after: ${documents} } }`;
      const wireLoadSeconds = await wirePipelineRun(o, `mongodb-source-${i}`, source, '{ type: drop }', documents);
      await writeAll(client, `bare${i}`, documents, update);
      await writeAll(client, `wire${i}`, documents, update);
      const changes = await bareRun(o, ['changes', server.url, 'bench', `bare${i}`, load.token!, String(documents)], documents);
      const wireStreamSeconds = await wirePipelineRun(o, `mongodb-source-${i}`, source, '{ type: drop }', documents);
      bare.push(load.seconds + changes.seconds);
      wire.push(wireLoadSeconds + wireStreamSeconds);
    }
    return {
      name: 'mongodb-source',
      records: 2 * documents,
      wireSeconds: wire,
      bareSeconds: bare,
      baseline: 'mongodb driver: one find cursor in _id order, then a change stream (updateLookup), batches of 1024, each phase a process of its own timed from loading the driver (protocol-level fake server, not MongoDB)',
    };
  } finally {
    await client.close();
    server.stop();
  }
}
