import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/connectors/registry.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { assertSameIdentity, checkpointIdentity, describePosition } from '../../src/engine/checkpoint-identity.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, MemorySink, fakeRegistry, spec } from './fakes.js';

const registry = createRegistry();

function pipeline(source: PipelineSpec['source'], sink: PipelineSpec['sink'] = { type: 'drop', config: {} }): PipelineSpec {
  return { ...spec(), source, sink };
}

const where = { pipeline: 'p', key: 'p', dataDir: './.wire' };

describe('checkpoint identity', () => {
  it('a file source is its absolute path and format; how it is polled does not count', () => {
    const a = checkpointIdentity(registry, pipeline({ type: 'file', config: { path: 'in.jsonl' } }));
    const b = checkpointIdentity(registry, pipeline({ type: 'file', config: { path: resolve('in.jsonl'), format: 'jsonl', poll_interval: 999 } }));
    expect(a.source).toEqual(b.source);
    expect(a.source.label).toBe(`file ${resolve('in.jsonl')}`);
    const lines = checkpointIdentity(registry, pipeline({ type: 'file', config: { path: 'in.jsonl', format: 'lines' } }));
    expect(lines.source.fingerprint).not.toBe(a.source.fingerprint);
  });

  it('a generate source is its count and record expressions, not its rate', () => {
    const at = (config: Record<string, unknown>) => checkpointIdentity(registry, pipeline({ type: 'generate', config })).source.fingerprint;
    expect(at({ count: 10, rate: 5 })).toBe(at({ count: 10 }));
    expect(at({ count: 10 })).not.toBe(at({ count: 11 }));
    expect(at({ count: 10, record: { i: 'i' } })).not.toBe(at({ count: 10, record: { i: 'i * 2' } }));
  });

  it('keeps no config text: an http source token changes nothing and appears nowhere', () => {
    const identity = checkpointIdentity(registry, pipeline({ type: 'http', config: { address: '127.0.0.1:0', auth_token: 'secret-token-123' } }));
    expect(identity.source.label).toBe('http');
    expect(JSON.stringify(identity)).not.toContain('secret');
  });

  it('names a file sink by its absolute path, and a sink without state not at all', () => {
    const source = { type: 'generate', config: { count: 1 } };
    expect(checkpointIdentity(registry, pipeline(source, { type: 'file', config: { path: 'out.jsonl' } })).sink?.label).toBe(`file ${resolve('out.jsonl')}`);
    expect(checkpointIdentity(registry, pipeline(source)).sink).toBeUndefined();
  });

  it('refuses a checkpoint saved for another source or sink, and takes one saved before identities existed', () => {
    const one = checkpointIdentity(registry, pipeline({ type: 'generate', config: { count: 1 } }, { type: 'file', config: { path: 'a' } }));
    const two = checkpointIdentity(registry, pipeline({ type: 'generate', config: { count: 2 } }, { type: 'file', config: { path: 'a' } }));
    const moved = checkpointIdentity(registry, pipeline({ type: 'generate', config: { count: 1 } }, { type: 'file', config: { path: 'b' } }));
    expect(() => assertSameIdentity(one, two, where)).toThrow(/saved for the source generate \(count 1\), and the pipeline now has generate \(count 2\)/);
    expect(() => assertSameIdentity(one, moved, where)).toThrow(expect.objectContaining({ code: 'CONFLICT', details: expect.objectContaining({ component: 'sink' }) }));
    expect(() => assertSameIdentity(undefined, one, where)).not.toThrow();
    expect(() => assertSameIdentity(one, one, where)).not.toThrow();
  });

  it('describes a position in the source\'s words', () => {
    expect(describePosition(registry, { type: 'file', config: { path: 'in.jsonl' } }, 40)).toBe('in.jsonl at byte 40');
    expect(describePosition(registry, { type: 'file', config: { path: 'in.json', format: 'json' } }, 3)).toBe('in.json after element 3');
    expect(describePosition(registry, { type: 'file', config: { path: '*.jsonl' } }, { file: 'b.jsonl', offset: 8, done: ['a.jsonl'] })).toBe(
      'b.jsonl at byte 8 (1 file read before it)',
    );
    expect(describePosition(registry, { type: 'generate', config: {} }, 9)).toBe('after record 9 (records are numbered from 0)');
    expect(describePosition(registry, { type: 'stdin', config: {} }, null)).toBe('the start (nothing was acknowledged yet)');
  });

  it('the runner saves the identity with every checkpoint and refuses another before opening anything', async () => {
    const store = new MemoryCheckpointStore();
    const first = new CountingSource({ count: 5 });
    const done = await runPipeline({ spec: spec(), registry: fakeRegistry({ source: first, sink: new MemorySink() }), checkpointStore: store, dataDir: '/x' })
      .done;
    expect(done.state).toBe('stopped');
    const saved = await store.load('test');
    expect(saved?.identity?.source.type).toBe(spec().source.type);
    await store.save('test', { ...saved!, identity: { source: { type: 'other', label: 'other', fingerprint: 'f' } } });
    const source = new CountingSource({ count: 5 });
    const sink = new MemorySink();
    const refused = await runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x' }).done;
    expect(refused).toMatchObject({ state: 'failed', error: { code: 'CONFLICT' } });
    expect(source.opened).toBeUndefined();
    expect(sink.openedWith).toBeUndefined();
  });
});
