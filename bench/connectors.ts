// The connector rows of `npm run bench` (BENCH_ONLY names `redis-sink`, `postgres-sink`, `elasticsearch-sink`, `postgres-cdc`,
// `kafka-sink`, `rabbitmq-sink`, `mqtt-sink`, `nats-sink`, `s3-sink`, `mongodb-sink`, `redis-source`, `kafka-source`,
// `nats-source`, `s3-source`, `rabbitmq-source`, `mqtt-source`, `mongodb-source`): records/s through Wire (generate → the
// connector's sink, `wire run --json`; a source's rows: the connector's source → drop, until every record is acknowledged)
// beside the bare client doing the same work in the same
// run, against real servers started by the test harness (test/harness). Target: Wire ≥ 0.8× the bare client.
import { join } from 'node:path';
import { benchPostgresCdc } from './connector-postgres-cdc.js';
import { benchMongodbSink } from './connector-mongodb-sink.js';
import { benchMongodbSource } from './connector-mongodb-source.js';
import { benchMqttSource } from './connector-mqtt-source.js';
import { benchRabbitmqSource } from './connector-rabbitmq-source.js';
import { benchKafkaSource } from './connector-kafka-source.js';
import { benchNatsSource } from './connector-nats-source.js';
import { benchRedisSource } from './connector-redis-source.js';
import { benchS3Source } from './connector-s3-source.js';
import { startFakeProcess } from './lib/fake-process.js';
import { bareProgramSeconds } from './lib/source-run.js';
import { ratios } from './lib/ratios.js';
import { wirePipelineRun, type ConnectorRow } from './lib/wire-pipeline-run.js';
import { kafkaAvailable, startKafka } from '../test/harness/kafka.js';
import { startPostgres } from '../test/harness/postgres.js';
import { MOSQUITTO, startMosquitto } from '../test/harness/mosquitto.js';
import { RABBITMQ, startRabbitmq } from '../test/harness/rabbitmq.js';
import { NATS, startNats } from '../test/harness/nats.js';
import { startRedis } from '../test/harness/redis.js';
import { startS3 } from '../test/harness/s3.js';
import { serverAvailable } from '../test/harness/servers.js';
import { POSTGRES } from '../test/harness/postgres.js';
import { REDIS } from '../test/harness/redis.js';

const TARGET_RATIO = 0.8;
/** Wire's default batch size: the bare clients write in batches of the same size. */
const BATCH = 1024;
const GENERATE = `{ n: "i", payload: "concat('p', (i * 7919) % 100003)" }`;

export interface ConnectorBenchOptions {
  readonly wire: string;
  readonly dir: string;
  readonly scale: number;
  readonly repeat: number;
  readonly wanted: (name: string) => boolean;
}

/** Generate → `sink`: the engine's seconds for `records` (bench/lib/wire-pipeline-run.ts). */
function wireRun(o: ConnectorBenchOptions, name: string, sink: string, records: number): Promise<number> {
  return wirePipelineRun(o, name, `{ type: generate, config: { count: ${records}, record: ${GENERATE} } }`, sink, records);
}

async function benchRedis(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startRedis();
  const { Redis } = await import('ioredis');
  const client = new Redis(server.port, '127.0.0.1');
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await client.del('bare', 'wire');
      bare.push(await bareProgramSeconds(o, 'redis-sink.mjs', [String(server.port), 'bare', String(records)], records));
      if ((await client.xlen('bare')) !== records) throw new Error('redis-sink: the bare stream does not hold every record');
      wire.push(await wireRun(o, `redis-sink-${i}`, `{ type: redis, config: { url: "${server.url}", command: xadd, key: wire } }`, records));
      if ((await client.xlen('wire')) !== records) throw new Error('redis-sink: the stream does not hold every record');
    }
    return { name: 'redis-sink-xadd', records, wireSeconds: wire, bareSeconds: bare, baseline: 'ioredis pipelined XADD, 1024 per round trip; own process, timed from its import' };
  } finally {
    client.disconnect();
    await server.stop();
  }
}

async function benchPostgres(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startPostgres();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query('CREATE TABLE bare (n integer, payload text); CREATE TABLE wire (n integer, payload text)');
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await client.query('TRUNCATE bare, wire; DROP TABLE IF EXISTS wire_offsets, bare_offsets');
      bare.push(await bareProgramSeconds(o, 'postgres-sink.mjs', [server.url, 'bare', String(records)], records));
      wire.push(await wireRun(o, `postgres-sink-${i}`, `{ type: postgres, config: { dsn: "${server.url}", table: wire, columns: [n, payload] } }`, records));
      for (const table of ['bare', 'wire']) {
        const count = await client.query<{ c: string }>(`SELECT count(*) AS c FROM ${table}`);
        if (Number(count.rows[0]!.c) !== records) throw new Error(`postgres-sink: table ${table} does not hold every record`);
      }
    }
    return { name: 'postgres-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: 'pg multi-row INSERT of 1024 rows storing its last position in the same statement (as the exactly-once sink), a named prepared statement, each its own transaction; own process, timed from its import' };
  } finally {
    await client.end();
    await server.stop();
  }
}

async function benchElasticsearch(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startFakeProcess(join(import.meta.dirname, 'lib', 'fake-elasticsearch-process.ts'));
  const { Client } = await import('@elastic/elasticsearch');
  const client = new Client({ node: server.url, maxRetries: 0 });
  const count = async (index: string): Promise<number> => (await client.count({ index })).count;
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      // The client's own bulk helper-free path: one bulk request of 1,024 index operations with ids per round trip.
      bare.push(await bareProgramSeconds(o, 'elasticsearch-sink.mjs', [server.url, `bare-${i}`, String(records)], records));
      const index = `wire-${i}`;
      wire.push(await wireRun(o, `elasticsearch-sink-${i}`, `{ type: elasticsearch, config: { url: "${server.url}", index: ${index} } }`, records));
      if ((await count(index)) !== records || (await count(`bare-${i}`)) !== records) throw new Error('elasticsearch-sink: an index does not hold every record');
    }
    return { name: 'elasticsearch-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: '@elastic/elasticsearch bulk, 1024 index operations per request (protocol-level fake server); own process, timed from its import' };
  } finally {
    await client.close();
    server.stop();
  }
}

async function benchKafka(o: ConnectorBenchOptions, records: number, binary: string): Promise<ConnectorRow> {
  const server = await startKafka(binary, { brokers: 3 });
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      // The sink's client settings (idempotent, acks from every in-sync replica), one send per 1024 records, in a
      // process of its own, as each Wire run is (in the bench process the loop ran JIT-warm from earlier rounds).
      await server.createTopic(`bare${i}`, 4);
      bare.push(await bareProgramSeconds(o, 'kafka-sink.mjs', [JSON.stringify(server.brokers), `bare${i}`, String(records)], records));
      await server.createTopic(`wire${i}`, 4);
      wire.push(await wireRun(o, `kafka-sink-${i}`, `{ type: kafka, config: { brokers: ${JSON.stringify(server.brokers)}, topic: wire${i} } }`, records));
    }
    return { name: 'kafka-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: '@platformatic/kafka idempotent producer, acks all, 1024 per send (mock cluster, 3 brokers); own process, timed from its import to close' };
  } finally {
    await server.stop();
  }
}

async function benchRabbitmq(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startRabbitmq();
  const amqp = await import('amqplib');
  const connection = await amqp.connect(server.url);
  try {
    const channel = await connection.createConfirmChannel();
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      for (const queue of ['bare', 'wire']) {
        await channel.assertQueue(queue, { durable: true });
        await channel.purgeQueue(queue);
      }
      // What the sink does: persistent, mandatory publishes on a confirm channel, every confirm awaited per batch.
      bare.push(await bareProgramSeconds(o, 'rabbitmq-sink.mjs', [server.url, 'bare', String(records)], records));
      if ((await channel.checkQueue('bare')).messageCount !== records) throw new Error('rabbitmq-sink: the bare queue does not hold every record');
      const sink = `{ type: rabbitmq, config: { url: "${server.url}", routing_key: wire } }`;
      wire.push(await wireRun(o, `rabbitmq-sink-${i}`, sink, records));
      if ((await channel.checkQueue('wire')).messageCount !== records) throw new Error('rabbitmq-sink: the queue does not hold every record');
    }
    return { name: 'rabbitmq-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: 'amqplib confirm channel, 1024 persistent publishes per waitForConfirms; own process, timed from its import' };
  } finally {
    await connection.close();
    await server.stop();
  }
}

async function benchMqtt(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startMosquitto();
  const mqtt = await import('mqtt');
  const client = await mqtt.connectAsync(server.url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      // What the sink does: a batch of QoS 1 publishes, every PUBACK awaited before the next batch.
      bare.push(await bareProgramSeconds(o, 'mqtt-sink.mjs', [server.url, 'bench/bare', String(records)], records));
      wire.push(await wireRun(o, `mqtt-sink-${i}`, `{ type: mqtt, config: { url: "${server.url}", topic: bench/wire } }`, records));
    }
    return { name: 'mqtt-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: 'mqtt.js QoS 1 publishes, 1024 PUBACKs awaited per batch; own process, timed from its import' };
  } finally {
    await client.endAsync();
    await server.stop();
  }
}

async function benchNats(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startNats();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const client = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(client);
    await jsm.streams.add({ name: 'BARE', subjects: ['bare.>'] });
    await jsm.streams.add({ name: 'WIRE', subjects: ['wire.>'] });
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await jsm.streams.purge('BARE');
      await jsm.streams.purge('WIRE');
      // A batch's publishes go out together and the loop waits for every ack, as the sink does.
      bare.push(await bareProgramSeconds(o, 'nats-sink.mjs', [server.url, 'bare.records', String(records)], records));
      wire.push(await wireRun(o, `nats-sink-${i}`, `{ type: nats, config: { url: "${server.url}", subject: wire.records } }`, records));
      for (const stream of ['BARE', 'WIRE']) {
        if ((await jsm.streams.info(stream)).state.messages !== records) throw new Error(`nats-sink: the stream ${stream} does not hold every record`);
      }
    }
    return { name: 'nats-sink-jetstream', records, wireSeconds: wire, bareSeconds: bare, baseline: '@nats-io/jetstream publish, 1024 acks awaited together; own process, timed from its import' };
  } finally {
    await client.close();
    await server.stop();
  }
}

async function benchS3(o: ConnectorBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startS3();
  const s3 = await import('@aws-sdk/client-s3');
  const c = server.config;
  const client = new s3.S3Client({
    endpoint: c.endpoint,
    forcePathStyle: true,
    region: c.region,
    credentials: { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key },
  });
  const objectBytes = 8 * 1024 * 1024;
  try {
    await client.send(new s3.CreateBucketCommand({ Bucket: 'bench' }));
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      // JSON lines gathered into objects of 8 MiB, each one PutObject, as the sink does between checkpoints: in a
      // process of its own, as each Wire run is (in the bench process the loop ran JIT-warm from earlier rounds).
      const args = [c.endpoint, 'bench', `bare-${i}/`, String(records), String(objectBytes)];
      bare.push(await bareProgramSeconds(o, 's3-sink.mjs', args, records));
      const sink = `{ type: s3, config: { bucket: bench, endpoint: "${c.endpoint}", force_path_style: true, access_key_id: ${c.access_key_id}, secret_access_key: ${c.secret_access_key}, key: "wire-${i}/{seq}.jsonl", max_bytes: ${objectBytes} } }`;
      wire.push(await wireRun(o, `s3-sink-${i}`, sink, records));
    }
    return { name: 's3-sink', records, wireSeconds: wire, bareSeconds: bare, baseline: '@aws-sdk/client-s3 PutObject of 8 MiB JSON lines objects; own process, timed from its import' };
  } finally {
    client.destroy();
    await server.stop();
  }
}

/** One JSON line per connector wanted, and its target; a connector whose server is not installed is left out. */
export async function runConnectorCases(o: ConnectorBenchOptions): Promise<{ lines: Record<string, unknown>[]; targets: Record<string, boolean> }> {
  const records = Math.max(BATCH, Math.round(200_000 * o.scale));
  const lines: Record<string, unknown>[] = [];
  const targets: Record<string, boolean> = {};
  // A case without a server binary runs against a fake in a process of its own; kafka's server is built (or not) here.
  const cases: [string, { path: string; aptPackage: string } | (() => Promise<boolean>) | undefined, () => Promise<ConnectorRow>][] = [
    ['redis-sink', REDIS, () => benchRedis(o, records)],
    ['postgres-sink', POSTGRES, () => benchPostgres(o, records)],
    ['elasticsearch-sink', undefined, () => benchElasticsearch(o, records)],
    ['postgres-cdc', POSTGRES, () => benchPostgresCdc(o, records)],
    ['kafka-sink', async () => (await kafkaAvailable()).available, async () => benchKafka(o, records, (await kafkaAvailable()).binary)],
    ['rabbitmq-sink', RABBITMQ, () => benchRabbitmq(o, records)],
    ['mqtt-sink', MOSQUITTO, () => benchMqtt(o, records)],
    ['nats-sink', NATS, () => benchNats(o, records)],
    ['s3-sink', undefined, () => benchS3(o, records)],
    ['rabbitmq-source', RABBITMQ, () => benchRabbitmqSource(o, records)],
    ['mqtt-source', MOSQUITTO, () => benchMqttSource(o, records)],
    ['mongodb-source', undefined, () => benchMongodbSource(o, records)],
    ['mongodb-sink', undefined, () => benchMongodbSink(o, records)],
    ['redis-source', REDIS, () => benchRedisSource(o, records)],
    ['nats-source', NATS, () => benchNatsSource(o, records)],
    ['s3-source', undefined, () => benchS3Source(o, records)],
    ['kafka-source', async () => (await kafkaAvailable()).available, async () => benchKafkaSource(o, records, (await kafkaAvailable()).binary)],
  ];
  for (const [name, binary, run] of cases) {
    if (!o.wanted(name) || (binary !== undefined && !(typeof binary === 'function' ? await binary() : serverAvailable(binary).available))) continue;
    const row = await run();
    const { best, paired } = ratios(row);
    targets[`${row.name}.ratio`] = best >= TARGET_RATIO;
    lines.push({
      name: row.name,
      records: row.records,
      records_per_s: Math.round(row.records / Math.min(...row.wireSeconds)),
      baseline: row.baseline,
      baseline_records_per_s: Math.round(row.records / Math.min(...row.bareSeconds)),
      ratio: Number(best.toFixed(3)),
      paired_ratio: Number(paired.toFixed(3)),
      rounds: row.wireSeconds.length,
      wire_seconds: row.wireSeconds.map((seconds) => Number(seconds.toFixed(3))),
      bare_seconds: row.bareSeconds.map((seconds) => Number(seconds.toFixed(3))),
      target: `ratio >= ${TARGET_RATIO}`,
      target_met: best >= TARGET_RATIO,
    });
  }
  return { lines, targets };
}
