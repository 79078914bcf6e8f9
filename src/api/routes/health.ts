/** `/healthz` (the process answers), `/readyz` (the original Wire's `[+]node ok` lines; 503 until ready), `/metrics`. */
import { Type } from '@sinclair/typebox';
import type { Api, RouteContext } from './context.js';

const TAGS = ['health'];

export function healthRoutes(api: Api, { handle, readiness: extra }: RouteContext): void {
  api.get('/healthz', {
    schema: { tags: TAGS, summary: 'the node process answers', response: { 200: Type.Object({ status: Type.Literal('ok'), node: Type.String() }) } },
    handler: () => ({ status: 'ok' as const, node: handle.id }),
  });

  api.get('/readyz', {
    schema: {
      tags: TAGS,
      summary: 'ready to serve: one `[+]check ok` (or `[-]check detail`) line per check; 503 while any fails',
      produces: ['text/plain'],
      response: { 200: Type.String(), 503: Type.String() },
    },
    handler: (_request, reply) => {
      const own = handle.ready();
      const readiness = { ok: own.ok, checks: [...own.checks, ...(extra?.() ?? [])] };
      readiness.ok &&= readiness.checks.every((c) => c.ok);
      const lines = readiness.checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} ${c.detail === '' ? 'not ok' : c.detail}`));
      void reply.code(readiness.ok ? 200 : 503).type('text/plain; charset=utf-8');
      return lines.join('\n') + '\n';
    },
  });

  api.get('/metrics', {
    schema: { tags: TAGS, summary: 'node and Raft metrics, Prometheus text format', produces: ['text/plain'], response: { 200: Type.String() } },
    handler: async (_request, reply) => {
      void reply.type(handle.metrics.contentType);
      return handle.metrics.metrics();
    },
  });
}
