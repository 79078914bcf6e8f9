import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { WireError, type ErrorCode } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Source, SourceOpenOptions } from '../../core/ports.js';
import type { Batch, Position, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { isLoopback, parseAddress, type HostPort } from '../http/address.js';
import { parseBody } from '../http/body.js';

export const HttpSourceSchema = Type.Object(
  {
    address: Type.String({
      default: '127.0.0.1:8080',
      description: 'host:port to listen on (`[::1]:8080` for IPv6; port 0 picks a free port). Beyond loopback, `auth_token` is required.',
    }),
    path: Type.String({ default: '/ingest', pattern: '^/', description: 'The URL path that accepts POSTed records.' }),
    max_body: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024, description: 'Largest request body in bytes; larger ones get 413.' }),
    auth_token: Type.Optional(
      Type.String({ minLength: 1, description: 'When set, callers must send `Authorization: Bearer <token>`; others get 401.' }),
    ),
    queue_size: Type.Integer({
      minimum: 1,
      default: 10_000,
      description:
        'Most records held (accepted but not yet in the sink). A request that would exceed it gets 429 with Retry-After: this is the backpressure.',
    }),
  },
  { additionalProperties: false },
);

export type HttpSourceConfig = Static<typeof HttpSourceSchema>;

/** A request whose records are in the pipeline; answered when the position of its last record is acknowledged. */
interface Waiting {
  readonly last: number;
  readonly count: number;
  readonly res: ServerResponse;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: ErrorCode, message: string, details = {}, headers = {}): void {
  send(res, status, new WireError(code, message, details).toJSON(), headers);
}

/**
 * An HTTP server that takes records by POST and answers 200 `{accepted: n}` only once every record of
 * the request is acknowledged, so a caller that got 200 knows its records are in the sink. Positions are
 * record sequence numbers; a request is answered when the position of its last record is acknowledged.
 */
export class HttpSource implements Source {
  private server: Server | undefined;
  private bound: HostPort | undefined;
  private queue: WireRecord[] = [];
  private readonly waiting: Waiting[] = [];
  private held = 0;
  private sequence = -1;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly expectedAuth: Buffer | undefined;

  constructor(private readonly config: HttpSourceConfig) {
    this.expectedAuth = config.auth_token === undefined ? undefined : Buffer.from(`Bearer ${config.auth_token}`);
  }

  /** The address the server listens on (after open): tests and logs use it when the port was 0. */
  address(): HostPort {
    if (this.bound === undefined) throw new WireError('UNAVAILABLE', 'http source is not listening');
    return this.bound;
  }

  async open(options: SourceOpenOptions): Promise<void> {
    const { host, port } = parseAddress(this.config.address);
    // Continue the sequence after a checkpoint so positions only ever grow.
    if (typeof options.from === 'number' && Number.isSafeInteger(options.from)) this.sequence = options.from;
    const server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new WireError('UNAVAILABLE', `http source cannot listen on ${this.config.address}: ${err.message}`, {}, err)),
      );
      server.listen(port, host, () => resolve());
    });
    const info = server.address() as AddressInfo;
    this.bound = { host: info.address, port: info.port };
    this.server = server;
    const stop = (): void => this.beginStop();
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const limit = Math.max(1, Math.floor(maxRecords));
    for (;;) {
      if (this.queue.length > 0) {
        let batch: WireRecord[];
        if (this.queue.length <= limit) {
          batch = this.queue;
          this.queue = [];
        } else {
          batch = this.queue.slice(0, limit);
          this.queue = this.queue.slice(limit);
        }
        yield batch;
        continue;
      }
      if (this.stopping) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  async ack(position: Position): Promise<void> {
    if (typeof position !== 'number') return;
    while (this.waiting.length > 0 && this.waiting[0]!.last <= position) {
      const done = this.waiting.shift()!;
      this.held -= done.count;
      send(done.res, 200, { accepted: done.count });
    }
  }

  async close(): Promise<void> {
    this.beginStop();
    // Never acknowledged: the caller must send these again.
    for (const w of this.waiting.splice(0)) sendError(w.res, 503, 'UNAVAILABLE', 'the pipeline stopped before these records were delivered');
    this.queue = [];
    this.held = 0;
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private beginStop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private authorized(req: IncomingMessage): boolean {
    const expected = this.expectedAuth;
    if (expected === undefined) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (this.stopping) return sendError(res, 503, 'UNAVAILABLE', 'the pipeline is stopping', {}, { 'retry-after': '1' });
    if (path !== this.config.path) return sendError(res, 404, 'NOT_FOUND', `no route ${path}; records go to ${this.config.path}`);
    if (req.method !== 'POST') return sendError(res, 405, 'INVALID_INPUT', 'use POST', {}, { allow: 'POST' });
    if (!this.authorized(req)) {
      return sendError(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token', {}, { 'www-authenticate': 'Bearer' });
    }
    const max = this.config.max_body;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) return this.tooLarge(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        this.tooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > max) return;
      const body = Buffer.concat(chunks, size);
      // Not decoded with U+FFFD in place of bad bytes: a body that is not UTF-8 is refused whole, like malformed JSON.
      if (!isUtf8(body)) return sendError(res, 400, 'INVALID_INPUT', 'the body is not valid UTF-8');
      this.accept(body.toString('utf8'), req, res);
    });
    // The caller went away mid-body: there is no one left to answer.
    req.on('error', () => res.destroy());
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    sendError(res, 413, 'INVALID_INPUT', `the body is larger than max_body (${this.config.max_body} bytes)`, {
      max_body: this.config.max_body,
    }, { connection: 'close' });
    // Stop reading the rest of an oversized body: close the connection once the answer is out.
    res.on('finish', () => req.destroy());
  }

  private accept(text: string, req: IncomingMessage, res: ServerResponse): void {
    if (this.stopping) return sendError(res, 503, 'UNAVAILABLE', 'the pipeline is stopping', {}, { 'retry-after': '1' });
    const base = this.sequence + 1;
    let records: WireRecord[];
    try {
      records = parseBody(text, req.headers['content-type'], (i) => base + i);
    } catch (err) {
      const e = err instanceof WireError ? err : new WireError('INVALID_INPUT', String(err));
      return send(res, 400, e.toJSON());
    }
    const n = records.length;
    if (n === 0) return send(res, 200, { accepted: 0 });
    // A request larger than the whole queue is still taken when nothing else is held, or it could never pass.
    if (this.held > 0 && this.held + n > this.config.queue_size) {
      return sendError(res, 429, 'UNAVAILABLE', 'too many records in flight; retry later', { queue_size: this.config.queue_size }, {
        'retry-after': '1',
      });
    }
    this.sequence = base + n - 1;
    this.held += n;
    this.waiting.push({ last: this.sequence, count: n, res });
    for (const r of records) this.queue.push(r);
    this.wake?.();
  }
}

function checkHttpSource(config: Record<string, unknown>): ConfigProblem[] {
  if (typeof config.address !== 'string' || config.auth_token !== undefined) return [];
  try {
    if (!isLoopback(parseAddress(config.address).host)) {
      return [{ path: 'auth_token', message: `required when listening beyond loopback (${config.address})` }];
    }
    return [];
  } catch (err) {
    return [{ path: 'address', message: (err as Error).message }];
  }
}

export const httpSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'http',
  description:
    'An HTTP server taking records by POST: a JSON object, a JSON array or JSON lines. Answers 200 {accepted: n} only once ' +
    'the records are in the sink; 429 when its queue is full, 503 while stopping, 400 for a malformed body (or one that is not UTF-8), 413 when too large, 401 for a bad token.',
  schema: HttpSourceSchema,
  example: { address: '127.0.0.1:8080', path: '/ingest', auth_token: '${INGEST_TOKEN}' },
  check: checkHttpSource,
  create: (config) => new HttpSource(resolveConfig('http source', HttpSourceSchema, config)),
};
