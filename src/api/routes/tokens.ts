/**
 * `/v1/tokens` (admin only, `security/auth-policy.ts`): create a token (its secret is in this answer and nowhere
 * else), list them (never a secret or a hash), revoke one. Revoked tokens are listed as revoked.
 */
import { Type } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import { generateToken, PIPELINE_PATTERN, ROLES, type TokenRecord } from '../../security/auth-tokens.js';
import { principalOf } from '../../security/auth-hook.js';
import { parseTtl } from '../../security/auth-ttl.js';
import { errorResponses, WriteQuery } from '../schemas.js';
import { writeCommand } from '../writes.js';
import type { Api, RouteContext } from './context.js';

const TAGS = ['tokens'];
const Millis = Type.Integer({ description: 'milliseconds since the epoch' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const TokenView = Type.Object({
  id: Type.String(),
  role: Type.Union(ROLES.map((r) => Type.Literal(r))),
  pipelines: Nullable(Type.Array(Type.String())),
  name: Type.String(),
  createdAt: Millis,
  createdBy: Type.String(),
  expiresAt: Nullable(Millis),
  revokedAt: Nullable(Millis),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
});

const CreateBody = Type.Object(
  {
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    pipelines: Type.Optional(Type.Array(Type.String({ pattern: PIPELINE_PATTERN.source }), { minItems: 1, maxItems: 64, description: 'pipeline name patterns (`*` matches any run of characters)' })),
    ttl: Type.Optional(Type.String({ description: 'how long the token is valid: 90s, 30m, 24h, 7d (default: no expiry)' })),
    name: Type.Optional(Type.String({ maxLength: 200, description: 'what the token is for' })),
  },
  { additionalProperties: false },
);

function view(t: TokenRecord, now: number) {
  const { hash: _hash, ...rest } = t;
  const state = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
  return { ...rest, pipelines: t.pipelines === null ? null : [...t.pipelines], state } as const;
}

export function tokenRoutes(api: Api, { handle }: RouteContext): void {
  api.post('/v1/tokens', {
    schema: {
      tags: TAGS,
      summary: 'create a token; the answer is the only place its secret is ever shown',
      querystring: WriteQuery,
      body: CreateBody,
      response: { 201: Type.Object({ token: Type.String(), info: TokenView }), ...errorResponses(401, 403, 503) },
    },
    handler: async (request, reply) => {
      const { role, pipelines, ttl, name } = request.body;
      const now = Date.now();
      const expiresAt = ttl === undefined ? null : now + parseTtl(ttl, 'body.ttl');
      const { token, hash, id } = generateToken();
      const createdBy = principalOf(request)?.tokenId ?? 'unknown';
      const outcome = await writeCommand(
        handle,
        request,
        reply,
        { type: 'token.create', id, hash, role, pipelines: pipelines ?? null, name: name ?? '', createdBy, expiresAt },
        request.query.redirect,
      );
      if (outcome.kind !== 'token') throw new WireError('INTERNAL', `expected a token from the command, got ${outcome.kind}`);
      return reply.code(201).send({ token, info: view(outcome.token, now) });
    },
  });

  api.get('/v1/tokens', {
    schema: { tags: TAGS, summary: 'every token: id, role, pipelines, expiry, state (never its secret)', response: { 200: Type.Object({ tokens: Type.Array(TokenView) }), ...errorResponses(401, 403) } },
    handler: async () => {
      const now = Date.now();
      return { tokens: (await handle.read((s) => s.tokens())).map((t) => view(t, now)) };
    },
  });

  api.delete('/v1/tokens/:id', {
    schema: {
      tags: TAGS,
      summary: 'revoke a token: refused on every node once applied there',
      params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) }),
      querystring: WriteQuery,
      response: { 200: Type.Object({ revoked: Type.String() }), ...errorResponses(401, 403, 404, 503) },
    },
    handler: async (request, reply) => {
      await writeCommand(handle, request, reply, { type: 'token.revoke', id: request.params.id }, request.query.redirect);
      return { revoked: request.params.id };
    },
  });
}
