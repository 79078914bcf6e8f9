import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { createCliLogger } from '../../src/cli/logger.js';

function capture(): { lines: () => Record<string, unknown>[]; write: (s: string) => void } {
  const out: string[] = [];
  return {
    write: (s) => void out.push(s),
    lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('the run logger', () => {
  it('logs errors with their code and details but without a stack below debug', () => {
    const sink = capture();
    const logger = createCliLogger('warn', sink);
    logger.error({ err: new WireError('UNAVAILABLE', 'sink down', { host: 'h' }) }, 'pipeline failed');
    const [line] = sink.lines();
    expect(line).toMatchObject({ msg: 'pipeline failed', err: { message: 'sink down', code: 'UNAVAILABLE', details: { host: 'h' } } });
    expect((line!.err as Record<string, unknown>).stack).toBeUndefined();
  });

  it('keeps the stack at debug', () => {
    const sink = capture();
    createCliLogger('debug', sink).error({ err: new Error('boom') }, 'failed');
    expect(String((sink.lines()[0]!.err as Record<string, unknown>).stack)).toContain('boom');
  });

  it('writes nothing below its level', () => {
    const sink = capture();
    createCliLogger('warn', sink).info('hello');
    expect(sink.lines()).toEqual([]);
  });
});
