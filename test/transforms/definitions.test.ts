import { describe, expect, it } from 'vitest';
import type { Transform } from '../../src/core/ports.js';
import { WireRecord } from '../../src/core/record.js';
import { registryFromModule } from '../../src/engine/components.js';
import { compileExpression, transformDefinitions } from '../../src/transforms/index.js';
import { transformFactories } from '../../src/transforms/runtime.js';

describe('transformDefinitions', () => {
  it('declares the built-in transforms, once each', () => {
    expect(transformDefinitions.map((d) => d.type)).toEqual(['filter', 'map', 'key', 'uppercase', 'js']);
    for (const d of transformDefinitions) {
      expect(d.kind).toBe('transform');
      expect(d.description.length).toBeGreaterThan(10);
      expect(d.schema['type']).toBe('object');
      expect(d.schema['additionalProperties']).toBe(false);
    }
  });

  it('gives each an example config its own check accepts', () => {
    for (const d of transformDefinitions.filter((t) => t.type !== 'js')) {
      expect(d.example, d.type).toBeDefined();
      expect(d.check?.(d.example!) ?? [], d.type).toEqual([]);
    }
  });

  it('have schema-free factories for worker threads, one per definition, building the same transforms', async () => {
    expect(Object.keys(transformFactories).sort()).toEqual(transformDefinitions.map((d) => d.type).sort());
    const records = () => [WireRecord.fromRaw('{"a":2,"s":"x"}'), WireRecord.fromRaw('{"a":0,"s":"y"}')];
    const ctx = { reject: () => undefined };
    for (const d of transformDefinitions.filter((t) => t.type !== 'js')) {
      const viaDefinition = await (d.create(d.example!) as Transform).process(records(), ctx);
      const viaFactory = await transformFactories[d.type]!(d.example!).process(records(), ctx);
      expect(viaFactory.map((r) => [r.json(), r.key]), d.type).toEqual(viaDefinition.map((r) => [r.json(), r.key]));
    }
    const runtime = await import('../../src/transforms/runtime.js');
    expect(registryFromModule(runtime, 'runtime').get('transform', 'map')?.create).toBe(transformFactories.map);
    expect(registryFromModule(runtime, 'runtime').get('source', 'map')).toBeUndefined();
  });

  it('re-exports compileExpression', () => {
    expect(compileExpression('1 + 1')(null)).toBe(2);
  });
});
