// Confinement of pipelines sent to the API (--allow-path, --allow-js, --allow-host, --allow-env), checked before
// anything is replicated, and again by the node that runs the task (confinePipeline).
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/connectors/registry.js';
import { WireError } from '../../src/core/errors.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { CLOSED_POLICY, confinePipeline, confinementPolicy, type ConfinementPolicy } from '../../src/security/confine.js';
import { testApi, yaml, type TestApi } from '../api/harness.js';

let dir: string;
let allowed: string;
const apis: TestApi[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wire-confine-'));
  allowed = path.join(dir, 'allowed');
  await mkdir(allowed);
});

afterEach(async () => {
  await Promise.all(apis.splice(0).map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

async function api(policy: ConfinementPolicy): Promise<TestApi> {
  const t = await testApi({ confinement: policy });
  apis.push(t);
  return t;
}

const policy = (flags: Partial<Parameters<typeof confinementPolicy>[0]> = {}): ConfinementPolicy =>
  confinementPolicy({ allowPath: [allowed], allowJs: [], allowHost: undefined, allowEnv: [], ...flags });

const fileSource = (file: string, sink = 'type: stdout') => `name: p\nsource:\n  type: file\n  config:\n    path: ${JSON.stringify(file)}\nsink:\n  ${sink}\n`;

async function post(t: TestApi, body: string) {
  return t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: body });
}

async function stored(t: TestApi): Promise<unknown[]> {
  return (await t.api.inject({ method: 'GET', url: '/v1/pipelines' })).json().pipelines;
}

describe('confinement through the API', () => {
  it('refuses a pipeline reading /etc/passwd with FORBIDDEN naming the field and the rule, and stores nothing', async () => {
    for (const t of [await api(CLOSED_POLICY), await api(policy())]) {
      const res = await post(t, fileSource('/etc/passwd'));
      expect(res.statusCode).toBe(403);
      const { error } = res.json();
      expect(error.code).toBe('FORBIDDEN');
      expect(error.details).toMatchObject({ field: 'body.source.config.path', rule: '--allow-path' });
      expect(error.details.problems[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
      expect(t.handle.writes).toEqual([]);
      expect(await stored(t)).toEqual([]);
    }
  });

  it('refuses every file connector by default, sinks and dead-letter files included', async () => {
    const t = await api(CLOSED_POLICY);
    const inside = path.join(allowed, 'out.jsonl');
    const sink = await post(t, `name: p\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: file\n  config: { path: ${inside} }\n`);
    expect(sink.statusCode).toBe(403);
    expect(sink.json().error.message).toContain('--allow-path');
    const dlq = await post(t, `name: p\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: stdout\ndead_letter:\n  type: file\n  config: { path: ${inside} }\n`);
    expect(dlq.statusCode).toBe(403);
    expect(dlq.json().error.details.field).toBe('body.dead_letter.config.path');
  });

  it('accepts files under an --allow-path root, globs included', async () => {
    const t = await api(policy());
    await writeFile(path.join(allowed, 'in.jsonl'), '{}\n');
    expect((await post(t, fileSource(path.join(allowed, 'in.jsonl'), `type: file\n  config: { path: ${path.join(allowed, 'sub', 'out.jsonl')} }`))).statusCode).toBe(201);
    const t2 = await api(policy());
    expect((await post(t2, fileSource(path.join(allowed, '**', '*.jsonl')))).statusCode).toBe(201);
  });

  it("refuses '..', a symbolic link out of the root, a sibling with the root's name as prefix, and a glob above the root", async () => {
    await symlink('/etc', path.join(allowed, 'link'));
    await mkdir(`${allowed}-evil`);
    const t = await api(policy());
    for (const file of [`${allowed}/../allowed/x.jsonl`, path.join(allowed, 'link', 'passwd'), path.join(`${allowed}-evil`, 'x.jsonl'), `${dir}/*/x.jsonl`]) {
      const res = await post(t, fileSource(file));
      expect(res.statusCode, file).toBe(403);
    }
    expect(t.handle.writes).toEqual([]);
  });

  it('accepts a path through a symbolic link that leads into a root (a root named through a link too)', async () => {
    const link = path.join(dir, 'alias');
    await symlink(allowed, link);
    const t = await api(confinementPolicy({ allowPath: [link], allowJs: [], allowHost: undefined, allowEnv: [] }));
    expect((await post(t, fileSource(path.join(link, 'x.jsonl')))).statusCode).toBe(201);
  });

  it('refuses ${file:} secrets outside --allow-path and ${env:} names --allow-env does not give', async () => {
    const t = await api(policy({ allowEnv: ['WIRE_SECRET_*'] }));
    const withHeader = (value: string) =>
      `name: p\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: http\n  config:\n    url: http://127.0.0.1:9/\n    headers:\n      authorization: ${JSON.stringify(value)}\n`;
    const file = await post(t, withHeader('Bearer ${file:/etc/passwd}'));
    expect(file.statusCode).toBe(403);
    expect(file.json().error.details).toMatchObject({ field: 'body.sink.config.headers.authorization', rule: '--allow-path' });
    const env = await post(t, withHeader('Bearer ${env:HOME}'));
    expect(env.statusCode).toBe(403);
    expect(env.json().error.details.rule).toBe('--allow-env');
    expect((await post(t, withHeader('Bearer ${env:WIRE_SECRET_TOKEN}'))).statusCode).toBe(201);
  });

  it('refuses js modules outside --allow-js, and loads none by default', async () => {
    const modules = path.join(dir, 'modules');
    await mkdir(modules);
    await writeFile(path.join(modules, 'f.mjs'), 'export default (v) => v;\n');
    await writeFile(path.join(allowed, 'g.mjs'), 'export default (v) => v;\n');
    const body = (m: string) => `name: p\nsource:\n  type: generate\n  config: { count: 1 }\ntransforms:\n  - type: js\n    config: { module: ${m} }\nsink:\n  type: stdout\n`;
    const closed = await api(policy());
    expect((await post(closed, body(path.join(modules, 'f.mjs')))).json().error.details.rule).toBe('--allow-js');
    const open = await api(policy({ allowJs: [modules] }));
    expect((await post(open, body(path.join(allowed, 'g.mjs')))).statusCode).toBe(403);
    expect((await post(open, body(path.join(modules, 'f.mjs')))).statusCode).toBe(201);
  });

  it('limits outbound hosts to --allow-host when given', async () => {
    const t = await api(policy({ allowHost: ['*.example.com', '127.0.0.1:8080'] }));
    const body = (url: string) => `name: p\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: http\n  config: { url: ${JSON.stringify(url)} }\n`;
    expect((await post(t, body('http://169.254.169.254/latest'))).json().error.details.rule).toBe('--allow-host');
    expect((await post(t, body('http://127.0.0.1:9090/'))).statusCode).toBe(403);
    expect((await post(t, body('https://api.example.com/in'))).statusCode).toBe(201);
  });

  it('POST /v1/pipelines/validate reports a refused file as a problem with its place', async () => {
    const t = await api(CLOSED_POLICY);
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: yaml, payload: fileSource('/etc/passwd') });
    expect(res.json()).toMatchObject({ valid: false, problems: [{ path: 'source.config.path', line: 5 }] });
  });

  it('POST /connector is confined too', async () => {
    const t = await api(CLOSED_POLICY);
    const res = await t.api.inject({ method: 'POST', url: '/connector', payload: { source: { type: 'file', config: { path: '/etc/passwd' } }, sink: { type: 'stdout' } } });
    expect(res.statusCode).toBe(403);
  });
});

describe('confinePipeline (the node that runs a task)', () => {
  const spec = (file: string): PipelineSpec => ({
    name: 'p',
    source: { type: 'file', config: { path: file } },
    transforms: [],
    sink: { type: 'stdout', config: {} },
    parallelism: 1,
    workers: 0,
    onError: 'dead_letter',
    retry: { maxAttempts: 1, initialMs: 1, maxMs: 1 },
    batchSize: 1,
  });

  it('throws FORBIDDEN for a stored pipeline its own policy refuses, and passes one it allows', () => {
    const registry = createRegistry();
    const err = (() => {
      try {
        confinePipeline(spec('/etc/passwd'), registry, policy());
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe('FORBIDDEN');
    expect((err as WireError).details['field']).toBe('source.config.path');
    expect(() => confinePipeline(spec(path.join(allowed, 'x.jsonl')), registry, policy())).not.toThrow();
  });

  it('refuses a root that does not exist when the flags are read', () => {
    expect(() => confinementPolicy({ allowPath: [path.join(dir, 'nope')], allowJs: [], allowHost: undefined, allowEnv: [] })).toThrow(/--allow-path/);
  });
});
