import { Type, type Static } from '@sinclair/typebox';
import type { Pool } from 'undici';
import { RecordsRefused, WireError } from '../../core/errors.js';
import { laneOfKey } from '../../core/key-hash.js';
import { backoffDelay, DEFAULT_RETRY, type RetrySpec } from '../../core/pipeline.js';
import type { ComponentDefinition, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { networkError, statusError } from '../http/response-error.js';

export const HttpSinkSchema = Type.Object(
  {
    // Through the API, only to the node's --allow-host hosts when it has any (security/confine.ts).
    url: Type.String({ pattern: '^https?://', 'x-wire-confine': 'url', description: 'Where each request goes (http or https).' }),
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('PATCH')], {
      default: 'POST',
      description: 'The HTTP method.',
    }),
    headers: Type.Record(Type.String({ minLength: 1 }), Type.String(), {
      default: {},
      // Auth headers live here: every value is shown as "***" (security/secrets.ts).
      'x-wire-secret': true,
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
    connections: Type.Integer({
      minimum: 1,
      maximum: 256,
      default: 4,
      description:
        'Requests sent at once, each on its own keep-alive connection. Records of one key go in order over one of them; records ' +
        'without a key are spread over all and may arrive out of order (set 1 for strict order).',
    }),
  },
  { additionalProperties: false },
);

export type HttpSinkConfig = Static<typeof HttpSinkSchema>;

/** One connection's share of the records, sent one request at a time so that records of a key keep their order. */
interface Lane {
  parts: string[];
  sizes: number[];
  records: WireRecord[];
  bytes: number;
  /** The request under way, with its retries; it never rejects. */
  sending: Promise<void> | undefined;
}

/**
 * Sends records to an HTTP endpoint in batched requests over `connections` lanes, each a keep-alive connection
 * of the pool with at most one request under way: a record goes to the lane of its key (keyless records fill
 * one lane's request after another), so up to `connections` requests run at once and records of one key never
 * overtake each other.
 *
 * Requests go out from `write` (full batches), from the `period` timer and from `flush`, and all three end the
 * same way: the sink retries a request itself (408, 429, 5xx and network errors, under the pipeline's retry
 * policy, before the next request of its lane), and records it refuses for good (any other 4xx) or gives up on
 * wait here until the next `write` or `flush` throws them to the engine as RecordsRefused, so `on_error`
 * decides their fate. `flush` waits for every request, so no checkpoint covers a record still on its way.
 */
export class HttpSink implements Sink {
  private readonly target: URL;
  private readonly lanes: Lane[];
  private pool: Pool | undefined;
  private retry: RetrySpec = DEFAULT_RETRY;
  /** Aborted at close or when the pipeline halts: retries stop waiting. */
  private readonly closing = new AbortController();
  /** The pipeline was killed or failed: requests under way are abandoned at close, not waited for. */
  private halted = false;
  /** What requests gave up on, one entry per request, handed to the engine one at a time. */
  private readonly refused: RecordsRefused[] = [];
  /** The lane keyless records go to, until it holds a full request. */
  private keyless = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly config: HttpSinkConfig) {
    this.target = new URL(config.url);
    this.lanes = Array.from({ length: config.connections }, () => ({ parts: [], sizes: [], records: [], bytes: 0, sending: undefined }));
  }

  async open(options?: SinkOpenOptions): Promise<void> {
    const { timeout, connections } = this.config;
    if (options?.retry !== undefined) this.retry = options.retry;
    options?.signal.addEventListener(
      'abort',
      () => {
        this.halted = true;
        this.closing.abort();
      },
      { once: true },
    );
    // undici is most of the CLI's code by size: load it only for pipelines that send over HTTP.
    const { Pool } = await import('undici');
    this.pool = new Pool(this.target.origin, {
      connections,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  /** Buffers the batch and sends what fills a request; waits while a lane holds more than one request's worth. */
  async write(batch: Batch): Promise<void> {
    this.ensureOpen();
    for (const record of batch) this.add(record);
    await this.pump(false);
    this.schedule();
    // This batch is accepted whatever happens here: only records of earlier requests come back.
    this.throwRefused();
  }

  async flush(): Promise<void> {
    this.ensureOpen();
    await this.pump(true);
    await Promise.all(this.lanes.map((lane) => lane.sending));
    this.throwRefused();
  }

  /**
   * Records still buffered or under way at close were never flushed, so never checkpointed: the source replays
   * them. After a kill or failure, requests under way are cut off rather than waited for (up to `timeout`).
   */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.closing.abort();
    const pool = this.pool;
    if (this.halted) await pool?.destroy();
    await Promise.all(this.lanes.map((lane) => lane.sending));
    this.pool = undefined;
    if (!this.halted) await pool?.close();
  }

  private ensureOpen(): void {
    if (this.pool === undefined) throw new WireError('INTERNAL', 'http sink used before open or after close');
  }

  private add(record: WireRecord): void {
    const part = record.json();
    const size = Buffer.byteLength(part) + 1;
    const keyed = record.key !== undefined;
    const lane = this.lanes[keyed ? laneOfKey(record.key!, this.lanes.length) : this.keyless]!;
    lane.parts.push(part);
    lane.sizes.push(size);
    lane.records.push(record);
    lane.bytes += size;
    if (!keyed && this.full(lane)) this.keyless = (this.keyless + 1) % this.lanes.length;
  }

  private full(lane: Lane): boolean {
    const { count, bytes } = this.config.batch;
    return lane.records.length >= count || lane.bytes >= bytes;
  }

  /**
   * Starts a request on every idle lane that holds a full one (every lane holding records, when `everything`),
   * and waits for lanes to free up until none holds more than that.
   */
  private async pump(everything: boolean): Promise<void> {
    const ready = (lane: Lane): boolean => (everything ? lane.records.length > 0 : this.full(lane));
    for (;;) {
      const busy: Promise<void>[] = [];
      for (const lane of this.lanes) {
        if (lane.sending === undefined && ready(lane)) this.start(lane);
        if (lane.sending !== undefined && ready(lane)) busy.push(lane.sending);
      }
      if (busy.length === 0) return;
      await Promise.race(busy);
    }
  }

  /** Sends whatever waited `period` ms, even if its request is not full; a busy lane's records go at the next tick. */
  private schedule(): void {
    if (this.timer !== undefined || this.pool === undefined || !this.lanes.some((lane) => lane.records.length > 0)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const lane of this.lanes) if (lane.sending === undefined && lane.records.length > 0) this.start(lane);
      this.schedule();
    }, this.config.batch.period);
  }

  /** Takes the lane's first request's worth of records off its buffer and sends them. */
  private start(lane: Lane): void {
    const { count, bytes: maxBytes } = this.config.batch;
    let n = 0;
    let size = 0;
    while (n < lane.parts.length && n < count) {
      const partBytes = lane.sizes[n]!;
      if (n > 0 && size + partBytes > maxBytes) break;
      size += partBytes;
      n++;
    }
    const parts = lane.parts.splice(0, n);
    lane.sizes.splice(0, n);
    const records = lane.records.splice(0, n);
    lane.bytes -= size;
    const body = this.config.format === 'ndjson' ? parts.join('\n') + '\n' : '[' + parts.join(',') + ']';
    lane.sending = this.send(body, records).finally(() => (lane.sending = undefined));
  }

  /** One request and its retries. Never rejects: what it gives up on waits in `refused` for the engine. */
  private async send(body: string, records: WireRecord[]): Promise<void> {
    const attempts = Math.max(1, this.retry.maxAttempts);
    for (let attempt = 1; ; attempt++) {
      const error = await this.request(body);
      if (error === undefined) return;
      const last = error.details.retryable === false || attempt >= attempts;
      if (last || !(await this.backoff(attempt))) {
        this.refused.push(new RecordsRefused(records, error, attempt));
        return;
      }
    }
  }

  /** Waits before the next attempt; false when the sink closes meanwhile (the records were never acknowledged). */
  private async backoff(attempt: number): Promise<boolean> {
    const signal = this.closing.signal;
    if (signal.aborted) return false;
    const delay = backoffDelay(this.retry, attempt, Math.random);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, delay);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
    return !signal.aborted;
  }

  /** One request: undefined on a 2xx answer, else the failure as a WireError (`details.retryable` says which). */
  private async request(body: string): Promise<WireError | undefined> {
    const url = this.target.href;
    try {
      const res = await this.pool!.request({
        path: this.target.pathname + this.target.search,
        method: this.config.method,
        headers: { ...this.config.headers, 'content-type': this.config.format === 'ndjson' ? 'application/x-ndjson' : 'application/json' },
        body,
      });
      const text = await res.body.text();
      return res.statusCode >= 200 && res.statusCode < 300 ? undefined : statusError(url, res.statusCode, text);
    } catch (err) {
      return networkError(url, err);
    }
  }

  private throwRefused(): void {
    const first = this.refused.shift();
    if (first !== undefined) throw first;
  }
}

export const httpSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'http',
  description:
    'Sends records to an HTTP endpoint in batches (a JSON array or JSON lines per request), up to `connections` requests ' +
    'at once; records with the same key keep their order. Each request is retried under the pipeline `retry` policy on ' +
    '408, 429, 5xx and network errors (`max_attempts` requests in all); the records of a request refused for good (any ' +
    'other 4xx) or out of attempts go where `on_error` says (dead letter, drop or fail), whichever path sent them.',
  schema: HttpSinkSchema,
  example: { url: 'https://collector.example.com/v1/events', headers: { authorization: 'Bearer ${TOKEN}' }, batch: { count: 500, period: 1000 } },
  create: (config) => new HttpSink(resolveConfig('http sink', HttpSinkSchema, config)),
};
