// The elasticsearch sink in `wire run` against the protocol-level fake (test/harness/elasticsearch.ts; no real
// Elasticsearch can be installed here): 100,000 records with a kill -9 after a checkpoint and a rerun, the fake
// stopped and started mid-run, and documents it refuses landing in the dead letter. Every record is checked by content.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire } from '../cli/harness.js';
import { startFakeElasticsearch, type FakeElasticsearch } from '../harness/elasticsearch.js';
import { fileLines, killAfterCheckpoint, pipelineFile } from './connector-runs.js';

const RECORDS = 100_000;

let fake: FakeElasticsearch | undefined;
afterEach(async () => {
  await cleanup();
  await fake?.close();
  fake = undefined;
});

/** Every `n` from 0 to count-1 once, with its payload: what is missing, wrong, and how many documents in all. */
function check(docs: Map<string, unknown>, count: number): { missing: number[]; wrong: unknown[] } {
  const seen = new Set<number>();
  const wrong: unknown[] = [];
  for (const doc of docs.values()) {
    const { n, payload } = doc as { n: number; payload: string };
    if (payload !== `p${(n * 7919) % 100003}`) wrong.push(doc);
    seen.add(n);
  }
  const missing: number[] = [];
  for (let n = 0; n < count; n++) if (!seen.has(n)) missing.push(n);
  return { missing: missing.slice(0, 20), wrong: wrong.slice(0, 20) };
}

const GENERATE = `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`;

describe('elasticsearch sink in wire run (against a protocol-level fake)', () => {
  it('100,000 records, kill -9 after a checkpoint, rerun: every record is indexed once (ids from positions)', { timeout: 300_000 }, async () => {
    fake = await startFakeElasticsearch();
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    const file = await pipelineFile(dir, ['name: to-es', 'rate_limit: 25000', GENERATE, `sink: { type: elasticsearch, config: { url: "${fake.url}", index: orders } }`]);
    await killAfterCheckpoint('to-es', dir, state, file);
    const atKill = fake.count('orders');
    const itemsAtKill = fake.stats.items;
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const replayed = itemsAtKill + RECORDS - atKill;
    console.log(`elasticsearch sink after kill -9: ${atKill} documents at the kill, ${fake.stats.items - replayed} record(s) written again over themselves`);
    expect(check(fake.indices.get('orders')!, RECORDS)).toEqual({ missing: [], wrong: [] });
    expect(fake.count('orders')).toBe(RECORDS);
  });

  it('the server stopped and started mid-run: the run waits, then loses nothing', { timeout: 300_000 }, async () => {
    fake = await startFakeElasticsearch();
    const dir = await makeTempDir();
    const file = await pipelineFile(dir, ['name: es-restart', 'rate_limit: 50000', GENERATE, `sink: { type: elasticsearch, config: { url: "${fake.url}", index: orders } }`]);
    const run = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    const deadline = Date.now() + 120_000;
    while (fake.count('orders') < RECORDS / 5 && run.child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await fake.stop();
    expect(fake.count('orders'), 'the run ended before the server stopped').toBeLessThan(RECORDS);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(run.child.exitCode, run.stderr()).toBeNull();
    await fake.start();
    const ended = await run.exited(240_000);
    expect(ended.code, run.stderr()).toBe(0);
    expect(check(fake.indices.get('orders')!, RECORDS)).toEqual({ missing: [], wrong: [] });
  });

  it('documents refused for good go to the dead letter with the reason; the rest are indexed', { timeout: 120_000 }, async () => {
    fake = await startFakeElasticsearch();
    fake.refuse = (doc) => ((doc as { n: number }).n % 100 === 7 ? { type: 'mapper_parsing_exception', reason: 'failed to parse field [n]' } : undefined);
    const dir = await makeTempDir();
    const dlq = join(dir, 'dlq.jsonl');
    const file = await pipelineFile(dir, [
      'name: es-dlq',
      'source: { type: generate, config: { count: 1000, record: { n: "i" } } }',
      `sink: { type: elasticsearch, config: { url: "${fake.url}", index: orders } }`,
      `dead_letter: { type: file, config: { path: ${JSON.stringify(dlq)} } }`,
    ]);
    const run = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(fake.count('orders')).toBe(990);
    const dead = (await fileLines(dlq)).map((l) => JSON.parse(l) as { error: string; record: { n: number } });
    expect(dead.map((d) => d.record.n)).toEqual(Array.from({ length: 10 }, (_, i) => i * 100 + 7));
    expect(dead[0]!.error).toContain('mapper_parsing_exception');
  });
});
