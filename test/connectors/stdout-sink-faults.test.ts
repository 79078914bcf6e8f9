import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdoutSink } from '../../src/connectors/sinks/stdout.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, spec } from '../engine/fakes.js';

/** Standard output whose reader went away after `accepted` writes (EPIPE from then on). */
function closedPipe(accepted: number): { stream: Writable; chunks: string[]; writes: () => number } {
  const chunks: string[] = [];
  let writes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes++;
      if (writes > accepted) return callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  stream.on('error', () => undefined);
  return { stream, chunks, writes: () => writes };
}

describe('stdout sink: a failed write', () => {
  it('fails the run at once: no retry writing the batch twice, no dead-lettering of every record after it', async () => {
    const pipe = closedPipe(2);
    const deadLetter = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ deadLetter: DLQ }),
      registry: fakeRegistry({ source: new CountingSource({ count: 1_000 }), sink: new StdoutSink({ format: 'jsonl' }, pipe.stream), deadLetter }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/nonexistent',
    }).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toMatch(/stdout sink: write EPIPE/);
    // Two writes went out, but no flush confirmed them before the failure: out counts only what a flush confirmed.
    expect(summary).toMatchObject({ recordsOut: 0, deadLettered: 0, unconfirmed: summary.recordsIn });
    expect(deadLetter.writtenCount).toBe(0);
    expect(pipe.writes()).toBe(3);
  });
});
