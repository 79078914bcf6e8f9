/** What `startNode` needs: the `wire node` flags, parsed (`cli/commands/node-flags.ts`). */
import type tls from 'node:tls';
import type { Registry } from 'prom-client';
import type { TaskOptions } from './agent/node-tasks.js';

export interface NodeOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  /** Where the node port listens (Raft and cluster RPC); port 0 picks a free one. */
  readonly raftHost: string;
  readonly raftPort: number;
  /** host:port peers use to reach the node port (default: the bound address). */
  readonly raftAdvertise?: string;
  /**
   * host:port clients use to reach this node's HTTP API (told to the cluster, used for redirects). A promise
   * when it is known only once the API listens (`--http-addr host:0`): the node forms or joins after it settles.
   */
  readonly httpAdvertise: string | Promise<string>;
  /** Form an N-voter cluster once N nodes (this one included) of `join` see each other; 0: no waiting. */
  readonly bootstrapExpect: number;
  /** Node-port addresses of other nodes: members to join, or fellow founders with `bootstrapExpect`. */
  readonly join: readonly string[];
  readonly joinAttempts: number;
  readonly joinIntervalMs: number;
  /** Join as a learner: replicates and serves reads, never votes. */
  readonly nonVoter: boolean;
  /** Applied entries between snapshots; the log before a snapshot is compacted (`wire node` defaults to 8192). */
  readonly snapshotThreshold: number;
  /** On close, a leader hands leadership to another voter first. */
  readonly shutdownStepdown: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Shown when joining; without mutual TLS a leader admits only a node with a valid join token. */
  readonly joinToken?: string;
  /** Mutual TLS on the node port: `server` for accepted connections, `client` for outbound ones. */
  readonly tls?: NodeTls;
  /** Milliseconds per Raft tick and ticks per election timeout (defaults 100 and 10). */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  /** How long a write, read index or membership change may wait (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly log: NodeLog;
  /** Run the cluster's pipelines on this node (`wire node` always does; tests of Raft and the API alone may not). */
  readonly tasks?: TaskOptions;
  /** Where the node's metrics go (default: a registry of its own); `wire node` shares it with its tasks' engine metrics. */
  readonly metrics?: Registry;
  /** An unrecoverable failure (storage); the node has stopped itself. */
  readonly onFatal?: (err: Error) => void;
}

export interface NodeTls {
  readonly server: tls.TlsOptions;
  readonly client: tls.ConnectionOptions;
}

export interface NodeLog {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

/** One election timeout at the node's tick (Raft's defaults: 10 ticks of 100 ms). */
export function electionTimeoutMs(options: Pick<NodeOptions, 'tickMs' | 'electionTicks'>): number {
  return (options.tickMs ?? 100) * (options.electionTicks ?? 10);
}
