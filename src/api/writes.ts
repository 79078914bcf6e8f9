/**
 * How a route writes: through the handle, which forwards to the leader, answering with the node that served it
 * (`X-Wire-Served-By`); with `?redirect`, a follower answers 307 to the leader's API instead of forwarding.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WireError } from '../core/errors.js';
import type { ClusterCommand } from '../cluster/commands.js';
import type { ClusterHandle, WriteResult } from '../cluster/handle.js';
import type { CommandOutcome } from '../cluster/transitions.js';
import { actorOf, authorizePipeline, markAudited } from '../security/auth-hook.js';

export const SERVED_BY_HEADER = 'x-wire-served-by';

/** The command without its version and clock: what a route decides; `v` and `at` are set here. */
export type CommandBody = ClusterCommand extends infer C ? (C extends ClusterCommand ? Omit<C, 'v' | 'at'> : never) : never;

/** `?redirect`, `?redirect=true`, `?redirect=1`: yes; absent or `false`: no. */
export function wantsRedirect(value: string | undefined): boolean {
  return value !== undefined && value !== 'false' && value !== '0';
}

export class Redirected extends Error {
  constructor(readonly location: string) {
    super(`redirected to ${location}`);
  }
}

/** The leader's URL for the same request, or UNAVAILABLE when no leader is known. */
function leaderLocation(request: FastifyRequest, error: WireError): string {
  const leaderHttp = error.details['leaderHttp'];
  if (typeof leaderHttp !== 'string' || leaderHttp === '') {
    throw new WireError('UNAVAILABLE', 'this node is not the leader and no leader is known yet; retry shortly', { ...error.details, retryable: true });
  }
  return `${request.protocol}://${leaderHttp}${request.url}`;
}

/**
 * Proposes `body` and returns what applying it gave. Throws `Redirected` (the route answers 307) when the
 * request asked to be redirected and this node does not lead.
 */
export async function writeCommand(handle: ClusterHandle, request: FastifyRequest, reply: FastifyReply, body: CommandBody, redirect: string | undefined): Promise<CommandOutcome> {
  // A token limited to some pipelines is checked here too: a create names its pipeline in the body only.
  if (body.type.startsWith('pipeline.') && 'name' in body) authorizePipeline(request, body.name);
  const command = { ...body, v: 1, at: Date.now(), by: actorOf(request, handle.id) } as ClusterCommand;
  let result: WriteResult;
  try {
    result = await handle.write(command, { redirect: wantsRedirect(redirect) });
  } catch (error) {
    if (error instanceof WireError && error.code === 'NOT_LEADER') throw new Redirected(leaderLocation(request, error));
    throw error;
  }
  void reply.header(SERVED_BY_HEADER, result.servedBy);
  markAudited(request);
  return result.result as CommandOutcome;
}

/** The record a pipeline command's outcome carries. */
export function pipelineOf(outcome: CommandOutcome): Extract<CommandOutcome, { kind: 'pipeline' }>['pipeline'] {
  if (outcome.kind !== 'pipeline') throw new WireError('INTERNAL', `expected a pipeline from the command, got ${outcome.kind}`);
  return outcome.pipeline;
}
