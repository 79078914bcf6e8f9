// A pipeline file nested too deeply is a problem at its start, found without recursing: deep nesting made the YAML
// parser recurse until V8 failed hard (a fatal out-of-memory in its regular-expression compiler ended the process).
import { describe, expect, it } from 'vitest';
import { parsePipelineText } from '../../src/config/index.js';
import { blockDepth, flowDepth, MAX_NESTING } from '../../src/config/nesting.js';
import { createRegistry } from '../../src/connectors/registry.js';

const registry = createRegistry();
const parse = (text: string) => parsePipelineText(text, 'p.yaml', { env: {}, registry });

describe('nesting limits', () => {
  it.each([
    ['flow sequences', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['flow mappings', '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000)],
    ['block sequences on one line', '- '.repeat(100_000) + '1'],
    ['complex keys', '? '.repeat(100_000) + '1'],
    ['indented blocks', Array.from({ length: 1400 }, (_, d) => ' '.repeat(d) + '-').join('\n')],
  ])('refuses %s nested 100,000 deep with one problem at line 1', (_what, text) => {
    const result = parse(text);
    expect(result.problems).toEqual([expect.objectContaining({ line: 1, column: 1, message: expect.stringContaining(`deeper than ${MAX_NESTING} levels`) })]);
  });

  it('reads a pipeline of ordinary depth', () => {
    const text = 'name: p\nsource:\n  type: generate\n  config: { count: 1 }\ntransforms:\n  - type: map\n    config:\n      set: { a: "[1, [2, [3]]]" }\nsink:\n  type: stdout\n';
    expect(parse(text).problems).toBeUndefined();
  });

  it('bounds the depth from above, quotes included', () => {
    expect(flowDepth('a: "[[[" [1, {b: 2}]')).toBe(5);
    expect(blockDepth('- - - x\n    - y: z')).toBe(6);
  });
});
