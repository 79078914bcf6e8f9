import { Type, type Static } from '@sinclair/typebox';
import type { ConnectionPool, Consumer } from '@platformatic/kafka';
import { WireError } from '../../core/errors.js';
import { jsonLineError, utf8LineError } from '../../core/json-scan.js';
import type { ComponentDefinition, ConfigProblem, Source, SourceOpenOptions, SourcePartition } from '../../core/ports.js';
import { WireRecord, type Batch, type Headers, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { clientOptions, kafkaConnectionFields } from './connection.js';
import { DeliveredOffsets, offsetsOf, type NextOffsets, type RecordPosition } from './offsets.js';
import { withRetry } from './retry.js';
import { guardBrokerLookups } from './broker-guard.js';

export const KafkaSourceSchema = Type.Object(
  {
    ...kafkaConnectionFields,
    topic: Type.String({ minLength: 1, description: 'The topic to read.' }),
    partitions: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0 }), {
        minItems: 1,
        uniqueItems: true,
        description: 'Only these partitions. Default: every partition of the topic. In a cluster each task reads one (set for it).',
      }),
    ),
    group: Type.String({
      minLength: 1,
      default: 'wire',
      description: 'The consumer group the checkpointed offsets are committed to, for monitoring tools (lag); Wire resumes from its own checkpoint, not from it.',
    }),
    start: Type.Union([Type.Literal('earliest'), Type.Literal('latest'), Type.Literal('timestamp')], {
      default: 'earliest',
      description: 'Where a partition with no checkpointed offset starts: its first record, its end (records produced from now on), or the first record at or after `start_timestamp`.',
    }),
    start_timestamp: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 })], {
        description: 'For `start: timestamp`: milliseconds since the epoch, or an RFC 3339 time.',
      }),
    ),
    format: Type.Union([Type.Literal('json'), Type.Literal('text')], {
      default: 'json',
      description: 'json: each message value is a JSON document (one that is not goes to the dead-letter sink, stage `source`). text: the value is a UTF-8 string record.',
    }),
    fetch_max_bytes: Type.Integer({
      minimum: 1024,
      default: 1_048_576,
      description: 'Most bytes one fetch from one broker returns. One fetch per broker is read ahead of the engine, no more: this bounds what waits in memory.',
    }),
    fetch_max_wait: Type.Integer({
      minimum: 1,
      default: 500,
      description: 'Milliseconds a broker holds a fetch while it has nothing new.',
    }),
  },
  { additionalProperties: false },
);

export type KafkaSourceConfig = Static<typeof KafkaSourceSchema>;

/**
 * One fetch round: a fetch from each broker that leads some of the partitions read; `caughtUp` when it reached the
 * end (high watermark) of every partition.
 */
type Round = Promise<{ readonly records: WireRecord[]; readonly caughtUp: boolean }>;
type FetchResponse = Awaited<ReturnType<Consumer['fetch']>>;

const IS_CONTROL = 0x20;
const EARLIEST = -2n;
const LATEST = -1n;

/**
 * Reads a topic's partitions by fetching from their leaders directly (no group membership: Wire's checkpoint, not
 * the group, decides what each task reads). Offsets live in the checkpoint (`{ offsets: { partition: next } }`);
 * once one is saved they are committed to `group` for monitoring. One fetch round is read ahead of the engine.
 */
export class KafkaSource implements Source {
  private consumer: Consumer | undefined;
  /**
   * The fetches' own connections. A broker answers a connection's requests in order, and holds a fetch for up to
   * `fetch_max_wait` while it has nothing new: on the client's connections that fetch would hold back the offset
   * commit (and the metadata) queued behind it. The client's own message stream keeps its fetches apart the same way.
   */
  private fetchPool: ConnectionPool | undefined;
  private signal: AbortSignal = new AbortController().signal;
  private partitions: number[] = [];
  /** Next offset to fetch, by partition (ahead of `next` by the round read ahead). */
  private fetchAt = new Map<number, bigint>();
  /** Next offset to deliver, by partition. */
  private readonly next: NextOffsets = {};
  private readonly delivered = new DeliveredOffsets();
  private readonly committed: NextOffsets = {};
  /** The last batch handed to the engine ended a round that reached the end of every partition. */
  private caughtUp = false;
  private closed = false;

  constructor(private readonly config: KafkaSourceConfig) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    const from = offsetsOf(options.from);
    const { Consumer, ConnectionPool } = await import('@platformatic/kafka');
    const { config } = this;
    const connection = clientOptions(config, 'source');
    // Retries are ours (`withRetry`): a fetch round must pick its leaders again after a failure.
    const consumer = guardBrokerLookups(new Consumer({
      ...connection,
      retries: 0,
      groupId: config.group,
      maxWaitTime: config.fetch_max_wait,
      maxBytes: config.fetch_max_bytes,
      minBytes: 1,
    }));
    // Commits as a client outside the group's membership (generation -1): what Kafka expects of a consumer that
    // assigns its own partitions.
    consumer.generationId = -1;
    consumer.memberId = '';
    this.consumer = consumer;
    this.fetchPool = new ConnectionPool(connection.clientId, connection);
    try {
      const count = await this.partitionCount();
      this.partitions = config.partitions ?? Array.from({ length: count }, (_, i) => i);
      const beyond = this.partitions.find((p) => p >= count);
      if (beyond !== undefined) throw new WireError('INVALID_INPUT', `kafka topic ${config.topic} has no partition ${beyond} (it has ${count})`, { partition: beyond });
      const starts = await this.startOffsets(from);
      for (const partition of this.partitions) {
        const start = starts.get(partition)!;
        this.fetchAt.set(partition, start);
        this.next[partition] = Number(start);
      }
    } catch (error) {
      // The open's failure is the one to report; a failure to close after it would only hide it.
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const max = Math.max(1, Math.floor(maxRecords));
    let round = this.fetchRound();
    while (!this.closed && !this.signal.aborted) {
      const { records, caughtUp } = await round;
      if (this.closed || this.signal.aborted) return;
      // The next round is on its way while the engine takes this one: one round ahead, no more.
      round = this.fetchRound();
      for (let start = 0; start < records.length; start += max) {
        const batch = records.slice(start, start + max);
        const positions = batch.map((record) => record.position as unknown as RecordPosition);
        this.delivered.delivered({ ...this.next }, positions);
        for (const { partition, offset } of positions) this.next[partition] = offset + 1;
        this.caughtUp = caughtUp && start + max >= records.length;
        yield batch;
      }
    }
    // A round still on its way ends with the client; its failure is of no interest once the source stops.
    round.catch(() => undefined);
  }

  checkpointPosition(position: Position): Position {
    return { offsets: this.delivered.through(position) };
  }

  /** The checkpoint covers `position`: its offsets go to the group, for lag monitoring (Wire resumes from its checkpoint). */
  async ack(position: Position): Promise<void> {
    const offsets = this.delivered.checkpointed(position);
    if (offsets === undefined) throw new WireError('INTERNAL', `kafka source: ack of ${JSON.stringify(position)}, which no checkpoint took`, { position });
    const changed = Object.entries(offsets).filter(([partition, next]) => this.committed[partition] !== next);
    if (changed.length === 0 || this.consumer === undefined) return;
    const { topic } = this.config;
    await withRetry(this.config, `offset commit to group ${this.config.group}`, this.signal, () =>
      this.consumer!.commit({ offsets: changed.map(([partition, next]) => ({ topic, partition: Number(partition), offset: BigInt(next), leaderEpoch: -1 })) }),
    );
    for (const [partition, next] of changed) this.committed[partition] = next;
  }

  /**
   * Caught up with every partition: the engine checkpoints (and so commits) as soon as what was read is in the sink,
   * instead of at its next periodic checkpoint. Asked only as batches complete, so only while records are unacked.
   */
  awaitingAck(): boolean {
    return this.caughtUp;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A fetch the broker still holds fails with its connection; its round's failure is of no interest now.
    await Promise.all([this.fetchPool?.close(), this.consumer?.close()]);
  }

  private async partitionCount(): Promise<number> {
    const { topic } = this.config;
    const metadata = await withRetry(this.config, `metadata of topic ${topic}`, this.signal, () =>
      this.consumer!.metadata({ topics: [topic], autocreateTopics: false }),
    );
    const described = metadata.topics.get(topic);
    if (described === undefined) throw new WireError('INVALID_INPUT', `kafka topic ${topic} does not exist`, { topic });
    return described.partitionsCount;
  }

  /** Where each partition starts: its checkpointed offset, else where `start` says. */
  private async startOffsets(from: NextOffsets | undefined): Promise<Map<number, bigint>> {
    const starts = new Map<number, bigint>();
    const unknown: number[] = [];
    for (const partition of this.partitions) {
      const checkpointed = from?.[partition];
      if (checkpointed === undefined) unknown.push(partition);
      else starts.set(partition, BigInt(checkpointed));
    }
    if (unknown.length === 0) return starts;
    const { topic } = this.config;
    const list = (timestamp: bigint): Promise<bigint[]> =>
      withRetry(this.config, `offsets of topic ${topic}`, this.signal, async () => {
        const offsets = await this.consumer!.listOffsets({ topics: [topic], partitions: { [topic]: unknown }, timestamp });
        return offsets.get(topic) ?? [];
      });
    const timestamp = this.startTimestamp();
    const found = await list(timestamp);
    // No record at or after the timestamp: the partition starts at its end.
    const ends = timestamp >= 0n && unknown.some((p) => (found[p] ?? -1n) < 0n) ? await list(LATEST) : [];
    for (const partition of unknown) {
      const offset = found[partition] ?? -1n;
      starts.set(partition, offset >= 0n ? offset : (ends[partition] ?? 0n));
    }
    return starts;
  }

  private startTimestamp(): bigint {
    const { start, start_timestamp: at } = this.config;
    if (start === 'earliest') return EARLIEST;
    if (start === 'latest') return LATEST;
    return BigInt(typeof at === 'number' ? at : Date.parse(at!));
  }

  /** Fetches from every leader at once; the records in partition then offset order within each response. */
  private fetchRound(): Round {
    const round = withRetry(
      this.config,
      `fetch from topic ${this.config.topic}`,
      this.signal,
      () => this.fetchOnce(),
      () => this.consumer!.clearMetadata(),
    );
    // The engine may stop before it asks for this round: its failure then must not go unhandled.
    round.catch(() => undefined);
    return round;
  }

  private async fetchOnce(): Round {
    const consumer = this.consumer!;
    const { topic, fetch_max_bytes: maxBytes } = this.config;
    const metadata = await consumer.metadata({ topics: [topic], autocreateTopics: false });
    const described = metadata.topics.get(topic)!;
    const byLeader = new Map<number, number[]>();
    for (const partition of this.partitions) {
      const leader = described.partitions[partition]!.leader;
      // A leader down (or being elected) is a wait, not a refusal: the round is retried with fresh metadata.
      if (!metadata.brokers.has(leader)) throw new Error(`partition ${partition}'s leader ${leader} is not reachable`);
      const led = byLeader.get(leader);
      if (led === undefined) byLeader.set(leader, [partition]);
      else led.push(partition);
    }
    const perPartition = Math.max(1024, Math.floor(maxBytes / this.partitions.length));
    const responses = await Promise.all(
      [...byLeader].map(([node, led]) =>
        consumer.fetch({
          node,
          connectionPool: this.fetchPool!,
          topics: [
            {
              topicId: described.id,
              partitions: led.map((partition) => ({
                partition,
                fetchOffset: this.fetchAt.get(partition)!,
                partitionMaxBytes: perPartition,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        }),
      ),
    );
    const records: WireRecord[] = [];
    const ends = new Map<number, bigint>();
    for (const response of responses) this.take(response, records, ends);
    const caughtUp = this.partitions.every((partition) => ends.has(partition) && this.fetchAt.get(partition)! >= ends.get(partition)!);
    return { records, caughtUp };
  }

  /**
   * The records of a response from the offsets asked for on; moves the fetch offsets past them. `ends` gets the
   * high watermark of each partition answered for.
   */
  private take(response: FetchResponse, out: WireRecord[], ends: Map<number, bigint>): void {
    const text = this.config.format === 'text';
    for (const topic of response.responses) {
      for (const { partitionIndex: partition, records: batches, highWatermark } of topic.partitions) {
        ends.set(partition, highWatermark);
        if (batches === undefined) continue;
        const from = this.fetchAt.get(partition);
        if (from === undefined) continue;
        let nextFetch = from;
        for (const batch of batches) {
          const first = Number(batch.firstOffset);
          const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          if (end > nextFetch) nextFetch = end;
          // Transaction markers take an offset and carry no record.
          if ((batch.attributes & IS_CONTROL) !== 0) continue;
          for (const r of batch.records) {
            const offset = first + r.offsetDelta;
            // A response starts at its batch's first offset, which may lie before the offset asked for.
            if (offset < Number(from)) continue;
            out.push(recordOf(r.value, r.key, r.headers, Number(batch.firstTimestamp + r.timestampDelta), { partition, offset }, text));
          }
        }
        this.fetchAt.set(partition, nextFetch);
      }
    }
  }
}

const decoder = new TextDecoder();

function recordOf(
  value: Buffer | null,
  key: Buffer | null,
  headers: readonly [Buffer | null, Buffer | null][],
  timestamp: number,
  position: { partition: number; offset: number },
  text: boolean,
): WireRecord {
  const bytes = value ?? Buffer.from('null');
  const error = text ? utf8LineError(bytes, 0, bytes.length) : jsonLineError(bytes, 0, bytes.length);
  const record =
    error !== undefined
      ? WireRecord.unreadableLine(bytes, error, position)
      : text
        ? WireRecord.fromText(decoder.decode(bytes), position)
        : WireRecord.fromRaw(bytes, position);
  if (key !== null) record.key = decoder.decode(key);
  record.eventTime = timestamp;
  if (headers.length > 0) {
    const map: Headers = {};
    for (const [name, headerValue] of headers) if (name !== null) map[decoder.decode(name)] = headerValue === null ? '' : decoder.decode(headerValue);
    record.headers = map;
  }
  return record;
}

function checkStart(config: Record<string, unknown>): ConfigProblem[] {
  if (config.start === 'timestamp' && config.start_timestamp === undefined) return [{ path: 'start_timestamp', message: 'required when start is timestamp' }];
  if (config.start !== 'timestamp' && config.start_timestamp !== undefined) return [{ path: 'start_timestamp', message: 'only with start: timestamp' }];
  if (typeof config.start_timestamp === 'string' && Number.isNaN(Date.parse(config.start_timestamp))) {
    return [{ path: 'start_timestamp', message: 'not a time (RFC 3339, e.g. 2026-01-31T12:00:00Z)' }];
  }
  return [];
}

/** The partitions a cluster runs as tasks: one per partition of the topic (or of `partitions`), each reading it alone. */
async function partitionsOf(raw: Record<string, unknown>): Promise<SourcePartition[]> {
  const config = resolveConfig('kafka source', KafkaSourceSchema, raw);
  let ids = config.partitions;
  if (ids === undefined) {
    const { Consumer } = await import('@platformatic/kafka');
    const consumer = guardBrokerLookups(new Consumer({ ...clientOptions(config, 'partitions'), groupId: config.group }));
    try {
      const metadata = await consumer.metadata({ topics: [config.topic], autocreateTopics: false }).catch((error: unknown) => {
        throw new WireError('UNAVAILABLE', `kafka: the partitions of topic ${config.topic} could not be read from ${config.brokers.join(',')}: ${(error as Error).message}`, {}, error);
      });
      const count = metadata.topics.get(config.topic)?.partitionsCount;
      if (count === undefined) throw new WireError('INVALID_INPUT', `kafka topic ${config.topic} does not exist`, { topic: config.topic });
      ids = Array.from({ length: count }, (_, i) => i);
    } finally {
      await consumer.close();
    }
  }
  return ids.map((partition) => ({ id: String(partition), config: { ...raw, partitions: [partition] } }));
}

export const kafkaSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'kafka',
  description:
    'Reads a Kafka topic (@platformatic/kafka): every partition, or those given; offsets are kept in the checkpoint and committed to a consumer group once a checkpoint covers them.',
  schema: KafkaSourceSchema,
  example: { brokers: ['127.0.0.1:9092'], topic: 'orders', group: 'wire-orders', start: 'earliest' },
  check: checkStart,
  create: (config) => {
    const resolved = resolveConfig('kafka source', KafkaSourceSchema, config);
    const problem = checkStart(resolved)[0];
    if (problem !== undefined) throw new WireError('INVALID_INPUT', `invalid kafka source config: ${problem.path}: ${problem.message}`, { problems: [problem] });
    return new KafkaSource(resolved);
  },
  // The topic and partitions decide the records and their offsets; the brokers are left out (an address may change).
  identity: (config) => {
    const { topic, partitions } = resolveConfig('kafka source', KafkaSourceSchema, config);
    const sorted = partitions === undefined ? null : [...partitions].sort((a, b) => a - b);
    return { label: sorted === null ? topic : `${topic} partitions ${sorted.join(',')}`, key: { topic, partitions: sorted } };
  },
  describePosition: (_config, position) => {
    const offsets = offsetsOf(position) ?? {};
    return Object.entries(offsets)
      .map(([partition, next]) => `partition ${partition} at offset ${next}`)
      .join(', ');
  },
  partitions: partitionsOf,
  notes: [
    'Delivery: at-least-once from Kafka, exactly-once into a sink that resumes from its checkpoint (the file sink). The source',
    'reads its partitions from their leaders itself, without joining the group: the offsets it resumes from are those of',
    "Wire's checkpoint (`{ offsets: { partition: next offset } }`). Once a checkpoint is saved its offsets are committed to",
    '`group`, for lag monitoring only; Wire never reads them back (a new `--data-dir` starts where `start` says). `start`',
    'applies to a partition with no checkpointed offset: a run killed before its first checkpoint decides again on restart.',
    '`wire run` reads every partition (or `partitions`); a cluster runs one task per partition, listed when the tasks are',
    'made (partitions added to the topic later are read once the pipeline is updated). One fetch per broker is read ahead',
    'of the engine (at most `fetch_max_bytes` each): a slow sink makes the source wait. Once a round reaches the end of every',
    'partition, the engine checkpoints as soon as what was read is in the sink (the offsets are committed then, not at the',
    'next periodic checkpoint). Fetches go on connections of their own, so a commit never waits behind a fetch a broker',
    'holds for want of new records (up to `fetch_max_wait`). A request that fails for want of a',
    'broker (down, unreachable, a leader being elected) is retried with backoff (`reconnect_attempts`), then the run fails',
    'with UNAVAILABLE naming the brokers. Message keys become record keys, headers record headers, timestamps event times;',
    'transaction markers are skipped (records of aborted transactions are read: there is no `read_committed` yet).',
    '',
    'Client: `@platformatic/kafka` 1.35.0, not kafkajs: kafkajs has had no release since 2.2.4 (2022) and is no longer',
    'maintained; @platformatic/kafka is maintained, typed, promise-based, and its fetch and produce calls are the ones this',
    'connector needs (a fetch from a given broker, offsets by time, commits outside a group).',
    '',
    "Tested against a Kafka-protocol test server, not a real broker: librdkafka's mock cluster (`../shared/test-servers/kafka`,",
    '3 brokers, in memory; test/connectors/kafka*.test.ts). Verified there: 100,000 messages with a kill -9 after a',
    'checkpoint (each exactly once in the file, the offsets in the group), each broker taken down and brought back mid-run',
    '(nothing lost), the leader of a partition down for 6 s mid-run and back (nothing lost, every offset in the group),',
    'unreachable brokers (the run fails after its retries). Not verified: SASL and TLS (the mock has neither), leader',
    "failover: the mock cannot move a partition's leadership (its `down` disconnects a broker and refuses connections but",
    'keeps it the leader in the metadata), so what is verified is waiting for a leader to come back, not following a new',
    'one; `start: timestamp` before the last record (the mock answers',
    'every lookup by time with "none", so only a time after the last record was checked), compressed batches.',
    '',
    'Try it with `examples/kafka-orders.yaml` (its first lines say how to start a test server):',
    '',
    '```console',
    '$ wire validate examples/kafka-orders.yaml',
    'OK: examples/kafka-orders.yaml: 1 pipeline (kafka-orders)',
    '```',
  ].join('\n'),
};
