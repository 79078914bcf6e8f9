/**
 * Every route validates its query string and path parameters by schema with unknown fields refused, and a route
 * that reads no body refuses one: applied to each route as it is added (`onRoute`), so a route written without
 * a query schema still refuses `?anything`, and a misspelt option is an error rather than silently ignored.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { WireError } from '../core/errors.js';
import { isObject } from '../config/forms.js';

const NO_FIELDS = { type: 'object', properties: {}, additionalProperties: false } as const;

/** An object schema that names its fields gets `additionalProperties: false` unless it says otherwise. */
function closed(schema: unknown): unknown {
  if (!isObject(schema)) return NO_FIELDS;
  if (schema['type'] !== 'object' || 'additionalProperties' in schema) return schema;
  return { ...schema, additionalProperties: false };
}

/** A body that carries nothing: absent, empty, or an empty JSON object. */
function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || body === '' || (isObject(body) && Object.keys(body).length === 0);
}

/** Routes the docs plugin serves (static files of the UI): not the API's to shape. */
const isDocsRoute = (url: string): boolean => url === '/docs' || url.startsWith('/docs/');

export function strictRoutes(api: FastifyInstance): void {
  api.addHook('onRoute', (route: RouteOptions) => {
    if (isDocsRoute(route.url)) return;
    const schema = (route.schema ??= {});
    schema.querystring = closed(schema.querystring);
    if (schema.params !== undefined) schema.params = closed(schema.params);
    if (schema.body !== undefined) return;
    const previous = route.preValidation;
    const refuseBody = async (request: { body: unknown }): Promise<void> => {
      if (!isEmptyBody(request.body)) throw new WireError('INVALID_INPUT', `body: ${route.method.toString()} ${route.url} takes no body`, { field: 'body' });
    };
    route.preValidation = previous === undefined ? refuseBody : [...(Array.isArray(previous) ? previous : [previous]), refuseBody];
  });
}
