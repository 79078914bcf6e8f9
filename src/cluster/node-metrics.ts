/** The node's Prometheus metrics (`wire_raft_*`, `wire_node_*`), read from its status when scraped. */
import { Gauge, Registry } from 'prom-client';
import type { RaftNodeStatus } from '../raft/node-types.js';
import type { ClusterStatus } from './handle.js';

export function nodeMetrics(status: () => ClusterStatus, raft: () => RaftNodeStatus | undefined, registry = new Registry()): Registry {
  const gauge = (name: string, help: string, read: () => number | undefined): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const v = read();
        if (v !== undefined) this.set(v);
      },
    });
  };
  gauge('wire_raft_term', 'Current Raft term', () => raft()?.term);
  gauge('wire_raft_commit_index', 'Highest log index known committed', () => raft()?.commit);
  gauge('wire_raft_applied_index', 'Highest log index applied to the state machine', () => raft()?.applied);
  gauge('wire_raft_first_index', 'First index of the local log (compaction moves it)', () => raft()?.firstIndex);
  gauge('wire_raft_last_index', 'Last index of the local log', () => raft()?.lastIndex);
  gauge('wire_raft_snapshot_index', 'Index of the latest snapshot', () => raft()?.snapshotIndex);
  gauge('wire_raft_leader', '1 if this node is the leader', () => (raft()?.role === 'leader' ? 1 : 0));
  gauge('wire_raft_voters', 'Voters in the membership', () => raft()?.membership.voters.length);
  gauge('wire_raft_learners', 'Learners in the membership', () => raft()?.membership.learners.length);
  gauge('wire_raft_dropped_messages', 'Peer messages dropped as malformed or impossible', () => raft()?.droppedMessages);
  gauge('wire_node_members_reachable', 'Members this node reached recently (itself included)', () => status().members.filter((m) => m.reachable).length);
  gauge('wire_node_ready', '1 when the node is a member with a leader', () => (status().leaderId !== null ? 1 : 0));
  return registry;
}
