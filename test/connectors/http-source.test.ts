import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/record.js';
import { HttpSource, httpSourceDefinition } from '../../src/connectors/sources/http.js';
import { openOptions } from './helpers.js';

interface Running {
  src: HttpSource;
  url: string;
  controller: AbortController;
  next: () => Promise<Batch>;
}

const running: Running[] = [];

async function start(config: Record<string, unknown> = {}, maxRecords = 100): Promise<Running> {
  const src = httpSourceDefinition.create({ address: '127.0.0.1:0', ...config }) as HttpSource;
  const controller = new AbortController();
  await src.open(openOptions(controller.signal));
  const { host, port } = src.address();
  const iterator = src.read(maxRecords)[Symbol.asyncIterator]();
  const next = async (): Promise<Batch> => {
    const step = await iterator.next();
    if (step.done === true) throw new Error('source ended');
    return step.value;
  };
  const run = { src, url: `http://${host}:${port}`, controller, next };
  running.push(run);
  return run;
}

afterEach(async () => {
  for (const run of running.splice(0)) {
    run.controller.abort();
    await run.src.close();
  }
});

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

/** Tracks whether a response has arrived, without waiting for it. */
function track(response: Promise<Response>): { settled: () => boolean; response: Promise<Response> } {
  let settled = false;
  void response.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled, response };
}

describe('http source', () => {
  it('hands requests over in batches of at most the size asked, cut inside and across requests, in order', async () => {
    const { src, url, next } = await start({}, 2);
    const ndjson = { 'content-type': 'application/x-ndjson' };
    const first = post(`${url}/ingest`, '{"n":0}\n{"n":1}\n{"n":2}\n', ndjson);
    const second = post(`${url}/ingest`, '{"n":3}\r\n\n{"n":4}\n{"n":5}\n{"n":6}', ndjson);
    const got: Batch[] = [];
    while (got.flat().length < 7) got.push(await next());
    expect(got.every((batch) => batch.length >= 1 && batch.length <= 2)).toBe(true);
    expect(got.flat().map((r) => [r.position, r.json()])).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => [n, `{"n":${n}}`]));
    // Acknowledged without an outcome (as if filtered): each request answers for its own records.
    await src.ack(6);
    expect(await (await first).json()).toMatchObject({ accepted: 0, filtered: 3 });
    expect(await (await second).json()).toMatchObject({ accepted: 0, filtered: 4 });
  });

  it('answers 200 {accepted} only once the last record of the request is acknowledged', async () => {
    const { src, url, next } = await start();
    const req = track(post(`${url}/ingest`, '{"a":1}\n{"a":2}\n{"a":3}\n', { 'content-type': 'application/x-ndjson' }));
    const batch = await next();
    expect(batch.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(batch.map((r) => r.json())).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    // A full round trip to the same server: had the ingest request been answered, it would be by now.
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
    src.outcome(batch, 'accepted');
    await src.ack(batch[1]!.position!);
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
    expect(req.settled()).toBe(false);
    await src.ack(batch[2]!.position!);
    const res = await req.response;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 3, dead_lettered: 0, dropped: 0, filtered: 0 });
  });

  it('accepts a JSON object, a JSON array and sniffed JSON lines; one ack answers all earlier requests', async () => {
    const { src, url, next } = await start();
    const one = post(`${url}/ingest`, '{"k":"obj"}', { 'content-type': 'application/json' });
    const first = await next();
    expect(first.map((r) => r.value)).toEqual([{ k: 'obj' }]);
    const many = post(`${url}/ingest`, '[{"k":1},{"k":2}]');
    const second = await next();
    expect(second.map((r) => r.value)).toEqual([{ k: 1 }, { k: 2 }]);
    const lines = post(`${url}/ingest`, '{"k":3}\r\n{"k":4}', { 'content-type': 'text/plain' });
    const last = await next();
    expect(last.map((r) => r.value)).toEqual([{ k: 3 }, { k: 4 }]);
    src.outcome([...first, ...second, ...last], 'accepted');
    await src.ack(last[1]!.position!);
    expect(await Promise.all([one, many, lines].map(async (r) => ((await (await r).json()) as { accepted: number }).accepted))).toEqual([1, 2, 2]);
  });

  it('gives records strictly increasing positions across requests', async () => {
    const { url, next } = await start();
    void post(`${url}/ingest`, '[1,2]').catch(() => undefined);
    const a = await next();
    void post(`${url}/ingest`, '[3]').catch(() => undefined);
    const b = await next();
    expect([...a, ...b].map((r) => r.position)).toEqual([0, 1, 2]);
  });

  it('answers 429 with Retry-After when the queue is full, and takes requests again once acked', async () => {
    const { src, url, next } = await start({ queue_size: 2 });
    const first = post(`${url}/ingest`, '[1,2]');
    const batch = await next();
    const full = await post(`${url}/ingest`, '[3]');
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(((await full.json()) as { error: { code: string } }).error.code).toBe('UNAVAILABLE');
    src.outcome(batch, 'accepted');
    await src.ack(batch[1]!.position!);
    expect((await first).status).toBe(200);
    const again = post(`${url}/ingest`, '[3]');
    const b2 = await next();
    src.outcome(b2, 'accepted');
    await src.ack(b2[0]!.position!);
    expect((await again).status).toBe(200);
  });

  it('answers 400 with an error body for malformed JSON, a bad line and a bare scalar', async () => {
    const { url } = await start();
    const bad = await post(`${url}/ingest`, '{"a":', { 'content-type': 'application/json' });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.message).toMatch(/malformed JSON/);
    const line = await post(`${url}/ingest`, '{"a":1}\n{nope\n', { 'content-type': 'application/x-ndjson' });
    expect(line.status).toBe(400);
    expect(((await line.json()) as { error: { details: { line: number } } }).error.details.line).toBe(2);
    expect((await post(`${url}/ingest`, '42')).status).toBe(400);
    expect((await post(`${url}/ingest`, '   ')).status).toBe(400);
  });

  it('answers 413 for a body over max_body', async () => {
    const { url } = await start({ max_body: 100 });
    const res = await post(`${url}/ingest`, JSON.stringify({ s: 'x'.repeat(200) }));
    expect(res.status).toBe(413);
  });

  it('answers 401 without the right bearer token, 200 with it', async () => {
    const { src, url, next } = await start({ auth_token: 's3cret' });
    expect((await post(`${url}/ingest`, '{}')).status).toBe(401);
    const wrong = await post(`${url}/ingest`, '{}', { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    const ok = post(`${url}/ingest`, '{}', { authorization: 'Bearer s3cret' });
    const batch = await next();
    src.outcome(batch, 'accepted');
    await src.ack(batch[0]!.position!);
    expect((await ok).status).toBe(200);
  });

  it('answers 404 elsewhere and 405 for other methods', async () => {
    const { url } = await start();
    expect((await post(`${url}/other`, '{}')).status).toBe(404);
    const get = await fetch(`${url}/ingest`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('answers 503 while stopping, and 503 to requests never acknowledged when it closes', async () => {
    const { src, url, controller, next } = await start();
    const pending = post(`${url}/ingest`, '[1]');
    await next();
    controller.abort();
    expect((await post(`${url}/ingest`, '[2]')).status).toBe(503);
    await src.close();
    expect((await pending).status).toBe(503);
  });

  it('ends read once stopping, after handing out what it holds', async () => {
    const { url, controller, next } = await start();
    void post(`${url}/ingest`, '[1]').catch(() => undefined);
    expect((await next()).length).toBe(1);
    controller.abort();
    await expect(next()).rejects.toThrow('source ended');
  });

  it('answers with what became of each record: a later outcome replaces an earlier accepted', async () => {
    const { src, url, next } = await start();
    const req = post(`${url}/ingest`, '[1,2,3,4,5]');
    const batch = await next();
    src.outcome(batch.slice(0, 3), 'accepted');
    src.outcome(batch.slice(2, 3), 'dead_lettered', 'accepted');
    src.outcome(batch.slice(3, 4), 'dropped');
    await src.ack(batch[4]!.position!);
    const res = await req;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 2, dead_lettered: 1, dropped: 1, filtered: 1 });
  });

  it('answers 422 with the counts when none of the records reached the sink', async () => {
    const { src, url, next } = await start();
    const req = post(`${url}/ingest`, '[1,2]');
    const batch = await next();
    src.outcome(batch.slice(0, 1), 'dead_lettered');
    await src.ack(batch[1]!.position!);
    const res = await req;
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ accepted: 0, dead_lettered: 1, dropped: 0, filtered: 1, error: { code: 'INVALID_INPUT' } });
  });

  it('awaits an ack only while a request waits for one', async () => {
    const { src, url, next } = await start();
    expect(src.awaitingAck()).toBe(false);
    const req = post(`${url}/ingest`, '[1]');
    const batch = await next();
    expect(src.awaitingAck()).toBe(true);
    src.outcome(batch, 'accepted');
    await src.ack(batch[0]!.position!);
    expect(src.awaitingAck()).toBe(false);
    expect((await req).status).toBe(200);
  });

  it('answers 429 with Retry-After when the bytes it holds would pass queue_bytes', async () => {
    const { src, url, next } = await start({ queue_bytes: 300 });
    const first = post(`${url}/ingest`, JSON.stringify([{ s: 'x'.repeat(200) }]));
    const batch = await next();
    const over = await post(`${url}/ingest`, JSON.stringify([{ s: 'y'.repeat(200) }]));
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    src.outcome(batch, 'accepted');
    await src.ack(batch[0]!.position!);
    expect((await first).status).toBe(200);
    const again = post(`${url}/ingest`, JSON.stringify([{ s: 'y'.repeat(200) }]));
    const b2 = await next();
    src.outcome(b2, 'accepted');
    await src.ack(b2[0]!.position!);
    expect((await again).status).toBe(200);
  });

  it('answers 503 with Retry-After beyond max_requests at once, and takes requests again once one is answered', async () => {
    const { src, url, next } = await start({ max_requests: 2 });
    const a = post(`${url}/ingest`, '[1]');
    const b = post(`${url}/ingest`, '[2]');
    const held: Batch = [];
    while (held.length < 2) held.push(...(await next()));
    const over = await post(`${url}/ingest`, '[3]');
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toBe('1');
    src.outcome(held, 'accepted');
    await src.ack(held[1]!.position!);
    expect([(await a).status, (await b).status]).toEqual([200, 200]);
    const c = post(`${url}/ingest`, '[3]');
    const b3 = await next();
    src.outcome(b3, 'accepted');
    await src.ack(b3[0]!.position!);
    expect((await c).status).toBe(200);
  });

  it('answers 413 to a chunked body as soon as it grows past max_body', async () => {
    const { url } = await start({ max_body: 1000 });
    const req = request(`${url}/ingest`, { method: 'POST' });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
    });
    let status: number | undefined;
    void answered.then((s) => (status = s), () => undefined);
    let chunks = 0;
    // Keeps sending until answered: the answer must come while the body is still arriving.
    while (status === undefined && chunks < 200) {
      req.write('{"a":"' + 'z'.repeat(490) + '"}\n');
      chunks++;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(await answered).toBe(413);
    expect(chunks).toBeLessThan(200);
    req.destroy();
  });

  it('check requires auth_token beyond loopback and reports a bad address', () => {
    expect(httpSourceDefinition.check!({ address: '0.0.0.0:8080' })).toEqual([{ path: 'auth_token', message: expect.any(String) }]);
    expect(httpSourceDefinition.check!({ address: '0.0.0.0:8080', auth_token: 't' })).toEqual([]);
    expect(httpSourceDefinition.check!({ address: '127.0.0.1:8080' })).toEqual([]);
    expect(httpSourceDefinition.check!({ address: 'nonsense' })[0]!.path).toBe('address');
  });

  it('fails to open with UNAVAILABLE when the port is taken', async () => {
    const { src } = await start();
    const { port } = src.address();
    const other = httpSourceDefinition.create({ address: `127.0.0.1:${port}` });
    await expect(other.open(openOptions())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
