import { Type } from '@sinclair/typebox';
import type { IClientOptions, IConnackPacket, MqttClient, Packet } from 'mqtt';
import { WireError } from '../../core/errors.js';
import { endpointOf, reconnectDelay, reconnectFields, type ReconnectConfig } from '../reconnect.js';

/** How long a closing connection may take to send its last packets and DISCONNECT before it is cut. */
const CLOSE_GRACE_MS = 5_000;

/** The connection settings every mqtt connector takes. */
export const mqttConnectionFields = {
  url: Type.String({
    // A `${...}` reference is resolved later (on load, or on the node that runs the task).
    pattern: '^(mqtts?://|wss?://|\\$\\{)',
    default: 'mqtt://127.0.0.1:1883',
    // It may carry a password (`mqtt://user:secret@host`): shown as "***" (security/secrets.ts).
    'x-wire-secret': true,
    description: 'The broker, as `mqtt://[user:password@]host:port` (`mqtts://` for TLS, `ws://`/`wss://` over WebSocket).',
  }),
  username: Type.Optional(Type.String({ description: 'The user name, when it is not in the url.' })),
  password: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'The password, when it is not in the url (e.g. `${file:/run/secrets/mqtt}`).' })),
  protocol_version: Type.Union([Type.Literal(5), Type.Literal(4)], {
    default: 5,
    description: 'MQTT 5, or 4 for MQTT 3.1.1 (then the broker alone decides how many messages are in flight).',
  }),
  ...reconnectFields,
};

export interface MqttConnectionConfig extends ReconnectConfig {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocol_version: 5 | 4;
}

export const mqttEndpoint = (url: string): string => endpointOf(url, url.startsWith('mqtts') ? 8883 : 1883);

/** What a connector adds to the connection: its client id, session and the packets it must see. */
export interface MqttSessionOptions {
  readonly clientId: string;
  readonly clean: boolean;
  /** Seconds the broker keeps the session after a disconnect (MQTT 5). */
  readonly sessionExpiry?: number;
  /** Unacknowledged messages the broker may send this client at once (MQTT 5). */
  readonly receiveMaximum?: number;
  /** Called once the client exists, before it has received anything: listeners go on here. */
  readonly prepare?: (client: MqttClient) => void;
  /** Called on every connect, with its generation (from 1) and the broker's answer. */
  readonly onConnect: (generation: number, connack: IConnackPacket) => Promise<void>;
  /** Called when the connection of this generation is lost. */
  readonly onDown?: (generation: number) => void;
}

/**
 * One mqtt.js client whose reconnects this owns: mqtt.js's own retry period is fixed, so it is off and every lost
 * connection is retried here with backoff, keeping the client's stores (unacknowledged publishes are sent again).
 * Once the reconnects are used up, or the broker refuses the client (a bad password), `failure()` says why.
 */
export class MqttLink {
  client: MqttClient | undefined;
  /** The connection's number: bumped when one is lost, so packets that arrive before the `connect` event count in the new one. */
  private generation = 1;
  private attempt = 0;
  private failed: WireError | undefined;
  private closed = false;
  private lastError: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly endpoint: string;
  private readonly failureListeners: ((error: WireError) => void)[] = [];

  constructor(
    private readonly config: MqttConnectionConfig,
    private readonly session: MqttSessionOptions,
  ) {
    this.endpoint = mqttEndpoint(config.url);
  }

  /** Connects; resolves once connected and `onConnect` is done, throws the failure when it cannot. */
  async open(): Promise<void> {
    const mqtt = await import('mqtt');
    const { config, session } = this;
    const options: IClientOptions = {
      clientId: session.clientId,
      clean: session.clean,
      protocolVersion: config.protocol_version,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false,
      // mqtt.js logs each packet it handles through `debug`, which costs even when nothing is printed (~7 % of a
      // source's CPU): kept only when DEBUG is set, so DEBUG=mqttjs* still shows its log.
      ...(process.env.DEBUG === undefined ? { log: noLog } : {}),
      ...(config.username === undefined ? {} : { username: config.username }),
      ...(config.password === undefined ? {} : { password: config.password }),
      ...(config.protocol_version === 5
        ? { properties: { sessionExpiryInterval: session.sessionExpiry ?? 0, ...(session.receiveMaximum === undefined ? {} : { receiveMaximum: session.receiveMaximum }) } }
        : {}),
    };
    const client = mqtt.connect(config.url, options);
    this.client = client;
    session.prepare?.(client);
    const ready = new Promise<void>((resolve, reject) => {
      const onFailure = (error: WireError): void => reject(error);
      this.failureListeners.push(onFailure);
      client.once('connect', () => {
        this.failureListeners.splice(this.failureListeners.indexOf(onFailure), 1);
        resolve();
      });
    });
    client.on('error', (error: Error) => {
      this.lastError = error;
      // A refused CONNACK (bad credentials, a banned client id) will be refused again: no retry.
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number' && refused(code, config.protocol_version)) {
        this.fail(new WireError('UNAUTHORIZED', `mqtt broker at ${this.endpoint} refused the connection: ${error.message}`, { endpoint: this.endpoint, code }, error));
      }
    });
    client.on('connect', (connack: IConnackPacket) => {
      this.attempt = 0;
      session.onConnect(this.generation, connack).catch((error: unknown) => this.fail(asWireError(error, `mqtt broker at ${this.endpoint}`)));
    });
    client.on('close', () => {
      session.onDown?.(this.generation++);
      this.retry();
    });
    await ready;
  }

  /** Called once the link has failed for good (the caller's reads and writes end with it). */
  onFailure(listener: (error: WireError) => void): void {
    this.failureListeners.push(listener);
  }

  failure(): WireError | undefined {
    return this.failed;
  }

  /** The generation of the live connection, or undefined while down. */
  live(): number | undefined {
    return this.client?.connected === true ? this.generation : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.fail(new WireError('UNAVAILABLE', `mqtt connection to ${this.endpoint} is closed`, { endpoint: this.endpoint }));
    const client = this.client;
    if (client === undefined) return;
    // A DISCONNECT after what is written, and the socket ended, not destroyed: destroying it drops the PUBACKs of
    // the last checkpoint still in its buffer (and the kernel resets a socket closed with unread data), so the
    // broker would send those messages again. A broker that does not answer in time is cut off.
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        client.endAsync(false).then(() => true, () => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS))),
      ]);
      clearTimeout(timer);
      if (ended) return;
      client.stream.destroy();
    }
    await client.endAsync(true).catch(() => undefined);
  }

  private retry(): void {
    if (this.closed || this.failed !== undefined) return;
    const client = this.client!;
    if (this.attempt >= this.config.reconnect_attempts) {
      const cause = this.lastError === undefined ? '' : `: ${this.lastError.message}`;
      this.fail(
        new WireError('UNAVAILABLE', `mqtt broker at ${this.endpoint} is unreachable after ${this.config.reconnect_attempts} reconnect attempt(s)${cause}`, {
          endpoint: this.endpoint,
          attempts: this.config.reconnect_attempts,
        }),
      );
      client.end(true);
      return;
    }
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // The stores go with the reconnect: publishes not yet acknowledged are sent again once connected.
      if (!this.closed) client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, reconnectDelay(this.attempt, this.config.reconnect_max_delay));
  }

  private fail(error: WireError): void {
    if (this.failed !== undefined) return;
    this.failed = error;
    for (const listener of this.failureListeners.splice(0)) listener(error);
    if (!this.closed) this.client?.end(true);
  }
}

const noLog = (): void => undefined;

/** CONNACK codes that mean "not you": bad protocol, identifier, credentials or authorization. */
function refused(code: number, version: 4 | 5): boolean {
  return version === 5 ? code === 0x84 || code === 0x85 || code === 0x86 || code === 0x87 || code === 0x8a || code === 0x8c : code >= 1 && code <= 5;
}

function asWireError(error: unknown, where: string): WireError {
  if (error instanceof WireError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new WireError('UNAVAILABLE', `${where}: ${message}`, {}, error);
}

/** QoS 0 is allowed, and loses messages: the run says so on stderr (as a process warning) when it opens. */
export function warnQos0(kind: 'source' | 'sink', topic: string): void {
  process.emitWarning(`mqtt ${kind} on ${topic} uses qos 0: at-most-once, messages in flight when the connection or the pipeline stops are lost (use qos 1)`, {
    code: 'WIRE_MQTT_QOS0',
  });
}

/** mqtt.js writes packets through this method; a source replaces it to hold PUBACKs back (see `holdPubacks`). */
interface PacketWriter {
  _sendPacket(packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]): void;
}

/**
 * mqtt.js answers each QoS 1 message with its PUBACK as soon as it is handled, and handles packets one at a time
 * (a handler that waits holds every packet behind it, PINGRESP included): its `customHandleAcks` can delay a PUBACK
 * only by stalling the connection. Instead the PUBACKs it writes are dropped here, and the function returned writes
 * those of the messages a checkpoint covers (in order, as MQTT requires) to the live connection, all in one write:
 * one packet each through mqtt.js cost a stream chunk, a callback and log calls apiece, thousands per checkpoint,
 * and they piled up in the socket's buffer while the broker read them one at a time. A PUBACK without a reason code
 * (success) is the same 4 bytes in MQTT 5 and 3.1.1. Checked against mqtt 5.16.0, pinned exactly.
 */
export function holdPubacks(client: MqttClient): (messageIds: readonly number[]) => void {
  const writer = client as unknown as PacketWriter;
  if (typeof writer._sendPacket !== 'function') throw new WireError('INTERNAL', 'mqtt.js has no _sendPacket: this mqtt version cannot hold PUBACKs');
  const send = writer._sendPacket.bind(client);
  writer._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd === 'puback') {
      cb?.();
      return;
    }
    send(packet, cb, ...rest);
  };
  return (messageIds) => {
    if (messageIds.length === 0) return;
    client.stream.write(pubackBytes(messageIds));
  };
}

/** PUBACK packets (success, no properties) for `messageIds`, back to back. */
export function pubackBytes(messageIds: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(messageIds.length * 4);
  for (let i = 0; i < messageIds.length; i++) {
    bytes[4 * i] = 0x40;
    bytes[4 * i + 1] = 2;
    bytes.writeUInt16BE(messageIds[i]!, 4 * i + 2);
  }
  return bytes;
}
