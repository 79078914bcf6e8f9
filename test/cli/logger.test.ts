import { describe, expect, it } from 'vitest';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import { WireRecord } from '../../src/core/record.js';
import { createCliLogger } from '../../src/cli/logger.js';
import type { LogLevel } from '../../src/cli/log-levels.js';

function capture(level: LogLevel, json: boolean): { text: () => string; lines: () => Record<string, unknown>[]; logger: ReturnType<typeof createCliLogger> } {
  const out: string[] = [];
  const logger = createCliLogger({ level, json, write: (s) => void out.push(s) });
  return {
    logger,
    text: () => out.join(''),
    lines: () => out.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** What an http sink gives back: records (with their internals) refused, and the cause with its own stack. */
function refusal(): RecordsRefused {
  const records = [WireRecord.fromValue({ i: 1 }, 0), WireRecord.fromValue({ i: 2 }, 1)];
  return new RecordsRefused(records, new WireError('UNAVAILABLE', 'http://h/in answered 503', { status: 503 }), 3);
}

describe('the run logger', () => {
  it('writes one line a person reads at the default level: pipeline, message, fields, code and error', () => {
    const sink = capture('warn', false);
    sink.logger.child({ pipeline: 'orders' }).warn({ err: refusal(), attempt: 1 }, 'flush failed; retrying');
    expect(sink.text()).toBe('wire: orders: flush failed; retrying (attempt=1): UNAVAILABLE: 2 record(s) refused: http://h/in answered 503\n');
  });

  it('prints a thrown value that is not an error as it is', () => {
    const sink = capture('warn', false);
    sink.logger.warn({ err: 'a string', records: 3 }, 'sink write failed; retrying');
    expect(sink.text()).toBe('wire: sink write failed; retrying (records=3): a string\n');
  });

  it('keeps JSON lines with --json, the error brief: code, its own message, details; no stack, cause or records', () => {
    const sink = capture('warn', true);
    sink.logger.warn({ err: refusal() }, 'flush failed; retrying');
    const [line] = sink.lines();
    expect(line).toMatchObject({ msg: 'flush failed; retrying', err: { code: 'UNAVAILABLE', message: '2 record(s) refused: http://h/in answered 503', details: { status: 503, retryable: false } } });
    expect(Object.keys(line!.err as object).sort()).toEqual(['code', 'details', 'message']);
    expect(JSON.stringify(line)).not.toMatch(/_value|_parsedFromLines|stack/);
  });

  it('gives every detail at debug: the stack and the causes', () => {
    const sink = capture('debug', false);
    sink.logger.error({ err: new Error('boom', { cause: new Error('deeper') }) }, 'failed');
    const err = sink.lines()[0]!.err as Record<string, unknown>;
    expect(String(err.stack)).toContain('boom');
    expect(String(err.stack)).toContain('deeper');
  });

  it('writes nothing below its level', () => {
    const sink = capture('warn', false);
    sink.logger.info('hello');
    expect(sink.text()).toBe('');
  });
});
