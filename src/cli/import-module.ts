import { createRequire } from 'node:module';

type ImportEsm = (url: string) => Promise<Record<string, unknown>>;

/**
 * `import(url)` of a user's ES module (top-level await allowed) that works in the CLI's bundle too. Code that V8
 * takes from a code cache made by another process cannot `import()` on Node 20, so the build turns the bundle's
 * `import()` into `require` (scripts/build-cli.ts), which takes no URL and no module that awaits at top level.
 * From the bundle this goes through `import-esm.js` beside it; `require` loads that ES module (it has no
 * top-level await), and its `import()` is Node's.
 */
export async function importModule(url: string): Promise<Record<string, unknown>> {
  // dist/cli/wire.cjs, or wire-node.cjs (a bundle ends in .cjs; tsc's output in .js).
  if (import.meta.url.endsWith('.cjs')) {
    const { importEsm } = createRequire(import.meta.url)('./import-esm.js') as { importEsm: ImportEsm };
    return importEsm(url);
  }
  return (await import(url)) as Record<string, unknown>;
}
