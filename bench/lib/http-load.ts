// Load for the http ingest cases: `clients` concurrent clients, each posting `requests` requests of
// `records` JSON lines one after another over a keep-alive connection, timing every answer.
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

export interface LoadResult {
  readonly records: number;
  readonly seconds: number;
  /** Answer times of every request, in milliseconds, sorted. */
  readonly latenciesMs: number[];
  /** Requests answered with anything but 200. */
  readonly failures: number;
}

export interface Load {
  readonly clients: number;
  readonly requests: number;
  readonly records: number;
}

function body(client: number, records: number): string {
  let text = '';
  for (let i = 0; i < records; i++) {
    text += JSON.stringify({ id: client * 1_000_000 + i, user: `user${i % 97}`, amount: (i * 37) % 500, note: 'bench' }) + '\n';
  }
  return text;
}

function post(url: URL, agent: Agent, payload: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function runLoad(target: string, load: Load): Promise<LoadResult> {
  const url = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: load.clients });
  const latenciesMs: number[] = [];
  let failures = 0;
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      Array.from({ length: load.clients }, async (_, client) => {
        const payload = body(client, load.records);
        for (let i = 0; i < load.requests; i++) {
          const sent = process.hrtime.bigint();
          const status = await post(url, agent, payload);
          latenciesMs.push(Number(process.hrtime.bigint() - sent) / 1e6);
          if (status !== 200) failures++;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  return { records: (load.clients * load.requests - failures) * load.records, seconds, latenciesMs, failures };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A port free right now (the OS picks it), for a server started as a child process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something answers HTTP at `url` (any status), within `timeoutMs`. */
export async function waitListening(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { method: 'GET' });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
