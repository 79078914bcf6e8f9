/**
 * `POST /v1/pipelines/:name/ingest` between two real API servers (in-process, 127.0.0.1 port 0) over fake
 * handles, with fake task locators and real http sources drained by a stand-in for the engine.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { FORWARDED_HEADER, TASK_NODE_HEADER, type TaskLocator } from '../../src/api/routes/ingest.js';
import { buildApi } from '../../src/api/server.js';
import { generateToken } from '../../src/security/auth-tokens.js';
import type { Api } from '../../src/api/routes/context.js';
import { IngestTargets } from '../../src/cluster/ingest-targets.js';
import { HttpSource, httpSourceDefinition } from '../../src/connectors/sources/http.js';
import type { WireRecord } from '../../src/core/record.js';
import { openOptions, waitFor } from '../connectors/helpers.js';
import { fakeHandle, type FakeHandle } from './fake-handle.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const spec = (name: string, type = 'http', config: Record<string, unknown> = {}) => ({
  name,
  source: { type, config },
  sink: { type: 'drop', config: {} },
});

const TOKEN = generateToken();

/** Tasks by pipeline, as a test sets them: each node has its own view (they may disagree, as lagging states do). */
class FakeLocator implements TaskLocator {
  readonly tasks = new Map<string, { nodeId: string; httpAddress: string }>();
  taskNodeOf(pipeline: string): { nodeId: string; httpAddress: string } | null {
    return this.tasks.get(pipeline) ?? null;
  }
}

interface TestNode {
  readonly id: string;
  readonly address: string;
  readonly locator: FakeLocator;
  readonly targets: IngestTargets;
  readonly handle: FakeHandle;
  readonly api: Api;
}

async function startNode(id: string, pipelines: ReturnType<typeof spec>[]): Promise<TestNode> {
  const handle = await fakeHandle({ id });
  // One token in every node's state, as replication would have it.
  await handle.write({ v: 1, type: 'token.create', id: TOKEN.id, hash: TOKEN.hash, role: 'operator', pipelines: null, name: 'ingest test', createdBy: 'test', expiresAt: null, at: 1 });
  for (const p of pipelines) await handle.write({ v: 1, type: 'pipeline.create', name: p.name, spec: p, desired: 'running', at: 1 });
  const locator = new FakeLocator();
  const targets = new IngestTargets();
  const api = await buildApi(handle, { ingest: { locator, targets, nodeId: id } });
  await api.listen({ host: '127.0.0.1', port: 0 });
  closers.push(async () => {
    await api.close();
    await handle.close();
  });
  const { port } = api.server.address() as AddressInfo;
  return { id, address: `127.0.0.1:${port}`, locator, targets, handle, api };
}

/** A real http source on 127.0.0.1:0, drained as the engine would: every record accepted and acknowledged. */
async function startSource(config: Record<string, unknown> = {}): Promise<{ source: HttpSource; address: string; records: WireRecord[] }> {
  const source = httpSourceDefinition.create({ address: '127.0.0.1:0', ...config }) as HttpSource;
  const controller = new AbortController();
  await source.open(openOptions(controller.signal));
  const records: WireRecord[] = [];
  const drained = (async () => {
    for await (const batch of source.read(1000)) {
      records.push(...batch);
      source.outcome(batch, 'accepted');
      await source.ack(batch[batch.length - 1]!.position ?? null);
    }
  })();
  closers.push(async () => {
    controller.abort();
    await source.close();
    await drained;
  });
  const { host, port } = source.address();
  return { source, address: `${host}:${port}`, records };
}

/** A plain HTTP server standing in for a node or a source, whose behaviour a test writes. */
async function startServer(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void): Promise<string> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function ingest(node: TestNode, name: string, body: string | Readable, headers: Record<string, string> = {}) {
  const answer = await request(`http://${node.address}/v1/pipelines/${name}/ingest`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN.token}`, ...headers },
    body,
  });
  const text = await answer.body.text();
  return { status: answer.statusCode, headers: answer.headers, text, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
}

/** `count` chunks of `chunk`, made as they are read: the whole body never exists at once. */
function repeated(chunk: Buffer, count: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      this.push(sent++ < count ? chunk : null);
    },
  });
}

describe('POST /v1/pipelines/:name/ingest', () => {
  it('on a node without the task, forwards to the node running it, whose http source answers with the counts', async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const n2 = await startNode('n2', [spec('orders')]);
    const { address, records } = await startSource();
    n2.targets.set('orders', address);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });
    n2.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });

    const answer = await ingest(n1, 'orders', '[{"n":1},{"n":2},{"n":3}]');
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json).toEqual({ accepted: 3, dead_lettered: 0, dropped: 0, filtered: 0 });
    expect(answer.headers[TASK_NODE_HEADER]).toBe('n2');
    expect(answer.headers['x-wire-node']).toBe('n1');
    expect(records.map((r) => r.value)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('on the node running the task, hands the request to its http source, on the path the spec names', async () => {
    const n1 = await startNode('n1', [spec('orders', 'http', { path: '/in' })]);
    const { address, records } = await startSource({ path: '/in' });
    n1.targets.set('orders', address);
    n1.locator.tasks.set('orders', { nodeId: 'n1', httpAddress: n1.address });
    const answer = await ingest(n1, 'orders', '{"a":1}\n{"a":2}\n', { 'content-type': 'application/x-ndjson' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers[TASK_NODE_HEADER]).toBe('n1');
    expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it("keeps the source's refusals: status, error body and the headers that matter", async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const n2 = await startNode('n2', [spec('orders')]);
    const { address } = await startSource({ max_body: 64 });
    n2.targets.set('orders', address);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });

    // The route itself takes the cluster's tokens (a caller without one never reaches a node's source).
    const unauthorized = await ingest(n1, 'orders', '{"a":1}', { authorization: 'Bearer wire_not-a-token' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json).toMatchObject({ error: { code: 'UNAUTHORIZED' } });

    const malformed = await ingest(n1, 'orders', '{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ error: { code: 'INVALID_INPUT' } });

    const tooLarge = await ingest(n1, 'orders', JSON.stringify({ text: 'x'.repeat(200) }));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.json).toMatchObject({ error: { code: 'INVALID_INPUT', details: { max_body: 64 } } });

    const ok = await ingest(n1, 'orders', '{"a":1}');
    expect(ok.status).toBe(200);
  });

  it("a body over the source's max_body is 413 through the route, sent whole or streamed, on both hops", async () => {
    const n1 = await startNode('n1', [spec('orders', 'http', { max_body: 1024 })]);
    const n2 = await startNode('n2', [spec('orders', 'http', { max_body: 1024 })]);
    const { address, records } = await startSource({ max_body: 1024 });
    n2.targets.set('orders', address);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });
    for (const node of [n1, n2]) {
      // Streamed (no content-length): the source would refuse it mid-body and close the connection.
      const streamed = await ingest(node, 'orders', repeated(Buffer.alloc(64 * 1024, 0x20), 64));
      expect(streamed.status, streamed.text).toBe(413);
      expect(streamed.json).toMatchObject({ error: { code: 'INVALID_INPUT', details: { max_body: 1024 } } });
      const declared = await ingest(node, 'orders', ' '.repeat(4096));
      expect(declared.status, declared.text).toBe(413);
    }
    const ok = await ingest(n1, 'orders', '{"a":1}');
    expect(ok.status, ok.text).toBe(200);
    expect(records).toHaveLength(1);
  });

  it("a source's own auth_token goes in X-Wire-Source-Authorization, beside the cluster's token, and only it reaches the source", async () => {
    const n1 = await startNode('n1', [spec('orders', 'http', { auth_token: 'source-secret' })]);
    const n2 = await startNode('n2', [spec('orders', 'http', { auth_token: 'source-secret' })]);
    const seen: (string | undefined)[] = [];
    const { address, records } = await startSource({ auth_token: 'source-secret' });
    // A stand-in in front of the source records the Authorization the source gets.
    const front = await startServer((req, res) => {
      seen.push(req.headers.authorization);
      const upstream = request(`http://${address}/ingest`, { method: 'POST', headers: req.headers as Record<string, string>, body: req });
      upstream.then(
        async (a) => {
          res.writeHead(a.statusCode, { 'content-type': String(a.headers['content-type'] ?? 'application/json') });
          res.end(Buffer.from(await a.body.arrayBuffer()));
        },
        () => res.destroy(),
      );
    });
    n2.targets.set('orders', front);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });
    const withoutSourceToken = await ingest(n1, 'orders', '{"a":1}');
    expect(withoutSourceToken.status).toBe(401);
    const wrong = await ingest(n1, 'orders', '{"a":1}', { 'x-wire-source-authorization': 'Bearer nope' });
    expect(wrong.status).toBe(401);
    const right = await ingest(n1, 'orders', '{"a":1}', { 'x-wire-source-authorization': 'Bearer source-secret' });
    expect(right.status, right.text).toBe(200);
    expect(records).toHaveLength(1);
    // The cluster's token stays in the cluster.
    expect(seen).toEqual([undefined, 'Bearer nope', 'Bearer source-secret']);
  });

  it('an unknown pipeline is NOT_FOUND and a pipeline whose source is not http is INVALID_INPUT', async () => {
    const n1 = await startNode('n1', [spec('made', 'generate', { count: 3 })]);
    const unknown = await ingest(n1, 'nope', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const notHttp = await ingest(n1, 'made', '{}');
    expect(notHttp.status).toBe(400);
    expect(notHttp.json).toMatchObject({ error: { code: 'INVALID_INPUT', message: expect.stringContaining('generate') } });
  });

  it('no task running, the task assigned here but its source not open yet, or its node without an address: 503 with Retry-After', async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const none = await ingest(n1, 'orders', '{}');
    expect(none.status).toBe(503);
    expect(none.headers['retry-after']).toBe('1');
    expect(none.json).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('no task') } });

    n1.locator.tasks.set('orders', { nodeId: 'n1', httpAddress: n1.address });
    const starting = await ingest(n1, 'orders', '{}');
    expect(starting.status).toBe(503);
    expect(starting.headers['retry-after']).toBe('1');

    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: '' });
    const unknownAddress = await ingest(n1, 'orders', '{}');
    expect(unknownAddress.status).toBe(503);
    expect(unknownAddress.headers['retry-after']).toBe('1');
  });

  it('a forwarded request is never forwarded again: two nodes that each think the other runs the task answer 503 after one hop', async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const n2 = await startNode('n2', [spec('orders')]);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });
    n2.locator.tasks.set('orders', { nodeId: 'n1', httpAddress: n1.address });
    const hops: string[] = [];
    for (const node of [n1, n2]) node.api.server.on('request', (req: IncomingMessage) => hops.push(`${node.id}:${String(req.headers[FORWARDED_HEADER] ?? '')}`));

    const answer = await ingest(n1, 'orders', '{"a":1}');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json).toMatchObject({ error: { message: expect.stringContaining('on node n2') } });
    expect(hops).toEqual(['n1:', 'n2:n1']);
  });

  it("a marked request arriving from a client is not forwarded either", async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const n2 = await startNode('n2', [spec('orders')]);
    const { address } = await startSource();
    n2.targets.set('orders', address);
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: n2.address });
    const answer = await ingest(n1, 'orders', '{"a":1}', { [FORWARDED_HEADER]: 'n9' });
    expect(answer.status).toBe(503);
  });

  it('a task node that refuses the connection is 503 with Retry-After (nothing was sent)', async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    const gone = await startServer((_req, res) => res.end());
    await closers.pop()!();
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: gone });
    const answer = await ingest(n1, 'orders', '{"a":1}');
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
  });

  it('the upstream failing mid-body is 502', async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    let received = 0;
    const dying = await startServer((req) => {
      req.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= 1 << 20) req.socket.destroy();
      });
    });
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: dying });
    const answer = await ingest(n1, 'orders', repeated(Buffer.alloc(64 * 1024, 0x20), 256));
    expect(answer.status).toBe(502);
    expect(answer.json).toMatchObject({ error: { code: 'UNAVAILABLE', details: { upstream: dying } } });
    expect(received).toBeGreaterThanOrEqual(1 << 20);
  });

  it("a client that disconnects mid-body aborts the upstream request", async () => {
    const n1 = await startNode('n1', [spec('orders')]);
    let upstreamClosed = false;
    let upstreamBytes = 0;
    const upstream = await startServer((req) => {
      req.on('data', (chunk: Buffer) => (upstreamBytes += chunk.length));
      req.on('close', () => (upstreamClosed = !req.complete));
    });
    n1.locator.tasks.set('orders', { nodeId: 'n2', httpAddress: upstream });
    const controller = new AbortController();
    const body = new Readable({ read() {} });
    const answered = request(`http://${n1.address}/v1/pipelines/orders/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN.token}` }, body, signal: controller.signal });
    body.push(Buffer.alloc(32 * 1024, 0x20));
    await waitFor(() => upstreamBytes >= 32 * 1024, 'the first bytes upstream');
    controller.abort();
    await expect(answered).rejects.toThrow();
    await waitFor(() => upstreamClosed, 'the upstream request to be aborted');
  });

  it('a body of 100 MB passes through two hops with bounded memory', { timeout: 120_000 }, async () => {
    const n1 = await startNode('n1', [spec('bulk', 'http', { max_body: 128 * 1024 * 1024 })]);
    const n2 = await startNode('n2', [spec('bulk', 'http', { max_body: 128 * 1024 * 1024 })]);
    // The far end hashes what arrives: an http source would hold the whole body itself, which is its own limit (max_body).
    const hash = createHash('sha256');
    let bytes = 0;
    const target = await startServer((req, res) => {
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        bytes += chunk.length;
      });
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })));
    });
    n2.targets.set('bulk', target);
    n1.locator.tasks.set('bulk', { nodeId: 'n2', httpAddress: n2.address });

    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = 0x61 + (i % 26);
    const CHUNKS = 1600;
    const expected = createHash('sha256');
    for (let i = 0; i < CHUNKS; i++) expected.update(chunk);

    // What the transfer holds, not the garbage it leaves for the collector: sampled right after a full collection.
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const held = (): number => {
      gc();
      const { arrayBuffers, heapUsed } = process.memoryUsage();
      return arrayBuffers + heapUsed;
    };
    const baseline = held();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, held())), 100);
    try {
      const answer = await ingest(n1, 'bulk', repeated(chunk, CHUNKS), { 'content-type': 'application/octet-stream' });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.json).toEqual({ bytes: CHUNKS * chunk.length });
    } finally {
      clearInterval(sampler);
    }
    expect(hash.digest('hex')).toBe(expected.digest('hex'));
    // Held whole anywhere on the way, the body alone would add 100 MiB.
    expect(peak - baseline).toBeLessThan(32 * 1024 * 1024);
  });
});
