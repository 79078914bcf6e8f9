import { afterEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { TestCluster } from './cluster.js';

describe('RaftNode: a 3-node cluster over TCP with on-disk storage', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('elects a leader, commits proposals on every node and returns the state machine result', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const first = await cluster.put(leader.id, 'k', 'v1');
    expect(first.result).toEqual({ ok: true, previous: null });
    const second = await leader.node.propose(encodeCommand({ op: 'cas', key: 'k', expect: 'v1', value: 'v2' }));
    expect(second.index).toBe(first.index + 1);
    expect(second.result).toEqual({ ok: true, previous: 'v1' });
    const lost = await leader.node.propose(encodeCommand({ op: 'cas', key: 'k', expect: 'v1', value: 'v3' }));
    expect(lost.result).toEqual({ ok: false, current: 'v2' });
    for (const n of cluster.nodes.values()) await waitFor(`${n.id} applies`, () => n.kv.get('k') === 'v2');
    const st = leader.node.status();
    expect(st.peers.map((p) => p.id).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(st.applied).toBeGreaterThanOrEqual(lost.index);
  });

  it('a follower refuses proposals with NotLeader naming the leader and its address', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const follower = [...cluster.nodes.values()].find((n) => n.id !== leader.id)!;
    await waitFor('follower knows the leader', () => follower.node.status().leader === leader.id);
    await expect(cluster.put(follower.id, 'a', 'b')).rejects.toMatchObject({
      code: 'NOT_LEADER',
      leaderId: leader.id,
      leaderAddress: cluster.address(leader.id),
    });
  });

  it('serves linearizable reads with readIndex on the leader and on a follower', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const { index } = await cluster.put(leader.id, 'x', '1');
    expect(await leader.node.readIndex()).toBeGreaterThanOrEqual(index);
    const follower = [...cluster.nodes.values()].find((n) => n.id !== leader.id)!;
    const readAt = await follower.node.readIndex();
    expect(readAt).toBeGreaterThanOrEqual(index);
    // The promise resolves only once the follower has applied the read index: the write is visible.
    expect(follower.node.status().applied).toBeGreaterThanOrEqual(readAt);
    expect(follower.kv.get('x')).toBe('1');
  });

  it('runs with leaseReads (the driver supplies the real clock the lease needs) and serves reads', async () => {
    cluster = await TestCluster.create({ raft: { leaseReads: true } });
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const { index } = await cluster.put(leader.id, 'x', '1');
    // A round a quorum echoed is needed first; after that the lease answers.
    await waitFor('a lease read', async () => (await leader.node.readIndex()) >= index);
    const follower = [...cluster.nodes.values()].find((n) => n.id !== leader.id)!;
    expect(await follower.node.readIndex()).toBeGreaterThanOrEqual(index);
  });

  it('elects a new leader when the leader stops, and the old one restarts from disk and catches up', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const old = await cluster.leader();
    for (let i = 0; i < 20; i++) await cluster.putViaLeader(`k${i}`, `v${i}`);
    await cluster.stop(old.id);
    const next = await cluster.leader();
    expect(next.id).not.toBe(old.id);
    for (let i = 20; i < 40; i++) await cluster.putViaLeader(`k${i}`, `v${i}`);
    const back = await cluster.start(old.id);
    await waitFor('restarted node catches up', () => back.kv.data.size === 40 && back.kv.get('k39') === 'v39', 15_000);
    for (let i = 0; i < 40; i++) expect(back.kv.get(`k${i}`)).toBe(`v${i}`);
    // Replayed from its own durable log (no snapshot yet): every index applied once, in order.
    const idx = back.kv.appliedIndexes;
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    expect(new Set(idx).size).toBe(idx.length);
  });

  it('transfers leadership to a named voter', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const target = [...cluster.nodes.keys()].find((id) => id !== leader.id)!;
    await cluster.put(leader.id, 'before', '1');
    const seen: Array<string | null> = [];
    cluster.get(target).node.on('leaderChange', (l) => seen.push(l));
    expect(await leader.node.transferLeadership(target)).toBe(target);
    await waitFor('target leads', () => cluster!.get(target).node.status().role === 'leader');
    expect(seen).toContain(target);
    await cluster.put(target, 'after', '2');
  });

  it('removes a server from the membership and keeps committing without it', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    const gone = [...cluster.nodes.keys()].find((id) => id !== leader.id)!;
    await leader.node.removeServer(gone);
    expect(leader.node.status().membership.voters.map((v) => v.id)).not.toContain(gone);
    await cluster.stop(gone);
    const { index } = await cluster.put(leader.id, 'two-voters', 'ok');
    expect(index).toBeGreaterThan(0);
    await expect(leader.node.removeServer(gone)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a leader of two voters that removes itself may stop once removeServer resolves: the survivor leads alone', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2']);
    const leader = await cluster.leader();
    const survivor = cluster.get(leader.id === 'n1' ? 'n2' : 'n1');
    await cluster.put(leader.id, 'before', '1');
    await leader.node.removeServer(leader.id);
    await cluster.stop(leader.id);
    await waitFor('the survivor leads', () => survivor.node.status().role === 'leader', 10_000);
    expect(survivor.node.status().membership.voters.map((v) => v.id)).toEqual([survivor.id]);
    await cluster.put(survivor.id, 'after', '2');
    expect(survivor.kv.get('after')).toBe('2');
  });

  it('stop() fails waiting requests with Stopped and rejects new ones', async () => {
    cluster = await TestCluster.create();
    await cluster.found(['n1', 'n2', 'n3']);
    const leader = await cluster.leader();
    for (const n of cluster.nodes.values()) if (n.id !== leader.id) await cluster.stop(n.id);
    // Expect before stopping: stop() rejects the proposal at once but takes a few I/O turns to finish.
    const pending = expect(cluster.put(leader.id, 'never', 'committed')).rejects.toMatchObject({ code: 'STOPPED' });
    await cluster.stop(leader.id);
    await pending;
    await expect(leader.node.propose(encodeCommand({ op: 'put', key: 'a', value: 'b' }))).rejects.toMatchObject({ code: 'STOPPED' });
  });
});

describe('RaftNode: snapshots and a learner', () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  it('compacts by threshold, and a learner added later catches up by chunked InstallSnapshot, then is promoted', async () => {
    cluster = await TestCluster.create({ snapshotThreshold: 40, trailingEntries: 5, snapshotChunkBytes: 1024 });
    await cluster.found(['n1', 'n2', 'n3']);
    const value = 'x'.repeat(100);
    for (let i = 0; i < 120; i++) await cluster.putViaLeader(`key-${i}`, `${value}${i}`);
    const leader = await cluster.leader();
    await waitFor('leader compacts its log', () => leader.node.status().firstIndex > 50);
    const snapIndex = leader.node.status().snapshotIndex;
    expect(snapIndex).toBeGreaterThan(40);

    const learner = await cluster.start('n4', { join: true });
    await leader.node.addLearner({ id: 'n4', address: cluster.address('n4') });
    await waitFor('learner catches up', () => learner.kv.data.size === 120, 20_000);
    // Restored from the leader's snapshot, sent in several 1 KiB chunks (a second one may follow if the
    // leader snapshots again while the learner catches up: its conf entry alone can cross the threshold).
    const first = learner.kv.restored[0]!;
    expect(first.index).toBeGreaterThanOrEqual(snapIndex);
    expect(first.size).toBeGreaterThan(5 * 1024);
    expect(learner.kv.appliedIndexes.every((i) => i > learner.kv.restored.at(-1)!.index)).toBe(true);
    expect(learner.node.status().snapshotIndex).toBeGreaterThanOrEqual(snapIndex);
    expect(learner.kv.get('key-119')).toBe(`${value}119`);

    await leader.node.promote('n4');
    await waitFor('n4 is a voter everywhere', () =>
      [...cluster!.nodes.values()].every((n) => n.node.status().membership.voters.some((v) => v.id === 'n4')),
    );
    await cluster.put(leader.id, 'after-promote', 'yes');
    await waitFor('n4 applies new entries', () => learner.kv.get('after-promote') === 'yes');
  });

  it('restarts from its own snapshot plus the log after it', async () => {
    cluster = await TestCluster.create({ snapshotThreshold: 30, trailingEntries: 5 });
    await cluster.found(['n1', 'n2', 'n3']);
    for (let i = 0; i < 70; i++) await cluster.putViaLeader(`k${i}`, `v${i}`);
    const leader = await cluster.leader();
    const follower = [...cluster.nodes.values()].find((n) => n.id !== leader.id)!;
    await waitFor('follower snapshots', () => follower.node.status().snapshotIndex > 30);
    await waitFor('follower applied all', () => follower.kv.data.size === 70);
    await cluster.stop(follower.id);
    const back = await cluster.start(follower.id);
    expect(back.kv.restored).toHaveLength(1);
    await waitFor('restarted follower has everything', () => back.kv.data.size === 70);
    expect(back.kv.get('k69')).toBe('v69');
  });
});
