/**
 * One simulation run, a pure function of its seed: a cluster under a fault mix, clients running a
 * key-value workload, invariants checked at every step, then healing, a liveness check and a
 * linearizability check of the whole history.
 */
import { RaftInvariantError } from '../../src/raft/core/assert.js';
import { Cluster, DEFAULT_TUNING } from './cluster.js';
import { Workload } from './clients.js';
import { InvariantViolation } from './invariants.js';
import { kvModel } from './kv-model.js';
import { checkLinearizable, type CheckResult } from './linearizability.js';
import { MIXES, Nemesis, type MixName } from './nemesis.js';
import { SilentLossError } from './sim-node.js';

export interface RunOptions {
  readonly seed: number;
  readonly nodes: number;
  /** The fault mix; by default chosen from the seed. */
  readonly mix?: MixName;
  /** Print the trace as it happens. */
  readonly echo?: (line: string) => void;
  /** Simulated length of the fault phase (ms). */
  readonly faultMs?: number;
  /** A deliberate driver bug (tests of the simulator itself). */
  readonly mutation?: 'localReads';
}

export interface RunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly mix: MixName;
  readonly ok: boolean;
  /** What failed: an invariant, liveness, linearizability, or a crash of the core. */
  readonly failure?: string;
  readonly linearizable: CheckResult | 'not checked';
  readonly simulatedMs: number;
  /** Simulated time from healing to the first acknowledged write. */
  readonly recoveryMs: number | null;
  readonly stats: Record<string, number>;
  readonly trace: string[];
}

/** After healing, a leader must emerge and a write commit within this simulated time. */
export const LIVENESS_BOUND_MS = 4000;
const CLIENT_TAIL_MS = 400;
const DRAIN_MS = 600;
/** Search steps the linearizability check may take per key. */
const LINEARIZABILITY_MAX_STEPS = 2_000_000;

export function mixForSeed(seed: number): MixName {
  return MIXES[Math.abs(seed) % MIXES.length]!;
}

export async function runSeed(opts: RunOptions): Promise<RunResult> {
  const mix = opts.mix ?? mixForSeed(opts.seed);
  const faultMs = opts.faultMs ?? 2500;
  const snapshotHeavy = mix === 'snapshot' || mix === 'mixed' || mix === 'churn';
  // Every fourth seed serves reads from the leader's lease; every third founds the cluster with a learner,
  // and so does every cluster of one or two voters (the documented way to grow one).
  const leaseReads = opts.seed % 4 === 3;
  const learners = opts.nodes <= 2 || opts.seed % 3 === 2 ? 1 : 0;
  const cluster = new Cluster({
    seed: opts.seed,
    nodes: opts.nodes + learners,
    learners,
    tuning: {
      ...DEFAULT_TUNING,
      leaseReads,
      ...(snapshotHeavy ? { snapshotThreshold: 12, snapshotKeep: 2 } : {}),
      ...(opts.mutation !== undefined ? { mutation: opts.mutation } : {}),
    },
    tickMs: 10,
    tearProbability: 0.7,
    ...(opts.echo !== undefined ? { echoTrace: opts.echo } : {}),
  });
  cluster.net.holdOnCut = 0.5;
  const workload = new Workload(cluster, cluster.prng.fork(), {
    clients: 3,
    keys: ['x', 'y', 'z'],
    stopAt: faultMs + CLIENT_TAIL_MS,
    writeTimeoutMs: 800,
    readAttemptMs: 250,
    opTimeoutMs: 1500,
    largeValues: mix === 'net' ? 0.02 : 0,
  });
  const nemesis = new Nemesis(cluster, cluster.prng.fork(), {
    mix,
    until: faultMs,
    minGapMs: 60,
    maxGapMs: 300,
    maxVoters: Math.min(opts.nodes + 1, 6),
  });
  cluster.trace.add(`seed ${opts.seed}: ${opts.nodes} voters, ${learners} learners, mix ${mix}, lease reads ${leaseReads ? 'on' : 'off'}`);
  let failure: string | undefined;
  let linearizable: CheckResult | 'not checked' = 'not checked';
  let recoveryMs: number | null = null;
  try {
    cluster.startFounders();
    workload.start();
    nemesis.start();
    await cluster.runUntil(faultMs);
    nemesis.heal();
    const healedAt = cluster.queue.now;
    let probeAt: number | null = null;
    workload.probe('x', `probe-${opts.seed}`, healedAt + LIVENESS_BOUND_MS, (at) => (probeAt = at));
    await cluster.runUntil(healedAt + LIVENESS_BOUND_MS, () => probeAt !== null && cluster.queue.now >= faultMs + CLIENT_TAIL_MS);
    if (probeAt === null) {
      failure = `liveness: no write committed within ${LIVENESS_BOUND_MS}ms of healing (leader: ${cluster.leader()?.id ?? 'none'})`;
    } else {
      recoveryMs = probeAt - healedAt;
      const commitBeforeDrain = cluster.leader()?.status()?.commit ?? 0;
      await cluster.runUntil(cluster.queue.now + DRAIN_MS);
      cluster.checkLogs();
      const leader = cluster.leader();
      if (leader === undefined) failure = 'liveness: no leader at the end of the run';
      else {
        cluster.invariants.checkAcknowledged(leader.appliedIndex);
        // Every member still in the configuration must have caught up with what was committed before the drain.
        const members = leader.status()!.membership;
        // A node that refused to start (corrupt storage) stays out until an operator repairs it.
        const lagging = [...members.voters, ...members.learners]
          .map((m) => cluster.node(m.id))
          .filter((n) => n.refused === null)
          .filter((n) => n.appliedIndex < commitBeforeDrain)
          .map((n) => {
            const pr = leader.status()!.peers.find((p) => p.id === n.id);
            return `${n.id} at ${n.appliedIndex} (leader ${leader.id} sees ${pr === undefined ? 'no progress' : `${pr.state} match ${pr.match} next ${pr.next}`})`;
          });
        if (lagging.length > 0) failure = `liveness: after healing, ${lagging.join(', ')} did not catch up with commit ${commitBeforeDrain} in ${DRAIN_MS}ms`;
      }
    }
    if (failure === undefined) {
      const report = checkLinearizable(kvModel, workload.history, LINEARIZABILITY_MAX_STEPS);
      linearizable = report.result;
      // A search cut short proved nothing: it fails the seed like a violation would.
      if (report.result === 'unknown') failure = `linearizability: the search hit its cap of ${LINEARIZABILITY_MAX_STEPS} steps (raise it, or shorten the history)`;
      if (report.result === 'illegal') {
        const bad = report.partitions.find((p) => p.result === 'illegal')!;
        const key = bad.ops[0]!.input.key;
        cluster.trace.add(`history of key ${key} (not linearizable):`);
        for (const op of [...bad.ops].sort((a, b) => a.call - b.call)) {
          cluster.trace.add(`  ${kvModel.describe!(op)} ${workload.describe(op)}`);
        }
        failure = `linearizability: the history of key ${key} is not linearizable`;
      }
    }
  } catch (err) {
    if (err instanceof InvariantViolation) failure = `invariant: ${err.message}`;
    else if (err instanceof SilentLossError) failure = `silent loss: ${err.message}`;
    else if (err instanceof RaftInvariantError) failure = `core assertion: ${err.message}`;
    else failure = `crash: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  }
  if (failure !== undefined) cluster.trace.add(`FAILED: ${failure}`);
  const history = workload.history;
  return {
    seed: opts.seed,
    nodes: opts.nodes,
    mix,
    ok: failure === undefined,
    ...(failure !== undefined ? { failure } : {}),
    linearizable,
    simulatedMs: cluster.queue.now,
    recoveryMs,
    stats: {
      events: cluster.events,
      ops: history.length,
      acked: workload.acked,
      pending: history.filter((o) => !Number.isFinite(o.ret)).length,
      leaders: cluster.invariants.leaderCount,
      crashes: cluster.crashes,
      tornWrites: cluster.tornWrites,
      snapshotsInstalled: cluster.snapshotsInstalled,
      refusals: cluster.refusals,
      syncs: [...cluster.nodes.values()].reduce((n, node) => n + node.disk.syncs, 0),
      queuedFrames: cluster.net.stats.queued,
      oversizedFrames: cluster.net.stats.oversized,
      checks: cluster.invariants.checks,
      messages: cluster.net.stats.sent,
      ...Object.fromEntries(Object.entries(nemesis.counts).map(([k, v]) => [`fault.${k}`, v])),
    },
    trace: cluster.trace.text(),
  };
}
