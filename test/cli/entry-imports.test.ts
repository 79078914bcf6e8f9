import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Start-up (docs/performance.md): every invocation of `wire` runs the modules its entry imports statically, so
// that graph holds the dispatcher only: commander, and what declares each command. What a command runs, and the
// engine, connectors, config loader and logger it needs, load when that command is chosen (a dynamic import).
const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const ENTRY = join(src, 'cli', 'main.ts');

/** Static imports that run code: `import type` and `export type` are erased, `import()` runs later. */
const STATIC = /^\s*(?:import|export)\s+(?!type\b)[^'"();]*?from\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

function staticImportsOf(text: string): string[] {
  return [...text.matchAll(STATIC)].map((m) => (m[1] ?? m[2])!);
}

function sourceOf(spec: string, from: string): string {
  return resolve(dirname(from), spec).replace(/\.js$/, '.ts');
}

/** The files and packages the entry's static import graph holds. */
function staticGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of staticImportsOf(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.')) visit(sourceOf(spec, file));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(src, f)).sort(), packages: [...packages].sort() };
}

describe("the CLI entry's static imports", () => {
  it('finds value imports and re-exports, not type-only or dynamic ones', () => {
    const text = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "export { c } from './c.js';",
      "export type { D } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
    ].join('\n');
    expect(staticImportsOf(text)).toEqual(['./a.js', './c.js', './e.js']);
  });

  it('hold the dispatcher only: no engine, connector, config, transform, observability or cluster module', () => {
    const { files } = staticGraph(ENTRY);
    expect(files).toContain('cli/program.ts');
    const heavy = files.filter((f) => /^(engine|connectors|config|transforms|observability|raft|cluster|api|testing)\//.test(f));
    expect(heavy).toEqual([]);
  });

  it('load no package but commander', () => {
    expect(staticGraph(ENTRY).packages.filter((p) => !p.startsWith('node:'))).toEqual(['commander']);
  });
});
