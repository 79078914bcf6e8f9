import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
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
}

const servers: Server[] = [];
const sinks: HttpSink[] = [];

async function target(): Promise<Target> {
  const t: Target = { url: '', received: [], statuses: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      t.received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const status = t.statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events?x=1`;
  return t;
}

async function sink(config: Record<string, unknown>): Promise<HttpSink> {
  const s = httpSinkDefinition.create(config) as HttpSink;
  await s.open({ pipeline: 't', component: 'sink', dataDir: '.', signal: new AbortController().signal });
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

const records = (from: number, n: number): WireRecord[] =>
  Array.from({ length: n }, (_, k) => WireRecord.fromRaw(`{"n":${from + k}}`));

function bodiesAsNumbers(t: Target): number[][] {
  return t.received.map((r) => (JSON.parse(r.body) as Array<{ n: number }>).map((v) => v.n));
}

describe('http sink', () => {
  it('sends full batches of count records as JSON arrays, the rest on flush', async () => {
    const t = await target();
    const s = await sink({ url: t.url, batch: { count: 3, period: 60_000 }, headers: { 'x-token': 'abc' } });
    await s.write(records(0, 2));
    expect(t.received).toHaveLength(0);
    await s.write(records(2, 5));
    expect(bodiesAsNumbers(t)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
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
    const s = await sink({ url: t.url, method: 'PUT', format: 'ndjson', batch: { bytes: 20, period: 60_000 } });
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

  it('throws a retryable UNAVAILABLE for 503 and sends the records again on the next flush', async () => {
    const t = await target();
    t.statuses.push(503);
    const s = await sink({ url: t.url, batch: { period: 60_000 } });
    await s.write(records(0, 2));
    const err = await s.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', details: { status: 503, retryable: true } });
    await s.flush();
    expect(bodiesAsNumbers(t)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('marks 429 and 408 retryable, other 4xx not', async () => {
    const t = await target();
    // A retryable failure keeps the record, which the follow-up flush sends (200); a non-retryable one drops it.
    t.statuses.push(429, 200, 408, 200, 400, 401);
    const s = await sink({ url: t.url, batch: { period: 60_000 } });
    const outcomes: unknown[] = [];
    for (let k = 0; k < 4; k++) {
      await s.write(records(k, 1));
      outcomes.push(await s.flush().catch((e: WireError) => [e.code, e.details.status, e.details.retryable]));
      await s.flush();
    }
    expect(outcomes).toEqual([
      ['UNAVAILABLE', 429, true],
      ['TIMEOUT', 408, true],
      ['INVALID_INPUT', 400, false],
      ['UNAUTHORIZED', 401, false],
    ]);
  });

  it('hands back the records of a request refused for good, so later flushes succeed', async () => {
    const t = await target();
    t.statuses.push(400);
    const s = await sink({ url: t.url, batch: { period: 60_000 } });
    await s.write(records(0, 1));
    const refused = await s.flush().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RecordsRefused);
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', details: { status: 400, retryable: false } });
    expect((refused as RecordsRefused).records.map((r) => r.json())).toEqual(['{"n":0}']);
    await s.write(records(1, 1));
    await s.flush();
    expect(bodiesAsNumbers(t)).toEqual([[0], [1]]);
  });

  it('hands back records of earlier writes when a write\'s request is refused, and keeps the rest of that write', async () => {
    const t = await target();
    t.statuses.push(422);
    const s = await sink({ url: t.url, batch: { count: 3, period: 60_000 } });
    await s.write(records(0, 2)); // buffered: accepted, not sent
    const refused = await s.write(records(2, 2)).catch((e: unknown) => e);
    expect((refused as RecordsRefused).records.map((r) => r.json())).toEqual(['{"n":0}', '{"n":1}', '{"n":2}']);
    await s.flush();
    expect(bodiesAsNumbers(t)).toEqual([[0, 1, 2], [3]]);
  });

  it('takes back a failing write\'s own records so the engine\'s retry does not duplicate them', async () => {
    const t = await target();
    t.statuses.push(500);
    const s = await sink({ url: t.url, batch: { count: 2, period: 60_000 } });
    await expect(s.write(records(0, 2))).rejects.toMatchObject({ details: { status: 500 } });
    await s.write(records(0, 2));
    await s.flush();
    expect(bodiesAsNumbers(t)).toEqual([
      [0, 1],
      [0, 1],
    ]);
  });

  it('throws a retryable UNAVAILABLE when nothing listens', async () => {
    const t = await target();
    const url = t.url;
    for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
    const s = await sink({ url, batch: { period: 60_000 } });
    await s.write(records(0, 1));
    await expect(s.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { retryable: true } });
  });

  it('applies nested batch defaults and rejects a url that is not http(s)', () => {
    expect(() => httpSinkDefinition.create({ url: 'ftp://x' })).toThrow(/invalid http sink config/);
    expect(() => httpSinkDefinition.create({ url: 'http://x', batch: { count: 0 } })).toThrow(WireError);
    expect(httpSinkDefinition.create({ url: 'http://x', batch: { count: 5 } })).toBeInstanceOf(HttpSink);
  });
});
