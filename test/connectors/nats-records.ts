// What the nats tests write and read back: the numbered records of redis-records.ts (checked by content, every
// number counted), published to and read from JetStream streams.
import type { NatsConnection } from '@nats-io/transport-node';
import { payloadOf } from './redis-records.js';

export { tally } from './redis-records.js';

/** Creates stream `name` capturing `subjects` (file storage, as a user would). */
export async function createStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  await (await jetstreamManager(nc)).streams.add({ name, subjects });
}

/**
 * Publishes records `from..to-1` to `subject`, captured by stream `stream`, and waits until the stream holds them:
 * core publishes (fast), checked by the stream's count, which must grow by exactly `to - from`.
 */
export async function fillStream(nc: NatsConnection, stream: string, subject: string, from: number, to: number): Promise<void> {
  const before = await streamLength(nc, stream);
  for (let start = from; start < to; start += 5000) {
    for (let n = start; n < Math.min(to, start + 5000); n++) nc.publish(subject, JSON.stringify({ n, payload: payloadOf(n) }));
    await nc.flush();
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const now = await streamLength(nc, stream);
    if (now === before + to - from) return;
    if (now > before + to - from || Date.now() > deadline) throw new Error(`stream ${stream} holds ${now - before} of ${to - from} records published`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How many messages stream `name` holds. */
export async function streamLength(nc: NatsConnection, name: string): Promise<number> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  return (await (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name)).state.messages;
}

/** Waits until the client answers again after a server restart (its first request may go down with the old connection). */
export async function reconnected(nc: NatsConnection, stream: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await streamLength(nc, stream);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/** The data of every message of stream `name`, in order (read with an ordered consumer). */
export async function streamValues(nc: NatsConnection, name: string): Promise<string[]> {
  const { jetstream } = await import('@nats-io/jetstream');
  const total = await streamLength(nc, name);
  const values: string[] = [];
  if (total === 0) return values;
  const consumer = await jetstream(nc).consumers.get(name);
  const messages = await consumer.consume({ max_messages: 5000 });
  for await (const msg of messages) {
    values.push(msg.string());
    if (msg.info.pending === 0) break;
  }
  return values;
}

/** Messages the durable consumer `durable` of `stream` was given and has not acknowledged. */
export async function ackPending(nc: NatsConnection, stream: string, durable: string): Promise<number> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  return (await (await jetstreamManager(nc)).consumers.info(stream, durable)).num_ack_pending;
}
