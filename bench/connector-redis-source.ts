// The redis source row of `npm run bench` (`redis-source`): a stream preloaded with N entries, read through a
// consumer group by Wire (redis → drop, until the group shows every entry acknowledged) beside a bare ioredis
// consumer doing the same in the same run (bench/baseline/redis-source.mjs): XREADGROUP of 1024 entries (Wire's batch
// size), then XACK of them.
import { startRedis } from '../test/harness/redis.js';
import { bareProgramSeconds, sourceRecord, wireSourceSeconds, type SourceRunOptions } from './lib/source-run.js';
import type { ConnectorRow } from './lib/wire-pipeline-run.js';

interface RedisSourceBenchOptions extends SourceRunOptions {
  readonly repeat: number;
}

const BATCH = 1024;
const STREAM = 'bench';

export async function benchRedisSource(o: RedisSourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startRedis();
  const { Redis } = await import('ioredis');
  const client = new Redis(server.port, '127.0.0.1');
  /** The group has been handed every entry and holds none unacknowledged. */
  const acknowledged = async (group: string): Promise<boolean> => {
    const groups = (await client.xinfo('GROUPS', STREAM)) as unknown[][];
    const info = groups.map((fields) => Object.fromEntries(fields.flatMap((v, i) => (i % 2 === 0 ? [[v, fields[i + 1]]] : [])))).find((g) => g.name === group);
    return info !== undefined && info['entries-read'] === records && info.pending === 0;
  };
  try {
    for (let start = 0; start < records; start += BATCH) {
      const pipeline = client.pipeline();
      for (let n = start; n < Math.min(records, start + BATCH); n++) pipeline.xadd(STREAM, '*', 'value', sourceRecord(n));
      await pipeline.exec();
    }
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareProgramSeconds(o, 'redis-source.mjs', [String(server.port), STREAM, `bare-${i}`, String(records)], records));
      if (!(await acknowledged(`bare-${i}`))) throw new Error('redis-source: the bare consumer left entries unacknowledged');
      const source = `{ type: redis, config: { url: "${server.url}", stream: ${STREAM}, group: wire-${i} } }`;
      wire.push(await wireSourceSeconds(o, `redis-source-${i}`, source, records, () => acknowledged(`wire-${i}`)));
    }
    return { name: 'redis-source', records, wireSeconds: wire, bareSeconds: bare, baseline: 'ioredis XREADGROUP of 1024 entries, then XACK of them; own process, timed from its import' };
  } finally {
    client.disconnect();
    await server.stop();
  }
}
