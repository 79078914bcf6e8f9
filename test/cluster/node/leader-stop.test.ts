// A leader stopped (SIGTERM) after both of its peers died: its handover attempt and its shutdown are bounded.
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, http, NodeProcesses, pipelineYaml, until } from './processes.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

/**
 * The handover is given up after 1.5 election timeouts (1.5 s at the default tick), then the node stops; before,
 * it waited 5 s for the handover alone.
 */
const EXIT_BOUND_MS = 4_500;

describe('SIGTERM to a leader whose peers died', () => {
  it('exits 0 within a bounded time, with a write still waiting for a quorum', async () => {
    const ports = await freePorts(3);
    const args = ['--bootstrap-expect', '3', '--join', ports.map((p) => `127.0.0.1:${p}`).join(',')];
    const started = await Promise.all(['n1', 'n2', 'n3'].map((id, i) => nodes.start(id, args, { raftPort: ports[i] })));
    await until('every node ready', async () => (await Promise.all(started.map((n) => http(n, 'GET', '/readyz')))).every((r) => r.status === 200));
    const leaderId = await until('a leader', async () => ((await http(started[0]!, 'GET', '/v1/cluster')).body as { leaderId: string | null }).leaderId ?? undefined);
    const leader = started.find((n) => n.id === leaderId)!;
    expect((await http(leader, 'POST', '/v1/pipelines', pipelineYaml('p1'))).status).toBe(201);
    // Every peer reachable, so the leader will try to hand over when stopped.
    await until('all reachable', async () => Object.values((await http(leader, 'GET', '/nodes')).body as Record<string, { reachable: boolean }>).every((x) => x.reachable));

    const peers = started.filter((n) => n !== leader);
    for (const p of peers) p.child.kill('SIGKILL');
    await Promise.all(peers.map((p) => p.exited));
    // A write that cannot commit any more: it must not hold the shutdown for its whole timeout.
    const stuck = http(leader, 'POST', '/v1/pipelines', pipelineYaml('p2')).catch((error: Error) => error);
    await new Promise((r) => setTimeout(r, 200));

    leader.child.kill('SIGTERM');
    const exited = await Promise.race([leader.exited, new Promise<string>((r) => setTimeout(() => r('still running'), EXIT_BOUND_MS))]);
    expect(exited).toBe(0);
    const answer = await stuck;
    expect(answer instanceof Error ? 'no answer' : answer.status).not.toBe(201);
  }, 120_000);
});
