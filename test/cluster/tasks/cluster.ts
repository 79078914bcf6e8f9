/** Helpers for the task acceptance tests: a 3-node cluster of `wire node` processes, and the file a task writes. */
import { readFile } from 'node:fs/promises';
import { freePorts, http, until, type NodeProcess, type NodeProcesses } from '../node/processes.js';

export async function startCluster(nodes: NodeProcesses, ids: readonly string[], extra: readonly string[] = []): Promise<NodeProcess[]> {
  const ports = await freePorts(ids.length);
  const join = ports.map((p) => `127.0.0.1:${p}`).join(',');
  // The tasks write under the nodes' temp dir: the only directory their file sinks are allowed.
  const args = ['--bootstrap-expect', String(ids.length), '--join', join, '--task-failover-timeout', '2s', '--allow-path', await nodes.dir(), ...extra];
  const started = await Promise.all(ids.map((id, i) => nodes.start(id, args, { raftPort: ports[i] })));
  await until('every node ready', async () => (await Promise.all(started.map((n) => http(n, 'GET', '/readyz')))).every((r) => r.status === 200));
  return started;
}

export interface TaskView {
  readonly task: string;
  readonly node: string | null;
  readonly epoch: number;
  readonly version: number;
  readonly state: string;
  /** Counts of the run on its node (since that run started), from the node's last lease renewal. */
  readonly recordsIn: number;
  readonly restarts: number;
}

export async function tasksOf(node: { http: string }, pipeline: string): Promise<TaskView[]> {
  const r = await http(node, 'GET', `/v1/pipelines/${pipeline}/status`);
  if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.body)}`);
  return (r.body as { tasks: TaskView[] }).tasks;
}

/** The node (and epoch) task 0 of `pipeline` runs on, once it runs. */
export function runningOn(node: NodeProcess, pipeline: string, not?: string): Promise<TaskView> {
  return until(`${pipeline}'s task running${not ? ` elsewhere than ${not}` : ''}`, async () => {
    const [t] = await tasksOf(node, pipeline);
    return t !== undefined && t.node !== null && t.node !== not && t.state === 'running' ? t : undefined;
  });
}

/** The `i` of every line of a JSON lines file (an unfinished last line is left out). */
export async function sequence(file: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop();
  return lines.map((l) => (JSON.parse(l) as { i: number }).i);
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export const generateToFile = (name: string, file: string, count: number, rate: number): string =>
  `name: ${name}\nsource:\n  type: generate\n  config: { count: ${count}, rate: ${rate} }\nsink:\n  type: file\n  config: { path: ${JSON.stringify(file)} }\n`;
