// Discovery wakes when a node it has not heard from says hello (src/cluster/hello-signal.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HelloSignal } from '../../../src/cluster/hello-signal.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** Whether `p` has settled once pending microtasks ran. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('the hello signal', () => {
  it('wakes a waiting discovery when a new node says hello, before its poll interval', async () => {
    const signal = new HelloSignal('n1');
    const waiting = signal.wait(100, signal.heard);
    expect(await settled(waiting)).toBe(false);
    signal.hello('n2');
    expect(await settled(waiting)).toBe(true);
  });

  it('does not wake for a node heard before, for this node itself, or for a hello that names no one', async () => {
    const signal = new HelloSignal('n1');
    signal.hello('n2');
    const waiting = signal.wait(100, signal.heard);
    signal.hello('n2');
    signal.hello('n1');
    signal.hello(undefined);
    signal.hello(42);
    expect(await settled(waiting)).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled(waiting)).toBe(true);
  });

  it('misses no hello that came while discovery was asking its peers', async () => {
    const signal = new HelloSignal('n1');
    const before = signal.heard;
    signal.hello('n3');
    expect(await settled(signal.wait(100, before))).toBe(true);
  });

  it('wakes every waiter and leaves no timer behind', async () => {
    const signal = new HelloSignal('n1');
    const a = signal.wait(100, 0);
    const b = signal.wait(100, 0);
    signal.hello('n2');
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops remembering senders past its bound: a flood of names wakes nothing more', async () => {
    const signal = new HelloSignal('n1');
    for (let i = 0; i < 5000; i++) signal.hello(`x${i}`);
    expect(signal.heard).toBe(1024);
    const waiting = signal.wait(100, signal.heard);
    signal.hello('new');
    expect(await settled(waiting)).toBe(false);
  });
});
