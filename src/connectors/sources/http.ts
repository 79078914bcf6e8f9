import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Type, type Static } from '@sinclair/typebox';
import { WireError, type ErrorCode } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, RecordOutcome, Source, SourceOpenOptions } from '../../core/ports.js';
import type { Batch, Position, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { isLoopback, parseAddress, type HostPort } from '../http/address.js';
import { parseBody, type BodyRecords } from '../http/body.js';
import { turnOffPretenuring } from '../../platform/no-pretenuring.js';

/** `max_body`'s default; the cluster's ingest route applies it too. */
export const HTTP_SOURCE_MAX_BODY = 10 * 1024 * 1024;

export const HttpSourceSchema = Type.Object(
  {
    address: Type.String({
      default: '127.0.0.1:8080',
      description: 'host:port to listen on (`[::1]:8080` for IPv6; port 0 picks a free port). Beyond loopback, `auth_token` is required.',
    }),
    path: Type.String({ default: '/ingest', pattern: '^/', description: 'The URL path that accepts POSTed records.' }),
    max_body: Type.Integer({ minimum: 1, default: HTTP_SOURCE_MAX_BODY, description: 'Largest request body in bytes; larger ones get 413.' }),
    auth_token: Type.Optional(
      Type.String({ minLength: 1, 'x-wire-secret': true, description: 'When set, callers must send `Authorization: Bearer <token>`; others get 401.' }),
    ),
    queue_size: Type.Integer({
      minimum: 1,
      default: 10_000,
      description:
        'Most records held (accepted but not yet in the sink). A request that would exceed it gets 429 with Retry-After: this is the backpressure.',
    }),
    queue_bytes: Type.Integer({
      minimum: 1,
      default: 64 * 1024 * 1024,
      description:
        'Most request body bytes held (being received, or waiting for their records to be in the sink). A request that would exceed it gets 429 with Retry-After.',
    }),
    max_requests: Type.Integer({
      minimum: 1,
      default: 1024,
      description: 'Most requests at once (being received, or waiting for their answer). More get 503 with Retry-After.',
    }),
  },
  { additionalProperties: false },
);

export type HttpSourceConfig = Static<typeof HttpSourceSchema>;

/** A request whose records are in the pipeline: answered, with what became of them, once the last is acknowledged. */
interface Waiting {
  /** Positions of its first and last records. */
  readonly first: number;
  readonly last: number;
  readonly res: ServerResponse;
  accepted: number;
  deadLettered: number;
  dropped: number;
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

const RETRY_LATER = { 'retry-after': '1' };

/**
 * The answer to a request whose records are all acknowledged: 200 with the counts when at least one record
 * reached the sink; 422 when none did (every one filtered, dead-lettered or dropped), since sending them again
 * would not change that. Records a transform split count once per piece, so `filtered` is never negative.
 */
function answer(w: Waiting): void {
  const count = w.last - w.first + 1;
  const outcome = {
    accepted: w.accepted,
    dead_lettered: w.deadLettered,
    dropped: w.dropped,
    filtered: Math.max(0, count - w.accepted - w.deadLettered - w.dropped),
  };
  if (w.accepted > 0) return send(w.res, 200, outcome);
  const error = new WireError('INVALID_INPUT', `none of the ${count} record(s) reached the sink`, outcome);
  send(w.res, 422, { ...error.toJSON(), ...outcome });
}

/**
 * An HTTP server that takes records by POST and answers only once every record of the request is in the sink
 * or placed by `on_error` and durable (acknowledged), with what became of them (see `answer`). Positions are
 * record sequence numbers. While requests wait it asks the engine for prompt checkpoints (`awaitingAck`), so a
 * request is answered in about one flush, and one flush answers every request waiting.
 *
 * What it holds is bounded three ways, each answered before anything grows: records (`queue_size`, 429),
 * body bytes (`queue_bytes`, 429; one body alone is always let through, up to `max_body`, 413) and requests
 * (`max_requests`, 503).
 */
export class HttpSource implements Source {
  private server: Server | undefined;
  private bound: HostPort | undefined;
  /** Requests whose records the engine has not read yet, and how many of the first one it has. */
  private queue: BodyRecords[] = [];
  private taken = 0;
  private queued = 0;
  /** Requests in the pipeline, in position order. */
  private waiting: Waiting[] = [];
  private held = 0;
  private heldBytes = 0;
  private requests = 0;
  private sequence = -1;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly expectedAuth: Buffer | undefined;
  /** node:crypto's, loaded by `open` (before any request is handled). */
  private timingSafeEqual: ((a: Buffer, b: Buffer) => boolean) | undefined;

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
    // Loaded here, not with the module: every run loads the registry, few run an http source (docs/performance.md).
    const [{ createServer }, { timingSafeEqual }] = await Promise.all([import('node:http'), import('node:crypto'), turnOffPretenuring()]);
    this.timingSafeEqual = timingSafeEqual;
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
      if (this.queued > 0) {
        yield this.take(limit);
        continue;
      }
      if (this.stopping) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  /** Up to `limit` queued records, made now: until the engine reads them, a request holds its bytes, not records. */
  private take(limit: number): WireRecord[] {
    const batch: WireRecord[] = [];
    while (batch.length < limit && this.queue.length > 0) {
      const head = this.queue[0]!;
      const to = Math.min(head.count, this.taken + limit - batch.length);
      head.pushTo(batch, this.taken, to);
      this.taken = to;
      if (to === head.count) {
        this.queue.shift();
        this.taken = 0;
      }
    }
    this.queued -= batch.length;
    return batch;
  }

  awaitingAck(): boolean {
    return this.waiting.length > 0;
  }

  outcome(records: readonly WireRecord[], outcome: RecordOutcome, previous?: 'accepted'): void {
    let w: Waiting | undefined;
    for (const record of records) {
      const position = record.position;
      if (typeof position !== 'number') continue;
      // Records come in runs of one request: look the request up only when the run ends.
      if (w === undefined || position < w.first || position > w.last) w = this.waitingAt(position);
      if (w === undefined) continue;
      if (previous === 'accepted') w.accepted--;
      if (outcome === 'accepted') w.accepted++;
      else if (outcome === 'dead_lettered') w.deadLettered++;
      else w.dropped++;
    }
  }

  async ack(position: Position): Promise<void> {
    if (typeof position !== 'number') return;
    let done = 0;
    while (done < this.waiting.length && this.waiting[done]!.last <= position) {
      const w = this.waiting[done++]!;
      this.held -= w.last - w.first + 1;
      answer(w);
    }
    if (done > 0) this.waiting = this.waiting.slice(done);
  }

  async close(): Promise<void> {
    this.beginStop();
    // Never acknowledged: the caller must send these again.
    for (const w of this.waiting.splice(0)) sendError(w.res, 503, 'UNAVAILABLE', 'the pipeline stopped before these records were delivered');
    this.queue = [];
    this.taken = 0;
    this.queued = 0;
    this.held = 0;
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The waiting request holding `position` (binary search: requests are in position order). */
  private waitingAt(position: number): Waiting | undefined {
    let lo = 0;
    let hi = this.waiting.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const w = this.waiting[mid]!;
      if (position < w.first) hi = mid - 1;
      else if (position > w.last) lo = mid + 1;
      else return w;
    }
    return undefined;
  }

  private beginStop(): void {
    this.stopping = true;
    this.wake?.();
  }

  private authorized(req: IncomingMessage): boolean {
    const expected = this.expectedAuth;
    if (expected === undefined) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && this.timingSafeEqual!(given, expected);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (this.stopping) return sendError(res, 503, 'UNAVAILABLE', 'the pipeline is stopping', {}, RETRY_LATER);
    if (path !== this.config.path) return sendError(res, 404, 'NOT_FOUND', `no route ${path}; records go to ${this.config.path}`);
    if (req.method !== 'POST') return sendError(res, 405, 'INVALID_INPUT', 'use POST', {}, { allow: 'POST' });
    if (!this.authorized(req)) {
      return sendError(res, 401, 'UNAUTHORIZED', 'missing or wrong bearer token', {}, { 'www-authenticate': 'Bearer' });
    }
    if (this.requests >= this.config.max_requests) {
      return this.refuse(req, res, 503, 'too many requests at once; retry later', { max_requests: this.config.max_requests });
    }
    // From here the request counts, and its bytes are held, until its answer is out or its connection gone.
    this.requests++;
    let bytes = 0;
    res.once('close', () => {
      this.requests--;
      this.heldBytes -= bytes;
    });
    const max = this.config.max_body;
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > max) return this.tooLarge(req, res);
    if (declared > 0 && this.overBytes(declared)) return this.refuseBytes(req, res);
    const chunks: Buffer[] = [];
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (bytes + chunk.length > max || this.overBytes(chunk.length, bytes)) {
        refused = true;
        if (bytes + chunk.length > max) this.tooLarge(req, res);
        else this.refuseBytes(req, res);
        return;
      }
      bytes += chunk.length;
      this.heldBytes += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks, bytes);
      // Not decoded with U+FFFD in place of bad bytes: a body that is not UTF-8 is refused whole, like malformed JSON.
      if (!isUtf8(body)) return sendError(res, 400, 'INVALID_INPUT', 'the body is not valid UTF-8');
      this.accept(body, req, res);
    });
    // The caller went away mid-body: there is no one left to answer.
    req.on('error', () => res.destroy());
  }

  /** Whether `more` bytes would pass `queue_bytes`; a request holding every held byte itself always may go on. */
  private overBytes(more: number, own = 0): boolean {
    return this.heldBytes > own && this.heldBytes + more > this.config.queue_bytes;
  }

  private refuseBytes(req: IncomingMessage, res: ServerResponse): void {
    this.refuse(req, res, 429, 'too many bytes in flight; retry later', { queue_bytes: this.config.queue_bytes });
  }

  /** Answers at once with Retry-After, and stops reading the body: the connection closes once the answer is out. */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, details: Record<string, number>): void {
    sendError(res, status, 'UNAVAILABLE', message, details, { ...RETRY_LATER, connection: 'close' });
    res.on('finish', () => req.destroy());
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    sendError(res, 413, 'INVALID_INPUT', `the body is larger than max_body (${this.config.max_body} bytes)`, {
      max_body: this.config.max_body,
    }, { connection: 'close' });
    // Stop reading the rest of an oversized body: close the connection once the answer is out.
    res.on('finish', () => req.destroy());
  }

  private accept(body: Buffer, req: IncomingMessage, res: ServerResponse): void {
    if (this.stopping) return sendError(res, 503, 'UNAVAILABLE', 'the pipeline is stopping', {}, RETRY_LATER);
    const base = this.sequence + 1;
    let records: BodyRecords;
    try {
      records = parseBody(body, req.headers['content-type'], (i) => base + i);
    } catch (err) {
      const e = err instanceof WireError ? err : new WireError('INVALID_INPUT', String(err));
      return send(res, 400, e.toJSON());
    }
    const n = records.count;
    if (n === 0) return send(res, 200, { accepted: 0, dead_lettered: 0, dropped: 0, filtered: 0 });
    // A request larger than the whole queue is still taken when nothing else is held, or it could never pass.
    if (this.held > 0 && this.held + n > this.config.queue_size) {
      return sendError(res, 429, 'UNAVAILABLE', 'too many records in flight; retry later', { queue_size: this.config.queue_size }, RETRY_LATER);
    }
    this.sequence = base + n - 1;
    this.held += n;
    this.waiting.push({ first: base, last: this.sequence, res, accepted: 0, deadLettered: 0, dropped: 0 });
    this.queue.push(records);
    this.queued += n;
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
    'An HTTP server taking records by POST: a JSON object, a JSON array or JSON lines. Answers once the records are durable, ' +
    'with what became of them: 200 {accepted, dead_lettered, dropped, filtered} when at least one reached the sink, 422 with ' +
    'the same counts when none did; 429 when its records or bytes are full, 503 at max_requests and while stopping, 400 for a ' +
    'malformed body (or one that is not UTF-8), 413 when too large, 401 for a bad token.',
  schema: HttpSourceSchema,
  example: { address: '127.0.0.1:8080', path: '/ingest', auth_token: '${INGEST_TOKEN}' },
  check: checkHttpSource,
  create: (config) => new HttpSource(resolveConfig('http source', HttpSourceSchema, config)),
  // Callers send the records; nothing of the config (an address, a token) decides them.
  identity: () => ({ label: '', key: {} }),
};
