import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_TABLE, WireError, toWireError } from '../../src/core/errors.js';

describe('WireError', () => {
  it('maps every code to an HTTP error status and a non-zero exit code', () => {
    for (const code of ERROR_CODES) {
      expect(ERROR_TABLE[code].httpStatus).toBeGreaterThanOrEqual(400);
      expect(ERROR_TABLE[code].exitCode).toBeGreaterThan(0);
    }
  });

  it('gives invalid input exit code 2 and HTTP 400', () => {
    const err = new WireError('INVALID_INPUT', 'bad');
    expect(err.exitCode).toBe(2);
    expect(err.httpStatus).toBe(400);
  });

  it('serializes to the API error body', () => {
    const err = new WireError('NOT_FOUND', 'no pipeline x', { name: 'x' });
    expect(JSON.parse(JSON.stringify(err))).toEqual({ error: { code: 'NOT_FOUND', message: 'no pipeline x', details: { name: 'x' } } });
  });

  it('wraps foreign errors as INTERNAL, keeping the cause', () => {
    const cause = new TypeError('boom');
    const err = toWireError(cause);
    expect(err.code).toBe('INTERNAL');
    expect(err.cause).toBe(cause);
    expect(toWireError(err)).toBe(err);
    expect(toWireError('text', 'TIMEOUT').code).toBe('TIMEOUT');
  });
});
