// What `wire` loads, seen from inside the process: a command loads only what it uses (docs/performance.md,
// "Start-up"). A probe preloaded with --require writes, at exit, the Node built-in modules loaded and every file
// `require` loaded; the bundle loads packages kept outside it (prom-client, undici) and native addons that way.
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire } from './harness.js';

interface Loaded {
  readonly builtins: string[];
  readonly files: string[];
}

const PROBE = [
  "'use strict';",
  "process.on('exit', () => {",
  "  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));",
  "  require('node:fs').writeFileSync(process.env.WIRE_TEST_PROBE_OUT, JSON.stringify({ builtins, files: Object.keys(require.cache) }));",
  '});',
  '',
].join('\n');

/**
 * Built-in modules a file → file run has no use for (each costs 1–8 ms to load). Not `crypto`: the checkpoint
 * identity is a SHA-256 (engine/checkpoint-identity.ts).
 */
const UNNEEDED_BUILTINS = ['http', 'https', 'tls', 'zlib', 'perf_hooks', 'v8'];
/** Client libraries of connectors (docs/connectors.md): none loads unless a pipeline uses its connector. */
const CONNECTOR_CLIENTS = ['ioredis', 'pg', '@elastic/elasticsearch', 'mongodb', '@platformatic/kafka', 'amqplib', 'mqtt', '@nats-io', '@aws-sdk'];
const packageFiles = (loaded: Loaded, name: string): string[] => loaded.files.filter((f) => f.includes(`/node_modules/${name}/`));
const lmdbAddon = (loaded: Loaded): string[] => loaded.files.filter((f) => /\/@lmdb\/lmdb-[^/]+\/[^/]+\.node$/.test(f));

async function probe(dir: string, args: string[], exitCode = 0): Promise<Loaded & { stderr: string }> {
  const probeFile = join(dir, 'probe.cjs');
  const out = join(dir, 'loaded.json');
  await writeFile(probeFile, PROBE);
  const result = await runWire(args, {
    cwd: dir,
    env: { NODE_OPTIONS: `--require ${probeFile}`, WIRE_TEST_PROBE_OUT: out },
  });
  expect(result.code, result.stderr).toBe(exitCode);
  return { ...(JSON.parse(await readFile(out, 'utf8')) as Loaded), stderr: result.stderr };
}

async function filePipeline(dir: string): Promise<string> {
  await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n{"a":2}\n{"a":3}\n');
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, 'name: tiny\nsource: { type: file, config: { path: in.jsonl } }\nsink: { type: file, config: { path: out.jsonl } }\n');
  return file;
}

describe('what a command loads', () => {
  afterEach(cleanup);

  it('wire run of a file → file pipeline loads neither prom-client, undici, nor the http, tls, zlib or perf_hooks modules', async () => {
    const dir = await makeTempDir();
    const loaded = await probe(dir, ['run', '--data-dir', join(dir, 'state'), await filePipeline(dir)]);
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(packageFiles(loaded, 'prom-client')).toEqual([]);
    expect(packageFiles(loaded, 'undici')).toEqual([]);
    // Connector clients load only for a pipeline that uses their connector.
    expect(CONNECTOR_CLIENTS.flatMap((name) => packageFiles(loaded, name))).toEqual([]);
    expect(loaded.builtins.filter((m) => UNNEEDED_BUILTINS.includes(m))).toEqual([]);
    // The checkpoints are in LMDB: the run does load it (the probe sees native addons).
    expect(lmdbAddon(loaded)).toHaveLength(1);
  });

  it('wire validate loads no LMDB: nothing is checkpointed', async () => {
    const dir = await makeTempDir();
    const loaded = await probe(dir, ['validate', await filePipeline(dir)]);
    expect(lmdbAddon(loaded)).toEqual([]);
    expect(packageFiles(loaded, 'prom-client')).toEqual([]);
  });

  it('wire run of a pipeline with an http sink loads undici (the probe sees what a run needs)', { timeout: 60_000 }, async () => {
    let bodies = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        bodies++;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const dir = await makeTempDir();
      const file = join(dir, 'pipeline.yaml');
      await writeFile(
        file,
        `name: out\nsource: { type: generate, config: { count: 3 } }\nsink: { type: http, config: { url: "http://127.0.0.1:${port}/in" } }\n`,
      );
      const loaded = await probe(dir, ['run', '--data-dir', join(dir, 'state'), file]);
      expect(bodies).toBeGreaterThan(0);
      expect(packageFiles(loaded, 'undici').length).toBeGreaterThan(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('wire validate of a redis → postgres pipeline loads neither client; a run loads ioredis and fails before the sink opens', { timeout: 60_000 }, async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'pipeline.yaml');
    // Nothing listens on port 1: the run fails at once (no reconnects), after loading what it needs.
    await writeFile(
      file,
      'name: clients\nsource: { type: redis, config: { url: "redis://127.0.0.1:1", stream: s, reconnect_attempts: 0 } }\n' +
        'sink: { type: postgres, config: { dsn: "postgres://127.0.0.1:1/db", table: t, columns: [a] } }\n',
    );
    const validated = await probe(dir, ['validate', file]);
    expect(CONNECTOR_CLIENTS.flatMap((name) => packageFiles(validated, name))).toEqual([]);
    const ran = await probe(dir, ['run', '--data-dir', join(dir, 'state'), file], 7);
    expect(packageFiles(ran, 'ioredis').length).toBeGreaterThan(0);
    expect(packageFiles(ran, 'pg')).toEqual([]);
  });

  it('wire validate of a kafka pipeline loads no kafka client; a run loads @platformatic/kafka and fails naming the brokers', { timeout: 60_000 }, async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'pipeline.yaml');
    await writeFile(file, 'name: kafka\nsource: { type: kafka, config: { brokers: ["127.0.0.1:1"], topic: t, reconnect_attempts: 0 } }\nsink: { type: drop }\n');
    expect(packageFiles(await probe(dir, ['validate', file]), '@platformatic/kafka')).toEqual([]);
    const ran = await probe(dir, ['run', '--data-dir', join(dir, 'state'), file], 7);
    expect(packageFiles(ran, '@platformatic/kafka').length).toBeGreaterThan(0);
    expect(ran.stderr).toContain('kafka at 127.0.0.1:1: metadata of topic t failed');
  });

  it('the bundle imports a user module that awaits at top level (wire run --dry-run checks a js transform)', async () => {
    // The bundle's own `import()` cannot run from cached code on Node 20 and becomes `require`, which refuses
    // top-level await: cli/import-module.ts goes through a file outside the bundle.
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n');
    await writeFile(join(dir, 'late.mjs'), 'await new Promise((r) => setTimeout(r, 1));\nexport default function late(v) { return v; }\n');
    await writeFile(
      join(dir, 'p.yaml'),
      'name: late\nsource: { type: file, config: { path: in.jsonl } }\ntransforms: [{ type: js, config: { module: ./late.mjs } }]\nsink: { type: file, config: { path: out.jsonl } }\n',
    );
    const result = await runWire(['run', '--dry-run', '--data-dir', 'data', 'p.yaml'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`ok   late transforms[0] (js): ${join(dir, 'late.mjs')} exports a default function\n`);
  });
});
