/**
 * A small JSON client for kv-node's HTTP API (undici). Every request has a deadline, so a killed or
 * hung node turns into an error the caller can retry, never into a wait without end.
 */
import { Agent, request } from 'undici';
import type { Role } from '../../src/raft/index.js';

export interface JsonResponse {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class KvClient {
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 2_000 } });

  constructor(private readonly timeoutMs = 5_000) {}

  /** Sends one request to `address` (host:port); rejects on network errors and timeouts, not on HTTP statuses. */
  async call(address: string, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<JsonResponse> {
    const res = await request(`http://${address}${path}`, {
      method,
      dispatcher: this.agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    let parsed: unknown = {};
    if (text !== '') parsed = JSON.parse(text);
    return { status: res.statusCode, body: parsed as Record<string, unknown> };
  }

  put(address: string, key: string, value: string, timeoutMs?: number): Promise<JsonResponse> {
    return this.call(address, 'PUT', `/v1/kv/${encodeURIComponent(key)}`, { value }, timeoutMs);
  }

  get(address: string, key: string, linearizable: boolean, timeoutMs?: number): Promise<JsonResponse> {
    return this.call(address, 'GET', `/v1/kv/${encodeURIComponent(key)}${linearizable ? '?linearizable=1' : ''}`, undefined, timeoutMs);
  }

  status(address: string, timeoutMs?: number): Promise<KvNodeStatus> {
    return this.call(address, 'GET', '/status', undefined, timeoutMs).then((r) => {
      if (r.status !== 200) throw new Error(`GET /status on ${address}: HTTP ${r.status}`);
      return r.body as unknown as KvNodeStatus;
    });
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** What kv-node's GET /status answers (RaftNodeStatus plus the HTTP side). */
export interface KvNodeStatus {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  readonly leader: string | null;
  readonly leaderHttp: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly membership: { voters: Array<{ id: string }>; learners: Array<{ id: string }> };
  readonly peers: Array<{ id: string; match: number; learner: boolean }>;
  readonly http: string;
  readonly pid: number;
  readonly kv: { keys: number; restores: number; restoredIndex: number };
}
