import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// DESIGN.md's dependency rule: arrows point inward. Each subsystem lists what it may import.
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  raft: [],
  observability: ['core'],
  transforms: ['core'],
  config: ['core'],
  // raft: a certificate's node id (TLS) is read as Raft's transport reads it.
  security: ['core', 'config', 'raft'],
  platform: ['core'],
  engine: ['core', 'observability', 'platform'],
  connectors: ['core', 'observability', 'transforms', 'platform'],
  cluster: ['core', 'raft', 'engine', 'config', 'observability', 'platform', 'security'],
  api: ['core', 'cluster', 'engine', 'config', 'connectors', 'observability', 'platform', 'security'],
  testing: ['core', 'config', 'engine', 'observability', 'platform'],
  cli: ['*'],
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push((m[1] ?? m[2])!);
  return found;
}

function subsystemOf(file: string): string {
  return relative(src, file).split(/[\\/]/)[0]!;
}

function violations(): string[] {
  const problems: string[] = [];
  for (const file of filesUnder(src)) {
    const from = subsystemOf(file);
    const allowed = ALLOWED[from];
    if (allowed === undefined) {
      problems.push(`${relative(root, file)}: subsystem '${from}' is not in the dependency rule`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(src)) {
        problems.push(`${relative(root, file)} imports ${spec} from outside src/`);
        continue;
      }
      const to = subsystemOf(target);
      if (to === from || allowed.includes('*') || allowed.includes(to)) continue;
      problems.push(`${relative(root, file)}: ${from} must not import ${to} (${spec})`);
    }
  }
  return problems;
}

describe('dependency rule', () => {
  it('finds static, re-exported and dynamic imports', () => {
    const text = `import { a } from '../core/x.js';\nexport * from "./y.js";\nconst m = await import('../engine/z.js');`;
    expect(importsOf(text)).toEqual(['../core/x.js', './y.js', '../engine/z.js']);
  });

  it('holds for every file in src/', () => {
    expect(violations()).toEqual([]);
  });

  it('keeps raft/core free of I/O, timers, clocks and randomness', () => {
    const core = join(src, 'raft', 'core');
    const banned = /\b(Date\.now|Math\.random|setTimeout|setInterval|setImmediate|process\.|performance\.now)\b|from\s+['"]node:/;
    const offenders = filesUnder(core).filter((f) => banned.test(readFileSync(f, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')));
    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
