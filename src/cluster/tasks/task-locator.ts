/** Where a pipeline's task runs, for the ingest route (`POST /v1/pipelines/:name/ingest` forwards there). */
import type { StateReader } from '../state-view.js';

/** The node running task `0` of `pipeline` (or its first task with a node), with its HTTP address; null when none does. */
export function taskNodeOf(state: StateReader, pipeline: string): { nodeId: string; httpAddress: string } | null {
  const tasks = state.tasks(pipeline);
  const running = tasks.find((t) => t.task === '0' && t.node !== null && !t.drain) ?? tasks.find((t) => t.node !== null && !t.drain);
  if (!running?.node) return null;
  const node = state.node(running.node);
  return node ? { nodeId: node.id, httpAddress: node.httpAddress } : null;
}
