/**
 * The original Wire's routes, in their shapes (rqlite's, which it grew from): `GET /status`, `GET /nodes` (an object
 * keyed by node id: id, api_addr, addr, voter, reachable, leader) and `POST /connector`, whose `{source, sink}` body
 * becomes a pipeline. `/readyz` is shared with the v1 routes (health.ts).
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { clusterInfo } from '../../cluster/queries.js';
import { members } from '../members.js';
import { pipelineFromText } from '../pipeline-body.js';
import { errorResponses, WriteQuery } from '../schemas.js';
import { pipelineOf, writeCommand } from '../writes.js';
import type { Api, RouteContext } from './context.js';

const TAGS = ['original Wire'];
const Component = Type.Object({ type: Type.String({ minLength: 1 }), config: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });

const ConnectorBody = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'the pipeline name; default: connector- and a hash of the body' })),
    source: Component,
    sink: Component,
    transforms: Type.Optional(Type.Array(Component)),
  },
  { additionalProperties: true },
);

const OriginalNode = Type.Object({ id: Type.String(), api_addr: Type.String(), addr: Type.String(), voter: Type.Boolean(), reachable: Type.Boolean(), leader: Type.Boolean() });

/** The same body always gets the same name, so sending it twice is a CONFLICT rather than a second pipeline. */
function connectorName(body: object): string {
  return `connector-${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 12)}`;
}

export function originalRoutes(api: Api, { handle, confinement }: RouteContext): void {
  api.get('/status', {
    schema: {
      tags: TAGS,
      summary: "this node's status (the original Wire's shape)",
      response: {
        200: Type.Object({
          node: Type.Object({ id: Type.String() }),
          cluster: Type.Object({ id: Type.Union([Type.String(), Type.Null()]), nodes: Type.Integer(), pipelines: Type.Integer() }),
          store: Type.Object({
            node_id: Type.String(),
            leader: Type.Object({ node_id: Type.String(), addr: Type.String() }),
            raft: Type.Object({ state: Type.String(), term: Type.Integer(), commit_index: Type.Integer(), applied_index: Type.Integer() }),
          }),
        }),
        ...errorResponses(),
      },
    },
    handler: async () => {
      const status = handle.status();
      const info = await handle.read(clusterInfo);
      const leader = status.members.find((m) => m.leader);
      return {
        node: { id: status.id },
        cluster: { id: info.id ?? status.clusterId, nodes: info.nodes, pipelines: info.pipelines },
        store: {
          node_id: status.id,
          leader: { node_id: status.leaderId ?? '', addr: leader?.raftAddress ?? '' },
          raft: { state: status.role, term: status.term, commit_index: status.commitIndex, applied_index: status.appliedIndex },
        },
      };
    },
  });

  api.get('/nodes', {
    schema: { tags: TAGS, summary: 'every member, keyed by id (the original Wire\'s shape)', response: { 200: Type.Record(Type.String(), OriginalNode), ...errorResponses() } },
    // A cluster's nodes serve their API alike (all HTTPS or none): each address gets the scheme of this request.
    handler: async (request) => {
      const list = await members(handle, {});
      return Object.fromEntries(
        list.map((m) => [m.id, { id: m.id, api_addr: m.httpAddress === '' ? '' : `${request.protocol}://${m.httpAddress}`, addr: m.raftAddress, voter: m.voter, reachable: m.reachable, leader: m.leader }]),
      );
    },
  });

  api.post('/connector', {
    schema: {
      tags: TAGS,
      summary: 'create a pipeline from a `{source, sink}` body (the original Wire\'s connector)',
      querystring: WriteQuery,
      body: ConnectorBody,
      response: { 201: Type.Object({ pipeline: Type.Ref('Pipeline') }), ...errorResponses(403, 409, 413, 503) },
    },
    handler: async (request, reply) => {
      const body = request.body;
      const document = { ...body, name: body.name ?? connectorName(body) };
      const { name, spec } = pipelineFromText(JSON.stringify(document, null, 2), confinement);
      const outcome = await writeCommand(handle, request, reply, { type: 'pipeline.create', name, spec, desired: 'running' }, request.query.redirect);
      return reply.code(201).send({ pipeline: pipelineOf(outcome) });
    },
  });
}
