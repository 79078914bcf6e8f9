import { Type, type Static } from '@sinclair/typebox';
import type { IConnackPacket, IPublishPacket, MqttClient } from 'mqtt';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, Source, SourceOpenOptions, SourcePartition } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { messageCounterOf, MessageWindow, stopAfterField } from '../message-window.js';
import { payloadRecord } from '../payload-record.js';
import { holdPubacks, MqttLink, mqttConnectionFields, mqttEndpoint, warnQos0 } from './link.js';

/** MQTT 5's receive maximum is a 16-bit count. */
const MAX_RECEIVE = 65_535;

export const MqttSourceSchema = Type.Object(
  {
    ...mqttConnectionFields,
    topic: Type.String({ minLength: 1, description: 'The topic filter to subscribe to (`sensors/+/temperature`, `orders/#`).' }),
    qos: Type.Union([Type.Literal(1), Type.Literal(0)], {
      default: 1,
      description: '1: at-least-once (PUBACK after the checkpoint, a persistent session). 0: at-most-once (a warning says so).',
    }),
    client_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'The client id, which names the broker\'s session: keep it stable. By default `wire-` and the pipeline\'s name (and the consumer\'s number).',
      }),
    ),
    session_expiry: Type.Integer({
      minimum: 1,
      default: 86_400,
      description: 'Seconds the broker keeps the session (its subscription and the messages for it) while the pipeline is down (MQTT 5).',
    }),
    receive_maximum: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_RECEIVE,
        description: 'Messages the broker may send ahead of PUBACKs (MQTT 5). By default the engine\'s window: the records it holds between read and sink.',
      }),
    ),
    shared_group: Type.Optional(
      Type.String({
        minLength: 1,
        pattern: '^[^/+#]+$',
        description: 'Subscribe as `$share/GROUP/topic`: the broker shares the messages out among the group\'s consumers (MQTT 5 shared subscriptions).',
      }),
    ),
    consumers: Type.Integer({
      minimum: 1,
      default: 1,
      description: 'With `shared_group`: consumers of the shared subscription, each a task of its own in a cluster.',
    }),
    format: Type.Union([Type.Literal('json'), Type.Literal('text')], {
      default: 'json',
      description: 'json: a message\'s payload is the record\'s JSON value. text: the payload is a string value (UTF-8).',
    }),
    consumer: Type.Optional(Type.Integer({ minimum: 0, description: 'Set by the cluster for each of `consumers` (their client ids differ by it).' })),
    ...stopAfterField,
  },
  { additionalProperties: false },
);

export type MqttSourceConfig = Static<typeof MqttSourceSchema>;

/**
 * Subscribes with a persistent session (clean start off, a session expiry) and holds each QoS 1 message's PUBACK
 * until the engine's checkpoint covers it (`holdPubacks`): until then the broker keeps the message as in flight,
 * and a crash or a lost connection makes it send the message again when the session resumes. The broker sends at
 * most `receive_maximum` messages ahead; once half of them wait for a checkpoint the source asks for one.
 */
export class MqttSource implements Source {
  private link: MqttLink | undefined;
  private readonly window = new MessageWindow<IPublishPacket>();
  private receiveMaximum = 0;
  private signal: AbortSignal = new AbortController().signal;
  private sendPubacks: ((messageIds: readonly number[]) => void) | undefined;
  private subscribed = false;
  /** mqtt.js's go-ahead for its next packet, held while the broker has sent past the receive maximum. */
  private heldNext: (() => void) | undefined;

  constructor(private readonly config: MqttSourceConfig) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    if (this.config.qos === 0) warnQos0('source', this.config.topic);
    this.window.startAfter(messageCounterOf('mqtt', options.from));
    this.receiveMaximum = Math.min(MAX_RECEIVE, this.config.receive_maximum ?? Math.max(1, options.window ?? 1024));
    const { config } = this;
    const consumer = config.consumer === undefined ? '' : `-${config.consumer}`;
    this.link = new MqttLink(config, {
      clientId: config.client_id ?? `wire-${options.pipeline}${consumer}`,
      // QoS 0 messages are not kept for an absent client: a persistent session would only keep the subscription.
      clean: config.qos === 0,
      sessionExpiry: config.qos === 0 ? 0 : config.session_expiry,
      receiveMaximum: this.receiveMaximum,
      prepare: (client) => this.prepare(client),
      onConnect: (_generation, connack) => this.subscribe(connack),
      onDown: (generation) => this.window.drop(generation),
    });
    this.link.onFailure(() => this.window.wake());
    options.signal.addEventListener('abort', () => this.window.wake(), { once: true });
    await this.link.open();
  }

  read(maxRecords: number): AsyncIterable<Batch> {
    const link = this.link!;
    return this.window.batches(maxRecords, this.signal, () => link.failure(), (message, position) => this.recordOf(message, position), this.config.stop_after);
  }

  /** PUBACKs, in order, every QoS 1 message of the live connection up to `position`; the others come again. */
  async ack(position: Position): Promise<void> {
    const settled = this.window.settle(messageCounterOf('mqtt', position), this.link?.live());
    const messageIds: number[] = [];
    for (const packet of settled) if (packet.qos === 1 && packet.messageId !== undefined) messageIds.push(packet.messageId);
    this.sendPubacks!(messageIds);
    if (this.heldNext !== undefined && this.window.unsettled <= this.receiveMaximum) {
      const next = this.heldNext;
      this.heldNext = undefined;
      next();
    }
  }

  awaitingAck(): boolean {
    return this.window.unsettled * 2 >= this.receiveMaximum;
  }

  async close(): Promise<void> {
    this.window.wake();
    await this.link?.close();
  }

  private prepare(client: MqttClient): void {
    this.sendPubacks = holdPubacks(client);
    client.on('message', (_topic, _payload, packet) => this.window.deliver(packet, this.link!.live() ?? 0));
    // A broker that sends past the receive maximum (Mosquitto 2.0.11 does, once a PUBACK comes while a backlog is
    // queued: it sends the whole backlog) would fill the window without bound. mqtt.js handles one packet at a time
    // and reads the socket only as it handles them: holding its go-ahead (`handleMessage`, its backpressure hook)
    // stops reading until a checkpoint settles what is over, and TCP holds the broker back meanwhile.
    client.handleMessage = (_packet, next) => {
      if (this.window.unsettled > this.receiveMaximum) this.heldNext = () => next();
      else next();
    };
  }

  /** Subscribes unless the broker resumed a session that has the subscription already. */
  private async subscribe(connack: IConnackPacket): Promise<void> {
    if (connack.sessionPresent && this.subscribed) return;
    const { topic, qos, shared_group } = this.config;
    const filter = shared_group === undefined ? topic : `$share/${shared_group}/${topic}`;
    const granted = await this.link!.client!.subscribeAsync(filter, { qos });
    const answer = granted[0];
    if (answer === undefined || answer.qos > 2) {
      throw new WireError('FORBIDDEN', `mqtt broker at ${mqttEndpoint(this.config.url)} refused the subscription to ${filter}`, { topic: filter });
    }
    this.subscribed = true;
  }

  private recordOf(packet: IPublishPacket, position: number): WireRecord {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const record = payloadRecord(payload, this.config.format, position);
    const key = packet.properties?.userProperties?.['wire-key'];
    if (typeof key === 'string') record.key = key;
    return record;
  }
}

export const mqttSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'mqtt',
  description:
    'Subscribes to an MQTT topic filter with a persistent session; each QoS 1 message is PUBACKed only once a checkpoint covers it.',
  schema: MqttSourceSchema,
  example: { url: 'mqtt://127.0.0.1:1883', topic: 'sensors/#', client_id: 'wire-sensors' },
  create: (config) => new MqttSource(resolveConfig('mqtt source', MqttSourceSchema, config)),
  // The subscription decides which messages this source gets; positions only count them. The url may hold a password.
  identity: (config) => {
    const { topic, shared_group } = resolveConfig('mqtt source', MqttSourceSchema, config);
    return { label: `topic ${topic}`, key: { topic, shared_group: shared_group ?? null } };
  },
  describePosition: (_config, position) => `after message ${JSON.stringify(position)} (counted from the first run)`,
  partitions: async (config): Promise<SourcePartition[]> => {
    const { consumers, shared_group } = resolveConfig('mqtt source', MqttSourceSchema, config);
    // Without a shared subscription every consumer would get every message: one task.
    if (shared_group === undefined || consumers === 1) return [{ id: '0', config }];
    return Array.from({ length: consumers }, (_, i) => ({ id: String(i), config: { ...config, consumer: i } }));
  },
  notes: [
    'Delivery with `qos: 1` (the default): at-least-once for every message the broker delivers at QoS 1 (published at QoS 1',
    'or 2) to the session, as long as the session lives. The source connects with clean start off and a `session_expiry`,',
    'and sends a message\'s PUBACK only after the checkpoint that covers it is saved (in order, as MQTT requires): until then',
    'the broker keeps it in flight, and after a kill -9, a crash or a lost connection it sends it again when the same',
    '`client_id` reconnects (so the sink may see it twice). What it cannot cover: messages published at QoS 0 (delivered',
    'at QoS 0), messages published before the session\'s first subscription, a session that expired while the pipeline was',
    'down longer than `session_expiry`, and the broker\'s own limits and persistence: Mosquitto drops what it queues for a',
    'client past `max_queued_messages` (default 1,000: set 0 for no limit) and keeps sessions on disk only with',
    '`persistence true` (saved on a clean shutdown and every `autosave_interval`), so a broker crash loses what it had not',
    'saved. `qos: 0` is at-most-once (a clean session; the run prints a warning saying so).',
    '',
    'mqtt.js answers each message with its PUBACK as soon as it is handled and handles packets one at a time, so its',
    '`customHandleAcks` could delay a PUBACK only by stalling the connection; the source holds the PUBACKs mqtt.js writes and',
    'sends them itself after the checkpoint (checked against mqtt 5.16.0, pinned). The broker sends at most `receive_maximum`',
    'messages ahead (by default the engine\'s window); once half of them wait, the source asks the engine for a checkpoint.',
    'A broker that sends past it (Mosquitto 2.0.11 sends a session\'s whole queue once a PUBACK comes while more is queued)',
    'is held back over TCP: the source stops reading the connection until a checkpoint settles what is over the maximum.',
    'While it is held, PINGRESPs wait too: held past ~45 s (1.5 × the 30 s keepalive: a sink stalled that long) the connection is',
    'dropped and made again, and what was not yet acknowledged comes again.',
    'With MQTT 3.1.1 (`protocol_version: 4`) the broker\'s in-flight limit applies instead (Mosquitto: `max_inflight_messages`,',
    'default 20), which makes it slow. `shared_group` with `consumers: N` makes N tasks sharing a `$share/GROUP/topic`',
    'subscription. The payload is the record (JSON, or a string with `format: text`); a `wire-key` user property (what the',
    'mqtt sink writes) is its key. A payload that is not JSON (malformed, empty, not UTF-8, nested deeper than 1,000), or not',
    'UTF-8 with `format: text`, goes to `on_error` as its bytes, before any transform. Reconnects use backoff (`reconnect_attempts`); a refused login fails the run at once.',
    '',
    'Tested against a real mosquitto 2.0 with persistence (test/connectors/mqtt.e2e.test.ts): 100,000 messages with a kill -9',
    'after a checkpoint and a broker restart mid-run (none missing, duplicates counted and printed).',
    'Runnable example: `examples/mqtt-sensors.yaml`.',
  ].join('\n'),
};
