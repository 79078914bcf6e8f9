import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fileSinkDefinition, type FileSink } from '../../src/connectors/sinks/file.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, DLQ, fakeRegistry, gate, spec, transforms } from '../engine/fakes.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const appending = (path: string): FileSink => fileSinkDefinition.create({ path, append: true }) as FileSink;
const records = (ns: number[]): string => ns.map((n) => `{"n":${n}}\n`).join('');
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Records 0..999 through a transform that dead-letters every n ending in 7, into two appending files. */
function run(store: MemoryCheckpointStore, out: string, dlq: string, source: CountingSource) {
  return runPipeline({
    spec: spec({ deadLetter: DLQ, transforms: transforms(['reject-digit', { digit: 7 }]) }),
    registry: fakeRegistry({ source, sink: appending(out), deadLetter: appending(dlq) }),
    checkpointStore: store,
    dataDir: dir,
    // No checkpoint by count or time during the test: only the run's own opening one and its last one.
    checkpoint: { everyRecords: 1_000_000, everyMs: 1_000_000 },
  });
}

describe('file sink, append: true, crash before the first checkpoint', () => {
  it('a rerun replays onto the lengths the files had when the run opened (sink and dead-letter file)', async () => {
    const out = join(dir, 'out.jsonl');
    const dlq = join(dir, 'dlq.jsonl');
    await writeFile(out, 'kept-1\nkept-2\n');
    await writeFile(dlq, 'old-letter\n');
    const store = new MemoryCheckpointStore();

    // The first run stops reading at record 300 and is killed there (as by kill -9: no drain, no last checkpoint).
    const never = gate();
    const first = run(store, out, dlq, new CountingSource({ count: 1_000, before: (i) => (i >= 300 ? never.promise : undefined) }));
    await vi.waitFor(async () => expect(await readFile(out, 'utf8')).toContain('{"n":299}'));
    first.kill();
    await first.done;
    expect(store.history.map((h) => h.checkpoint.position)).toEqual([null]);

    const rerun = await run(store, out, dlq, new CountingSource({ count: 1_000 })).done;
    expect(rerun).toMatchObject({ state: 'stopped', recordsOut: 900, deadLettered: 100 });
    expect(await readFile(out, 'utf8')).toBe('kept-1\nkept-2\n' + records(range(0, 1_000).filter((n) => n % 10 !== 7)));
    const letters = (await readFile(dlq, 'utf8')).trimEnd().split('\n');
    expect(letters[0]).toBe('old-letter');
    expect(letters.slice(1).map((l) => (JSON.parse(l) as { record: { n: number } }).record.n)).toEqual(range(0, 1_000).filter((n) => n % 10 === 7));
  });
});
