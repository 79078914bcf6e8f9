import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import type { ComponentDefinition } from '../../src/core/ports.js';
import { describeFields, renderConnectorDocs, renderConnectorText, typeOf } from '../../src/connectors/docs.js';
import { createRegistry, registryOf } from '../../src/connectors/registry.js';
import { transformDefinitions } from '../../src/transforms/index.js';

describe('registry', () => {
  it('holds every built-in source, sink and transform', () => {
    const registry = createRegistry();
    expect(registry.list('source').map((d) => d.type).sort()).toEqual(['file', 'generate', 'http', 'kafka', 'mongodb', 'mqtt', 'nats', 'postgres_cdc', 'rabbitmq', 'redis', 's3', 'stdin']);
    expect(registry.list('sink').map((d) => d.type).sort()).toEqual(['drop', 'elasticsearch', 'file', 'http', 'kafka', 'mongodb', 'mqtt', 'nats', 'postgres', 'rabbitmq', 'redis', 's3', 'stdout']);
    expect(registry.list('transform').map((d) => d.type).sort()).toEqual(transformDefinitions.map((d) => d.type).sort());
    expect(registry.get('source', 'file')?.kind).toBe('source');
    expect(registry.get('sink', 'generate')).toBeUndefined();
    expect(registry.list()).toHaveLength(25 + transformDefinitions.length);
  });

  it('refuses two definitions with the same kind and type', () => {
    const d = createRegistry().get('sink', 'drop')!;
    expect(() => registryOf([d, d])).toThrow(/two sink definitions named drop/);
  });

  it('gives every connector field a description and every example a valid config', () => {
    const registry = createRegistry();
    for (const d of [...registry.list('source'), ...registry.list('sink')]) {
      for (const f of describeFields(d.schema)) expect(f.description, `${d.kind} ${d.type}.${f.path}`).not.toBe('');
      expect(d.example, `${d.kind} ${d.type}`).toBeDefined();
    }
    // Examples with ${ENV} placeholders are strings the config loader replaces; they are still schema-valid.
    expect(() => registry.get('source', 'file')!.create(registry.get('source', 'file')!.example!)).not.toThrow();
    expect(() => registry.get('sink', 'http')!.create(registry.get('sink', 'http')!.example!)).not.toThrow();
  });
});

describe('connector docs', () => {
  const fake: ComponentDefinition = {
    kind: 'sink',
    type: 'fake',
    description: 'A sink for the docs test.',
    schema: Type.Object({
      url: Type.String({ description: 'Where to | send.' }),
      mode: Type.Union([Type.Literal('a'), Type.Literal('b')], { default: 'a', description: 'Mode.' }),
      tags: Type.Optional(Type.Array(Type.String(), { description: 'Tags.' })),
      batch: Type.Object({ count: Type.Integer({ default: 5, description: 'Count.' }) }, { default: {}, description: 'Batching.' }),
    }),
    example: { url: 'http://x' },
    create: () => {
      throw new Error('not used');
    },
  };

  it('describes fields with type, default, required and nested paths', () => {
    expect(describeFields(fake.schema)).toEqual([
      { path: 'url', type: 'string', required: true, description: 'Where to | send.' },
      { path: 'mode', type: '"a" | "b"', default: 'a', required: false, description: 'Mode.' },
      { path: 'tags', type: 'string[]', required: false, description: 'Tags.' },
      { path: 'batch', type: 'object', default: {}, required: false, description: 'Batching.' },
      { path: 'batch.count', type: 'integer', default: 5, required: false, description: 'Count.' },
    ]);
    expect(typeOf(Type.Record(Type.String(), Type.String()))).toBe('map of string');
  });

  it('renders Markdown with a table per component and a YAML example', () => {
    const md = renderConnectorDocs(registryOf([fake]));
    expect(md).toContain('## Sinks');
    expect(md).toContain('### `fake`');
    expect(md).toContain('| `url` | string |  | yes | Where to \\| send. |');
    expect(md).toContain('| `batch.count` | integer | `5` | no | Count. |');
    expect(md).toContain('```yaml\nsink:\n  type: fake\n  config:\n    url: http://x\n```');
    expect(md).not.toContain('## Sources');
  });

  it('renders the whole registry, every type present in both renderings', () => {
    const registry = createRegistry();
    const md = renderConnectorDocs(registry);
    const text = renderConnectorText(registry);
    for (const d of registry.list()) {
      expect(md).toContain(`### \`${d.type}\``);
      expect(text).toContain(`  ${d.type} — `);
    }
    expect(text).toContain('path (string, required)');
    expect(text).toContain('format ("jsonl" | "lines" | "csv" | "json", default "jsonl")');
  });
});
