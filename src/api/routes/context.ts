import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ClusterHandle, ReadinessCheck } from '../../cluster/handle.js';
import type { ConfinementPolicy } from '../../security/confine.js';

/** The Fastify instance routes register on: TypeBox schemas give their handlers typed params, query and body. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface RouteContext {
  readonly handle: ClusterHandle;
  /** What a pipeline sent here may reach on this node's disk, modules and network. */
  readonly confinement: ConfinementPolicy;
  /** Checks `/readyz` adds to the handle's (e.g. the node's admin token is committed). */
  readonly readiness?: () => readonly ReadinessCheck[];
}
