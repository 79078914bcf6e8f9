import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import type { RetrySpec } from '../../src/core/pipeline.js';
import { WireRecord } from '../../src/core/record.js';
import { HttpSink, httpSinkDefinition } from '../../src/connectors/sinks/http.js';
import { waitFor } from './helpers.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Target {
  url: string;
  received: Received[];
  /** Statuses to answer with, in order; 200 once they run out. */
  statuses: number[];
  /** Most requests the server held at once. */
  maxConcurrent: number;
  /** Milliseconds to hold each answer (or a function of the request). */
  delay: (body: string) => number;
}

const servers: Server[] = [];
const sinks: HttpSink[] = [];

async function target(): Promise<Target> {
  const t: Target = { url: '', received: [], statuses: [], maxConcurrent: 0, delay: () => 0 };
  let open = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    open++;
    t.maxConcurrent = Math.max(t.maxConcurrent, open);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const status = t.statuses.shift() ?? 200;
      if (status === 200) t.received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      setTimeout(() => {
        open--;
        res.writeHead(status, { 'content-type': 'text/plain' });
        res.end(status === 200 ? 'ok' : `status ${status}`);
      }, t.delay(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events?x=1`;
  return t;
}

const FAST_RETRY: RetrySpec = { maxAttempts: 3, initialMs: 1, maxMs: 5 };

async function sink(config: Record<string, unknown>, retry: RetrySpec = FAST_RETRY): Promise<HttpSink> {
  const s = httpSinkDefinition.create(config) as HttpSink;
  await s.open({ pipeline: 't', component: 'sink', dataDir: '.', signal: new AbortController().signal, retry });
  sinks.push(s);
  return s;
}

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const records = (from: number, n: number, key?: (n: number) => string): WireRecord[] =>
  Array.from({ length: n }, (_, k) => {
    const r = WireRecord.fromRaw(`{"n":${from + k}}`);
    if (key !== undefined) r.key = key(from + k);
    return r;
  });

function bodiesAsNumbers(t: Target): number[][] {
  return t.received.map((r) => (JSON.parse(r.body) as Array<{ n: number }>).map((v) => v.n));
}

/** The records `flush` hands back, or undefined when it succeeds. */
async function refusedByFlush(s: HttpSink): Promise<RecordsRefused | undefined> {
  const err = await s.flush().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err !== undefined && !(err instanceof RecordsRefused)) throw err;
  return err;
}

describe('http sink', () => {
  it('sends full batches of count records as JSON arrays, the rest on flush', async () => {
    const t = await target();
    const s = await sink({ url: t.url, connections: 1, batch: { count: 3, period: 60_000 }, headers: { 'x-token': 'abc' } });
    await s.write(records(0, 2));
    await s.write(records(2, 5));
    await waitFor(() => t.received.length === 2, 'the two full requests');
    await s.flush();
    expect(bodiesAsNumbers(t)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const first = t.received[0]!;
    expect(first.method).toBe('POST');
    expect(first.url).toBe('/events?x=1');
    expect(first.headers['x-token']).toBe('abc');
    expect(first.headers['content-type']).toBe('application/json');
  });

  it('limits requests by bytes, and sends NDJSON when asked', async () => {
    const t = await target();
    const s = await sink({ url: t.url, connections: 1, method: 'PUT', format: 'ndjson', batch: { bytes: 20, period: 60_000 } });
    await s.write(records(0, 4));
    await s.flush();
    // Each record is 8 bytes plus a newline: two fit under 20 bytes.
    expect(t.received.map((r) => r.body)).toEqual(['{"n":0}\n{"n":1}\n', '{"n":2}\n{"n":3}\n']);
    expect(t.received[0]!.method).toBe('PUT');
    expect(t.received[0]!.headers['content-type']).toBe('application/x-ndjson');
  });

  it('sends a partial batch once period passes', async () => {
    const t = await target();
    const s = await sink({ url: t.url, batch: { count: 1000, period: 20 } });
    await s.write(records(0, 2));
    await waitFor(() => t.received.length === 1, 'the period flush');
    expect(bodiesAsNumbers(t)).toEqual([[0, 1]]);
  });

  it('hands a request the period timer sent and the server refused to the next flush', async () => {
    const t = await target();
    t.statuses.push(400);
    const s = await sink({ url: t.url, batch: { count: 1000, period: 10 } });
    await s.write(records(0, 3));
    await waitFor(() => t.statuses.length === 0, 'the timed request');
    const refused = await refusedByFlush(s);
    expect(refused?.records.map((r) => r.json())).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', details: { status: 400, retryable: false } });
    expect(await refusedByFlush(s)).toBeUndefined();
  });

  it('retries 408, 429 and 5xx itself, so a flush succeeds once the server recovers', async () => {
    const t = await target();
    t.statuses.push(503, 429, 408);
    const s = await sink({ url: t.url, batch: { period: 60_000 } }, { maxAttempts: 4, initialMs: 1, maxMs: 5 });
    await s.write(records(0, 2));
    expect(await refusedByFlush(s)).toBeUndefined();
    expect(bodiesAsNumbers(t)).toEqual([[0, 1]]);
  });

  it('sends a failing request exactly max_attempts times, the period timer included, then hands its records back', async () => {
    const t = await target();
    let requests = 0;
    t.delay = () => (requests++, 0);
    t.statuses.push(503, 503, 503, 503, 503);
    const s = await sink({ url: t.url, batch: { count: 1000, period: 5 } }, { maxAttempts: 3, initialMs: 20, maxMs: 20 });
    await s.write(records(0, 2));
    await waitFor(() => requests >= 1, 'the timed request');
    const refused = await refusedByFlush(s);
    expect(refused).toMatchObject({ code: 'UNAVAILABLE', attempts: 3, details: { status: 503 } });
    expect(refused?.records).toHaveLength(2);
    expect(requests).toBe(3);
  });

  it('hands back, as refused, the records of a request that times out on every attempt', async () => {
    const t = await target();
    t.delay = () => 10_000;
    const s = await sink({ url: t.url, timeout: 50, batch: { period: 60_000 } }, { maxAttempts: 2, initialMs: 1, maxMs: 1 });
    await s.write(records(0, 1));
    expect(await refusedByFlush(s)).toMatchObject({ code: 'TIMEOUT', attempts: 2 });
  });

  it('refuses for good with UNAUTHORIZED, FORBIDDEN or INVALID_INPUT on 401, 403 and other 4xx', async () => {
    const t = await target();
    t.statuses.push(401, 403, 422);
    const s = await sink({ url: t.url, batch: { period: 60_000 } });
    const codes: unknown[] = [];
    for (let k = 0; k < 3; k++) {
      await s.write(records(k, 1));
      const refused = await refusedByFlush(s);
      codes.push([refused?.code, refused?.details.status, refused?.attempts]);
    }
    expect(codes).toEqual([
      ['UNAUTHORIZED', 401, 1],
      ['FORBIDDEN', 403, 1],
      ['INVALID_INPUT', 422, 1],
    ]);
    expect(t.received).toHaveLength(0);
  });

  it('hands back a refused request of earlier writes at the next flush, and keeps the rest', async () => {
    const t = await target();
    t.statuses.push(422);
    const s = await sink({ url: t.url, connections: 1, batch: { count: 3, period: 60_000 } });
    await s.write(records(0, 2)); // buffered: accepted, not sent
    await s.write(records(2, 2));
    const refused = await refusedByFlush(s);
    expect(refused?.records.map((r) => r.json())).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    expect(await refusedByFlush(s)).toBeUndefined();
    expect(bodiesAsNumbers(t)).toEqual([[3]]);
  });

  it('sends up to connections requests at once', async () => {
    const t = await target();
    t.delay = () => 200;
    const s = await sink({ url: t.url, connections: 4, batch: { count: 10, period: 60_000 } });
    await s.write(records(0, 40));
    await s.flush();
    expect(t.maxConcurrent).toBe(4);
    expect(bodiesAsNumbers(t).flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('keeps the order of records with the same key across connections, with retries', async () => {
    const t = await target();
    let k = 0;
    // Answers in a scrambled order, and fails some requests once: a retried request must not be overtaken.
    t.delay = () => (k++ * 7) % 13;
    t.statuses.push(...Array.from({ length: 60 }, (_, i) => (i % 5 === 2 ? 503 : 200)));
    const key = (n: number): string => `k${n % 7}`;
    const s = await sink({ url: t.url, connections: 4, batch: { count: 3, period: 60_000 } }, { maxAttempts: 10, initialMs: 1, maxMs: 5 });
    for (let from = 0; from < 300; from += 25) await s.write(records(from, 25, key));
    expect(await refusedByFlush(s)).toBeUndefined();
    const seen = bodiesAsNumbers(t).flat();
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    for (let keyIndex = 0; keyIndex < 7; keyIndex++) {
      const ofKey = seen.filter((n) => n % 7 === keyIndex);
      expect(ofKey).toEqual([...ofKey].sort((a, b) => a - b));
    }
    expect(t.maxConcurrent).toBeGreaterThan(1);
  });

  it('hands back as UNAVAILABLE what it could not send when nothing listens', async () => {
    const t = await target();
    const url = t.url;
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
    const s = await sink({ url, batch: { period: 60_000 } });
    await s.write(records(0, 1));
    expect(await refusedByFlush(s)).toMatchObject({ code: 'UNAVAILABLE', attempts: 3 });
  });

  it('cuts off requests under way when the pipeline halts, instead of waiting for their timeout', async () => {
    const t = await target();
    t.delay = () => 60_000;
    const halt = new AbortController();
    const s = httpSinkDefinition.create({ url: t.url, timeout: 60_000, batch: { period: 60_000 } }) as HttpSink;
    await s.open({ pipeline: 't', component: 'sink', dataDir: '.', signal: halt.signal, retry: FAST_RETRY });
    await s.write(records(0, 1));
    const flushed = s.flush().catch((e: unknown) => e);
    await waitFor(() => t.maxConcurrent === 1, 'the request to arrive');
    halt.abort();
    const closed = await Promise.race([s.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 20_000))]);
    expect(closed).toBe('closed');
    expect(await flushed).toBeInstanceOf(RecordsRefused);
  });

  it('applies nested batch defaults and rejects a url that is not http(s)', () => {
    expect(() => httpSinkDefinition.create({ url: 'ftp://x' })).toThrow(/invalid http sink config/);
    expect(() => httpSinkDefinition.create({ url: 'http://x', batch: { count: 0 } })).toThrow(WireError);
    expect(httpSinkDefinition.create({ url: 'http://x', batch: { count: 5 } })).toBeInstanceOf(HttpSink);
  });
});
