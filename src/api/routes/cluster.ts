/** `/v1/cluster`, `/v1/cluster/nodes`, `/v1/cluster/backup`, `DELETE /v1/cluster/nodes/:id`, `POST /v1/cluster/leader/transfer`. */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { clusterInfo } from '../../cluster/queries.js';
import { members } from '../members.js';
import { errorResponses, NodeIdParams, ReadQuery, TransferBody } from '../schemas.js';
import type { Api, RouteContext } from './context.js';

const TAGS = ['cluster'];
const BackupQuery = Type.Object({
  consistent: Type.Optional(Type.Boolean({ description: 'wait for ReadIndex through the leader first (default true)' })),
});
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ClusterAnswer = Type.Object({
  id: Nullable(Type.String()),
  node: Type.String(),
  role: Type.String(),
  leaderId: Nullable(Type.String()),
  leaderHttp: Nullable(Type.String()),
  term: Type.Integer(),
  commitIndex: Type.Integer(),
  appliedIndex: Type.Integer(),
  createdAt: Nullable(Type.Integer()),
  nodes: Type.Integer(),
  pipelines: Type.Integer(),
  members: Type.Array(Type.Ref('Member')),
});

export function clusterRoutes(api: Api, { handle }: RouteContext): void {
  api.get('/v1/cluster', {
    schema: { tags: TAGS, summary: "this node's view of the cluster: leader, term, indexes, members", querystring: ReadQuery, response: { 200: ClusterAnswer, ...errorResponses() } },
    handler: async (request) => {
      const info = await handle.read(clusterInfo, request.query);
      const status = handle.status();
      return {
        id: info.id ?? status.clusterId,
        node: status.id,
        role: status.role,
        leaderId: status.leaderId,
        leaderHttp: status.leaderHttp,
        term: status.term,
        commitIndex: status.commitIndex,
        appliedIndex: status.appliedIndex,
        createdAt: info.createdAt,
        nodes: info.nodes,
        pipelines: info.pipelines,
        members: await members(handle, request.query),
      };
    },
  });

  api.get('/v1/cluster/nodes', {
    schema: { tags: TAGS, summary: 'every member, by id', querystring: ReadQuery, response: { 200: Type.Object({ nodes: Type.Array(Type.Ref('Member')) }), ...errorResponses() } },
    handler: async (request) => ({ nodes: await members(handle, request.query) }),
  });

  api.get('/v1/cluster/backup', {
    schema: {
      tags: TAGS,
      summary: 'a hot backup: the whole state as one snapshot stream (for wire node --restore)',
      description: 'Consistent by default (every write acknowledged before the request is in it); ?consistent=false backs up what this node has applied, with no leader needed.',
      querystring: BackupQuery,
      produces: ['application/octet-stream'],
      response: errorResponses(503, 504),
    },
    handler: async (request, reply) => {
      const stream = await handle.backup({ consistent: request.query.consistent !== false });
      const name = `wire-backup-${new Date().toISOString().replaceAll(':', '-')}.wbk`;
      return reply.type('application/octet-stream').header('content-disposition', `attachment; filename="${name}"`).send(Readable.from(stream));
    },
  });

  api.delete('/v1/cluster/nodes/:id', {
    schema: {
      tags: TAGS,
      summary: 'remove a node from the membership and the state (a dead one, or one leaving for good)',
      params: NodeIdParams,
      response: { 200: Type.Object({ removed: Type.String() }), ...errorResponses(404, 409, 503) },
    },
    handler: async (request) => {
      await handle.removeNode(request.params.id);
      return { removed: request.params.id };
    },
  });

  api.post('/v1/cluster/leader/transfer', {
    schema: {
      tags: TAGS,
      summary: 'hand leadership to a node (or to the most up-to-date voter)',
      body: TransferBody,
      response: { 200: Type.Object({ leader: Type.String() }), ...errorResponses(404, 409, 503, 504) },
    },
    // The body is optional (`curl -X POST` with none hands leadership to whichever voter is best).
    preValidation: async (request) => {
      request.body ??= {};
    },
    handler: async (request) => ({ leader: await handle.transferLeader(request.body.to) }),
  });
}
