import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { alive, waitUntil } from './servers.js';
import { natsAvailable, startNats } from './nats.js';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres.js';
import { redisAvailable, startRedis, type RedisServer } from './redis.js';

const redis = redisAvailable();
const postgres = postgresAvailable();
const nats = natsAvailable();
const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe.skipIf(!redis.available)(redis.available ? 'the redis-server harness' : `the redis-server harness (${redis.skipReason})`, () => {
  it('starts a server that answers, restarts it on the same port keeping its data, and stops it by PID', { timeout: 60_000 }, async () => {
    const { Redis } = await import('ioredis');
    const server: RedisServer = await startRedis();
    servers.push(server);
    const client = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: null });
    try {
      await client.set('kept', 'yes');
      const before = server.pid();
      await server.restart();
      expect(server.pid()).not.toBe(before);
      expect(alive(before)).toBe(false);
      expect(await client.get('kept')).toBe('yes');
    } finally {
      client.disconnect();
    }
    const pid = server.pid();
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });
});

describe.skipIf(!postgres.available)(postgres.available ? 'the postgres harness' : `the postgres harness (${postgres.skipReason})`, () => {
  it('starts a cluster that answers, restarts it on the same port keeping its data, and stops it by PID', { timeout: 120_000 }, async () => {
    const { default: pg } = await import('pg');
    const server: PostgresServer = await startPostgres();
    servers.push(server);
    const query = async (sql: string): Promise<unknown[]> => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    };
    await query('CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'yes\')');
    const before = server.pid();
    await server.restart();
    expect(alive(before)).toBe(false);
    expect(await query('SELECT v FROM kept')).toEqual([{ v: 'yes' }]);
    expect(await query('SHOW wal_level')).toEqual([{ wal_level: 'logical' }]);
    const pid = server.pid();
    await server.stop();
    expect(alive(pid)).toBe(false);
  });
});

describe.skipIf(!nats.available)(nats.available ? 'the nats-server harness' : `the nats-server harness (${nats.skipReason})`, () => {
  it('starts a JetStream server that answers, restarts it on the same port keeping its streams, and stops it by PID', { timeout: 60_000 }, async () => {
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
    const server = await startNats();
    servers.push(server);
    const client = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    try {
      await (await jetstreamManager(client)).streams.add({ name: 'KEPT', subjects: ['kept'] });
      await jetstream(client).publish('kept', 'yes');
      const before = server.pid();
      await server.restart();
      expect(alive(before)).toBe(false);
      // The client reconnects on its own; its first request may be lost with the old connection.
      let kept: string | undefined;
      await waitUntil('the stream after the restart', async () => {
        kept = (await (await jetstreamManager(client, { timeout: 1000 })).streams.getMessage('KEPT', { seq: 1 }))?.string();
        return true;
      }, 20_000);
      expect(kept).toBe('yes');
    } finally {
      await client.close();
    }
    const pid = server.pid();
    await server.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
  });
});
