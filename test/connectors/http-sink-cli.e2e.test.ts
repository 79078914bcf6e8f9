// The http sink through the built `wire` command: what a refusing, failing or silent endpoint does to the
// run's summary, its dead letters and its exit code (the table in docs/cli.md).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from '../cli/harness.js';

const servers: Server[] = [];

/** An endpoint answering `status` to every request (or never answering, for `hang`); counts the requests. */
async function endpoint(status: number | 'hang'): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      if (status !== 'hang') res.writeHead(status).end(`status ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/in`, requests: () => requests };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await cleanup();
});

/** Runs generate → http sink with the given settings; returns the result and the dead letters. */
async function run(
  sinkConfig: string,
  settings: string[],
  count = 5,
): Promise<{ code: number | null; stderr: string; letters: { code: string; stage: string; attempts: number }[] }> {
  const dir = await makeTempDir();
  const file = join(dir, 'pipeline.yaml');
  const dlq = join(dir, 'dlq.jsonl');
  await writeFile(
    file,
    [
      'name: to-http',
      'source:',
      '  type: generate',
      `  config: { count: ${count}, rate: 100 }`,
      'sink:',
      '  type: http',
      `  config: ${sinkConfig}`,
      ...settings.map((line) => line.replace('DLQ', dlq)),
      '',
    ].join('\n'),
  );
  const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
  const text = await readFile(dlq, 'utf8').catch(() => '');
  const letters = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { code: string; stage: string; attempts: number });
  return { code: result.code, stderr: result.stderr, letters };
}

const DEAD_LETTER = ['dead_letter: { type: file, config: { path: DLQ } }'];
const FAST_RETRY = 'retry: { max_attempts: 2, initial: 1ms, max: 5ms }';

describe('wire run with an http sink', () => {
  it('dead-letters every record the timed send had refused, and counts none as out', async () => {
    const { url } = await endpoint(400);
    const { code, stderr, letters } = await run(`{ url: "${url}", batch: { period: 100 } }`, DEAD_LETTER, 50);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/to-http: \w+: 50 in, 0 out, 50 dead-lettered/);
    expect(letters).toHaveLength(50);
    expect(letters[0]).toMatchObject({ stage: 'sink', code: 'INVALID_INPUT' });
  });

  it('dead-letters, not fails, records whose retries on 5xx ran out, after exactly max_attempts requests each', async () => {
    const { url, requests } = await endpoint(503);
    const { code, stderr, letters } = await run(`{ url: "${url}", batch: { count: 100, period: 50 } }`, [...DEAD_LETTER, FAST_RETRY]);
    expect(code, stderr).toBe(0);
    expect(letters).toHaveLength(5);
    expect(letters[0]).toMatchObject({ stage: 'sink', code: 'UNAVAILABLE', attempts: 2 });
    // Records go out in requests of one or more; each request is sent exactly twice.
    expect(requests() % 2).toBe(0);
    expect(requests()).toBeLessThanOrEqual(10);
  });

  it.each([
    [401, 3, 'UNAUTHORIZED'],
    [403, 3, 'FORBIDDEN'],
    [400, 2, 'INVALID_INPUT'],
  ])('exits as the table says when the endpoint answers %i under on_error: fail', async (status, exit, wireCode) => {
    const { url } = await endpoint(status);
    const { code, stderr } = await run(`{ url: "${url}", batch: { period: 50 } }`, ['on_error: fail']);
    expect(stderr).toContain(`wire: ${wireCode}: `);
    expect(code, stderr).toBe(exit);
  });

  it('exits 6 (TIMEOUT) when the endpoint never answers and retries run out', async () => {
    const { url } = await endpoint('hang');
    const { code, stderr } = await run(`{ url: "${url}", timeout: 200, batch: { period: 50 } }`, ['on_error: fail', FAST_RETRY]);
    expect(stderr).toContain('wire: TIMEOUT: ');
    expect(code, stderr).toBe(6);
  });
});
