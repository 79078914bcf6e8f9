/**
 * Deleting a pipeline whose tasks run: it is stopped first, so each task stops at a checkpoint (what it read is in
 * its sink, flushed, and acknowledged to its source) and is released, and only then are the pipeline, its tasks and
 * its checkpoints removed. A delete loses nothing a stop would not; deleting with the tasks still running would kill
 * them, leaving what they had read but not yet written unacknowledged.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WireError } from '../core/errors.js';
import type { ClusterHandle } from '../cluster/handle.js';
import { getPipeline } from '../cluster/queries.js';
import type { StateReader } from '../cluster/state-view.js';
import type { CommandOutcome } from '../cluster/transitions.js';
import { writeCommand } from './writes.js';

/**
 * Long enough for a run's stop deadline (10 s) and a dead node's fail-over (2 s by default), with room for the commits;
 * shorter than the CLI's 30 s wait for an answer, so `wire pipeline delete` sees why it did not delete.
 */
export const DELETE_DRAIN_TIMEOUT_MS = 20_000;
const POLL_MS = 50;

const runningTasks = (name: string) => (s: StateReader): number => s.tasks(name).filter((t) => t.node !== null).length;

export interface DeleteRequest {
  readonly name: string;
  readonly ifVersion: number | undefined;
  readonly redirect: string | undefined;
  readonly drainTimeoutMs?: number;
}

export async function drainAndDelete(handle: ClusterHandle, request: FastifyRequest, reply: FastifyReply, d: DeleteRequest): Promise<CommandOutcome> {
  const { name, ifVersion, redirect } = d;
  const remove = { type: 'pipeline.delete', name, ...(ifVersion === undefined ? {} : { ifVersion }) } as const;
  // A linearizable read: a follower's lagging state could miss a pipeline just created or started elsewhere.
  const current = await handle.read((s) => getPipeline(s, name), { consistent: true });
  // An `ifVersion` that does not match changes nothing: the delete itself refuses it (CONFLICT).
  if (ifVersion !== undefined && ifVersion !== current.version) return writeCommand(handle, request, reply, remove, redirect);
  if ((await handle.read(runningTasks(name))) > 0) {
    if (current.desired !== 'stopped') await writeCommand(handle, request, reply, { type: 'pipeline.setDesired', name, desired: 'stopped' }, redirect);
    await drained(handle, name, d.drainTimeoutMs ?? DELETE_DRAIN_TIMEOUT_MS);
  }
  return writeCommand(handle, request, reply, remove, redirect);
}

/** Resolves once no task of the pipeline runs anywhere (each stopped at a checkpoint and released). */
async function drained(handle: ClusterHandle, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await handle.read(runningTasks(name));
    if (running === 0) return;
    if (Date.now() >= deadline) {
      throw new WireError(
        'TIMEOUT',
        `pipeline '${name}' is stopped, but ${running} of its tasks did not stop at a checkpoint within ${timeoutMs} ms; nothing was deleted: delete it again`,
        { pipeline: name, running },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
