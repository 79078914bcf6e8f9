import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_TABLE, WireError } from '../../src/core/errors.js';
import { EXIT_INTERRUPTED, EXIT_STDOUT_CLOSED, errorJson, errorOutput, exitCodeOf, formatError } from '../../src/cli/exit.js';

describe('cli exit codes and error text', () => {
  it('takes every exit code from the error table', () => {
    for (const code of ERROR_CODES) expect(exitCodeOf(new WireError(code, 'x'))).toBe(ERROR_TABLE[code].exitCode);
  });

  it('treats anything that is not a WireError as INTERNAL', () => {
    expect(exitCodeOf(new Error('boom'))).toBe(ERROR_TABLE.INTERNAL.exitCode);
    expect(exitCodeOf('boom')).toBe(ERROR_TABLE.INTERNAL.exitCode);
  });

  it('uses 130 for an interrupted exit and 141 for a closed stdout, as a shell reports SIGINT and SIGPIPE', () => {
    expect(EXIT_INTERRUPTED).toBe(130);
    expect(EXIT_STDOUT_CLOSED).toBe(141);
  });

  it('prints `wire: CODE: message` with details and no stack unless debugging', () => {
    const error = new WireError('NOT_FOUND', 'no such file', { path: 'a.yaml', tries: 2 });
    const text = formatError(error, { debug: false });
    expect(text).toBe('wire: NOT_FOUND: no such file\n  path: a.yaml\n  tries: 2\n');
    expect(formatError(error, { debug: true })).toContain('at ');
  });

  it("names a failed pipeline in the first detail line, and in the JSON error line", () => {
    const error = new WireError('UNAVAILABLE', 'sink down', { component: 'sink' });
    expect(formatError(error, { debug: false, pipeline: 'orders' })).toBe('wire: UNAVAILABLE: sink down\n  pipeline: orders\n  component: sink\n');
    expect(JSON.parse(errorOutput(error, { json: true, debug: false, pipeline: 'orders' }))).toEqual({
      type: 'error',
      pipeline: 'orders',
      error: { code: 'UNAVAILABLE', message: 'sink down', details: { component: 'sink' } },
    });
  });

  it('includes the causes stack when debugging', () => {
    const cause = new Error('disk on fire');
    const text = formatError(new WireError('INTERNAL', 'write failed', {}, cause), { debug: true });
    expect(text).toContain('disk on fire');
  });

  it('gives the API error body in JSON', () => {
    expect(errorJson(new WireError('TIMEOUT', 't', { ms: 5 }))).toEqual({ code: 'TIMEOUT', message: 't', details: { ms: 5 } });
  });
});
