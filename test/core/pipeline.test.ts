import { describe, expect, it } from 'vitest';
import { canTransition, initialStatus, transition } from '../../src/core/pipeline.js';

describe('pipeline lifecycle', () => {
  it('starts created at version 1', () => {
    expect(initialStatus()).toEqual({ state: 'created', version: 1 });
  });

  it('bumps the version on every transition', () => {
    const running = transition(initialStatus(), 'running');
    expect(running).toEqual({ state: 'running', version: 2 });
    const failed = transition(running, 'failed', 'sink down');
    expect(failed).toEqual({ state: 'failed', version: 3, error: 'sink down' });
    expect(transition(failed, 'running')).toEqual({ state: 'running', version: 4 });
  });

  it('refuses moves the lifecycle does not allow with CONFLICT', () => {
    expect(canTransition('created', 'failed')).toBe(false);
    expect(() => transition(initialStatus(), 'failed')).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
  });
});
