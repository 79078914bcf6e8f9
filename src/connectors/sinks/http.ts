import { Type, type Static } from '@sinclair/typebox';
import type { Pool } from 'undici';
import { RecordsRefused, WireError } from '../../core/errors.js';
import type { ComponentDefinition, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { networkError, statusError } from '../http/response-error.js';

export const HttpSinkSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', description: 'Where each request goes (http or https).' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH')], {
      default: 'POST',
      description: 'The HTTP method.',
    }),
    headers: Type.Record(Type.String({ minLength: 1 }), Type.String(), {
      default: {},
      description: 'Extra request headers, e.g. `authorization: Bearer ${TOKEN}`.',
    }),
    format: Type.Union([Type.Literal('json'), Type.Literal('ndjson')], {
      default: 'json',
      description: 'json: the body is one JSON array of records. ndjson: one JSON record per line.',
    }),
    batch: Type.Object(
      {
        count: Type.Integer({ minimum: 1, default: 500, description: 'Most records in one request.' }),
        bytes: Type.Integer({ minimum: 1, default: 1024 * 1024, description: 'Most body bytes in one request (a single larger record is sent alone).' }),
        period: Type.Integer({
          minimum: 1,
          default: 1000,
          description: 'Milliseconds a record may wait for a batch to fill before it is sent anyway.',
        }),
      },
      { default: {}, additionalProperties: false, description: 'When to send: whichever limit is reached first.' },
    ),
    timeout: Type.Integer({ minimum: 1, default: 10_000, description: 'Milliseconds to connect, and to wait for each answer.' }),
    connections: Type.Integer({ minimum: 1, default: 4, description: 'Pooled connections to the server.' }),
  },
  { additionalProperties: false },
);

export type HttpSinkConfig = Static<typeof HttpSinkSchema>;

/**
 * Sends records to an HTTP endpoint in batched requests over pooled keep-alive connections.
 * A non-2xx answer or a network failure throws a WireError with `details.status` and
 * `details.retryable` (false for 4xx other than 408/429), and the engine's retry policy decides.
 * A failed retryable request's records stay buffered and go out with the next write or flush; the
 * records of the failing `write` itself are taken back so the engine's retry does not send them twice.
 * A request refused for good (non-retryable) leaves the buffer and its records are thrown back to the
 * engine in a RecordsRefused error (some may come from earlier writes), so `on_error` decides their fate.
 */
export class HttpSink implements Sink {
  private readonly target: URL;
  private pool: Pool | undefined;
  private parts: string[] = [];
  /** The records of `parts`, index for index: what is handed back if the destination refuses them. */
  private records: WireRecord[] = [];
  private bytes = 0;
  private sentParts = 0;
  private timer: NodeJS.Timeout | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: HttpSinkConfig) {
    this.target = new URL(config.url);
  }

  async open(_options?: SinkOpenOptions): Promise<void> {
    const { timeout, connections } = this.config;
    // undici is most of the CLI's code by size: load it only for pipelines that send over HTTP.
    const { Pool } = await import('undici');
    this.pool = new Pool(this.target.origin, {
      connections,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  write(batch: Batch): Promise<void> {
    return this.exclusive(async () => {
      const first = this.sentParts + this.parts.length;
      for (const record of batch) {
        const part = record.json();
        this.parts.push(part);
        this.records.push(record);
        this.bytes += Buffer.byteLength(part) + 1;
      }
      try {
        while (this.full()) await this.sendOne();
      } catch (err) {
        // Refused records already left the buffer and travel in the error; the rest of this batch stays accepted.
        if (!(err instanceof RecordsRefused)) this.takeBackFrom(first);
        throw err;
      }
      this.schedule();
    });
  }

  flush(): Promise<void> {
    return this.exclusive(async () => {
      while (this.parts.length > 0) await this.sendOne();
    });
  }

  /** Records still buffered at close were never flushed, so never checkpointed: the source replays them. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.lock;
    const pool = this.pool;
    this.pool = undefined;
    await pool?.close();
  }

  private full(): boolean {
    const { count, bytes } = this.config.batch;
    return this.parts.length >= count || this.bytes >= bytes;
  }

  /** Runs sends one at a time: a timer flush must not interleave with a write's. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /** Sends whatever waited `period` ms, even if the batch is not full. */
  private schedule(): void {
    if (this.timer !== undefined || this.parts.length === 0 || this.pool === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A failure leaves the records buffered; the next write or flush sends them again and reports its error.
      this.exclusive(async () => {
        while (this.parts.length > 0) await this.sendOne();
      }).catch(() => undefined);
    }, this.config.batch.period);
  }

  /** Removes the parts with global index >= `index` that are still buffered (the failing write's own). */
  private takeBackFrom(index: number): void {
    const keep = Math.max(0, index - this.sentParts);
    if (keep >= this.parts.length) return;
    this.parts.length = keep;
    this.records.length = keep;
    this.bytes = this.parts.reduce((sum, p) => sum + Buffer.byteLength(p) + 1, 0);
  }

  private dropFront(n: number, bytes: number): WireRecord[] {
    const sent = this.records.slice(0, n);
    this.parts = this.parts.slice(n);
    this.records = this.records.slice(n);
    this.bytes -= bytes;
    this.sentParts += n;
    return sent;
  }

  /** Sends the first request's worth of buffered records. */
  private async sendOne(): Promise<void> {
    const pool = this.pool;
    if (pool === undefined) throw new WireError('INTERNAL', 'http sink used before open or after close');
    const { count, bytes: maxBytes } = this.config.batch;
    let n = 0;
    let size = 0;
    while (n < this.parts.length && n < count) {
      const partBytes = Buffer.byteLength(this.parts[n]!) + 1;
      if (n > 0 && size + partBytes > maxBytes) break;
      size += partBytes;
      n++;
    }
    const chunk = this.parts.slice(0, n);
    const ndjson = this.config.format === 'ndjson';
    const body = ndjson ? chunk.join('\n') + '\n' : '[' + chunk.join(',') + ']';
    const url = this.target.href;
    let status: number;
    let text: string;
    try {
      const res = await pool.request({
        path: this.target.pathname + this.target.search,
        method: this.config.method,
        headers: { ...this.config.headers, 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
        body,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw networkError(url, err);
    }
    if (status >= 200 && status < 300) {
      this.dropFront(n, size);
      return;
    }
    const error = statusError(url, status, text);
    if (error.details.retryable === false) throw new RecordsRefused(this.dropFront(n, size), error);
    throw error;
  }
}

export const httpSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'http',
  description:
    'Sends records to an HTTP endpoint in batches (a JSON array or JSON lines per request) over pooled connections. ' +
    'The pipeline `retry` policy retries 408, 429, 5xx and network errors; the records of a request refused for good ' +
    '(any other 4xx) go where `on_error` says (dead letter, drop or fail), whichever write they came with.',
  schema: HttpSinkSchema,
  example: { url: 'https://collector.example.com/v1/events', headers: { authorization: 'Bearer ${TOKEN}' }, batch: { count: 500, period: 1000 } },
  create: (config) => new HttpSink(resolveConfig('http sink', HttpSinkSchema, config)),
};
