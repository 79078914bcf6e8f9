// After `tsc`: compiles the built-in schemas ahead of time and bundles the CLI into one file, so that
// `wire` starts without resolving ~200 modules and compiling a dozen schemas (see docs/performance.md).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { build } from 'esbuild';

const dist = new URL('../dist/', import.meta.url);
const { createRegistry } = await import(new URL('connectors/registry.js', dist).href);
const { shapeOf } = await import(new URL('config/forms.js', dist).href);
const { AJV_OPTIONS, schemaFingerprint } = await import(new URL('config/schema-validator.js', dist).href);

interface Definition {
  readonly schema: object;
}
interface Registry {
  list(): Definition[];
}

const registry = createRegistry() as Registry;
const schemas = new Map<string, object>();
for (const form of ['single', 'many', 'keyed']) {
  const schema = shapeOf(form) as object;
  schemas.set(schemaFingerprint(schema), schema);
}
for (const definition of registry.list()) schemas.set(schemaFingerprint(definition.schema), definition.schema);

// One CommonJS file per schema, loaded with `require` when a pipeline first uses it: parsing every
// validator at start-up would cost more than compiling the one a run needs.
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const outDir = new URL('config/validators/', dist);
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
for (const [fingerprint, schema] of schemas) {
  await writeFile(new URL(`${fingerprint}.cjs`, outDir), standaloneCode.default(ajv, ajv.compile(schema)));
}

await writeFile(
  new URL('cli/wire-entry.js', dist),
  [
    "import { usePrecompiledValidators } from '../config/schema-validator.js';",
    "usePrecompiledValidators(new URL('../config/validators/', import.meta.url));",
    "await import('./main.js');",
    '',
  ].join('\n'),
);

// One file beside main.js, so every `new URL(…, import.meta.url)` in the CLI's modules resolves as unbundled.
// Native and worker-loaded packages stay outside.
await build({
  entryPoints: [new URL('cli/wire-entry.js', dist).pathname],
  outfile: new URL('cli/wire.mjs', dist).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  // `wire node` (Raft, the cluster, Fastify) stays out of the bundle: `wire run` must not load it, and an external
  // package of a bundled module would be imported at start-up. It runs from dist/ as tsc wrote it.
  external: ['lmdb', 'msgpackr', 'ajv', 'undici', 'tsx', 'tsx/*', './commands/node.js'],
  banner: { js: "import { createRequire as __wireRequire } from 'node:module'; const require = __wireRequire(import.meta.url);" },
  logLevel: 'warning',
});
