// After `tsc`: compiles the built-in schemas ahead of time, bundles the CLI into one CommonJS file and makes
// V8's code cache for it, so that `wire` starts without resolving ~200 modules, compiling a dozen schemas
// or parsing the bundle (see docs/performance.md, "Start-up").
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { build, type Plugin } from 'esbuild';

const dist = new URL('../dist/', import.meta.url);
const { createRegistry } = await import(new URL('connectors/registry.js', dist).href);
const { shapeOf } = await import(new URL('config/forms.js', dist).href);
const { AJV_OPTIONS } = await import(new URL('config/schema-validator.js', dist).href);

interface Definition {
  readonly schema: object;
}
interface Registry {
  list(): Definition[];
}

const registry = createRegistry() as Registry;
// Keyed by JSON text, which is what the CLI looks a schema up by (`usePrecompiledValidators`).
const schemas = new Map<string, object>();
for (const form of ['single', 'many', 'keyed']) {
  const schema = shapeOf(form) as object;
  schemas.set(JSON.stringify(schema), schema);
}
for (const definition of registry.list()) schemas.set(JSON.stringify(definition.schema), definition.schema);

// One CommonJS module per schema (named by a hash of its text), bundled and run only when a pipeline first uses
// it; `index.cjs` maps each schema's text to its module.
const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
const outDir = new URL('config/validators/', dist);
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const lookup: string[] = [];
for (const [text, schema] of schemas) {
  const file = `${createHash('sha256').update(text).digest('base64url')}.cjs`;
  await writeFile(new URL(file, outDir), standaloneCode.default(ajv, ajv.compile(schema)));
  lookup.push(`  [${JSON.stringify(text)}, () => require('./${file}')],`);
}
await writeFile(new URL('index.cjs', outDir), ['module.exports = new Map([', ...lookup, ']);', ''].join('\n'));

// The bundle's entry: the validators first, then the CLI (imported, so that it runs after them).
await writeFile(
  new URL('cli/wire-entry.js', dist),
  [
    "import { usePrecompiledValidators } from '../config/schema-validator.js';",
    "import validators from '../config/validators/index.cjs';",
    'usePrecompiledValidators((schemaText) => validators.get(schemaText)?.());',
    "void import('./main.js');",
    '',
  ].join('\n'),
);

/**
 * Bundles packages that find their native addon from their own `__filename`/`__dirname` (lmdb, msgpackr-extract):
 * in each of their files these are set to where the file is installed, found with `require.resolve` at run time,
 * so the addon loads as it would unbundled while the JavaScript comes from the bundle and its code cache.
 */
function nativePackagesInPlace(packages: readonly string[]): Plugin {
  const resolveAtBuild = createRequire(import.meta.url);
  const installed = packages.map((name) => {
    const entry = resolveAtBuild.resolve(name);
    const marker = `${sep}node_modules${sep}${name}${sep}`;
    return { name, entry, root: entry.slice(0, entry.lastIndexOf(marker) + marker.length) };
  });
  return {
    name: 'native-packages-in-place',
    setup(esbuild) {
      // The CommonJS entry, the one `require.resolve` finds at run time (an `import` would pick lmdb's ES module one).
      esbuild.onResolve({ filter: new RegExp(`^(${packages.join('|')})$`) }, (args) => ({
        path: installed.find((p) => p.name === args.path)!.entry,
      }));
      esbuild.onLoad({ filter: /\.c?js$/ }, async (args) => {
        const owner = installed.find((p) => args.path.startsWith(p.root) && !args.path.slice(p.root.length).includes(`node_modules${sep}`));
        if (owner === undefined) return undefined;
        const fromEntry = JSON.stringify(relative(dirname(owner.entry), args.path));
        const where =
          `var __filename = require('node:path').join(require('node:path').dirname(require.resolve(${JSON.stringify(owner.name)})), ${fromEntry}), ` +
          "__dirname = require('node:path').dirname(__filename);\n";
        return { contents: where + (await readFile(args.path, 'utf8')), loader: 'js' };
      });
    },
  };
}

// One file beside main.js, so every `new URL(…, import.meta.url)` in the CLI's modules resolves as unbundled.
// CommonJS, because V8 caches compiled code for a script (bin/wire.js runs it with `vm.Script`), and Node 20
// offers nothing of the kind for ES modules. Native and worker-loaded packages stay outside; so do the ones
// only some runs need, loaded on demand from node_modules.
const bundle = fileURLToPath(new URL('cli/wire.cjs', dist));
const cacheFile = `${bundle}.cache`;
await rm(cacheFile, { force: true });
const built = await build({
  entryPoints: [fileURLToPath(new URL('cli/wire-entry.js', dist))],
  bundle: true,
  write: false,
  outfile: bundle,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  minifyIdentifiers: true,
  // Code that V8 takes from a cache made by another process cannot `import()` on Node 20 ("A dynamic import
  // callback was not specified"): every `import()` becomes `require`, which loads CommonJS, and ES modules
  // without top-level await.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__wireModuleUrl' },
  banner: { js: "const __wireModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // Fastify's plugins read files beside their own modules (swagger-ui's static assets): loaded from node_modules.
  // Connector clients (ioredis, pg, @elastic/elasticsearch, @platformatic/kafka) load from node_modules only when a pipeline uses their connector.
  external: ['undici', 'prom-client', 'tsx', 'tsx/*', 'fastify', '@fastify/*', '@peculiar/x509', 'reflect-metadata', 'ioredis', 'pg', '@elastic/elasticsearch', '@platformatic/kafka'],
  plugins: [nativePackagesInPlace(['lmdb', 'msgpackr-extract'])],
  // Those packages' `require.resolve` runs at run time on purpose.
  logOverride: { 'require-resolve-not-external': 'silent' },
  logLevel: 'warning',
});
const code = built.outputFiles[0]!.text;
// bin/wire.js reads it as latin1 (esbuild escapes every other character by default).
if (Buffer.byteLength(code, 'utf8') !== code.length) throw new Error('the CLI bundle is not ASCII');
// bin/wire.js uses a cache only when it starts with the hash that ends the bundle.
const stamp = createHash('sha256').update(code).digest('hex');
await writeFile(bundle, `${code}// wire-build ${stamp}\n`);

// The cache holds what a run compiled: a tiny file → file pipeline, the case start-up matters for.
const work = await mkdtemp(join(tmpdir(), 'wire-build-'));
try {
  await writeFile(join(work, 'in.jsonl'), '{"a":1}\n');
  await writeFile(
    join(work, 'cache.yaml'),
    'name: code-cache\nsource: { type: file, config: { path: in.jsonl } }\nsink: { type: file, config: { path: out.jsonl } }\n',
  );
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('../bin/wire.js', import.meta.url)), 'run', 'cache.yaml'], {
    cwd: work,
    env: { ...process.env, WIRE_WRITE_CODE_CACHE: '1' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`making the code cache: wire run failed (${run.status ?? run.signal}):\n${run.stderr}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
