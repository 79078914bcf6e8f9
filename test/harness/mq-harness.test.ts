import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { alive } from './servers.js';
import { mosquittoAvailable, startMosquitto, type MosquittoServer } from './mosquitto.js';
import { rabbitmqAvailable, startRabbitmq, type RabbitmqServer } from './rabbitmq.js';

const rabbitmq = rabbitmqAvailable();
const mosquitto = mosquittoAvailable();
const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe.skipIf(!rabbitmq.available)(rabbitmq.available ? 'the rabbitmq-server harness' : `the rabbitmq-server harness (${rabbitmq.skipReason})`, () => {
  it('starts a broker that answers, restarts it keeping durable messages, and stops it by PID', { timeout: 180_000 }, async () => {
    const amqp = await import('amqplib');
    const server: RabbitmqServer = await startRabbitmq();
    servers.push(server);
    let connection = await amqp.connect(server.url);
    let channel = await connection.createConfirmChannel();
    await channel.assertQueue('kept', { durable: true });
    channel.sendToQueue('kept', Buffer.from('yes'), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    const before = server.pid();
    await server.restart();
    expect(alive(before)).toBe(false);
    connection = await amqp.connect(server.url);
    channel = await connection.createConfirmChannel();
    const message = await channel.get('kept', { noAck: true });
    expect(message === false ? undefined : message.content.toString()).toBe('yes');
    await connection.close();
    const pid = server.pid();
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });
});

describe.skipIf(!mosquitto.available)(mosquitto.available ? 'the mosquitto harness' : `the mosquitto harness (${mosquitto.skipReason})`, () => {
  it('starts a broker that answers, restarts it keeping a persistent session\'s queued message, and stops it by PID', { timeout: 60_000 }, async () => {
    const mqtt = await import('mqtt');
    const server: MosquittoServer = await startMosquitto();
    servers.push(server);
    const options = { clientId: 'keeper', clean: false, protocolVersion: 5 as const, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 0 };
    let subscriber = await mqtt.connectAsync(server.url, options);
    await subscriber.subscribeAsync('kept', { qos: 1 });
    await subscriber.endAsync();
    const publisher = await mqtt.connectAsync(server.url, { reconnectPeriod: 0 });
    await publisher.publishAsync('kept', 'yes', { qos: 1 });
    await publisher.endAsync();
    const before = server.pid();
    await server.restart();
    expect(alive(before)).toBe(false);
    const received = new Promise<string>((resolve) => {
      subscriber = mqtt.connect(server.url, options);
      subscriber.on('message', (_topic, payload) => resolve(payload.toString()));
    });
    expect(await received).toBe('yes');
    await subscriber.endAsync();
    const pid = server.pid();
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });
});
