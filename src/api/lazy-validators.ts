/**
 * Request validators compiled on first use rather than when the API starts, as lazy-serializers.ts does for
 * responses. Fastify compiles an Ajv validator for the body, querystring and params of every route at `ready()`,
 * after building an Ajv instance with the shared schemas: most of the CPU a node spent on its API before it could
 * answer anything (measured: docs/performance.md, "Start-up of `wire node`"), for routes most of which a node never
 * serves. Each validator is the one Fastify would have built, from its default factory with the same options, once
 * its first request comes; the Ajv instance too.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import { WireError } from '../core/errors.js';

type Factory = ReturnType<typeof AjvCompiler>;
type Validate = ReturnType<ReturnType<Factory>>;

const eager: Factory = AjvCompiler();

export const lazyValidators: Factory = (externalSchemas, options) => {
  let compiler: ReturnType<Factory> | undefined;
  return (route) => {
    // A factory of its own makes Fastify take it for a custom one, which it hands header schemas as written
    // instead of lower-cased as requests' headers are: refused, so that none is ever silently never matched.
    if (route.httpPart === 'headers') {
      throw new WireError('INTERNAL', `${route.method} ${route.url}: the API validates no headers by schema (lazy-validators.ts)`);
    }
    let validate: Validate | undefined;
    // Fastify reads a failed validation's errors from the function itself.
    const lazy = ((data: unknown) => {
      validate ??= (compiler ??= eager(externalSchemas, options))(route);
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    }) as Validate;
    return lazy;
  };
};
