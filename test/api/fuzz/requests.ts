/**
 * Requests for the API fuzz test, drawn from a seeded Random: schema-aware ones built from the OpenAPI document
 * (`/docs/json`) — valid, or with one thing wrong (an unknown field, a wrong type, a missing field) — pipeline
 * files built from the registry's examples and then broken, random bytes, huge and deeply nested bodies, bad paths
 * and methods. Each carries the token of one of `tokens` (admin, operator, viewer, revoked…), none, or a malformed
 * one, and says which (`who`).
 */
import type { ComponentRegistry } from '../../../src/core/ports.js';
import type { Random } from './random.js';

export interface FuzzRequest {
  readonly kind: string;
  /** Whose token it carries: a key of `tokens`, `none` or `malformed`. */
  who: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: string | Buffer;
}

interface Parameter {
  readonly in: 'path' | 'query';
  readonly name: string;
  readonly required?: boolean;
  readonly schema: Schema;
}

type Schema = Readonly<Record<string, unknown>>;

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly bodyTypes: readonly string[];
  readonly bodySchema: Schema | undefined;
}

export interface OpenApiDocument {
  readonly paths: Readonly<Record<string, Readonly<Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>>>;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      const bodyTypes = Object.keys(content);
      out.push({ method: method.toUpperCase(), path, parameters: op.parameters ?? [], bodyTypes, bodySchema: bodyTypes[0] === undefined ? undefined : content[bodyTypes[0]]!.schema });
    }
  }
  return out;
}

const NAMES = ['a', 'b', 'orders', 'connector-x', 'x'.repeat(63)];
const BAD_NAMES = ['', 'UPPER', 'x'.repeat(64), 'a b', '..', '%2e%2e', 'a%2Fb', '%00', 'é', 'a.b', '-'.repeat(3), '%F0%9F%92%A9', "a'b", '${env:HOME}'];
const NODE_IDS = ['n1', 'n2', 'ghost', 'x'.repeat(253)];
const WEIRD = ['', ' ', 'null', 'true', '-1', '0', '1e309', 'NaN', '[]', '{}', '%00', '\u0000', '💩', 'x'.repeat(2000), '${file:/etc/passwd}', "'; DROP TABLE", '<script>'];
const CONTENT_TYPES = ['application/json', 'application/yaml', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', 'text/yaml; charset=utf-16', 'application/json; charset=latin1', '', '*/*', 'application/json\u0000'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const FILES = ['/etc/passwd', '/etc/shadow', '../../etc/passwd', './out.jsonl', '/tmp/**/*', '/proc/self/environ', '/dev/zero'];

function valueFor(schema: Schema, r: Random): unknown {
  const type = schema['type'];
  const anyOf = schema['anyOf'] as Schema[] | undefined;
  if (anyOf !== undefined) return valueFor(r.pick(anyOf), r);
  if (Array.isArray(schema['enum'])) return r.pick(schema['enum'] as unknown[]);
  if (type === 'boolean') return r.chance(0.5);
  if (type === 'integer') return r.int(typeof schema['minimum'] === 'number' ? schema['minimum'] : 0, 4);
  if (type === 'number') return r.next() * 10;
  if (type === 'object') return objectFor(schema, r);
  if (type === 'array') return [];
  return r.pick(['n1', 'n2', 'x', 'true']);
}

function objectFor(schema: Schema, r: Random): Record<string, unknown> {
  const properties = (schema['properties'] ?? {}) as Record<string, Schema>;
  const required = (schema['required'] ?? []) as string[];
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(properties)) if (required.includes(k) || r.chance(0.5)) out[k] = valueFor(s, r);
  return out;
}

function wrongType(r: Random): unknown {
  return r.pick<unknown>([null, 42, -1, 1.5, 'text', true, [], {}, [1, 'a'], { nested: { deep: [null] } }, 'x'.repeat(5000), 2 ** 60]);
}

/** A pipeline file: valid from the registry's examples, or broken in one of many ways. */
function pipelineText(registry: ComponentRegistry, r: Random, name: string): string {
  const component = (kind: 'source' | 'sink' | 'transform') => {
    const d = r.pick(registry.list(kind));
    const config: Record<string, unknown> = { ...(d.example ?? {}) };
    if (r.chance(0.2)) config[r.pick(Object.keys(config).concat(['path', 'unknown_field', 'url', 'headers']))] = r.chance(0.5) ? r.pick(FILES) : wrongType(r);
    if (r.chance(0.1)) config['headers'] = { authorization: r.pick(['Bearer ${env:WIRE_SECRET_T}', 'Bearer ${file:/etc/passwd}', 'Bearer ${env:HOME}', 'Bearer literal']) };
    return { type: r.chance(0.05) ? r.pick(['nope', '', 'FILE']) : d.type, config };
  };
  const doc: Record<string, unknown> = {
    name,
    source: r.chance(0.6) ? { type: 'generate', config: { count: r.int(1, 5) } } : component('source'),
    ...(r.chance(0.4) ? { transforms: [component('transform')] } : {}),
    sink: r.chance(0.6) ? { type: r.pick(['stdout', 'drop']) } : component('sink'),
  };
  if (r.chance(0.1)) doc['dead_letter'] = { type: 'file', config: { path: r.pick(FILES) } };
  if (r.chance(0.1)) doc[r.pick(['parallelism', 'workers', 'batch_size', 'extra', 'rate_limit'])] = wrongType(r);
  const json = JSON.stringify(doc, null, r.chance(0.5) ? 2 : 0);
  switch (r.int(0, 9)) {
    case 0:
      return `pipelines:\n  - ${json}\n  - ${json.replace(name, `${name}2`)}\n`;
    case 1:
      return `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nname: ${name}\n`;
    case 2:
      return `name: ${name}\nname: dup\nsource: !!js/function "function(){}"\n`;
    case 3:
      return json.slice(0, r.int(0, json.length));
    default:
      return json;
  }
}

/** Deeply nested JSON or YAML (flow or block), or a mapping of very many keys, within the body limit. */
function deepBody(r: Random): string {
  const depth = r.pick([100, 1000, 10_000, 100_000]);
  const [open, close] = r.pick([['[', ']'], ['{"a":', '}'], ['- ', ''], ['? ', ''], ['{a: ', '}'], ['a:\n', ''], ['{a: 1, ', '}']] as const);
  return open.repeat(depth) + '1' + close.repeat(open === '{a: 1, ' ? 1 : depth);
}

export interface GeneratorOptions {
  readonly registry: ComponentRegistry;
  /** Tokens by who holds them (`admin`, `viewer`, `revoked`…): together on about 80 % of the requests. */
  readonly tokens: Readonly<Record<string, string>>;
  readonly bodyLimit: number;
}

export function requestGenerator(doc: OpenApiDocument, r: Random, options: GeneratorOptions): () => FuzzRequest {
  const operations = operationsOf(doc);
  const build = (op: Operation, mutate: boolean): FuzzRequest => {
    const broken = mutate ? r.pick(['path', 'query', 'unknown-query', 'body', 'body-field', 'content-type', 'method']) : undefined;
    let url = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      if (broken === 'path') return encodeURIComponent(String(r.chance(0.5) ? r.pick(BAD_NAMES) : wrongType(r)));
      if (name === 'name') return r.pick(NAMES.slice(0, 4));
      if (name === 'id') return r.pick(NODE_IDS);
      return String(r.int(1, 4));
    });
    const query: string[] = [];
    for (const p of op.parameters.filter((x) => x.in === 'query')) {
      if (r.chance(0.4)) query.push(`${p.name}=${encodeURIComponent(String(broken === 'query' ? r.pick(WEIRD) : valueFor(p.schema, r)))}`);
    }
    if (broken === 'unknown-query') query.push(`${r.pick(['x', 'consitent', 'if_version', 'admin', '__proto__', 'constructor'])}=${encodeURIComponent(r.pick(WEIRD))}`);
    if (query.length > 0) url += `?${query.join('&')}`;
    const headers: Record<string, string> = {};
    let payload: string | undefined;
    if (op.bodyTypes.length > 0) {
      const type = broken === 'content-type' ? r.pick(CONTENT_TYPES) : r.pick(op.bodyTypes);
      if (type !== '') headers['content-type'] = type;
      if (op.bodySchema?.['type'] === 'string') {
        payload = pipelineText(options.registry, r, url.match(/\/v1\/pipelines\/([^/?]+)/)?.[1] ?? r.pick(NAMES));
      } else {
        const body = objectFor(op.bodySchema ?? {}, r);
        if (op.path === '/connector' && !mutate) Object.assign(body, { source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout' } });
        if (broken === 'body-field') body[r.pick(['extra', 'to', 'source', '__proto__', 'ifVersion'])] = wrongType(r);
        payload = broken === 'body' ? JSON.stringify(wrongType(r)) : JSON.stringify(body);
      }
    } else if (broken === 'body') {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(wrongType(r));
    }
    const method = broken === 'method' ? r.pick(METHODS) : op.method;
    return { kind: mutate ? `schema-${broken}` : 'schema-valid', who: 'none', method, url, headers, ...(payload === undefined ? {} : { payload }) };
  };

  const anyRoute = () => build(r.pick(operations), false);
  const strategies: readonly [number, () => FuzzRequest][] = [
    [30, anyRoute],
    [25, () => build(r.pick(operations), true)],
    [
      8,
      () => {
        const op = r.pick(operations.filter((o) => o.bodyTypes.length > 0));
        const body = r.bytes(r.int(0, 512));
        return { kind: 'random-bytes', who: 'none', method: op.method, url: op.path.replace(/\{\w+\}/g, 'a'), headers: { 'content-type': r.pick(CONTENT_TYPES.filter((c) => c !== '')) }, payload: body };
      },
    ],
    [
      6,
      () => {
        const op = r.pick(operations.filter((o) => o.bodyTypes.length > 0));
        return { kind: 'deep-body', who: 'none', method: op.method, url: op.path.replace(/\{\w+\}/g, 'a'), headers: { 'content-type': r.pick(op.bodyTypes) }, payload: deepBody(r) };
      },
    ],
    [
      1,
      () => {
        const op = r.pick(operations.filter((o) => o.bodyTypes.length > 0));
        const size = options.bodyLimit + r.int(1, 4096);
        return { kind: 'huge-body', who: 'none', method: op.method, url: op.path.replace(/\{\w+\}/g, 'a'), headers: { 'content-type': r.pick(op.bodyTypes) }, payload: 'x'.repeat(size) };
      },
    ],
    [
      10,
      () => {
        const segments = Array.from({ length: r.int(1, 6) }, () =>
          r.chance(0.5) ? r.pick(['v1', 'pipelines', 'cluster', 'nodes', 'docs', '..', '.', '', 'status', 'versions']) : encodeURIComponent(r.pick(BAD_NAMES.concat(WEIRD))),
        );
        const url = r.chance(0.05) ? `/${'a/'.repeat(4000)}` : `/${segments.join('/')}${r.chance(0.2) ? `?${r.pick(WEIRD)}=${r.pick(['%zz', '%', '&&&', '=='])}` : ''}`;
        return { kind: 'bad-path', who: 'none', method: r.pick(METHODS), url, headers: {} };
      },
    ],
    [
      10,
      () => {
        const name = r.pick(NAMES.slice(0, 3));
        const method = r.pick(['POST', 'PUT']);
        return {
          kind: 'pipeline-file',
          who: 'none',
          method,
          url: method === 'POST' ? r.pick(['/v1/pipelines', '/v1/pipelines/validate', '/v1/pipelines?desired=stopped']) : `/v1/pipelines/${name}`,
          headers: { 'content-type': r.pick(['application/yaml', 'application/json', 'text/plain']) },
          payload: pipelineText(options.registry, r, name),
        };
      },
    ],
  ];
  const total = strategies.reduce((s, [w]) => s + w, 0);

  return () => {
    let roll = r.next() * total;
    let request = anyRoute();
    for (const [weight, make] of strategies) {
      roll -= weight;
      if (roll < 0) {
        request = make();
        break;
      }
    }
    const holders = Object.keys(options.tokens);
    const auth = r.next();
    if (holders.length > 0 && auth < 0.8) {
      // An admin reaches every route's deeper checks; a third of the requests carry its token.
      request.who = auth < 0.3 && options.tokens['admin'] !== undefined ? 'admin' : r.pick(holders);
      request.headers['authorization'] = `Bearer ${options.tokens[request.who]!}`;
    } else if (auth > 0.9) {
      request.who = 'malformed';
      request.headers['authorization'] = r.pick(['Bearer ', 'Bearer wrong', 'Basic YTpi', 'x'.repeat(300), `Bearer wire_${'A'.repeat(43)}`, `Bearer ${'x'.repeat(600)}`]);
    }
    return request;
  };
}
