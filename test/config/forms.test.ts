import { describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { parsePipelineText } from '../../src/config/index.js';
import { registry } from './fake-registry.js';

function pipelines(text: string, env: Record<string, string> = {}): PipelineSpec[] {
  const result = parsePipelineText(text, 'pipeline.yaml', { env, registry, baseDir: '/base' });
  if (result.pipelines === undefined) throw new Error(result.problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  return result.pipelines;
}

const designExample = `
name: orders-enriched            # required, [a-z0-9-_], unique in a cluster
source:
  type: file                     # a registered connector type
  config: { path: ./data/orders.jsonl, format: jsonl }
transforms:
  - type: filter
    config: { expr: "amount > 100" }
  - type: map
    config: { set: { user: "upper(user)", total: "amount * 1.2" } }
sink:
  type: file
  config: { path: ./out/orders.jsonl }
dead_letter: { type: file, config: { path: ./out/orders.dlq.jsonl } }
parallelism: 4                   # lanes; records with the same key stay in order
`;

describe('the three accepted forms', () => {
  it('one pipeline (the example of DESIGN.md)', () => {
    expect(pipelines(designExample)).toEqual([
      {
        name: 'orders-enriched',
        source: { type: 'file', config: { path: './data/orders.jsonl', format: 'jsonl' } },
        transforms: [
          { type: 'filter', config: { expr: 'amount > 100' } },
          { type: 'map', config: { set: { user: 'upper(user)', total: 'amount * 1.2' } } },
        ],
        sink: { type: 'file', config: { path: './out/orders.jsonl', format: 'jsonl' } },
        deadLetter: { type: 'file', config: { path: './out/orders.dlq.jsonl', format: 'jsonl' } },
        parallelism: 4,
        workers: 'auto',
        onError: 'dead_letter',
        retry: { maxAttempts: 5, initialMs: 100, maxMs: 10_000 },
        batchSize: 1024,
      },
    ]);
  });

  it('several pipelines under pipelines:', () => {
    const specs = pipelines(`
pipelines:
  - name: a
    source: { type: generate, config: { count: 3 } }
    sink: { type: stdout }
  - name: b
    source: { type: file, config: { path: in.csv, format: csv } }
    transforms: [ { type: uppercase } ]
    sink: { type: stdout }
    workers: 2
    rate_limit: 500
    on_error: drop
    retry: { max_attempts: 3, initial: 250ms, max: 2s }
    batch_size: 64
    transform_timeout: 2s
`);
    expect(specs.map((s) => s.name)).toEqual(['a', 'b']);
    expect(specs[0]).toMatchObject({ transforms: [], parallelism: 1, workers: 'auto', onError: 'fail', batchSize: 1024 });
    expect(specs[0]!.rateLimit).toBeUndefined();
    expect(specs[0]!.transformTimeoutMs).toBeUndefined();
    expect(specs[1]).toMatchObject({
      transforms: [{ type: 'uppercase', config: {} }],
      workers: 2,
      rateLimit: 500,
      onError: 'drop',
      retry: { maxAttempts: 3, initialMs: 250, maxMs: 2000 },
      batchSize: 64,
      transformTimeoutMs: 2_000,
    });
  });

  it("the original Wire form: each source and the sink with the same key make a pipeline named after the key", () => {
    const specs = pipelines(`
sources:
  - key: orders
    type: file
    config: { path: orders.jsonl }
  - key: users
    type: generate
sinks:
  - key: users
    type: stdout
  - key: orders
    type: file
    config: { path: out.jsonl }
transforms:
  - key: orders
    type: filter
    config: { expr: "amount > 1" }
  - type: uppercase
parallelism: 2
`);
    expect(specs).toEqual([
      expect.objectContaining({
        name: 'orders',
        source: { type: 'file', config: { path: 'orders.jsonl', format: 'jsonl' } },
        sink: { type: 'file', config: { path: 'out.jsonl', format: 'jsonl' } },
        transforms: [
          { type: 'filter', config: { expr: 'amount > 1' } },
          { type: 'uppercase', config: {} },
        ],
        parallelism: 2,
      }),
      expect.objectContaining({
        name: 'users',
        source: { type: 'generate', config: {} },
        sink: { type: 'stdout', config: {} },
        transforms: [{ type: 'uppercase', config: {} }],
        parallelism: 2,
      }),
    ]);
  });

  it('the original form: unmatched keys and repeated keys are problems', () => {
    const result = parsePipelineText(
      [
        'sources:',
        '  - { key: a, type: generate }',
        '  - { key: a, type: generate }',
        '  - { key: lonely, type: generate }',
        'sinks:',
        '  - { key: a, type: stdout }',
        '  - { key: nobody, type: stdout }',
        'transforms:',
        '  - { key: ghost, type: uppercase }',
      ].join('\n'),
      'w.yaml',
      { env: {}, registry },
    );
    expect(result.problems?.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      "3:12 sources[1].key: another entry of sources already has key 'a'",
      "4:12 sources[2].key: no sink has key 'lonely'",
      "7:12 sinks[1].key: no source has key 'nobody'",
      "9:12 transforms[0].key: no source has key 'ghost'",
    ]);
  });

  it('JSON, which parses as YAML', () => {
    const specs = pipelines(
      JSON.stringify({ name: 'j', source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout' }, parallelism: 3 }, null, '\t'),
    );
    expect(specs[0]).toMatchObject({ name: 'j', source: { type: 'generate', config: { count: 1 } }, parallelism: 3 });
  });

  it('on_error defaults to dead_letter with a dead_letter sink, to fail without', () => {
    const base = 'name: a\nsource: { type: generate }\nsink: { type: stdout }\n';
    expect(pipelines(base)[0]!.onError).toBe('fail');
    expect(pipelines(base + 'dead_letter: { type: stdout }\n')[0]!.onError).toBe('dead_letter');
    expect(pipelines(base + 'dead_letter: { type: stdout }\non_error: fail\n')[0]!.onError).toBe('fail');
  });

  it('durations may be numbers of milliseconds or strings with a unit', () => {
    const spec = pipelines('name: a\nsource: { type: generate }\nsink: { type: stdout }\nretry: { initial: 50, max: 1.5m }\n')[0]!;
    expect(spec.retry).toEqual({ maxAttempts: 5, initialMs: 50, maxMs: 90_000 });
  });

  it('reads an empty config: as an empty config', () => {
    const spec = pipelines('name: a\nsource:\n  type: generate\n  config:\nsink: { type: stdout }\n')[0]!;
    expect(spec.source).toEqual({ type: 'generate', config: {} });
  });

  it('leaves relative connector paths as written', () => {
    expect(pipelines(designExample)[0]!.source.config['path']).toBe('./data/orders.jsonl');
  });

  it("resolves js.module against the pipeline file's directory", () => {
    const result = parsePipelineText(
      'name: a\nsource: { type: generate }\ntransforms: [ { type: js, config: { module: ./fn.mjs } } ]\nsink: { type: stdout }\n',
      'dir/p.yaml',
      { env: {}, registry, baseDir: '/nowhere' },
    );
    expect(result.problems?.map((p) => p.message)).toEqual(['module not found: /nowhere/fn.mjs']);
  });
});
