/**
 * The HTTP API of a Wire node (Fastify + TypeBox): routes in routes/, errors in errors.ts. `wire node` calls
 * `startApi` with its `ClusterHandle`; tests call `buildApi` and `inject`. Security (issue 12) adds an auth hook
 * and TLS options here, in front of every route.
 */
import type tls from 'node:tls';
import Fastify from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createRegistry } from '../connectors/registry.js';
import { CLOSED_POLICY, type ConfinementPolicy } from '../security/confine.js';
import { securityHeaders } from '../security/headers.js';
import { maskAnswers } from '../security/mask-answers.js';
import { strictRoutes } from '../security/strict-routes.js';
import type { ClusterHandle, ReadinessCheck } from '../cluster/handle.js';
import { installApiAuth, type ApiAuthOptions } from './auth.js';
import type { AuditBatcher } from '../security/audit-batcher.js';
import { notFoundError, sendError, toHttpError } from './errors.js';
import { lazySerializers } from './lazy-serializers.js';
import { lazyValidators } from './lazy-validators.js';
import { auditRoutes } from './routes/audit.js';
import { clusterRoutes } from './routes/cluster.js';
import type { Api } from './routes/context.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes, type IngestOptions } from './routes/ingest.js';
import { originalRoutes } from './routes/original.js';
import { pipelineActionRoutes } from './routes/pipeline-actions.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { tokenRoutes } from './routes/tokens.js';
import { SHARED_SCHEMAS } from './schemas.js';
import { httpsServerFactory, reloadServerTls } from './tls-server.js';
import { Redirected } from './writes.js';

/** Largest request body: a pipeline file is a few KiB; a command is at most 1 MiB once encoded. */
export const DEFAULT_BODY_LIMIT = 1 << 20;

/** Every answer names the node that answered it. */
export const NODE_HEADER = 'x-wire-node';

export interface ApiOptions {
  readonly bodyLimit?: number;
  /** Called with every 500 the API answers, so none is lost (the node logs it). */
  readonly onInternalError?: (error: Error) => void;
  /** Where pipelines' tasks run, for `POST /v1/pipelines/:name/ingest` (a node that runs tasks gives it). */
  readonly ingest?: IngestOptions;
  /** What pipelines sent to this node may reach (`--allow-*`); default: no file, module or secret reference. */
  readonly confinement?: ConfinementPolicy;
  /** Origins browsers may call the API from (`--cors-origin`); default: none (no CORS). */
  readonly corsOrigins?: readonly string[];
  /** Serve HTTPS with these options (`--http-cert`…); plain HTTP without. */
  readonly https?: tls.TlsOptions;
  /** Authentication is always on: these choose how the health routes are reached and the limits. */
  readonly auth?: ApiAuthOptions;
  /** Checks `/readyz` adds to the handle's. */
  readonly readiness?: () => readonly ReadinessCheck[];
}

export interface StartApiOptions extends ApiOptions {
  readonly host: string;
  readonly port: number;
}

export interface RunningApi {
  /** host:port the API listens on (the port chosen when 0 was asked). */
  readonly address: string;
  /** New certificates (a rotation) for connections accepted from now on. */
  reloadTls(options: tls.SecureContextOptions): void;
  /** Writes the refused calls waiting for the audit log (before the node stops). */
  flushAudit(): Promise<void>;
  close(): Promise<void>;
}

const audits = new WeakMap<Api, AuditBatcher>();

/** The API, routes registered and ready for `inject` or `listen`. */
export async function buildApi(handle: ClusterHandle, options: ApiOptions = {}): Promise<Api> {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const api: Api = Fastify({
    logger: false,
    bodyLimit,
    schemaController: { compilersFactory: { buildSerializer: lazySerializers, buildValidator: lazyValidators } },
    ...(options.https ? { serverFactory: httpsServerFactory(options.https) } : {}),
    // Extra fields are refused (not silently dropped), and a field is not given a default the client did not send.
    ajv: { customOptions: { removeAdditional: false, useDefaults: false, coerceTypes: 'array', allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  for (const schema of SHARED_SCHEMAS) api.addSchema(schema);
  securityHeaders(api, options.corsOrigins ?? []);
  strictRoutes(api);
  maskAnswers(api, createRegistry());

  api.setErrorHandler((thrown, _request, reply) => {
    if (thrown instanceof Redirected) return reply.code(307).header('location', thrown.location).send({ redirect: thrown.location });
    const answer = toHttpError(thrown, { bodyLimit });
    if (answer.status >= 500 && answer.error.code === 'INTERNAL') options.onInternalError?.(answer.error);
    return sendError(reply, answer);
  });
  api.setNotFoundHandler((request, reply) => sendError(reply, { status: 404, error: notFoundError(request) }));
  api.addHook('onRequest', async (_request, reply) => {
    void reply.header(NODE_HEADER, handle.id);
  });
  audits.set(api, installApiAuth(api, handle, options.auth));

  await api.register(swagger, {
    openapi: {
      info: { title: 'Wire API', version: '1', description: 'The HTTP API of a Wire node (docs/api.md).' },
      tags: [{ name: 'pipelines' }, { name: 'cluster' }, { name: 'health' }, { name: 'original Wire' }, { name: 'tokens' }, { name: 'audit' }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
  });
  await api.register(swaggerUi, { routePrefix: '/docs' });

  const context = { handle, confinement: options.confinement ?? CLOSED_POLICY, readiness: options.readiness };
  healthRoutes(api, context);
  clusterRoutes(api, context);
  await pipelineRoutes(api, context);
  pipelineActionRoutes(api, context);
  originalRoutes(api, context);
  tokenRoutes(api, context);
  auditRoutes(api, context);
  if (options.ingest !== undefined) await ingestRoutes(api, context, options.ingest);
  await api.ready();
  return api;
}

export async function startApi(handle: ClusterHandle, options: StartApiOptions): Promise<RunningApi> {
  const api = await buildApi(handle, options);
  await api.listen({ host: options.host, port: options.port });
  const bound = api.server.address();
  const address = bound !== null && typeof bound === 'object' ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}` : options.host;
  return { address, reloadTls: (tlsOptions) => reloadServerTls(api.server, tlsOptions), flushAudit: async () => audits.get(api)?.drain(), close: () => api.close() };
}
