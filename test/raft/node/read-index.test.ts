import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Membership, ReadIndexMessage } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { KvStateMachine } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { FakeTransport } from './fake-transport.js';

const membership: Membership = {
  voters: ['leader', 'f', 'other'].map((id) => ({ id, address: `${id}:1` })),
  learners: [],
};

describe('RaftNode: ReadIndex on a follower', () => {
  let dir: string;
  const nodes: RaftNode[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-read-'));
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts follower `f` (from its directory) and makes it hear from the leader of term 2; the test plays the leader. */
  async function startFollower(): Promise<{ node: RaftNode; transport: FakeTransport }> {
    const transport = new FakeTransport();
    const node = await RaftNode.start({
      id: 'f',
      address: 'f:1',
      membership,
      storage: await openDiskStorage(dir),
      transport,
      stateMachine: new KvStateMachine(),
      // No election of its own during the test.
      tickMs: 1_000,
      onError: () => undefined,
    });
    nodes.push(node);
    transport.deliver({ type: 'heartbeat', from: 'leader', to: 'f', term: 2, commit: 1, readRound: 0 });
    await waitFor('the leader known', () => node.status().leader === 'leader');
    return { node, transport };
  }

  async function forwardedCtx(transport: FakeTransport): Promise<string> {
    const m = await waitFor('a forwarded read', () => transport.sent.find((s): s is ReadIndexMessage => s.type === 'readIndex'));
    return m.ctx;
  }

  it("a leader's late answer to a read of the previous run cannot resolve a read of this run", async () => {
    const first = await startFollower();
    const before = first.node.readIndex().catch(() => 'stopped');
    const staleCtx = await forwardedCtx(first.transport);
    await first.node.stop();
    expect(await before).toBe('stopped');
    nodes.length = 0;

    const second = await startFollower();
    let settled = false;
    const read = second.node.readIndex().finally(() => (settled = true));
    const ctx = await forwardedCtx(second.transport);
    // The answer to the previous run's read arrives now (it sat in the leader's queue across the restart).
    second.transport.deliver({ type: 'readIndexResponse', from: 'leader', to: 'f', term: 2, ctx: staleCtx, index: 1 });
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect(ctx).not.toBe(staleCtx);
    second.transport.deliver({ type: 'readIndexResponse', from: 'leader', to: 'f', term: 2, ctx, index: 1 });
    expect(await read).toBe(1);
  });
});
