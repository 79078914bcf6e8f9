/** `wire run` and `wire validate` start fast partly by never loading the control plane: no static import path reaches src/cluster. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');
// `import type` is erased at compile time: it loads nothing.
const STATIC_IMPORT = /(?:import|export)\s(?!type\b)[^'"]*?from\s*['"](\.[^'"]+)['"]|^import\s*['"](\.[^'"]+)['"]/gm;

/** Every file a module loads before its first line runs: static imports, transitively (dynamic ones load later, if ever). */
function staticClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = (m[1] ?? m[2])!.replace(/\.js$/, '.ts');
      stack.push(resolve(dirname(file), spec));
    }
  }
  return seen;
}

describe('the control plane stays off the wire run path', () => {
  it.each(['cli/main.ts', 'cli/program.ts', 'cli/commands/run.ts', 'cli/commands/validate.ts'])('%s loads nothing of src/cluster', (entry) => {
    const closure = staticClosure(join(SRC, entry));
    expect(closure.size).toBeGreaterThan(1);
    expect([...closure].filter((f) => f.startsWith(join(SRC, 'cluster')))).toEqual([]);
  });
});
