/**
 * `/v1/pipelines/:name/{start,stop,pause,resume,status,versions,rollback}`: the desired state and the versions.
 * Part 2 of the cluster makes the desired state act; here it is recorded, replicated and answered.
 */
import { Type } from '@sinclair/typebox';
import { pipelineRunState } from '../../cluster/agent/task-status.js';
import { getPipeline, pipelineVersion, pipelineVersions } from '../../cluster/queries.js';
import type { DesiredState } from '../../cluster/records.js';
import { Desired, errorResponses, NameParams, PipelineName, ReadQuery, RollbackBody, WriteQuery } from '../schemas.js';
import { pipelineOf, writeCommand } from '../writes.js';
import type { Api, RouteContext } from './context.js';

const TAGS = ['pipelines'];

const Count = Type.Integer({ minimum: 0 });
const TaskStatusSchema = Type.Object({
  task: Type.String(),
  node: Type.Union([Type.String(), Type.Null()]),
  epoch: Type.Integer(),
  version: Type.Integer(),
  state: Type.String(),
  drain: Type.Boolean(),
  recordsIn: Count,
  recordsOut: Count,
  deadLettered: Count,
  filtered: Count,
  rate: Type.Number(),
  lag: Type.Union([Type.Number(), Type.Null()]),
  checkpoint: Type.Union([Type.Object({ epoch: Type.Integer(), seq: Type.Integer(), at: Type.Integer() }), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  restarts: Count,
});

/** Each action and the desired state it records; `resume` is `start` said of a paused pipeline. */
const ACTIONS: readonly (readonly [string, DesiredState])[] = [
  ['start', 'running'],
  ['stop', 'stopped'],
  ['pause', 'paused'],
  ['resume', 'running'],
];

export function pipelineActionRoutes(api: Api, { handle }: RouteContext): void {
  for (const [action, desired] of ACTIONS) {
    api.post(`/v1/pipelines/:name/${action}`, {
      schema: {
        tags: TAGS,
        summary: `set the desired state to ${desired}`,
        params: NameParams,
        querystring: WriteQuery,
        response: { 200: Type.Object({ pipeline: Type.Ref('Pipeline') }), ...errorResponses(404, 503) },
      },
      handler: async (request, reply) => {
        const outcome = await writeCommand(handle, request, reply, { type: 'pipeline.setDesired', name: request.params.name, desired }, request.query.redirect);
        return { pipeline: pipelineOf(outcome) };
      },
    });
  }

  api.get('/v1/pipelines/:name/status', {
    schema: {
      tags: TAGS,
      summary: "a pipeline's version and desired state",
      params: NameParams,
      querystring: ReadQuery,
      response: {
        200: Type.Object({
          name: PipelineName,
          version: Type.Integer(),
          desired: Desired,
          updatedAt: Type.Integer(),
          state: Type.String(),
          error: Type.Union([Type.String(), Type.Null()]),
          tasks: Type.Array(TaskStatusSchema),
        }),
        ...errorResponses(404),
      },
    },
    handler: async (request) => {
      const p = await handle.read((s) => getPipeline(s, request.params.name), request.query);
      const tasks = (await handle.tasks?.(p.name)) ?? [];
      return { name: p.name, version: p.version, desired: p.desired, updatedAt: p.updatedAt, ...pipelineRunState(tasks), tasks };
    },
  });

  api.get('/v1/pipelines/:name/versions', {
    schema: {
      tags: TAGS,
      summary: 'every version, oldest first, the current one last',
      params: NameParams,
      querystring: ReadQuery,
      response: { 200: Type.Object({ name: PipelineName, current: Type.Integer(), versions: Type.Array(Type.Ref('PipelineVersion')) }), ...errorResponses(404) },
    },
    handler: async (request) => {
      const { name } = request.params;
      return handle.read((s) => ({ name, current: getPipeline(s, name).version, versions: pipelineVersions(s, name) }), request.query);
    },
  });

  api.get('/v1/pipelines/:name/versions/:version', {
    schema: {
      tags: TAGS,
      summary: 'one version of a pipeline',
      params: Type.Object({ name: PipelineName, version: Type.Integer({ minimum: 1 }) }),
      querystring: ReadQuery,
      response: { 200: Type.Object({ name: PipelineName, version: Type.Ref('PipelineVersion') }), ...errorResponses(404) },
    },
    handler: async (request) => {
      const { name, version } = request.params;
      return { name, version: await handle.read((s) => pipelineVersion(s, name, version), request.query) };
    },
  });

  api.post('/v1/pipelines/:name/rollback', {
    schema: {
      tags: TAGS,
      summary: "a new version with version `to`'s spec",
      params: NameParams,
      querystring: WriteQuery,
      body: RollbackBody,
      response: { 200: Type.Object({ pipeline: Type.Ref('Pipeline') }), ...errorResponses(404, 409, 503) },
    },
    handler: async (request, reply) => {
      const { to, ifVersion } = request.body;
      const command = { type: 'pipeline.rollback', name: request.params.name, to, ...(ifVersion === undefined ? {} : { ifVersion }) } as const;
      return { pipeline: pipelineOf(await writeCommand(handle, request, reply, command, request.query.redirect)) };
    },
  });
}
