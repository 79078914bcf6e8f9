/** `wire run` never loads the HTTP API or its client, and the client commands load only their HTTP client. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const STATIC_IMPORT = /^(?:import|export)\s(?!type\b)[^'"]*?from\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm;

/** Every Wire file and every package a module loads statically (type-only imports load nothing). */
function loads(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) stack.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  }
  return { files, packages };
}

const under = (files: Set<string>, dir: string) => [...files].filter((f) => f.startsWith(join(SRC, dir)));

describe('what the CLI loads', () => {
  it.each(['cli/program.ts', 'cli/commands/run.ts', 'cli/commands/validate.ts'])('%s loads neither the API, the client, the cluster nor Raft', (entry) => {
    const { files, packages } = loads(join(SRC, entry));
    expect(under(files, 'api')).toEqual([]);
    expect(under(files, 'cluster')).toEqual([]);
    expect(under(files, 'raft')).toEqual([]);
    expect([...files].filter((f) => /commands[\\/](pipeline|cluster)\.ts$|api-client\.ts$/.test(f))).toEqual([]);
    expect([...packages].filter((p) => p.startsWith('fastify') || p.startsWith('@fastify/'))).toEqual([]);
  });

  it.each(['cli/commands/pipeline.ts', 'cli/commands/cluster.ts'])('%s loads no server, cluster or Raft code', (entry) => {
    const { files, packages } = loads(join(SRC, entry));
    expect(files.size).toBeGreaterThan(2);
    expect([...under(files, 'api'), ...under(files, 'cluster'), ...under(files, 'raft'), ...under(files, 'engine'), ...under(files, 'connectors')]).toEqual([]);
    expect([...packages].filter((p) => /fastify|lmdb|undici/.test(p))).toEqual([]);
  });
});
