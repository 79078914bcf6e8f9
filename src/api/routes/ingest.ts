/**
 * `POST /v1/pipelines/:name/ingest`: records for a pipeline whose source is `http`, sent to any node. The node
 * running the pipeline's task hands the request to its local http source; any other node forwards it there, so
 * clients keep one address while tasks move. The body streams through (never held whole), and the http source's
 * answer (its status, counts and Retry-After) comes back as it gave it.
 *
 * A forwarded request carries `x-wire-forwarded-by` and is never forwarded again: a node whose view of the tasks
 * lags answers 503 with Retry-After instead, so two nodes that each think the other runs the task cannot loop.
 *
 * Two credentials, two headers: `Authorization` is the cluster's (the route is an API route like any other, and a
 * forwarding node passes it on to the next node's route); a source with its own `auth_token` takes it in
 * `X-Wire-Source-Authorization` (`Bearer <token>`, what `Authorization` would carry if the source were called
 * directly), which becomes the `Authorization` of the request the source gets. The cluster's token never reaches
 * the source. A body larger than the source's `max_body` gets the source's 413 here, before or while it streams: a
 * source that refuses a body mid-stream closes the connection, which would reach the caller as a failed relay.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Transform } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngestTargets } from '../../cluster/ingest-targets.js';
import { getPipeline } from '../../cluster/queries.js';
import { HTTP_SOURCE_MAX_BODY } from '../../connectors/sources/http.js';
import { WireError } from '../../core/errors.js';
import { sendError } from '../errors.js';
import { errorResponses, NameParams } from '../schemas.js';
import type { Api, RouteContext } from './context.js';

/** Marks a request one node forwarded to another (its value: the forwarding node's id). */
export const FORWARDED_HEADER = 'x-wire-forwarded-by';
/** Names the node whose http source took the request. */
export const TASK_NODE_HEADER = 'x-wire-task-node';

/** The node running a pipeline's task, as the replicated state says (the agent's port). */
export interface TaskLocator {
  taskNodeOf(pipeline: string): { nodeId: string; httpAddress: string } | null;
}

export interface IngestOptions {
  readonly locator: TaskLocator;
  /** Where this node's own http sources listen. */
  readonly targets: IngestTargets;
  /** This node's id (the locator's `nodeId` for tasks that run here). */
  readonly nodeId: string;
}

/** Carries the source's own token (its `auth_token`) through the route, beside the cluster's `Authorization`. */
export const SOURCE_AUTH_HEADER = 'x-wire-source-authorization';
/** The body's framing and type: what every hop gets. */
const BODY_HEADERS = ['content-type', 'content-length'] as const;
/** What the next node's route gets: the body's headers and both credentials. */
const FORWARD_HEADERS = [...BODY_HEADERS, 'authorization', SOURCE_AUTH_HEADER] as const;
/** Answer headers that mean something to the caller. */
const ANSWER_HEADERS = ['content-type', 'content-length', 'retry-after', 'www-authenticate', 'allow', TASK_NODE_HEADER] as const;

const RETRY_LATER = '1';

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = headers[name];
    if (typeof value === 'string') picked[name] = value;
    else if (Array.isArray(value)) picked[name] = value.join(', ');
  }
  return picked;
}

function unavailable(reply: FastifyReply, message: string, details: Record<string, string> = {}): FastifyReply {
  void reply.header('retry-after', RETRY_LATER);
  return sendError(reply, { status: 503, error: new WireError('UNAVAILABLE', message, details) });
}

/** Where the request goes: this node's http source, another node's ingest route, or nowhere yet (503). */
type Destination = { readonly url: string; readonly taskNode: string | undefined } | { readonly refusal: string };

function destinationOf(name: string, sourcePath: string, forwarded: boolean, { locator, targets, nodeId }: IngestOptions): Destination {
  // A source open here takes the request even if the task has just moved: its records count only once it
  // checkpoints, which a fenced task cannot, so the caller then gets a 503 and sends them again.
  const local = targets.get(name);
  if (local !== undefined) return { url: `http://${local}${sourcePath}`, taskNode: nodeId };
  if (forwarded) return { refusal: `no task of pipeline ${name} runs on node ${nodeId} (it may be moving)` };
  const located = locator.taskNodeOf(name);
  if (located === null) return { refusal: `no task of pipeline ${name} is running` };
  if (located.nodeId === nodeId) return { refusal: `the task of pipeline ${name} is starting on node ${nodeId}` };
  // A node that has not told the cluster its API address yet cannot be reached: the caller tries again shortly.
  if (located.httpAddress === '') return { refusal: `node ${located.nodeId}, which runs pipeline ${name}, has no known HTTP address yet` };
  return { url: `http://${located.httpAddress}/v1/pipelines/${encodeURIComponent(name)}/ingest`, taskNode: undefined };
}

interface IngestSource {
  /** The `path` an http source takes records on. */
  readonly path: string;
  /** Its `max_body`. */
  readonly maxBody: number;
}

/** What the route needs of a pipeline's http source (its defaults where the spec does not say). */
function ingestSourceOf(spec: Readonly<Record<string, unknown>>, name: string): IngestSource {
  const source = spec.source as { type?: unknown; config?: { path?: unknown; max_body?: unknown } } | undefined;
  if (source?.type !== 'http') {
    throw new WireError('INVALID_INPUT', `pipeline ${name} reads from ${String(source?.type)}, not http: it takes no records by request`, {
      field: 'name',
    });
  }
  const { path, max_body: maxBody } = source.config ?? {};
  return {
    path: typeof path === 'string' ? path : '/ingest',
    maxBody: typeof maxBody === 'number' && Number.isInteger(maxBody) && maxBody > 0 ? maxBody : HTTP_SOURCE_MAX_BODY,
  };
}

function tooLarge(reply: FastifyReply, maxBody: number): FastifyReply {
  void reply.header('connection', 'close');
  return sendError(reply, { status: 413, error: new WireError('INVALID_INPUT', `the body is larger than max_body (${maxBody} bytes)`, { max_body: maxBody }) });
}

/** Headers for the hop: another node's route gets both credentials, the source only its own. */
function hopHeaders(request: FastifyRequest, toSource: boolean, nodeId: string): Record<string, string> {
  if (!toSource) return { ...pick(request.headers, FORWARD_HEADERS), [FORWARDED_HEADER]: nodeId };
  const headers = { ...pick(request.headers, BODY_HEADERS), [FORWARDED_HEADER]: nodeId };
  const sourceAuth = pick(request.headers, [SOURCE_AUTH_HEADER])[SOURCE_AUTH_HEADER];
  return sourceAuth === undefined ? headers : { ...headers, authorization: sourceAuth };
}

/** A connection refused means nothing was sent: the caller may retry at once. Anything else failed on the way. */
function refusedToConnect(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}

async function relay(request: FastifyRequest, reply: FastifyReply, destination: { url: string; taskNode: string | undefined }, nodeId: string, maxBody: number): Promise<FastifyReply> {
  if (Number(request.headers['content-length'] ?? NaN) > maxBody) return tooLarge(reply, maxBody);
  const upstream = new AbortController();
  // The caller went away (mid-body or waiting for the answer): nothing is left to answer, so stop the upstream too.
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) upstream.abort();
  });
  // Piped, not handed over: undici destroys a body it could not send, and the caller's connection must outlive
  // that to hear why. `pipe` keeps the backpressure: the caller is read as fast as the upstream takes it.
  let bytes = 0;
  let oversized = false;
  const body = request.raw.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes <= maxBody) return done(null, chunk);
        oversized = true;
        upstream.abort();
        done();
      },
    }),
  );
  // undici loads with the first request forwarded: a node that never forwards one starts without it.
  const { request: send, errors: undiciErrors } = await import('undici');
  try {
    const answer = await send(destination.url, {
      method: 'POST',
      headers: hopHeaders(request, destination.taskNode !== undefined, nodeId),
      body,
      signal: upstream.signal,
    });
    const headers = pick(answer.headers as IncomingHttpHeaders, ANSWER_HEADERS);
    if (destination.taskNode !== undefined) headers[TASK_NODE_HEADER] = destination.taskNode;
    return reply.code(answer.statusCode).headers(headers).send(answer.body);
  } catch (error) {
    // The rest of the body is read and dropped, so the caller, still sending, gets to read the answer.
    const drop = (): void => {
      request.raw.unpipe(body);
      request.raw.resume();
    };
    if (oversized) {
      drop();
      return tooLarge(reply, maxBody);
    }
    if (upstream.signal.aborted || error instanceof undiciErrors.RequestAbortedError) return reply;
    drop();
    if (refusedToConnect(error)) return unavailable(reply, `the task's node cannot be reached at ${new URL(destination.url).host}`);
    const message = error instanceof Error ? error.message : String(error);
    return sendError(reply, { status: 502, error: new WireError('UNAVAILABLE', `the request failed on its way to the task: ${message}`, { upstream: new URL(destination.url).host }) });
  }
}

/** Registers the ingest route in a scope of its own, where bodies are left unread for the route to stream. */
export async function ingestRoutes(api: Api, { handle }: RouteContext, options: IngestOptions): Promise<void> {
  await api.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.post('/v1/pipelines/:name/ingest', {
      schema: {
        tags: ['pipelines'],
        summary: "records for a pipeline with an http source: streamed to the node running its task, answered as its source answers",
        params: NameParams,
        response: errorResponses(404, 413, 502, 503),
      },
      handler: async (request, reply) => {
        const { name } = request.params;
        // A refusal leaves the body unread: Node reads and drops it after the answer, so the caller gets to read it.
        const spec = await handle.read((state) => getPipeline(state, name).spec);
        const source = ingestSourceOf(spec, name);
        const destination = destinationOf(name, source.path, request.headers[FORWARDED_HEADER] !== undefined, options);
        if ('refusal' in destination) return unavailable(reply, destination.refusal);
        return relay(request, reply, destination, options.nodeId, source.maxBody);
      },
    });
  });
}
