// The rabbitmq source row of `npm run bench` (`rabbitmq-source`): a queue of persistent messages drained through
// Wire (rabbitmq → drop, `stop_after` the count) beside a bare amqplib consumer doing the same work in the same
// run (bench/baseline/rabbitmq-source.mjs, a process of its own): the same prefetch as Wire's (its window: 6 batches
// of 1,024), manual acks (`multiple`) each time half the prefetch waits for one (when Wire's source asks for a
// checkpoint), every message acked before the clock stops.
// The broker is a real rabbitmq-server started by the test harness.
import type { Channel } from 'amqplib';
import { startRabbitmq } from '../test/harness/rabbitmq.js';
import { bareProgramSeconds } from './lib/source-run.js';
import { wirePipelineRun, type ConnectorRow, type WireRunOptions } from './lib/wire-pipeline-run.js';

/** Wire's default window with one lane: (4 + 2 × 1) batches of 1,024 records, which is its default prefetch. */
const PREFETCH = 6 * 1024;
const PUBLISH_BATCH = 1024;

interface SourceBenchOptions extends WireRunOptions {
  readonly repeat: number;
}

async function preload(channel: Channel & { waitForConfirms(): Promise<void> }, queue: string, records: number): Promise<void> {
  await channel.assertQueue(queue, { durable: true });
  for (let start = 0; start < records; start += PUBLISH_BATCH) {
    for (let n = start; n < Math.min(records, start + PUBLISH_BATCH); n++) {
      channel.sendToQueue(queue, Buffer.from(JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` })), { persistent: true, contentType: 'application/json' });
    }
    await channel.waitForConfirms();
  }
}

export async function benchRabbitmqSource(o: SourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startRabbitmq();
  const amqp = await import('amqplib');
  const connection = await amqp.connect(server.url);
  try {
    const channel = await connection.createConfirmChannel();
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      await preload(channel, `bare${i}`, records);
      await preload(channel, `wire${i}`, records);
      bare.push(await bareProgramSeconds(o, 'rabbitmq-source.mjs', [server.url, `bare${i}`, String(records), String(PREFETCH)], records));
      const source = `{ type: rabbitmq, config: { url: "${server.url}", queue: wire${i}, stop_after: ${records} } }`;
      wire.push(await wirePipelineRun(o, `rabbitmq-source-${i}`, source, '{ type: drop }', records));
      // Every message acked: none is left in either queue once their consumers are gone.
      for (const queue of [`bare${i}`, `wire${i}`]) {
        const left = (await channel.checkQueue(queue)).messageCount;
        if (left !== 0) throw new Error(`rabbitmq-source: ${left} messages of ${queue} were not acked`);
        await channel.deleteQueue(queue);
      }
    }
    return { name: 'rabbitmq-source', records, wireSeconds: wire, bareSeconds: bare, baseline: `amqplib consumer, prefetch ${PREFETCH}, ack multiple per half prefetch (Wire asks for a checkpoint at a quarter); own process, timed from its import` };
  } finally {
    await connection.close();
    await server.stop();
  }
}
