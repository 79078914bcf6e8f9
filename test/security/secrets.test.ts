// Secrets: references kept as written through the API and resolved only on the node that runs the task; secret
// fields shown as "***" in every answer; no secret value in any answer, log line, Raft entry or state (the whole
// data dir is searched).
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/server.js';
import { startNode, type RunningNode } from '../../src/cluster/node.js';
import { getPipeline } from '../../src/cluster/queries.js';
import { parsePipelineText } from '../../src/config/index.js';
import { createRegistry } from '../../src/connectors/registry.js';
import { WireError } from '../../src/core/errors.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { admitTask } from '../../src/security/admit.js';
import { confinementPolicy } from '../../src/security/confine.js';
import { maskSpecs } from '../../src/security/mask-answers.js';
import { MASK, resolveSecrets } from '../../src/security/secrets.js';
import { testApi, yaml, type TestApi } from '../api/harness.js';
import { createToken } from '../api/tokens.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wire-secrets-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const httpSink = (name: string, authorization: string) =>
  `name: ${name}\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: http\n  config:\n    url: http://127.0.0.1:9/in\n    headers:\n      authorization: ${JSON.stringify(authorization)}\n      x-api-key: ${JSON.stringify(authorization)}\n`;

/** Every file under `root`, as bytes. */
async function filesUnder(root: string): Promise<{ file: string; bytes: Buffer }[]> {
  const out: { file: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push({ file, bytes: await readFile(file) });
  }
  return out;
}

describe('secret fields in answers', () => {
  let t: TestApi;
  afterEach(async () => t.close());

  it('shows every value of a secret field as "***" in every answer that carries the spec', async () => {
    t = await testApi();
    const created = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: httpSink('h', 'Bearer literal-token-123') });
    expect(created.statusCode).toBe(201);
    await t.api.inject({ method: 'POST', url: '/v1/pipelines/h/stop' });
    const answers = await Promise.all(
      ['/v1/pipelines', '/v1/pipelines/h', '/v1/pipelines/h/versions', '/v1/pipelines/h/versions/1'].map((url) => t.api.inject({ method: 'GET', url })),
    );
    for (const res of [created, ...answers]) {
      expect(res.statusCode).toBe(200 + (res === created ? 1 : 0));
      expect(res.body).not.toContain('literal-token-123');
      expect(res.body).toContain(`"authorization":"${MASK}"`);
    }
    expect(created.json().pipeline.spec.sink.config).toMatchObject({ url: 'http://127.0.0.1:9/in', headers: { authorization: MASK, 'x-api-key': MASK } });
  });
});

describe('maskSpecs', () => {
  it('masks a component met outside a spec (a task source) by every kind registered under its type', () => {
    const answer = { tasks: [{ task: 't0', source: { type: 'http', config: { address: '127.0.0.1:0', auth_token: 'tok-123' } } }] };
    expect(maskSpecs(answer, createRegistry())).toEqual({ tasks: [{ task: 't0', source: { type: 'http', config: { address: '127.0.0.1:0', auth_token: MASK } } }] });
    expect(answer.tasks[0]!.source.config.auth_token).toBe('tok-123');
  });
});

describe('secret references', () => {
  it('are resolved on the running node from its environment and files, the values given to its redactor', async () => {
    const secretFile = path.join(dir, 'token');
    await writeFile(secretFile, 'from-file-456\n');
    const spec = { source: { type: 'generate', config: {} }, transforms: [], sink: { type: 'http', config: { headers: { a: 'Bearer ${env:T}', b: '${file:' + secretFile + '}', c: 'literal $${env:T}' } } } } as unknown as PipelineSpec;
    const { spec: resolved, redactor } = resolveSecrets(spec, { env: { T: 'from-env-789' } });
    expect(resolved.sink.config).toEqual({ headers: { a: 'Bearer from-env-789', b: 'from-file-456', c: 'literal ${env:T}' } });
    expect(redactor.redact('x from-env-789 from-file-456')).not.toMatch(/from-(env|file)/);
    expect(spec.sink.config['headers']).toMatchObject({ a: 'Bearer ${env:T}' });
  });

  it('resolve nothing but ${env:} and ${file:}: a plain ${NAME} would read past --allow-env', () => {
    const spec = { source: { type: 'generate', config: {} }, transforms: [], sink: { type: 'http', config: { headers: { a: 'x ${HOME}' } } } } as unknown as PipelineSpec;
    expect(() => resolveSecrets(spec, { env: { HOME: '/root' } })).toThrow(/sink.config.headers.a: only/);
  });

  it('fail with INVALID_INPUT naming the field, never a value, when a variable is missing', () => {
    const spec = { source: { type: 'generate', config: {} }, transforms: [], sink: { type: 'http', config: { headers: { a: '${env:MISSING}' } } } } as unknown as PipelineSpec;
    const err = (() => {
      try {
        resolveSecrets(spec, { env: {} });
      } catch (e) {
        return e as WireError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('INVALID_INPUT');
    expect(err?.details['field']).toBe('sink.config.headers.a');
  });

  it('${env:NAME} reads the environment in a pipeline file read by wire run', () => {
    const result = parsePipelineText(httpSink('w', 'Bearer ${env:TOKEN}'), 'p.yaml', { env: { TOKEN: 'abc' }, registry: createRegistry() });
    expect(result.pipelines?.[0]?.sink.config['headers']).toMatchObject({ authorization: 'Bearer abc' });
  });
});

describe('a secret through a real node', () => {
  let node: RunningNode | undefined;
  afterEach(async () => {
    await node?.close();
    node = undefined;
    delete process.env['WIRE_SECRET_TEST'];
  });

  it('never appears in an answer, a log line, the Raft log or the state; the running node resolves it', async () => {
    const secrets = path.join(dir, 'secrets');
    await mkdir(secrets);
    const FILE_SECRET = 'file-secret-a9f3c1d7e5';
    const ENV_SECRET = 'env-secret-4b8e2f6a0c';
    await writeFile(path.join(secrets, 'token'), `${FILE_SECRET}\n`);
    // The API node's own environment holds the secret too: it must not be the one resolving it.
    process.env['WIRE_SECRET_TEST'] = ENV_SECRET;
    const logs: string[] = [];
    const log = { info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(m), debug: (m: string) => void logs.push(m) };
    const dataDir = path.join(dir, 'data');
    node = await startNode({
      nodeId: 'n1', dataDir, raftHost: '127.0.0.1', raftPort: 0, httpAdvertise: '127.0.0.1:1', bootstrapExpect: 0, join: [], joinAttempts: 5,
      joinIntervalMs: 200, nonVoter: false, snapshotThreshold: 8192, shutdownStepdown: false, labels: {}, tickMs: 20, log,
    });
    const policy = confinementPolicy({ allowPath: [secrets], allowJs: [], allowHost: undefined, allowEnv: ['WIRE_SECRET_*'] });
    const api = await buildApi(node, { confinement: policy, onInternalError: (e) => logs.push(String(e)) });
    try {
      for (let i = 0; i < 200 && !node.ready().ok; i++) await new Promise((r) => setTimeout(r, 50));
      const auth = { authorization: `Bearer ${(await createToken(node)).token}` };
      const fileRef = `\${file:${path.join(secrets, 'token')}}`;
      const body = httpSink('s', `Bearer ${fileRef}`).replace(`x-api-key: "Bearer ${fileRef}"`, 'x-api-key: "${env:WIRE_SECRET_TEST}"');
      const answers = [await api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...auth }, payload: body })];
      expect(answers[0]!.statusCode).toBe(201);
      answers.push(await api.inject({ method: 'PUT', url: '/v1/pipelines/s', headers: { ...yaml, ...auth }, payload: body }));
      answers.push(await api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: { ...yaml, ...auth }, payload: body }));
      for (const url of ['/v1/pipelines', '/v1/pipelines/s', '/v1/pipelines/s/versions', '/v1/pipelines/s/status', '/v1/cluster', '/status']) {
        answers.push(await api.inject({ method: 'GET', url: `${url}?consistent=true`.replace('/status?consistent=true', '/status'), headers: auth }));
      }
      for (const res of answers) {
        expect(res.statusCode, res.body).toBeLessThan(300);
        expect(res.body).not.toContain(FILE_SECRET);
        expect(res.body).not.toContain(ENV_SECRET);
      }
      // The state keeps the references as written; the node that runs the task resolves them.
      const stored = await node.read((s) => getPipeline(s, 's'), { consistent: true });
      const spec = stored.spec as unknown as PipelineSpec;
      expect(spec.sink.config['headers']).toEqual({ authorization: `Bearer ${fileRef}`, 'x-api-key': '${env:WIRE_SECRET_TEST}' });
      const admitted = admitTask(spec, { registry: createRegistry(), policy, env: { WIRE_SECRET_TEST: ENV_SECRET } });
      expect(admitted.spec.sink.config['headers']).toEqual({ authorization: `Bearer ${FILE_SECRET}`, 'x-api-key': ENV_SECRET });
    } finally {
      await api.close();
      await node.close();
      node = undefined;
    }
    const files = await filesUnder(dataDir);
    expect(files.length).toBeGreaterThan(0);
    expect(files.some((f) => f.bytes.includes('${env:WIRE_SECRET_TEST}'))).toBe(true);
    for (const { file, bytes } of files) {
      expect(bytes.includes(FILE_SECRET), file).toBe(false);
      expect(bytes.includes(ENV_SECRET), file).toBe(false);
    }
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toMatch(/file-secret|env-secret/);
  }, 60_000);
});
