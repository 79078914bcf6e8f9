import { describe, expect, it } from 'vitest';
import { compileExpression, transformDefinitions } from '../../src/transforms/index.js';

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

  it('re-exports compileExpression', () => {
    expect(compileExpression('1 + 1')(null)).toBe(2);
  });
});
