/**
 * Command line of `kv-node`. Every option can also come from the environment as `KV_<NAME>`
 * (`--snapshot-threshold` ↔ `KV_SNAPSHOT_THRESHOLD`); the command line wins.
 *
 *   --id n1 --raft 127.0.0.1:7001 --http 127.0.0.1:8001 --data /tmp/n1
 *   --peers n1=127.0.0.1:7001/127.0.0.1:8001,n2=...   (id=raftAddress[/httpAddress]; founders list every voter)
 *   --join                                            (start empty and wait to be added as a learner)
 *   --watch-parent                                    (stop when stdin closes: the launching process died)
 *   --commit-hold-ms 5 --wal-inline-bytes 512         (the library's defaults; 0 turns either off, to compare)
 *   --heartbeat-ticks 1                               (a heartbeat every tick, as the library's default)
 */
import { parseArgs } from 'node:util';

export interface PeerAddress {
  readonly id: string;
  readonly raft: string;
  readonly http: string | null;
}

export interface KvNodeArgs {
  readonly id: string;
  readonly raft: HostPort;
  readonly http: HostPort;
  readonly data: string;
  readonly peers: readonly PeerAddress[];
  readonly join: boolean;
  readonly watchParent: boolean;
  readonly clusterId: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly snapshotThreshold: number;
  readonly trailingEntries: number;
  /** RaftNode's `commitHoldMs` (0: commit-only appends at once). */
  readonly commitHoldMs: number;
  /** The WAL's `inlineWriteBytes` (0: every durable write through the thread pool). */
  readonly walInlineBytes: number;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

// Snapshots as etcd 3.4 does by default (--snapshot-count 100000, 5000 entries kept for followers), so the
// benchmark compares like with like.
const NUMBERS = {
  'tick-ms': 25,
  'election-ticks': 12,
  'heartbeat-ticks': 1,
  'snapshot-threshold': 100_000,
  'trailing-entries': 5_000,
} as const;

/** Options that may be 0 (turned off), with the library's defaults. */
const COUNTS = {
  'commit-hold-ms': 5,
  'wal-inline-bytes': 512,
} as const;

export function parseHostPort(s: string, what: string): HostPort {
  const at = s.lastIndexOf(':');
  const port = Number(s.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${what}: expected host:port, got "${s}"`);
  return { host: s.slice(0, at), port };
}

/** `id=raft[/http],...` → peers; the raft and HTTP addresses are validated as host:port. */
export function parsePeers(s: string): PeerAddress[] {
  if (s.trim() === '') return [];
  return s.split(',').map((item) => {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--peers: expected id=raftAddress[/httpAddress], got "${item}"`);
    const [raft, http] = item.slice(eq + 1).split('/');
    parseHostPort(raft ?? '', `--peers ${item}`);
    if (http !== undefined) parseHostPort(http, `--peers ${item}`);
    return { id: item.slice(0, eq), raft: raft!, http: http ?? null };
  });
}

export function parseKvNodeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): KvNodeArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      id: { type: 'string' },
      raft: { type: 'string' },
      http: { type: 'string' },
      data: { type: 'string' },
      peers: { type: 'string' },
      join: { type: 'boolean' },
      'watch-parent': { type: 'boolean' },
      'cluster-id': { type: 'string' },
      'tick-ms': { type: 'string' },
      'election-ticks': { type: 'string' },
      'heartbeat-ticks': { type: 'string' },
      'snapshot-threshold': { type: 'string' },
      'trailing-entries': { type: 'string' },
      'commit-hold-ms': { type: 'string' },
      'wal-inline-bytes': { type: 'string' },
    },
    strict: true,
  });
  const pick = (name: keyof typeof values): string | undefined => {
    const v = values[name];
    if (typeof v === 'string') return v;
    return env[`KV_${name.toUpperCase().replace(/-/g, '_')}`];
  };
  const need = (name: 'id' | 'raft' | 'http' | 'data'): string => {
    const v = pick(name);
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  const num = (name: keyof typeof NUMBERS): number => {
    const raw = pick(name);
    if (raw === undefined) return NUMBERS[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got "${raw}"`);
    return n;
  };
  const count = (name: keyof typeof COUNTS): number => {
    const raw = pick(name);
    if (raw === undefined) return COUNTS[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected an integer ≥ 0, got "${raw}"`);
    return n;
  };
  const join = values.join === true || env.KV_JOIN === '1';
  const id = need('id');
  const peers = parsePeers(pick('peers') ?? '');
  if (!join && !peers.some((p) => p.id === id)) throw new Error(`--peers must list this node (${id}) unless --join is given`);
  return {
    id,
    raft: parseHostPort(need('raft'), '--raft'),
    http: parseHostPort(need('http'), '--http'),
    data: need('data'),
    peers,
    join,
    watchParent: values['watch-parent'] === true,
    clusterId: pick('cluster-id') ?? 'wire-kv',
    tickMs: num('tick-ms'),
    electionTicks: num('election-ticks'),
    heartbeatTicks: num('heartbeat-ticks'),
    snapshotThreshold: num('snapshot-threshold'),
    trailingEntries: num('trailing-entries'),
    commitHoldMs: count('commit-hold-ms'),
    walInlineBytes: count('wal-inline-bytes'),
  };
}
