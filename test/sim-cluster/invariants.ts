/**
 * What must hold, checked as the run goes and at its end (each failure names the task and what broke):
 * - one writer per epoch: never two live runs of one task at the same epoch on two nodes;
 * - leased writers: a node writes a task's records while holding its lease only if no other node holding a lease
 *   runs that task (after their leases are checked, two writers never overlap);
 * - epochs only grow (in the committed state, per task, until the task is removed);
 * - checkpoints never move backwards: (epoch, seq) and the position only grow per task;
 * - at the end, every task of a running pipeline is assigned to exactly one live node, which runs it, and no
 *   other run of it is alive anywhere (for a paused pipeline, a run that reads nothing); a stopped pipeline runs
 *   nothing.
 */
import type { ClusterCommand } from '../../src/cluster/commands.js';
import type { ApplyResult } from './memory-state.js';
import type { SimRun, WriteEvent } from './sim-engine.js';
import type { World } from './world.js';

const keyOf = (pipeline: string, task: string): string => `${pipeline}/${task}`;

export class Invariants {
  /** Live runs by task. */
  private readonly runs = new Map<string, Set<SimRun>>();
  private readonly epochs = new Map<string, number>();
  private readonly checkpoints = new Map<string, { epoch: number; seq: number; position: number }>();
  writes = 0;
  overlapsChecked = 0;

  constructor(private readonly world: World) {}

  runStarted(run: SimRun): void {
    const key = keyOf(run.task.pipeline, run.task.task);
    let set = this.runs.get(key);
    if (set === undefined) this.runs.set(key, (set = new Set()));
    for (const other of set) {
      if (other.node !== run.node && other.task.epoch === run.task.epoch) {
        this.world.fail(new Error(`task ${key}: ${run.node} starts epoch ${run.task.epoch} while ${other.node} runs it at the same epoch`));
      }
    }
    set.add(run);
    this.world.note(`${run.node} runs ${key} epoch ${run.task.epoch}`);
  }

  runEnded(run: SimRun): void {
    this.runs.get(keyOf(run.task.pipeline, run.task.task))?.delete(run);
  }

  /** A dead process's runs are gone with it (their handles never resolve in a real kill -9). */
  nodeDied(node: string): void {
    for (const set of this.runs.values()) for (const run of [...set]) if (run.node === node) run.kill();
  }

  write(event: WriteEvent): void {
    this.writes++;
    const key = keyOf(event.pipeline, event.task);
    const writer = this.world.nodes.get(event.node)!;
    if (!writer.tasks?.lease.valid()) return;
    for (const other of this.runs.get(key) ?? []) {
      if (other.node === event.node || !other.live) continue;
      this.overlapsChecked++;
      const node = this.world.nodes.get(other.node)!;
      if (node.alive && node.tasks?.lease.valid()) {
        this.world.fail(new Error(`task ${key}: ${event.node} (epoch ${event.epoch}) and ${other.node} (epoch ${other.task.epoch}) both run it holding leases`));
      }
    }
  }

  afterCommit(command: ClusterCommand, result: ApplyResult): void {
    if (!result.ok) return;
    const state = this.world.committed;
    if (command.type === 'task.remove' || command.type === 'pipeline.delete') {
      for (const key of [...this.epochs.keys()]) {
        const [pipeline, task] = key.split('/') as [string, string];
        if (state.task(pipeline, task) === undefined) {
          this.epochs.delete(key);
          this.checkpoints.delete(key);
        }
      }
      return;
    }
    for (const t of state.tasks()) {
      const key = keyOf(t.pipeline, t.task);
      const before = this.epochs.get(key) ?? 0;
      if (t.epoch < before) this.world.fail(new Error(`task ${key}: epoch went from ${before} back to ${t.epoch}`));
      this.epochs.set(key, t.epoch);
      const cp = state.checkpoint(t.pipeline, t.task);
      if (cp === undefined) continue;
      const position = typeof cp.checkpoint['position'] === 'number' ? cp.checkpoint['position'] : -1;
      const last = this.checkpoints.get(key);
      if (last !== undefined) {
        const older = cp.epoch < last.epoch || (cp.epoch === last.epoch && cp.seq < last.seq);
        if (older || position < last.position) {
          this.world.fail(new Error(`task ${key}: checkpoint moved back from ${last.epoch}.${last.seq}@${last.position} to ${cp.epoch}.${cp.seq}@${position}`));
        }
      }
      this.checkpoints.set(key, { epoch: cp.epoch, seq: cp.seq, position });
    }
  }

  afterEvent(): void {
    // The per-write and per-commit checks are made where they happen; nothing is left to sweep.
  }

  /** The end state, once faults have healed and the cluster had time to settle. */
  checkEnd(): void {
    const state = this.world.committed;
    const live = new Set([...this.world.nodes.values()].filter((n) => n.alive).map((n) => n.id));
    const liveRuns = (key: string): SimRun[] => [...(this.runs.get(key) ?? [])].filter((r) => r.live);
    for (const p of state.pipelines()) {
      const tasks = state.tasks(p.name);
      if (p.desired === 'stopped') {
        for (const t of tasks) {
          const running = liveRuns(keyOf(p.name, t.task));
          if (running.length > 0) this.world.fail(new Error(`pipeline ${p.name} is ${p.desired} but ${running.map((r) => r.node).join(', ')} run task ${t.task}`));
        }
        continue;
      }
      if (tasks.length === 0) this.world.fail(new Error(`pipeline ${p.name} is ${p.desired} but has no task`));
      for (const t of tasks) {
        const key = keyOf(p.name, t.task);
        if (t.node === null || !live.has(t.node)) this.world.fail(new Error(`task ${key} of ${p.desired} pipeline ${p.name} is on ${t.node ?? 'no node'} at the end`));
        else if (t.version !== p.version || t.drain) this.world.fail(new Error(`task ${key} is at version ${t.version}${t.drain ? ', draining,' : ''} at the end (pipeline at ${p.version})`));
        const running = liveRuns(key);
        if (running.length !== 1 || running[0]!.node !== t.node || running[0]!.task.epoch !== t.epoch) {
          this.world.fail(new Error(`task ${key} (epoch ${t.epoch} on ${t.node}) runs as [${running.map((r) => `${r.node}@${r.task.epoch}`).join(', ')}] at the end`));
        } else if (running[0]!.isPaused !== (p.desired === 'paused')) {
          this.world.fail(new Error(`task ${key} of ${p.desired} pipeline ${p.name} is ${running[0]!.isPaused ? 'paused' : 'reading'} at the end`));
        }
      }
    }
    for (const [key, set] of this.runs) {
      const [pipeline] = key.split('/') as [string];
      for (const run of set) {
        if (run.live && state.pipeline(pipeline) === undefined) this.world.fail(new Error(`${run.node} still runs ${key} of a deleted pipeline`));
      }
    }
  }
}
