// The nats source's fetch flow (`Pull`) against a fake consumer that answers fetches as told: the read-ahead stays
// bounded even when the server sends more messages than a fetch asked for, or ends fetches early.
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { Pull } from '../../src/connectors/nats/pull.js';

interface FakeFetch {
  readonly max: number;
  readonly callback: (msg: JsMsg) => void;
  end: (error?: Error) => void;
}

/** A consumer whose fetches the test drives: each is recorded, and the test delivers messages and ends it. */
function fakeConsumer(): { consumer: Consumer; fetches: FakeFetch[] } {
  const fetches: FakeFetch[] = [];
  const consumer = {
    fetch(options: { max_messages: number; callback: (msg: JsMsg) => void }): Promise<ConsumerMessages> {
      let end: (error?: Error) => void = () => undefined;
      const closed = new Promise<Error | void>((resolve) => {
        end = (error) => resolve(error);
      });
      const f: FakeFetch = { max: options.max_messages, callback: options.callback, end: (e) => end(e) };
      fetches.push(f);
      return Promise.resolve({ closed: () => closed, stop: () => end() } as unknown as ConsumerMessages);
    },
  } as unknown as Consumer;
  return { consumer, fetches };
}

const msg = (seq: number): JsMsg => ({ seq }) as unknown as JsMsg;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('Pull', () => {
  it('asks for at most a batch and a half not yet received, when the server sends more than a fetch asked for', async () => {
    const { consumer, fetches } = fakeConsumer();
    const got: JsMsg[] = [];
    const pull = new Pull(consumer, 10, (m) => got.push(m), () => undefined, () => true);
    pull.topUp();
    await tick();
    expect(fetches).toHaveLength(1);
    // A lying server: 25 messages on a fetch of 10. Every one is handed on (they are real, and need their acks)...
    let seq = 0;
    for (let i = 0; i < 25; i++) {
      fetches[0]!.callback(msg(++seq));
      await tick();
    }
    expect(got).toHaveLength(25);
    // ...but the surplus does not count as messages still to come on other fetches: a second fetch was asked for once
    // the first had brought more than half its batch, and no more while that one is owed all of its messages.
    expect(fetches).toHaveLength(2);
    for (let i = 0; i < 50; i++) {
      fetches[1]!.callback(msg(++seq));
      await tick();
    }
    expect(fetches).toHaveLength(3);
    fetches[0]!.end();
    fetches[1]!.end();
    await tick();
    expect(fetches).toHaveLength(3);
    pull.stop();
  });

  it('counts what an early-ended fetch never brought as no longer owed, and asks again', async () => {
    const { consumer, fetches } = fakeConsumer();
    const ends: unknown[] = [];
    const pull = new Pull(consumer, 10, () => undefined, (e) => ends.push(e), () => true);
    pull.topUp();
    await tick();
    fetches[0]!.callback(msg(1));
    fetches[0]!.callback(msg(2));
    fetches[0]!.end();
    await tick();
    expect(ends).toEqual([undefined]);
    pull.topUp();
    await tick();
    expect(fetches).toHaveLength(2);
    expect(fetches[1]!.max).toBe(10);
    pull.stop();
  });

  it('asks for nothing while the reader has no room', async () => {
    const { consumer, fetches } = fakeConsumer();
    let room = false;
    const pull = new Pull(consumer, 10, () => undefined, () => undefined, () => room);
    pull.topUp();
    await tick();
    expect(fetches).toHaveLength(0);
    room = true;
    pull.topUp();
    await tick();
    expect(fetches).toHaveLength(1);
    pull.stop();
  });
});
