/**
 * Hand-driven scenarios for Raft's known traps. Each runs on a quiet simulated cluster whose
 * invariant checker is live throughout: any safety violation throws from the run itself.
 */
import { describe, expect, it } from 'vitest';
import type { WireMessage } from '../../src/raft/snapshot/install-messages.js';
import { others, propose, quietCluster, runFor, runUntil, waitForLeader, writeEventually } from './scenario.js';

function appendHasTermAbove(msg: WireMessage, term: number): boolean {
  return msg.type === 'append' && msg.entries.some((e) => e.term > term);
}

describe('scenario: Figure 8, the commitment rule', async () => {
  it('a leader does not commit an older-term entry held by a majority until an entry of its own term is', async () => {
    const c = quietCluster(5, 11, { maxEntriesPerMsg: 1 });
    const first = await waitForLeader(c);
    expect(await writeEventually(c, 'k', 'base', 1000)).toBe(true);

    // (a) The leader gets X onto one follower only.
    const follower = others(c, first.id)[0]!;
    for (const id of others(c, first.id)) if (id !== follower) c.net.cutLink(first.id, id);
    const x = propose(first, 'k', 'X');
    const xTerm = first.term;
    expect(await runUntil(c, () => c.node(follower).log!.term(x.index) === xTerm, 200)).toBe(true);

    // (b) It crashes; the follower is cut off; the other three elect a leader whose own entry reaches nobody.
    c.crash(first.id);
    c.net.heal();
    c.net.isolate(follower, [...c.nodes.keys()]);
    c.net.dropIf = (m) => appendHasTermAbove(m, xTerm);
    const second = await waitForLeader(c, 3000, others(c, first.id).filter((id) => id !== follower));
    await runFor(c, 30);
    expect(second.log!.term(x.index)).toBeGreaterThan(xTerm);
    c.crash(second.id);

    // (c) The first leader returns; a leader holding X is elected and spreads X, but its own term's entries are blocked.
    c.net.heal();
    c.restart(first.id);
    // Its own term's entries reach only followers that lack X (they reject, which walks the leader back to X).
    const holdsX = (id: string): boolean => c.node(id).log!.term(x.index) === xTerm;
    let blockAbove = second.term;
    c.net.dropIf = (m) => appendHasTermAbove(m, blockAbove) && (m.to === second.id || holdsX(m.to));
    const third = await waitForLeader(c, 3000, [first.id, follower]);
    blockAbove = third.term - 1;
    const holders = (): number => c.upNodes().filter((n) => n.log!.term(x.index) === xTerm).length;
    expect(await runUntil(c, () => holders() >= 3, 1000)).toBe(true);
    await runFor(c, 100);
    // X is on a majority, yet it must not be committed by counting: it is not of the leader's term.
    expect(third.role).toBe('leader');
    expect(third.status()!.commit).toBeLessThan(x.index);
    expect(x.applied()).toBe(false);

    // (d) Whatever happens next (the second leader may return and overwrite X), the invariants hold and the cluster works.
    c.crash(third.id);
    c.restart(second.id);
    c.net.dropIf = null;
    await runFor(c, 500);
    c.restart(third.id);
    expect(await writeEventually(c, 'k', 'after', 3000)).toBe(true);
    c.checkLogs();
  });
});

describe('scenario: pre-vote and rejoining nodes', async () => {
  it('an isolated follower does not raise its term, and does not disturb the leader when it rejoins', async () => {
    const c = quietCluster(3, 21);
    const leader = await waitForLeader(c);
    const term = leader.term;
    const follower = c.node(others(c, leader.id)[0]!);
    c.net.isolate(follower.id, [...c.nodes.keys()]);
    await runFor(c, 2000);
    expect(follower.term).toBe(term);
    expect(follower.role).not.toBe('leader');
    c.net.heal();
    await runFor(c, 1000);
    expect(c.leader()).toBe(leader);
    expect(leader.term).toBe(term);
    expect(follower.status()!.leader).toBe(leader.id);
    expect(await writeEventually(c, 'k', 'v', 1000)).toBe(true);
  });

  it('nodes that raised their terms in failed elections rejoin without blocking the cluster', async () => {
    const c = quietCluster(5, 22);
    const leader = await waitForLeader(c);
    expect(await writeEventually(c, 'k', 'before', 1000)).toBe(true);
    const originalTerm = leader.term;
    const [a, b, d] = others(c, leader.id);
    const majority = [a!, b!, d!];
    const minority = others(c, a!).filter((id) => !majority.includes(id));
    c.net.partition(majority, minority);
    // Pre-votes succeed in the majority side, but every real vote is lost: terms rise, nobody wins.
    c.net.dropIf = (m) => m.type === 'vote';
    await runFor(c, 1500);
    const raised = Math.max(...majority.map((id) => c.node(id).term));
    expect(raised).toBeGreaterThan(originalTerm + 1);
    expect(majority.some((id) => c.node(id).role === 'leader')).toBe(false);
    // Check-quorum: the old leader, cut off from a majority, stepped down.
    expect(leader.role).not.toBe('leader');
    c.net.dropIf = null;
    c.net.heal();
    expect(await writeEventually(c, 'k', 'after', 3000)).toBe(true);
    expect(c.leader()!.term).toBeGreaterThanOrEqual(raised);
    await runFor(c, 500);
    c.checkLogs();
    expect(new Set(c.upNodes().map((n) => n.kv.get('k')))).toEqual(new Set(['after']));
  });
});

describe('scenario: removed servers', async () => {
  it("a removed server's votes cannot disrupt the remaining cluster", async () => {
    const c = quietCluster(4, 31);
    const leader = await waitForLeader(c);
    // A new leader takes no membership change until its term's first entry commits.
    expect(await writeEventually(c, 'k', 'before', 1000)).toBe(true);
    const removed = c.node(others(c, leader.id)[0]!);
    c.net.isolate(removed.id, [...c.nodes.keys()]);
    c.track(leader.raft!.removeServer(removed.id));
    expect(await runUntil(c, () => !leader.status()!.membership.voters.some((v) => v.id === removed.id), 1000)).toBe(true);
    await runFor(c, 1500);
    // It never learned of its removal and keeps campaigning with its old configuration.
    expect(removed.status()!.membership.voters.some((v) => v.id === removed.id)).toBe(true);
    const term = leader.term;
    c.net.heal();
    await runFor(c, 2000);
    expect(c.leader()).toBe(leader);
    expect(leader.term).toBe(term);
    expect(removed.role).not.toBe('leader');
    expect(await writeEventually(c, 'k', 'v', 1000)).toBe(true);
  });

  it('a leader that removes itself steps down and the others elect a leader', async () => {
    const c = quietCluster(3, 32);
    const leader = await waitForLeader(c);
    expect(await writeEventually(c, 'k', 'before', 1000)).toBe(true);
    c.track(leader.raft!.removeServer(leader.id).catch(() => undefined));
    const next = await waitForLeader(c, 3000, others(c, leader.id));
    // The change takes effect on the new leader once it learns the entry is committed.
    expect(await runUntil(c, () => !next.status()!.membership.voters.some((v) => v.id === leader.id), 1000)).toBe(true);
    expect(await writeEventually(c, 'k', 'after', 2000)).toBe(true);
    await runFor(c, 1000);
    expect(leader.role).not.toBe('leader');
  });
});

describe('scenario: snapshots', async () => {
  it('a learner added while the log is compacted catches up by snapshot, is promoted, and keeps its membership across a restart', async () => {
    const c = quietCluster(3, 41, { snapshotThreshold: 5, snapshotKeep: 1 });
    await waitForLeader(c);
    for (let i = 0; i < 20; i++) expect(await writeEventually(c, `k${i % 3}`, `v${i}`, 1000)).toBe(true);
    const leader = c.leader()!;
    expect(leader.status()!.firstIndex).toBeGreaterThan(2);
    const member = c.startJoiner();
    c.track(leader.raft!.addLearner(member));
    // A snapshot taken while the change is in flight carries the membership at its own index.
    for (let i = 0; i < 6; i++) propose(leader, 'k0', `w${i}`);
    const joiner = c.node(member.id);
    expect(await runUntil(c, () => joiner.appliedIndex >= leader.status()!.commit && c.snapshotsInstalled > 0, 2000)).toBe(true);
    expect(joiner.status()!.membership.learners.map((l) => l.id)).toContain(member.id);
    c.track(leader.raft!.promote(member.id));
    expect(await runUntil(c, () => joiner.status()!.membership.voters.some((v) => v.id === member.id), 1000)).toBe(true);
    expect(await writeEventually(c, 'k0', 'promoted', 1000)).toBe(true);
    await runFor(c, 200);
    c.crash(joiner.id);
    c.restart(joiner.id);
    expect(await runUntil(c, () => joiner.up, 100)).toBe(true);
    expect(joiner.status()!.membership.voters.map((v) => v.id)).toContain(member.id);
    // With one original voter down, a quorum of the four voters needs the new one.
    const down = others(c, leader.id).find((id) => id !== member.id)!;
    c.crash(down);
    expect(await writeEventually(c, 'k0', 'needs-the-joiner', 2000)).toBe(true);
    expect(await runUntil(c, () => joiner.kv.get('k0') === 'needs-the-joiner', 1000)).toBe(true);
  });

  it('a follower whose snapshot acknowledgement is lost still catches up', async () => {
    const c = quietCluster(3, 51, { snapshotThreshold: 5, snapshotKeep: 1 });
    const leader = await waitForLeader(c);
    const lagger = c.node(others(c, leader.id)[0]!);
    c.net.isolate(lagger.id, [...c.nodes.keys()]);
    for (let i = 0; i < 20; i++) expect(await writeEventually(c, 'k', `v${i}`, 1000)).toBe(true);
    let dropped = false;
    c.net.dropIf = (m) => {
      const snap = leader.status()?.snapshotIndex ?? 0;
      if (dropped || m.type !== 'appendResponse' || m.from !== lagger.id || snap === 0 || m.index !== snap) return false;
      dropped = true;
      return true;
    };
    c.net.heal();
    expect(await runUntil(c, () => dropped, 1000)).toBe(true);
    expect(await runUntil(c, () => lagger.appliedIndex >= leader.status()!.commit, 3000)).toBe(true);
  });
});

describe('scenario: power loss at every step of a snapshot install', () => {
  it('a follower that loses power at any point of receiving, sealing or installing a snapshot restarts and catches up', { timeout: 600_000 }, async () => {
    let crashedMidTransfer = 0;
    for (let step = 0; step < 48; step += 2) {
      const c = quietCluster(3, 61, { snapshotThreshold: 5, snapshotKeep: 1 });
      const leader = await waitForLeader(c);
      const lagger = c.node(others(c, leader.id)[0]!);
      c.net.isolate(lagger.id, [...c.nodes.keys()]);
      // Enough state for a snapshot of several 32 KiB chunks.
      for (let i = 0; i < 20; i++) expect(await writeEventually(c, `k${i}`, `v${i}-${'x'.repeat(8000)}`, 1000)).toBe(true);
      let chunks = 0;
      c.net.dropIf = (m) => {
        if (m.type === 'snapshotChunk' && m.to === lagger.id) chunks++;
        return false;
      };
      c.net.heal();
      expect(await runUntil(c, () => chunks > 0, 1000)).toBe(true);
      let events = 0;
      await c.runUntil(c.queue.now + 1000, () => events++ >= step);
      if (lagger.status()!.snapshotIndex === 0) crashedMidTransfer++;
      c.crash(lagger.id);
      await runFor(c, 20);
      c.restart(lagger.id);
      const commit = leader.status()!.commit;
      expect(await runUntil(c, () => lagger.appliedIndex >= commit, 3000), `power loss ${step} events into the install`).toBe(true);
      expect(lagger.kv.get('k19')).toBe(leader.kv.get('k19'));
      c.checkLogs();
    }
    // The sweep did cut transfers short, not only finished installs.
    expect(crashedMidTransfer).toBeGreaterThan(3);
  });
});
