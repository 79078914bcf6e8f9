/**
 * The HTTP face of `kv-node` (node:http, JSON bodies):
 *   PUT  /v1/kv/:key  {"value": "..."}  → proposes on the leader, answers once applied here
 *   GET  /v1/kv/:key[?linearizable=1]   → local read, or a read behind readIndex
 *   GET  /v1/kv                         → every pair and the applied index (for comparing replicas)
 *   GET  /status                        → the Raft node's status and the state machine's counters
 *   POST /admin/add-learner {id, raft, http?} · /admin/promote {id} · /admin/transfer {to?}
 * A node that is not the leader answers writes and admin calls with 421 and the leader's HTTP address
 * (503 while no leader is known), so clients can follow it the way they follow etcd's leader.
 */
import http from 'node:http';
import { NotLeaderError, RaftError, type RaftNode } from '../../src/raft/index.js';
import { encodePut, type KvStateMachine } from './kv-state-machine.js';

const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface KvHttpOptions {
  readonly node: RaftNode;
  readonly kv: KvStateMachine;
  /** This node's HTTP address (host:port), reported in /status. */
  readonly self: string;
  /** Node id → HTTP address, for redirecting clients to the leader; admin add-learner adds to it. */
  readonly httpAddresses: Map<string, string>;
  readonly log: (message: string) => void;
}

export function createKvServer(o: KvHttpOptions): http.Server {
  const server = http.createServer((req, res) => {
    route(o, req)
      .then((body) => send(res, 200, body))
      .catch((err: unknown) => sendError(o, res, err));
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

async function route(o: KvHttpOptions, req: http.IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://kv');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path.startsWith('/v1/kv/') && path.length > '/v1/kv/'.length) {
    const key = decodeURIComponent(path.slice('/v1/kv/'.length));
    if (method === 'PUT') return put(o, key, await readJson(req));
    if (method === 'GET') return get(o, key, url.searchParams.get('linearizable') === '1');
  }
  if (path === '/v1/kv' && method === 'GET') {
    return { applied: o.node.status().applied, count: o.kv.size, entries: o.kv.entries() };
  }
  if (path === '/status' && method === 'GET') return status(o);
  if (path.startsWith('/admin/') && method === 'POST') return admin(o, path.slice('/admin/'.length), await readJson(req));
  throw new HttpError(404, 'NOT_FOUND', `no route for ${method} ${path}`);
}

async function put(o: KvHttpOptions, key: string, body: Record<string, unknown>): Promise<unknown> {
  if (typeof body.value !== 'string') throw new HttpError(400, 'INVALID_INPUT', 'body must be {"value": "<string>"}');
  const { index, result } = await o.node.propose(encodePut(key, body.value));
  return { index, ...(result as object) };
}

async function get(o: KvHttpOptions, key: string, linearizable: boolean): Promise<unknown> {
  const index = linearizable ? await o.node.readIndex() : o.node.status().applied;
  const value = o.kv.get(key);
  if (value === undefined) throw new HttpError(404, 'NOT_FOUND', `no key "${key}"`);
  return { key, value, index };
}

function status(o: KvHttpOptions): unknown {
  const s = o.node.status();
  return {
    ...s,
    http: o.self,
    leaderHttp: s.leader === null ? null : (o.httpAddresses.get(s.leader) ?? null),
    pid: process.pid,
    kv: { keys: o.kv.size, restores: o.kv.restores, restoredIndex: o.kv.restoredIndex },
  };
}

async function admin(o: KvHttpOptions, action: string, body: Record<string, unknown>): Promise<unknown> {
  const id = typeof body.id === 'string' ? body.id : undefined;
  switch (action) {
    case 'add-learner': {
      if (!id || typeof body.raft !== 'string') throw new HttpError(400, 'INVALID_INPUT', 'body must be {"id", "raft", "http"?}');
      if (typeof body.http === 'string') o.httpAddresses.set(id, body.http);
      await o.node.addLearner({ id, address: body.raft });
      o.log(`added learner ${id} at ${body.raft}`);
      return { ok: true };
    }
    case 'promote': {
      if (!id) throw new HttpError(400, 'INVALID_INPUT', 'body must be {"id"}');
      await o.node.promote(id);
      o.log(`promoted ${id}`);
      return { ok: true };
    }
    case 'transfer': {
      const to = typeof body.to === 'string' ? body.to : undefined;
      const leader = await o.node.transferLeadership(to);
      o.log(`transferred leadership to ${leader}`);
      return { leader };
    }
  }
  throw new HttpError(404, 'NOT_FOUND', `no admin action "${action}"`);
}

/** Collects the body with plain 'data' events: an async iterator costs several promise turns per request. */
function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new HttpError(413, 'INVALID_INPUT', `body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      try {
        resolve(parseBody(size === 0 ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

function parseBody(body: Buffer | undefined): Record<string, unknown> {
  if (body === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_INPUT', 'body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'INVALID_INPUT', 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Raft errors → HTTP: NOT_LEADER 421 (with where to go), TIMEOUT 504, UNAVAILABLE/STOPPED 503, bad input 400. */
function sendError(o: KvHttpOptions, res: http.ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return send(res, err.status, { error: { code: err.code, message: err.message } });
  if (err instanceof NotLeaderError) {
    const leaderHttp = err.leaderId === null ? null : (o.httpAddresses.get(err.leaderId) ?? null);
    const status = err.leaderId === null ? 503 : 421;
    return send(res, status, { error: { code: 'NOT_LEADER', message: err.message }, leader: err.leaderId, leaderHttp });
  }
  if (err instanceof RaftError) {
    const status = { TIMEOUT: 504, UNAVAILABLE: 503, STOPPED: 503, INVALID_ARGUMENT: 400, CONFLICT: 409, NOT_LEADER: 421, CORRUPT_STORAGE: 500 }[err.code];
    return send(res, status, { error: { code: err.code, message: err.message } });
  }
  o.log(`internal error: ${(err as Error).stack ?? String(err)}`);
  send(res, 500, { error: { code: 'INTERNAL', message: (err as Error).message } });
}
