import { cp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire, startWire, waitFor } from './harness.js';

// Every bundled example runs as it is, from a copy of examples/ (relative paths are the user's cwd).
async function examplesCopy(): Promise<string> {
  const dir = await makeTempDir();
  await cp(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  await new Promise((r) => server.close(r));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('examples', () => {
  afterEach(cleanup);

  it('parallel.yaml runs two pipelines side by side, one on four lanes and two workers', async () => {
    const dir = await examplesCopy();
    const result = await runWire(['run', 'examples/parallel.yaml'], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^big-orders: completed: 300 in, 61 out, 1 dead-lettered, 238 filtered in /m);
    expect(result.stderr).toMatch(/^orders-by-user: completed: 300 in, 299 out, 1 dead-lettered in /m);
    const byUser = (await lines(join(dir, 'out', 'orders-by-user.jsonl'))).map(
      (l) => JSON.parse(l) as { id: number; user: string; currency?: string; country: string },
    );
    expect(byUser.every((r) => r.currency === undefined && r.country === r.country.toLowerCase())).toBe(true);
    // Lanes may interleave users, but each user's orders keep their input order.
    const lastId = new Map<string, number>();
    for (const r of byUser) {
      expect(r.id).toBeGreaterThan(lastId.get(r.user) ?? 0);
      lastId.set(r.user, r.id);
    }
  });

  it('legacy-wire.yaml joins sources and sinks by key into two pipelines', async () => {
    const dir = await examplesCopy();
    const result = await runWire(['run', 'examples/legacy-wire.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^orders: completed: 300 in, 177 out, 0 dead-lettered, 1 dropped, 122 filtered in /m);
    expect(result.stderr).toMatch(/^ticks: completed: 100 in, 100 out/m);
    const ticks = (await lines(join(dir, 'out', 'legacy-ticks.jsonl'))).map((l) => JSON.parse(l) as { n: number; user: string });
    expect(ticks[4]).toEqual({ n: 4, user: 'BOT-1' });
  });

  it('generate-to-stdout.yaml writes its records to stdout and only the summary to stderr', async () => {
    const dir = await examplesCopy();
    const result = await runWire(['run', 'examples/generate-to-stdout.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { n: number; user: string; big: boolean });
    expect(records).toHaveLength(20);
    expect(records[9]).toEqual({ n: 9, user: 'USER-2', amount: 112.5, big: true });
    expect(result.stderr.trim()).toMatch(/^generate-to-stdout: completed: 20 in, 20 out, 0 dead-lettered in [\d.]+ s \(.*\)$/);
  });

  it('http-ingest.yaml takes POSTed records into its file until SIGTERM, then exits 0', async () => {
    const dir = await examplesCopy();
    const port = await freePort();
    const wire = startWire(['run', 'examples/http-ingest.yaml'], { cwd: dir, env: { PORT: String(port) } });
    const url = `http://127.0.0.1:${port}/ingest`;
    await waitFor(
      () =>
        fetch(url, { method: 'POST', body: '{"user":"ada","amount":120}' }).then(
          (r) => r.status === 200,
          () => false,
        ),
      30_000,
      100,
    );
    const second = await fetch(url, { method: 'POST', body: '{"user":"bob"}\n{"nouser":1}\n' });
    expect(second.status).toBe(200);
    wire.child.kill('SIGTERM');
    const exited = await wire.exited(30_000);
    expect(exited.code, wire.stderr()).toBe(0);
    expect(wire.stderr()).toMatch(/^http-ingest: stopped: 3 in, 2 out/m);
    expect(await lines(join(dir, 'out', 'ingested.jsonl'))).toEqual(['{"user":"ada","amount":120}', '{"user":"bob"}']);
  });
});
