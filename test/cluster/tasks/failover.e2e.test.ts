import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../node/processes.js';
import { generateToFile, range, runningOn, sequence, startCluster, tasksOf } from './cluster.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

describe('task fail-over', () => {
  it('kill -9 of the node running a task (whose /metrics show its engine metrics): it resumes on another node, and the shared file holds every record once, in order', async () => {
    const started = await startCluster(nodes, ['n1', 'n2', 'n3']);
    const file = path.join(await nodes.dir(), 'out.jsonl');
    const count = 12_000;
    expect((await http(started[0]!, 'POST', '/v1/pipelines', generateToFile('seq', file, count, 2000))).status).toBe(201);
    const first = await runningOn(started[0]!, 'seq');
    await until('some records written', async () => (await sequence(file)).length > 2000);
    const victim = started.find((n) => n.id === first.node)!;
    const metrics = (await http(victim, 'GET', '/metrics')).body as string;
    expect(metrics).toMatch(/wire_component_sent_records_total\{[^}]*pipeline="seq"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/wire_task_checkpoint_commit_seconds_count [1-9]/);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const survivor = started.find((n) => n !== victim)!;
    const second = await runningOn(survivor, 'seq', victim.id);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    await until('every record written', async () => (await sequence(file)).length >= count, 90_000);
    await until('the task completed', async () => (await tasksOf(survivor, 'seq'))[0]?.state === 'completed');
    expect(await sequence(file)).toEqual(range(count));
  }, 180_000);

  it('a node that leaves cleanly (SIGTERM) hands its task over at a checkpoint: every record once, in order', async () => {
    const started = await startCluster(nodes, ['n1', 'n2', 'n3']);
    const file = path.join(await nodes.dir(), 'out.jsonl');
    const count = 10_000;
    expect((await http(started[0]!, 'POST', '/v1/pipelines', generateToFile('seq', file, count, 2000))).status).toBe(201);
    const first = await runningOn(started[0]!, 'seq');
    await until('some records written', async () => (await sequence(file)).length > 2000);
    const leaving = started.find((n) => n.id === first.node)!;
    leaving.child.kill('SIGTERM');
    expect(await leaving.exited).toBe(0);
    const survivor = started.find((n) => n !== leaving)!;
    await runningOn(survivor, 'seq', leaving.id);
    await until('every record written', async () => (await sequence(file)).length >= count, 90_000);
    await until('the task completed', async () => (await tasksOf(survivor, 'seq'))[0]?.state === 'completed');
    expect(await sequence(file)).toEqual(range(count));
    expect(leaving.stderr()).toMatch(/stopping at a checkpoint/);
  }, 180_000);
});
