/** `/v1/pipelines`: list, create, get, replace, delete, and `POST /v1/pipelines/validate`. */
import { Type } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import { getPipeline, listPipelines } from '../../cluster/queries.js';
import { checkpointBreak, checkPipelineText, pipelineFromText } from '../pipeline-body.js';
import { CreateQuery, errorResponses, NameParams, PipelineText, Problem, ReadQuery, VersionedWriteQuery } from '../schemas.js';
import { pipelineOf, writeCommand } from '../writes.js';
import { drainAndDelete } from '../pipeline-delete.js';
import type { Api, RouteContext } from './context.js';
import { canSeePipeline } from '../../security/auth-hook.js';
import { PIPELINE_MEDIA_TYPES, readBodiesAsText } from './pipeline-text.js';

const PipelineAnswer = Type.Object({ pipeline: Type.Ref('Pipeline') });
const ReplaceQuery = Type.Composite([
  VersionedWriteQuery,
  Type.Object({ reset: Type.Optional(Type.Boolean({ description: "start the new version's tasks afresh: required when the source or a sink changes so that old checkpoints mean nothing" })) }),
]);
const TAGS = ['pipelines'];

/** Routes that read no pipeline file. */
function plainRoutes(api: Api, { handle }: RouteContext): void {
  api.get('/v1/pipelines', {
    schema: { tags: TAGS, summary: 'every pipeline, by name', querystring: ReadQuery, response: { 200: Type.Object({ pipelines: Type.Array(Type.Ref('Pipeline')) }), ...errorResponses() } },
    handler: async (request) => ({ pipelines: (await handle.read(listPipelines, request.query)).filter((p) => canSeePipeline(request, p.name)) }),
  });

  api.get('/v1/pipelines/:name', {
    schema: { tags: TAGS, summary: 'one pipeline: its current version and desired state', params: NameParams, querystring: ReadQuery, response: { 200: PipelineAnswer, ...errorResponses(404) } },
    handler: async (request) => ({ pipeline: await handle.read((s) => getPipeline(s, request.params.name), request.query) }),
  });

  api.delete('/v1/pipelines/:name', {
    schema: {
      tags: TAGS,
      summary: 'delete a pipeline and every version of it',
      description: 'A pipeline whose tasks run is stopped first: each task stops at a checkpoint and is released, then the pipeline, its tasks and checkpoints are removed.',
      params: NameParams,
      querystring: VersionedWriteQuery,
      response: { 200: Type.Object({ deleted: Type.String(), version: Type.Integer() }), ...errorResponses(404, 409, 503, 504) },
    },
    handler: async (request, reply) => {
      const { redirect, ifVersion } = request.query;
      const outcome = await drainAndDelete(handle, request, reply, { name: request.params.name, ifVersion, redirect });
      if (outcome.kind !== 'pipelineDeleted') throw new WireError('INTERNAL', `expected a deletion from the command, got ${outcome.kind}`);
      return { deleted: outcome.name, version: outcome.version };
    },
  });
}

/** Routes whose body is a pipeline file (YAML or JSON text). */
function fileRoutes(api: Api, { handle, confinement }: RouteContext): void {
  readBodiesAsText(api);
  const body = { content: Object.fromEntries(PIPELINE_MEDIA_TYPES.map((t) => [t, { schema: PipelineText }])) };

  api.post('/v1/pipelines', {
    schema: {
      tags: TAGS,
      summary: 'create a pipeline from a pipeline file (version 1)',
      description: 'The body is checked as `wire validate` checks a file; its problems come back with their line and column.',
      querystring: CreateQuery,
      body,
      response: { 201: PipelineAnswer, ...errorResponses(403, 409, 413, 415, 503) },
    },
    handler: async (request, reply) => {
      const { name, spec } = pipelineFromText(request.body, confinement);
      const desired = request.query.desired ?? 'running';
      const outcome = await writeCommand(handle, request, reply, { type: 'pipeline.create', name, spec, desired }, request.query.redirect);
      return reply.code(201).send({ pipeline: pipelineOf(outcome) });
    },
  });

  api.put('/v1/pipelines/:name', {
    schema: {
      tags: TAGS,
      summary: 'replace a pipeline: a new version (every earlier one is kept)',
      params: NameParams,
      querystring: ReplaceQuery,
      body,
      response: { 200: PipelineAnswer, ...errorResponses(403, 404, 409, 413, 415, 503) },
    },
    handler: async (request, reply) => {
      const { name, spec } = pipelineFromText(request.body, confinement);
      if (name !== request.params.name) {
        throw new WireError('INVALID_INPUT', `the body describes pipeline '${name}', not '${request.params.name}'`, { field: 'body.name', name, expected: request.params.name });
      }
      const { redirect, ifVersion, reset } = request.query;
      // A linearizable read: a follower's lagging state would not know a pipeline just created through another node.
      // An update racing another one is judged against the version it read.
      const current = await handle.read((s) => getPipeline(s, name).spec, { consistent: true });
      const broken = reset === true ? undefined : checkpointBreak(current, spec);
      if (broken !== undefined) {
        throw new WireError('CONFLICT', `the update changes ${broken}: the positions its tasks checkpointed mean nothing to the new version. Send it with reset (wire pipeline update --reset) to start the new version's tasks afresh`, { field: 'reset', pipeline: name });
      }
      const command = { type: 'pipeline.replace', name, spec, ...(ifVersion === undefined ? {} : { ifVersion }), ...(reset === true ? { reset } : {}) } as const;
      const outcome = await writeCommand(handle, request, reply, command, redirect);
      return { pipeline: pipelineOf(outcome) };
    },
  });

  api.post('/v1/pipelines/validate', {
    schema: {
      tags: TAGS,
      summary: 'check a pipeline file without storing it',
      body,
      response: { 200: Type.Object({ valid: Type.Boolean(), pipelines: Type.Array(Type.String()), problems: Type.Array(Problem) }), ...errorResponses(413, 415) },
    },
    handler: (request) => {
      const check = checkPipelineText(request.body, confinement);
      return check.ok
        ? { valid: true, pipelines: check.pipelines.map((p) => p.name), problems: [] }
        : { valid: false, pipelines: [], problems: check.problems.map(({ line, column, path, message }) => ({ line, column, path, message })) };
    },
  });
}

export async function pipelineRoutes(api: Api, context: RouteContext): Promise<void> {
  plainRoutes(api, context);
  await api.register(async (scope) => fileRoutes(scope as Api, context));
}
