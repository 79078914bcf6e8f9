// Request validators are compiled on their route's first request (src/api/lazy-validators.ts), and then validate
// exactly as Fastify's own would, errors included.
import { describe, expect, it } from 'vitest';
import { lazyValidators } from '../../src/api/lazy-validators.js';

const SHARED = { Name: { $id: 'Name', type: 'string', pattern: '^[a-z]+$' } };
const OPTIONS = { customOptions: { removeAdditional: false, useDefaults: false, coerceTypes: 'array', allErrors: false } } as const;
const route = (schema: unknown, httpPart = 'body') => ({ schema, method: 'POST', url: '/x', httpPart }) as Parameters<ReturnType<typeof lazyValidators>>[0];

describe('lazy request validators', () => {
  it('compile nothing when the route is registered: a schema Ajv refuses fails only once a request comes', () => {
    const validate = lazyValidators(SHARED, OPTIONS)(route({ type: 'no-such-type' }));
    expect(() => validate({})).toThrow(/no-such-type|type/);
  });

  it('validate as Ajv does, shared schemas included, and carry the errors of the last call for Fastify', () => {
    const validate = lazyValidators(SHARED, OPTIONS)(route({ type: 'object', properties: { name: { $ref: 'Name#' } }, required: ['name'], additionalProperties: false }));
    expect(validate({ name: 'abc' })).toBe(true);
    expect(validate.errors).toBeNull();
    expect(validate({ name: 'ABC' })).toBe(false);
    expect(validate.errors).toMatchObject([{ instancePath: '/name', keyword: 'pattern' }]);
    expect(validate({ name: 'abc', more: 1 })).toBe(false);
    expect(validate.errors).toMatchObject([{ keyword: 'additionalProperties', params: { additionalProperty: 'more' } }]);
    expect(validate({ name: 'ok' })).toBe(true);
    expect(validate.errors).toBeNull();
  });

  it('coerce a querystring as Fastify configures Ajv (coerceTypes: array)', () => {
    const validate = lazyValidators(SHARED, OPTIONS)(route({ type: 'object', properties: { n: { type: 'integer' } } }, 'querystring'));
    const query = { n: '12' };
    expect(validate(query)).toBe(true);
    expect(query).toEqual({ n: 12 });
  });

  it('refuse a header schema when the route is registered: Fastify would hand it over without lower-casing it', () => {
    expect(() => lazyValidators(SHARED, OPTIONS)(route({ type: 'object' }, 'headers'))).toThrow(/validates no headers/);
  });
});
