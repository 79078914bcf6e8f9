import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeLines } from './lines.js';
import { cleanup, fileSize, makeTempDir, runWire, startWire, waitFor } from './harness.js';

interface Summary {
  readonly type: 'summary';
  readonly state: string;
  readonly records_in: number;
  readonly records_out: number;
  readonly dead_lettered: number;
  readonly dropped: number;
  readonly filtered: number;
  readonly unconfirmed: number;
}

function summaryOf(stderr: string): Summary {
  const line = stderr.split('\n').find((l) => l.startsWith('{"type":"summary"'));
  if (line === undefined) throw new Error(`no summary line in:\n${stderr.slice(-2000)}`);
  return JSON.parse(line) as Summary;
}

/** in = out + dead-lettered + dropped + filtered + unconfirmed. */
function placed(s: Summary): number {
  return s.records_out + s.dead_lettered + s.dropped + s.filtered + s.unconfirmed;
}

async function countLines(path: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  return text === '' ? 0 : text.split('\n').length - 1;
}

describe('wire run counts what the sink confirmed', () => {
  afterEach(cleanup);

  it('after SIGINT under rate_limit, in = out + … and out is what the output file holds', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir();
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const file = join(dir, 'pipeline.yaml');
    await writeLines(input, 100_000, (i) => JSON.stringify({ n: i }));
    await writeFile(
      file,
      ['name: paced', 'rate_limit: 20000', 'source:', '  type: file', `  config: { path: ${JSON.stringify(input)} }`, 'sink:', '  type: file', `  config: { path: ${JSON.stringify(output)} }`, ''].join('\n'),
    );
    const run = startWire(['run', '--json', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    await waitFor(async () => (await fileSize(output)) > 0, 30_000);
    run.child.kill('SIGINT');
    const exited = await run.exited(30_000);
    expect(exited.code, run.stderr()).toBe(0);
    const summary = summaryOf(run.stderr());
    expect(summary.state).toBe('stopped');
    expect(summary.records_in).toBeLessThan(100_000);
    expect(summary.unconfirmed).toBe(0);
    expect(placed(summary)).toBe(summary.records_in);
    expect(summary.records_out).toBe(await countLines(output));
  });

  it('a failed run to an http sink that accepted nothing has none out, and the rest unconfirmed', { timeout: 60_000 }, async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on('end', () => {
        res.statusCode = 401;
        res.end('no');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const dir = await makeTempDir();
      await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n{"a":2}\n{"a":3}\n');
      await writeFile(
        join(dir, 'p.yaml'),
        ['name: refused', 'source: { type: file, config: { path: ./in.jsonl } }', `sink: { type: http, config: { url: "http://127.0.0.1:${port}/x" } }`, ''].join('\n'),
      );
      const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), join(dir, 'p.yaml')], { cwd: dir });
      expect(result.code).not.toBe(0);
      expect(requests).toBeGreaterThan(0);
      const summary = summaryOf(result.stderr);
      expect(summary).toMatchObject({ state: 'failed', records_in: 3, records_out: 0, unconfirmed: 3 });
      expect(placed(summary)).toBe(3);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
