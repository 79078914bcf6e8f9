/**
 * Wire's Raft in real processes: three kv-node processes on 127.0.0.1 with the TCP transport and
 * on-disk storage (write-ahead log, snapshot files), then a fourth joining as a learner. The steps build on
 * one another, in order: election, replication, kill -9 of the leader during writes, restart from disk,
 * InstallSnapshot to a new node after compaction, promotion, leadership transfer, clean shutdown.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvCluster, type LeaderView } from '../../bench/raft/kv-cluster.js';
import { poll } from '../../bench/raft/poll.js';
import { writeKeys } from './acked-writes.js';

const FOUNDERS = ['n1', 'n2', 'n3'];
// Small snapshots so the log is compacted long before the fourth node joins (it must need InstallSnapshot).
const NODE_ARGS = ['--snapshot-threshold', '40', '--trailing-entries', '10'];
const valueOf = (key: string): string => `value-of-${key}`;
const keyRange = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `key-${String(from + i).padStart(4, '0')}`);

describe('a three-process Raft cluster on loopback', () => {
  let cluster: KvCluster | undefined;
  let leader: LeaderView;
  let killed: { id: string; term: number; lastIndex: number };
  const acked = new Map<string, string>();

  const c = (): KvCluster => {
    if (!cluster) throw new Error('the cluster did not start');
    return cluster;
  };

  async function dump(id: string): Promise<{ applied: number; entries: unknown }> {
    const r = await c().client.call(c().http(id), 'GET', '/v1/kv');
    expect(r.status).toBe(200);
    return { applied: Number(r.body.applied), entries: r.body.entries };
  }

  /** Waits until `id` has applied what the leader has, then requires identical data. */
  async function expectCaughtUp(id: string, leaderId: string): Promise<void> {
    const target = (await c().status(leaderId)).commit;
    await poll(`${id} to apply index ${target}`, async () => (await c().status(id)).applied >= target, 30_000);
    const [mine, theirs] = await poll(
      `${id} and ${leaderId} at the same applied index`,
      async () => {
        const pair = await Promise.all([dump(id), dump(leaderId)]);
        return pair[0].applied === pair[1].applied ? pair : undefined;
      },
      10_000,
    );
    expect(mine.entries).toEqual(theirs.entries);
  }

  async function expectEveryAckedWriteReadable(from: string): Promise<void> {
    for (const [key, value] of acked) {
      const r = await c().client.get(c().http(from), key, true);
      expect({ key, status: r.status, value: r.body.value }).toEqual({ key, status: 200, value });
    }
  }

  beforeAll(async () => {
    cluster = await KvCluster.create(NODE_ARGS);
    await cluster.found(FOUNDERS);
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it('elects one leader that a majority follows', async () => {
    leader = await c().leader(30_000);
    expect(FOUNDERS).toContain(leader.id);
    expect(leader.status.membership.voters.map((v) => v.id).sort()).toEqual(FOUNDERS);
  });

  it('commits a few hundred writes through the leader and replicates them to every node', async () => {
    const log = await writeKeys(c(), keyRange(0, 300), { concurrency: 16, deadline: Date.now() + 60_000, valueOf });
    expect(log.failed).toEqual([]);
    for (const [k, v] of log.acked) acked.set(k, v);
    expect(acked.size).toBe(300);
    leader = await c().leader(10_000);
    for (const id of FOUNDERS) if (id !== leader.id) await expectCaughtUp(id, leader.id);
  });

  it('elects a new leader after kill -9 of the leader during writes, losing no acknowledged write', async () => {
    const old = await c().leader(10_000);
    let killing: Promise<unknown> | undefined;
    const writing = writeKeys(c(), keyRange(300, 500), {
      concurrency: 8,
      deadline: Date.now() + 60_000,
      valueOf,
      // Kill the leader while writes are in flight, after it has acknowledged some of this batch.
      onAck: (count) => {
        if (count === 40 && !killing) killing = c().kill(old.id, 'SIGKILL');
      },
    });
    const log = await writing;
    const exit = await killing;
    expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(log.failed).toEqual([]);
    for (const [k, v] of log.acked) acked.set(k, v);
    expect(acked.size).toBe(500);

    leader = await c().leader(30_000, old.id);
    expect(leader.id).not.toBe(old.id);
    expect(leader.status.term).toBeGreaterThan(old.status.term);
    killed = { id: old.id, term: old.status.term, lastIndex: old.status.lastIndex };
    await expectEveryAckedWriteReadable(leader.id);
    const follower = c().running().find((id) => id !== leader.id)!;
    await expectEveryAckedWriteReadable(follower);
  });

  it('restarts the killed node from its disk and catches it up with the leader', async () => {
    await c().start(killed.id);
    const first = await poll('the restarted node to answer', () => c().status(killed.id), 10_000);
    // It kept its durable log and term across kill -9 (it cannot have lost what it had acknowledged).
    expect(first.term).toBeGreaterThanOrEqual(killed.term);
    expect(first.lastIndex).toBeGreaterThanOrEqual(killed.lastIndex);
    leader = await c().leader(30_000);
    await expectCaughtUp(killed.id, leader.id);
    await expectEveryAckedWriteReadable(killed.id);
  });

  it('catches up a new node by InstallSnapshot after compaction, then promotes it to voter', async () => {
    leader = await c().leader(10_000);
    expect(leader.status.firstIndex).toBeGreaterThan(1); // entries 1.. are gone: only a snapshot can help
    await c().prepareJoiner('n4');
    await c().start('n4');
    const added = await c().client.call(leader.http, 'POST', '/admin/add-learner', { id: 'n4', raft: c().raft('n4'), http: c().http('n4') });
    expect(added.status).toBe(200);

    await expectCaughtUp('n4', leader.id);
    const joined = await c().status('n4');
    expect(joined.kv.restores).toBeGreaterThanOrEqual(1);
    expect(joined.snapshotIndex).toBeGreaterThan(0);
    expect(joined.membership.learners.map((m) => m.id)).toEqual(['n4']);

    const promoted = await c().client.call(leader.http, 'POST', '/admin/promote', { id: 'n4' });
    expect(promoted.status).toBe(200);
    const after = await c().status(leader.id);
    expect(after.membership.voters.map((v) => v.id).sort()).toEqual([...FOUNDERS, 'n4'].sort());
    expect(after.membership.learners).toEqual([]);
    await expectEveryAckedWriteReadable('n4');
  });

  it('hands leadership to the promoted node, which then commits writes', async () => {
    leader = await c().leader(10_000);
    const moved = await c().client.call(leader.http, 'POST', '/admin/transfer', { to: 'n4' });
    expect(moved.body).toEqual({ leader: 'n4' });
    leader = await c().leader(30_000);
    expect(leader.id).toBe('n4');
    const r = await c().client.put(leader.http, 'after-transfer', 'yes');
    expect(r.status).toBe(200);
    acked.set('after-transfer', 'yes');
    const other = c().running().find((id) => id !== 'n4')!;
    await expectEveryAckedWriteReadable(other);
  });

  it('stops a node cleanly on SIGTERM', async () => {
    const follower = c().running().find((id) => id !== leader.id)!;
    expect(await c().kill(follower, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
