// The mongodb connectors in `wire run` against the protocol-level fake (test/harness/mongodb.ts; no real MongoDB
// can be installed here): 100,000 records through the sink and through the source, each with a kill -9 after a
// checkpoint and a rerun, and the server stopped and started mid-run. Every record is checked by content.
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { startFakeMongo, type FakeMongo } from '../harness/mongodb.js';
import { fileLines, killAfterCheckpoint, pipelineFile, stopRun } from './connector-runs.js';

const RECORDS = 100_000;

let fake: FakeMongo | undefined;
let client: MongoClient | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  await cleanup();
  await fake?.close();
  fake = undefined;
});

async function setup(): Promise<{ dir: string; state: string }> {
  fake = await startFakeMongo();
  const { MongoClient } = await import('mongodb');
  client = new MongoClient(fake.url, { retryWrites: false });
  await client.connect();
  const dir = await makeTempDir();
  return { dir, state: join(dir, 'state') };
}

/** How often each n in 0..count-1 appears, from values carrying `n` and its payload: missing, wrong, duplicates. */
function tally(values: { n: number; payload: string }[], count: number): { missing: number[]; wrong: unknown[]; duplicates: number } {
  const seen = new Uint32Array(count);
  const wrong: unknown[] = [];
  for (const v of values) {
    if (v.payload !== `p${(v.n * 7919) % 100003}` || !(v.n >= 0 && v.n < count)) wrong.push(v);
    else seen[v.n]!++;
  }
  const missing: number[] = [];
  let duplicates = 0;
  seen.forEach((times, n) => {
    if (times === 0) missing.push(n);
    else duplicates += times - 1;
  });
  return { missing: missing.slice(0, 20), wrong: wrong.slice(0, 20), duplicates };
}

const payload = (n: number): string => `p${(n * 7919) % 100003}`;

/** Inserts n in [from, to); `sign` -1 gives them negative ids, which sort before every document already loaded. */
async function fill(from: number, to: number, sign = 1): Promise<void> {
  const orders = client!.db('shop').collection<{ _id: number; n: number; payload: string }>('orders');
  for (let start = from; start < to; start += 10_000) {
    const docs = [];
    for (let n = start; n < Math.min(to, start + 10_000); n++) docs.push({ _id: sign * n, n, payload: payload(n) });
    await orders.insertMany(docs);
  }
}

describe('mongodb connectors in wire run (against a protocol-level fake)', () => {
  it('sink: 100,000 records, kill -9 after a checkpoint, rerun: every record once (ids from positions)', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(dir, [
      'name: to-mongo',
      'rate_limit: 25000',
      `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
      `sink: { type: mongodb, config: { url: "${fake!.url}", database: shop, collection: out } }`,
    ]);
    await killAfterCheckpoint('to-mongo', dir, state, file);
    const atKill = fake!.documents('shop.out').length;
    expect(atKill, 'the first run wrote everything before it was killed').toBeLessThan(RECORDS);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const docs = fake!.documents('shop.out') as unknown as { n: number; payload: string }[];
    const check = tally(docs, RECORDS);
    console.log(`mongodb sink after kill -9: ${atKill} documents at the kill, ${docs.length} after the rerun`);
    expect(check).toEqual({ missing: [], wrong: [], duplicates: 0 });
  });

  it('source: 50,000 documents loaded (kill -9 after a checkpoint, rerun) and 50,000 changes streamed: the file holds each exactly once', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    await fill(0, RECORDS / 2);
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, [
      'name: from-mongo',
      'rate_limit: 25000',
      `source: { type: mongodb, config: { url: "${fake!.url}", database: shop, collection: orders, max_await: 200 } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    await killAfterCheckpoint('from-mongo', dir, state, file);
    const atKill = (await fileLines(output)).length;
    const rerun = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileLines(output)).length >= RECORDS / 2 || rerun.child.exitCode !== null, 240_000, 200);
    // Changes after the load: ids below the load's cursor, so only the change stream brings them (a document
    // inserted during the load past its cursor is read by both: at-least-once, as docs/connectors.md says).
    await fill(RECORDS / 2, RECORDS, -1);
    await waitFor(async () => (await fileLines(output)).length >= RECORDS || rerun.child.exitCode !== null, 240_000, 200);
    await stopRun(rerun);
    const values = (await fileLines(output)).map((line) => (JSON.parse(line) as { document: { n: number; payload: string } }).document);
    const check = tally(values, RECORDS);
    console.log(`mongodb source after kill -9: ${atKill} lines at the kill, ${check.duplicates} duplicate(s) in the output`);
    expect(check).toEqual({ missing: [], wrong: [], duplicates: 0 });
  });

  it('source and sink: the server stopped and started mid-run, the pipeline goes on and loses nothing', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(dir, [
      'name: through-mongo',
      `source: { type: mongodb, config: { url: "${fake!.url}", database: shop, collection: orders, snapshot: false, max_await: 200 } }`,
      'transforms: [{ type: map, config: { set: { n: "document.n", payload: "document.payload" }, remove: [document, database, collection, operation, id] } }]',
      `sink: { type: mongodb, config: { url: "${fake!.url}", database: shop, collection: copy, id: "{value.n}" } }`,
    ]);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const half = 20_000;
    const copied = (): number => fake!.documents('shop.copy').length;
    // `snapshot: false` streams only changes made after the stream opened: insert once it is open.
    await waitFor(() => fake!.changeStreams() > 0 || wire.child.exitCode !== null, 60_000, 20);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await fill(0, half);
    await waitFor(async () => copied() > half / 4 || wire.child.exitCode !== null, 120_000, 50);
    await fake!.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await fake!.start();
    await fill(half, 2 * half);
    await waitFor(async () => copied() >= 2 * half || wire.child.exitCode !== null, 240_000, 200).catch((error: unknown) => {
      // Seen once in CI (the run alive, the copy short): what the fake and the run had to say then.
      const missing = tally(fake!.documents('shop.copy') as unknown as { n: number; payload: string }[], 2 * half).missing;
      const state = `copied ${copied()} (missing ${missing.slice(0, 10).join(', ')}), orders ${fake!.documents('shop.orders').length}, change streams ${fake!.changeStreams()}`;
      throw new Error(`${String(error)}: ${state}\nwire's stderr:\n${wire.stderr().slice(-8000)}`);
    });
    await stopRun(wire);
    const check = tally(fake!.documents('shop.copy') as unknown as { n: number; payload: string }[], 2 * half);
    expect(check).toEqual({ missing: [], wrong: [], duplicates: 0 });
  });
});
