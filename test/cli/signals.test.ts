import { afterEach, describe, expect, it } from 'vitest';
import { onShutdownSignals } from '../../src/cli/signals.js';

describe('shutdown signal handling', () => {
  let remove: (() => void) | undefined;
  afterEach(() => remove?.());

  it('drains on the first signal and aborts on the second, SIGINT or SIGTERM alike', () => {
    const calls: string[] = [];
    remove = onShutdownSignals({ drain: (s) => calls.push(`drain ${s}`), abort: (s) => calls.push(`abort ${s}`) });
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT');
    expect(calls).toEqual(['drain SIGTERM', 'abort SIGINT', 'abort SIGINT']);
  });

  it('removes its handlers, leaving the process as it found it', () => {
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM') };
    const off = onShutdownSignals({ drain: () => undefined, abort: () => undefined });
    expect(process.listenerCount('SIGINT')).toBe(before.int + 1);
    expect(process.listenerCount('SIGTERM')).toBe(before.term + 1);
    off();
    expect(process.listenerCount('SIGINT')).toBe(before.int);
    expect(process.listenerCount('SIGTERM')).toBe(before.term);
  });
});
