import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../node/processes.js';
import { generateToFile, range, runningOn, sequence, startCluster, tasksOf } from './cluster.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

describe('pipeline lifecycle in a cluster', () => {
  it('pause/resume, stop/start, update, rollback and delete each keep every record, once and in order', async () => {
    const [n1] = await startCluster(nodes, ['n1', 'n2', 'n3']);
    const node = n1!;
    const file = path.join(await nodes.dir(), 'out.jsonl');
    const count = 16_000;
    expect((await http(node, 'POST', '/v1/pipelines', generateToFile('seq', file, count, 2000))).status).toBe(201);
    await runningOn(node, 'seq');
    let written = 0;
    const progressed = async (): Promise<void> => {
      const before = written;
      await until('more records', async () => (written = (await sequence(file)).length) > before + 1000, 60_000);
    };
    const idle = async (): Promise<void> => {
      await until('the task released', async () => (await tasksOf(node, 'seq'))[0]?.node === null);
      const at = (await sequence(file)).length;
      await new Promise((r) => setTimeout(r, 1000));
      expect((await sequence(file)).length).toBe(at);
    };

    await progressed();
    expect((await http(node, 'POST', '/v1/pipelines/seq/pause')).status).toBe(200);
    await idle();
    expect((await http(node, 'POST', '/v1/pipelines/seq/resume')).status).toBe(200);
    await progressed();

    expect((await http(node, 'POST', '/v1/pipelines/seq/stop')).status).toBe(200);
    await idle();
    expect((await http(node, 'POST', '/v1/pipelines/seq/start')).status).toBe(200);
    await progressed();

    // Version 2 changes the rate only: its tasks continue from version 1's checkpoint.
    expect((await http(node, 'PUT', '/v1/pipelines/seq', generateToFile('seq', file, count, 3000))).status).toBe(200);
    await until('version 2 running', async () => (await tasksOf(node, 'seq'))[0]?.version === 2 && (await tasksOf(node, 'seq'))[0]?.state === 'running');
    await progressed();
    expect((await http(node, 'POST', '/v1/pipelines/seq/rollback', JSON.stringify({ to: 1 }), 'application/json')).status).toBe(200);
    await until('version 3 (= 1) running', async () => (await tasksOf(node, 'seq'))[0]?.version === 3);

    await until('every record written', async () => (await sequence(file)).length >= count, 90_000);
    await until('the task completed', async () => (await tasksOf(node, 'seq'))[0]?.state === 'completed');
    expect(await sequence(file)).toEqual(range(count));

    expect((await http(node, 'DELETE', '/v1/pipelines/seq')).status).toBe(200);
    expect((await http(node, 'GET', '/v1/pipelines/seq/status')).status).toBe(404);
    expect(await sequence(file)).toEqual(range(count));
  }, 240_000);
});
