// After `tsc`: compiles the built-in schemas ahead of time, bundles the CLI into one CommonJS file and `wire node`
// into another, and makes V8's code cache for each, so that `wire` starts without resolving hundreds of modules,
// compiling a dozen schemas or parsing the bundle (see docs/performance.md, "Start-up").
import { spawn, spawnSync } from 'node:child_process';
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

// The bundles' entries: the validators first, then the CLI (imported, so that it runs after them); `wire node`'s
// bundle exports its command, which the CLI's bundle runs (cli/node-command-loader.ts).
const validatorsFirst = [
  "import { usePrecompiledValidators } from '../config/schema-validator.js';",
  "import validators from '../config/validators/index.cjs';",
  'usePrecompiledValidators((schemaText) => validators.get(schemaText)?.());',
];
await writeFile(new URL('cli/wire-entry.js', dist), [...validatorsFirst, "void import('./main.js');", ''].join('\n'));
await writeFile(new URL('cli/wire-node-entry.js', dist), [...validatorsFirst, "export { nodeCommand } from './commands/node.js';", ''].join('\n'));
/**
 * Bundles packages that find files from their own `__filename`/`__dirname` (lmdb's and msgpackr-extract's native
 * addons, swagger-ui's static assets): in each of their files these are set to where the file is installed, found
 * with `require.resolve` at run time, so those files load as they would unbundled while the JavaScript comes from
 * the bundle and its code cache.
 */
function packagesInPlace(packages: readonly string[]): Plugin {
  const resolveAtBuild = createRequire(import.meta.url);
  const installed = packages.map((name) => {
    const entry = resolveAtBuild.resolve(name);
    const marker = `${sep}node_modules${sep}${name}${sep}`;
    return { name, entry, root: entry.slice(0, entry.lastIndexOf(marker) + marker.length) };
  });
  return {
    name: 'packages-in-place',
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

/** Connector clients: each loads from node_modules only when a pipeline uses its connector. */
const CONNECTOR_CLIENTS = ['ioredis', 'pg', '@elastic/elasticsearch', 'mongodb', '@platformatic/kafka', 'amqplib', 'mqtt', '@nats-io/*', '@aws-sdk/*'];

/**
 * Bundles `entry` into dist/cli/NAME (stamped with its hash, see bin/cached-bundle.js) and returns the source files
 * it holds. Beside main.js, so every `new URL(…, import.meta.url)` in the CLI's modules resolves as unbundled.
 * CommonJS, because V8 caches compiled code for a script (bin/cached-bundle.js runs it with `vm.Script`), and
 * Node 20 offers nothing of the kind for ES modules. Native and worker-loaded packages stay outside, and so do
 * `external` ones, loaded on demand from node_modules.
 */
async function bundleCli(entry: string, name: string, external: readonly string[], inPlace: readonly string[] = []): Promise<string[]> {
  const bundle = fileURLToPath(new URL(`cli/${name}`, dist));
  await Promise.all([rm(`${bundle}.cache`, { force: true }), rm(`${bundle}.LEGAL.txt`, { force: true })]);
  const built = await build({
    entryPoints: [fileURLToPath(new URL(`cli/${entry}`, dist))],
    bundle: true,
    write: false,
    metafile: true,
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
    external: ['tsx', 'tsx/*', ...CONNECTOR_CLIENTS, ...external],
    plugins: [packagesInPlace(['lmdb', 'msgpackr-extract', ...inPlace])],
    // Those packages' `require.resolve` runs at run time on purpose.
    logOverride: { 'require-resolve-not-external': 'silent' },
    logLevel: 'warning',
    // Licence comments go beside the bundle (NAME.LEGAL.txt): some are not ASCII.
    legalComments: 'external',
  });
  const code = built.outputFiles.find((file) => file.path === bundle)!.text;
  for (const legal of built.outputFiles.filter((file) => file.path !== bundle)) await writeFile(legal.path, legal.contents);
  // bin/cached-bundle.js reads it as latin1 (esbuild escapes every other character by default).
  if (Buffer.byteLength(code, 'utf8') !== code.length) throw new Error(`the ${name} bundle is not ASCII`);
  // bin/cached-bundle.js uses a cache only when it starts with the hash that ends the bundle.
  const stamp = createHash('sha256').update(code).digest('hex');
  await writeFile(bundle, `${code}// wire-build ${stamp}\n`);
  return Object.keys(built.metafile.inputs);
}

// The CLI: packages only some runs need (undici, prom-client, the certificates' @peculiar/x509) load on first use.
const cliInputs = await bundleCli('wire-entry.js', 'wire.cjs', ['undici', 'prom-client', '@peculiar/x509', 'reflect-metadata']);
// `wire run` and `wire validate` must not load the node (docs/performance.md, "Start-up"): it has a bundle of its own.
// (Raft's peer-identity.js is here for `wire certs`, which names nodes as Raft's transport reads them.)
const nodeOnly = cliInputs.filter((input) => /^dist\/(cluster|api)\/|node_modules\/(fastify|@fastify)\//.test(input));
if (nodeOnly.length > 0) throw new Error(`the CLI bundle holds modules of wire node: ${nodeOnly.join(', ')}`);
// `wire node`: everything it runs but the packages a node loads only when it needs them (undici to forward an
// ingest request, the certificates' @peculiar/x509). swagger-ui serves the static assets beside its own modules,
// where it is installed.
await bundleCli('wire-node-entry.js', 'wire-node.cjs', ['undici', '@peculiar/x509', 'reflect-metadata'], ['@fastify/swagger-ui']);

const wireBin = fileURLToPath(new URL('../bin/wire.js', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'wire-build-'));
try {
  // The CLI's cache holds what a run compiled: a tiny file → file pipeline, the case start-up matters for.
  await writeFile(join(work, 'in.jsonl'), '{"a":1}\n');
  await writeFile(
    join(work, 'cache.yaml'),
    'name: code-cache\nsource: { type: file, config: { path: in.jsonl } }\nsink: { type: file, config: { path: out.jsonl } }\n',
  );
  const run = spawnSync(process.execPath, [wireBin, 'run', 'cache.yaml'], {
    cwd: work,
    env: { ...process.env, WIRE_WRITE_CODE_CACHE: 'wire.cjs' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`making the code cache: wire run failed (${run.status ?? run.signal}):\n${run.stderr}`);
  // The node's holds what a node compiles from its start to its first write through the API.
  await cacheNodeRun(work);
} finally {
  await rm(work, { recursive: true, force: true });
}

/**
 * Runs a one-node cluster with WIRE_WRITE_CODE_CACHE naming the node's bundle: once it is ready and its admin
 * token is committed, one pipeline is created through its API; then SIGTERM, and the cache is written at exit.
 */
async function cacheNodeRun(dir: string): Promise<void> {
  const dataDir = join(dir, 'node');
  const args = [wireBin, 'node', '--node-id', 'cache', '--data-dir', dataDir, '--http-addr', '127.0.0.1:0', '--raft-addr', '127.0.0.1:0', '--log-level', 'error'];
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, WIRE_WRITE_CODE_CACHE: 'wire-node.cjs' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
  const fail = (why: string): Error => new Error(`making the node's code cache: ${why}\n${stderr}`);
  const deadline = AbortSignal.timeout(60_000);
  try {
    const http = await new Promise<string>((resolveReady, rejectReady) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = /\{"ready":\{[^\n]*\}\}\n/.exec(out)?.[0];
        if (line !== undefined) resolveReady((JSON.parse(line) as { ready: { http: string } }).ready.http);
      });
      void exited.then((code) => rejectReady(fail(`wire node exited (${code}) before it was ready`)));
      deadline.addEventListener('abort', () => rejectReady(fail('not ready in 60 s')));
    });
    let token: string | undefined;
    while (token === undefined) {
      if (deadline.aborted) throw fail('no admin token in 60 s');
      token = await readFile(join(dataDir, 'admin.token'), 'utf8').then((t) => t.trim(), () => undefined);
      if (token === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    const created = await fetch(`http://${http}/v1/pipelines?desired=stopped`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' },
      body: 'name: code-cache\nsource: { type: generate, config: { count: 1 } }\nsink: { type: stdout }\n',
      signal: deadline,
    });
    if (created.status !== 201) throw fail(`creating a pipeline answered ${created.status}: ${await created.text()}`);
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) throw fail(`wire node exited with ${code} on SIGTERM`);
  } finally {
    child.kill('SIGKILL');
  }
}
