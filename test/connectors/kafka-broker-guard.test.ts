// @platformatic/kafka 1.35.0 throws from a socket callback (an uncaught TypeError that ends the process) when a
// request needs a broker missing from its metadata, as a group coordinator that is down (seen in CI: a kafka run
// died on the offset commit while a broker was down). The guard turns that into an error the retries handle.
import { Consumer, Producer } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { guardBrokerLookups } from '../../src/connectors/kafka/broker-guard.js';

type Lookup = (broker: unknown, callback: (error: Error | null) => void) => void;

function lookupOf(client: object): Lookup {
  for (let proto = Object.getPrototypeOf(client) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const symbol = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'plt.kafka.base.getConnection');
    if (symbol !== undefined) return ((client as Record<symbol, Lookup>)[symbol]!).bind(client);
  }
  throw new Error('no getConnection');
}

const options = { clientId: 'guard-test', bootstrapBrokers: ['127.0.0.1:1'] };

describe('kafka broker guard', () => {
  it('the client as published throws on a broker missing from its metadata (the bug the guard is for)', async () => {
    const consumer = new Consumer({ ...options, groupId: 'g' });
    expect(() => lookupOf(consumer)(undefined, () => undefined)).toThrow(TypeError);
    await consumer.close();
  });

  it('guarded, a consumer and a producer answer that lookup with an error instead', async () => {
    for (const client of [guardBrokerLookups(new Consumer({ ...options, groupId: 'g' })), guardBrokerLookups(new Producer(options))]) {
      const error = await new Promise<Error | null>((resolve) => lookupOf(client)(undefined, resolve));
      expect(error?.message).toContain('not in the cluster metadata');
      await client.close();
    }
  });

  it('refuses an object that is not such a client', () => {
    expect(() => guardBrokerLookups({})).toThrow(/no plt.kafka.base.getConnection/);
  });
});
