// A follower that has not applied the latest committed write: a plain read may be stale, `?consistent=true`
// (ReadIndex through the leader, then waiting for this node to apply up to it) is not.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../../src/api/server.js';
import { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { startNode, type RunningNode } from '../../../src/cluster/node.js';
import { createToken } from '../../api/tokens.js';
import { freePorts } from './processes.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const running: RunningNode[] = [];
const dirs: string[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(running.splice(0).map((n) => n.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const yaml = (count: number) => `name: p1\nsource:\n  type: generate\n  config: { count: ${count} }\nsink:\n  type: stdout\n`;

describe('a consistent read on a follower that lags in applying', () => {
  it('waits for the follower to apply the latest committed write, where a plain read is stale', async () => {
    const ports = await freePorts(3);
    const raft = ports.map((p) => `127.0.0.1:${p}`);
    const nodes = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (id, i) => {
        const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wire-read-'));
        dirs.push(dataDir);
        const n = await startNode({
          nodeId: id, dataDir, raftHost: '127.0.0.1', raftPort: ports[i]!, httpAdvertise: `127.0.0.1:${9000 + i}`, bootstrapExpect: 3, join: raft,
          joinAttempts: 50, joinIntervalMs: 200, nonVoter: false, snapshotThreshold: 8192, shutdownStepdown: false, labels: {}, tickMs: 20, log: quiet,
        });
        running.push(n);
        return n;
      }),
    );
    await until('all ready', () => nodes.every((n) => n.ready().ok));
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    const follower = nodes.find((n) => n.status().role === 'follower')!;
    const leaderApi = await buildApi(leader);
    const followerApi = await buildApi(follower);
    try {
      // Made before the create: once the follower has applied the create, it has the token too.
      const auth = { authorization: `Bearer ${(await createToken(leader)).token}` };
      const yamlAuth = { ...auth, 'content-type': 'application/yaml' };
      expect((await leaderApi.inject({ method: 'POST', url: '/v1/pipelines', headers: yamlAuth, payload: yaml(1) })).statusCode).toBe(201);
      const first = leader.status().commitIndex;
      await until('the follower applied the create', () => follower.status().appliedIndex >= first);

      // The follower's state machine stops applying (a slow disk) until `release`.
      const lagging = (follower as unknown as { fsm: ClusterStateMachine }).fsm;
      expect(lagging).toBeInstanceOf(ClusterStateMachine);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      const apply = ClusterStateMachine.prototype.apply;
      vi.spyOn(ClusterStateMachine.prototype, 'apply').mockImplementation(async function (this: ClusterStateMachine, entries) {
        if (this === lagging) await gate;
        return apply.call(this, entries);
      });

      const updated = await leaderApi.inject({ method: 'PUT', url: '/v1/pipelines/p1?reset=true', headers: yamlAuth, payload: yaml(2) });
      expect(updated.statusCode).toBe(200);
      const version = (r: { json(): unknown }) => (r.json() as { pipeline: { version: number } }).pipeline.version;

      const plain = await followerApi.inject({ method: 'GET', url: '/v1/pipelines/p1', headers: auth });
      expect(version(plain)).toBe(1);
      let settled = false;
      const consistent = followerApi.inject({ method: 'GET', url: '/v1/pipelines/p1?consistent=true', headers: auth }).finally(() => (settled = true));
      // Several election timeouts at this tick: the read index is known by then, the apply still held.
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      release();
      const answer = await consistent;
      expect(answer.statusCode).toBe(200);
      expect(version(answer)).toBe(2);
    } finally {
      await Promise.all([leaderApi.close(), followerApi.close()]);
    }
  }, 60_000);
});
