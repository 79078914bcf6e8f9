// The nats source row of `npm run bench` (`nats-source`): a JetStream stream preloaded with N messages, read through
// a durable pull consumer by Wire (nats → drop, until the consumer's ack floor is the last message) beside a bare
// @nats-io/jetstream consumer doing the same in the same run (bench/baseline/nats-source.mjs): a durable consumer with cumulative acks
// (`AckPolicy.All`), pulls of 1024 messages (Wire's batch size), an acknowledged ack of the last of every 1024.
import { startNats } from '../test/harness/nats.js';
import { bareProgramSeconds, sourceRecord, wireSourceSeconds, type SourceRunOptions } from './lib/source-run.js';
import type { ConnectorRow } from './lib/wire-pipeline-run.js';

interface NatsSourceBenchOptions extends SourceRunOptions {
  readonly repeat: number;
}

const BATCH = 1024;
const STREAM = 'BENCH';

export async function benchNatsSource(o: NatsSourceBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startNats();
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
  const client = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(client);
    await jsm.streams.add({ name: STREAM, subjects: ['bench.>'] });
    const js = jetstream(client);
    for (let start = 0; start < records; start += BATCH) {
      const acks: Promise<unknown>[] = [];
      for (let n = start; n < Math.min(records, start + BATCH); n++) acks.push(js.publish('bench.records', sourceRecord(n)));
      await Promise.all(acks);
    }
    if ((await jsm.streams.info(STREAM)).state.last_seq !== records) throw new Error('nats-source: the stream does not hold every message');
    /** The consumer's acknowledgements cover the last message. */
    const acknowledged = async (durable: string): Promise<boolean> => (await jsm.consumers.info(STREAM, durable)).ack_floor.stream_seq === records;
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareProgramSeconds(o, 'nats-source.mjs', [server.url, STREAM, `bare_${i}`, String(records)], records));
      if (!(await acknowledged(`bare_${i}`))) throw new Error('nats-source: the bare consumer left messages unacknowledged');
      const source = `{ type: nats, config: { url: "${server.url}", stream: ${STREAM}, durable: wire_${i} } }`;
      wire.push(await wireSourceSeconds(o, `nats-source-${i}`, source, records, () => acknowledged(`wire_${i}`).catch(() => false)));
    }
    return { name: 'nats-source-jetstream', records, wireSeconds: wire, bareSeconds: bare, baseline: '@nats-io/jetstream durable pull consumer, 1024 per pull, one cumulative ack per 1024; own process, timed from its import' };
  } finally {
    await client.close();
    await server.stop();
  }
}
