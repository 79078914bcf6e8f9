// The mongodb sink row of `npm run bench` (`mongodb-sink`): generated records written through Wire (generate →
// mongodb, its defaults: `_id` from the position, replace upserts) beside the bare official driver doing the same
// writes in the same run (bench/baseline/mongodb-sink.mjs, in a process of its own, timed from importing the driver):
// one unordered bulkWrite of 1,024 replaceOne upserts by `_id` per batch. The server is the
// protocol-level fake of test/harness/mongodb.ts in a process of its own, not a real MongoDB (none can be installed here).
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { startFakeProcess } from './lib/fake-process.js';
import { bareProgramSeconds } from './lib/source-run.js';
import { wirePipelineRun, type ConnectorRow, type WireRunOptions } from './lib/wire-pipeline-run.js';

const GENERATE = `{ n: "i", payload: "concat('p', (i * 7919) % 100003)" }`;

interface SinkBenchOptions extends WireRunOptions {
  readonly repeat: number;
}

/** Documents in a collection of the fake (it answers `find`, not `count`). */
async function documents(client: MongoClient, collection: string): Promise<number> {
  let count = 0;
  for await (const document of client.db('bench').collection(collection).find({}).batchSize(10_000)) if (document !== null) count++;
  return count;
}

export async function benchMongodbSink(o: SinkBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startFakeProcess(join(import.meta.dirname, 'lib', 'fake-mongodb-process.ts'));
  const { MongoClient } = await import('mongodb');
  const client = await MongoClient.connect(server.url);
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareProgramSeconds(o, 'mongodb-sink.mjs', [server.url, `bare${i}`, String(records)], records));
      const sink = `{ type: mongodb, config: { url: "${server.url}", database: bench, collection: wire${i} } }`;
      wire.push(await wirePipelineRun(o, `mongodb-sink-${i}`, `{ type: generate, config: { count: ${records}, record: ${GENERATE} } }`, sink, records));
      for (const collection of [`bare${i}`, `wire${i}`]) {
        const count = await documents(client, collection);
        if (count !== records) throw new Error(`mongodb-sink: ${collection} holds ${count} of ${records} documents`);
      }
    }
    return { name: 'mongodb-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: 'mongodb driver bulkWrite, 1024 replaceOne upserts per request (protocol-level fake server, not MongoDB); own process, timed from its import' };
  } finally {
    await client.close();
    server.stop();
  }
}
