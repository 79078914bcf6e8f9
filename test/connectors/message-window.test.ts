import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { messageCounterOf, MessageWindow } from '../../src/connectors/message-window.js';

// A full collection before counting what is still held, so the figure is what the window retains.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('MessageWindow (what a broker pushed to a source and is not yet acknowledged)', () => {
  it('numbers messages as they are read, after the checkpoint\'s count', () => {
    const window = new MessageWindow<string>();
    window.startAfter(41);
    for (const m of ['a', 'b', 'c']) window.deliver(m, 1);
    expect(window.take(2)).toEqual({ messages: ['a', 'b'], firstPosition: 42 });
    expect(window.take(5)).toEqual({ messages: ['c'], firstPosition: 44 });
    expect(window.take(5)).toBeUndefined();
    expect(window.unsettled).toBe(3);
  });

  it('settles read messages up to a position, handing back only those of the live connection', () => {
    const window = new MessageWindow<string>();
    window.deliver('old', 1);
    window.take(1);
    window.deliver('new1', 2);
    window.deliver('new2', 2);
    window.take(2);
    // `old` came on a lost connection: it cannot be acknowledged on this one (the broker sends it again).
    expect(window.settle(2, 2)).toEqual(['new1']);
    expect(window.unsettled).toBe(1);
    expect(window.settle(3, 2)).toEqual(['new2']);
    expect(window.settle(3, 2)).toEqual([]);
    expect(window.unsettled).toBe(0);
  });

  it('drops the unread messages of a lost connection and keeps those of the next one', () => {
    const window = new MessageWindow<string>();
    window.deliver('a', 1);
    window.deliver('b', 1);
    window.take(1);
    window.drop(1);
    window.deliver('c', 2);
    expect(window.take(5)).toEqual({ messages: ['c'], firstPosition: 2 });
  });

  it('lets go of messages once read and settled, though the broker never lets it run dry', async () => {
    const window = new MessageWindow<{ n: number }>();
    const refs: WeakRef<object>[] = [];
    // A broker that keeps the window topped up: 100 delivered for each 99 read, every read one settled.
    for (let round = 0; round < 500; round++) {
      for (let i = 0; i < 100; i++) {
        const message = { n: round * 100 + i };
        refs.push(new WeakRef(message));
        window.deliver(message, 1);
      }
      const taken = window.take(99)!;
      window.settle(taken.firstPosition + taken.messages.length - 1, 1);
    }
    expect(window.unsettled).toBe(500);
    // WeakRefs hold their targets until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const held = refs.filter((ref) => ref.deref() !== undefined).length;
    // The 500 unread, and at most the taken slots not yet cut off; not the 50,000 it ever held.
    expect(held).toBeLessThan(10_000);
  });

  it('wakes a waiting reader on delivery', async () => {
    const window = new MessageWindow<string>();
    const woken = window.waitForMore();
    window.deliver('a', 1);
    await woken;
    expect(window.take(1)?.messages).toEqual(['a']);
  });

  it('reads back a checkpointed count, and refuses a position that is not one', () => {
    expect(messageCounterOf('mqtt', undefined)).toBe(0);
    expect(messageCounterOf('mqtt', null)).toBe(0);
    expect(messageCounterOf('mqtt', 12)).toBe(12);
    expect(() => messageCounterOf('mqtt', '1-0')).toThrow(/is not a message count/);
    expect(() => messageCounterOf('rabbitmq', -1)).toThrow(/is not a message count/);
  });
});
