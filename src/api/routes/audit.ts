/** `GET /v1/audit` (admin only): the replicated audit log, newest entries or a page after a sequence number. */
import { Type } from '@sinclair/typebox';
import { ERROR_CODES } from '../../core/errors.js';
import { ROLES } from '../../security/auth-tokens.js';
import { errorResponses, ReadQuery } from '../schemas.js';
import type { Api, RouteContext } from './context.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.Integer({ description: 'milliseconds since the epoch' }),
  node: Type.String({ description: 'the node that served the call' }),
  address: Type.String({ description: "the client's address" }),
  token: Nullable(Type.String()),
  role: Nullable(Type.Union(ROLES.map((r) => Type.Literal(r)))),
  action: Type.String({ description: 'METHOD /route' }),
  target: Nullable(Type.String()),
  command: Nullable(Type.String()),
  result: Type.Union([Type.Literal('ok'), ...ERROR_CODES.map((c) => Type.Literal(c))]),
  status: Nullable(Type.Integer()),
});

const AuditQuery = Type.Object({
  ...ReadQuery.properties,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'entries to return (default 100)' })),
  after: Type.Optional(Type.Integer({ minimum: 0, description: 'return the entries after this sequence number, oldest first (default: the newest)' })),
});

export function auditRoutes(api: Api, { handle }: RouteContext): void {
  api.get('/v1/audit', {
    schema: {
      tags: ['audit'],
      summary: 'the audit log: every mutating call and every refused one (who, what, when, from where, result)',
      querystring: AuditQuery,
      response: { 200: Type.Object({ entries: Type.Array(Entry), first: Nullable(Type.Integer()), last: Nullable(Type.Integer()) }), ...errorResponses(401, 403) },
    },
    handler: async (request) => {
      const { limit, after, consistent } = request.query;
      return handle.read(
        (s) => {
          const edges = s.auditEdges();
          return { entries: s.auditEntries({ limit: limit ?? 100, ...(after === undefined ? {} : { after }) }), first: edges?.first ?? null, last: edges?.last ?? null };
        },
        consistent === undefined ? {} : { consistent },
      );
    },
  });
}
