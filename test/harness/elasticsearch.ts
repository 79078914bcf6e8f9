// A protocol-level fake of Elasticsearch for the sink's tests: no Elasticsearch server can be installed on these
// machines. It answers the official client (8.x) over real HTTP on 127.0.0.1: the product check (`GET /` and the
// `x-elastic-product` header), the bulk API (index, create, update with doc_as_upsert; per-item statuses), counts and
// document reads. Faults: items refused by a rule (a mapping error), a number of 429 items, the server stopped and
// started on the same port with its documents kept. It does not model mappings, refresh or shards.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface FakeElasticsearch {
  readonly url: string;
  /** index → id → the document's JSON. */
  readonly indices: Map<string, Map<string, unknown>>;
  /** Bulk requests answered, and items in them (including refused ones). */
  readonly stats: { bulkRequests: number; items: number; throttled: number };
  /** A rule that refuses a document for good: an error type and reason, or undefined to accept it. */
  refuse: ((source: unknown) => { type: string; reason: string } | undefined) | undefined;
  /** The next this-many items are answered 429 (too many requests). */
  throttleItems: number;
  count(index: string): number;
  /** Stops listening and drops every connection, as a crashed server would; the documents stay. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

const HEADERS = { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' };

export async function startFakeElasticsearch(): Promise<FakeElasticsearch> {
  const indices = new Map<string, Map<string, unknown>>();
  const stats = { bulkRequests: 0, items: 0, throttled: 0 };
  let autoId = 0;
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;

  const fake: FakeElasticsearch = {
    url: '',
    indices,
    stats,
    refuse: undefined,
    throttleItems: 0,
    count: (index) => indices.get(index)?.size ?? 0,
    stop: async () => {
      const closing = server;
      server = undefined;
      if (closing === undefined) return;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: async () => {
      const next = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => reply(response, 500, { error: { type: 'fake_failure', reason: String(error) }, status: 500 }));
      });
      next.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        next.once('error', reject);
        next.listen(port, '127.0.0.1', () => resolve());
      });
      server = next;
      const address = next.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      port = address.port;
      (fake as { url: string }).url = `http://127.0.0.1:${port}`;
    },
    close: () => fake.stop(),
  };

  function documents(index: string): Map<string, unknown> {
    let docs = indices.get(index);
    if (docs === undefined) indices.set(index, (docs = new Map()));
    return docs;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const body = await readBody(request);
    if (parts.length === 0) {
      reply(response, 200, { name: 'fake', cluster_name: 'wire-test', version: { number: '8.19.0', build_flavor: 'default' }, tagline: 'You Know, for Search' });
      return;
    }
    if (request.method === 'POST' && parts.at(-1) === '_bulk') {
      reply(response, 200, bulk(body, parts.length === 2 ? parts[0] : undefined));
      return;
    }
    if (parts[1] === '_count') {
      reply(response, 200, { count: fake.count(parts[0]!) });
      return;
    }
    if (parts[1] === '_refresh') {
      reply(response, 200, { _shards: { total: 1, successful: 1, failed: 0 } });
      return;
    }
    if (parts[1] === '_doc' && parts[2] !== undefined) {
      const source = indices.get(parts[0]!)?.get(parts[2]);
      reply(response, source === undefined ? 404 : 200, { _index: parts[0], _id: parts[2], found: source !== undefined, ...(source === undefined ? {} : { _source: source }) });
      return;
    }
    reply(response, 400, { error: { type: 'illegal_argument_exception', reason: `the fake does not answer ${request.method} ${url.pathname}` }, status: 400 });
  }

  function bulk(body: string, defaultIndex: string | undefined): unknown {
    stats.bulkRequests++;
    const lines = body.split('\n').filter((line) => line !== '');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = JSON.parse(lines[i]!) as Record<string, { _index?: string; _id?: string }>;
      const [name, target] = Object.entries(action)[0]!;
      const index = target._index ?? defaultIndex!;
      const source = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
      const id = target._id ?? `auto-${++autoId}`;
      stats.items++;
      const item = { _index: index, _id: id };
      if (fake.throttleItems > 0) {
        fake.throttleItems--;
        stats.throttled++;
        errors = true;
        items.push({ [name]: { ...item, status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (fake)' } } });
        continue;
      }
      const document = name === 'update' ? source.doc : source;
      const refused = fake.refuse?.(document);
      if (refused !== undefined) {
        errors = true;
        items.push({ [name]: { ...item, status: 400, error: refused } });
        continue;
      }
      const docs = documents(index);
      const existing = docs.get(id);
      if (name === 'create' && existing !== undefined) {
        errors = true;
        items.push({ [name]: { ...item, status: 409, error: { type: 'version_conflict_engine_exception', reason: 'document already exists' } } });
        continue;
      }
      const merged = name === 'update' && existing !== undefined ? { ...(existing as object), ...(document as object) } : document;
      docs.set(id, merged);
      items.push({ [name]: { ...item, status: existing === undefined ? 201 : 200, result: existing === undefined ? 'created' : 'updated' } });
    }
    return { took: 1, errors, items };
  }

  await fake.start();
  return fake;
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, HEADERS);
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
