/**
 * JWTs from a configured issuer, beside Wire's own tokens (docs/security.md, "JWTs"): a bearer that looks like a
 * JWT is verified against the issuer's JWKS (fetched over HTTPS, cached, refetched when a key id is unknown), its
 * `iss`, `aud`, `exp` and `sub` checked, and a claim mapped to a role. Only asymmetric algorithms are accepted, so a
 * token signed with the JWKS's public key as an HMAC secret, or with `alg: none`, is refused. A JWT cannot be
 * revoked in Wire: it holds until its `exp`, which is why one without `exp` is refused.
 *
 * `jose` loads on the first JWT presented: a node that is not configured for JWTs never loads it.
 */
import type { JWTVerifyGetKey, errors as JoseErrors } from 'jose';
import { WireError } from '../core/errors.js';
import { PIPELINE_PATTERN, type Principal, type Role } from './auth-tokens.js';

export interface JwtAuthConfig {
  /** Where the issuer publishes its keys (`https://…/.well-known/jwks.json`; plain http on loopback only). */
  readonly jwksUrl: string;
  /** The `iss` every token must carry. */
  readonly issuer: string;
  /** The `aud` every token must carry (one of its audiences). */
  readonly audience: string;
  /** The claim holding the role: `admin`, `operator` or `viewer` (or a list of them: the strongest counts). */
  readonly roleClaim: string;
  /** The claim holding the pipeline-name patterns the token is limited to; absent: every pipeline. */
  readonly pipelinesClaim: string;
}

export const JWT_DEFAULTS = { audience: 'wire', roleClaim: 'wire_role', pipelinesClaim: 'wire_pipelines' } as const;

/** Asymmetric only: with HS256 the JWKS's public key would be the secret, and anyone could sign. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Roles a JWT may carry, weakest first; `join` stays with Wire's own join tokens. */
const JWT_ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
/** Seconds of clock difference allowed between the issuer and this node, for `exp` and `nbf`. */
const CLOCK_TOLERANCE_S = 5;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether a presented bearer has the shape of a compact JWS (Wire's own tokens start with `wire_` and have no dot). */
export function isJwtShape(presented: string): boolean {
  return presented.length <= 16_384 && JWT_SHAPE.test(presented);
}

/** A problem with the configuration, for the flag that set it; undefined when it is usable. */
export function jwksUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `'${text}' is not a URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return `'${text}' must be https:// (plain http only on loopback): the keys it serves decide who is admin`;
}

export class JwtVerifier {
  private keys: JWTVerifyGetKey | undefined;

  constructor(private readonly config: JwtAuthConfig) {}

  /** The principal a JWT stands for; UNAUTHORIZED saying why it is not valid, FORBIDDEN when it carries no role. */
  async verify(token: string, now: number): Promise<Principal> {
    const jose = await import('jose');
    const keys = (this.keys ??= jose.createRemoteJWKSet(new URL(this.config.jwksUrl), { timeoutDuration: 5000 }));
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.config.issuer,
        audience: this.config.audience,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_S,
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw refusal(error, jose.errors, this.config.jwksUrl);
    }
    // Named in errors, `by` and audit entries: printable ASCII, as the audit keyspace stores it.
    const tokenId = `jwt:${String(payload.sub).replace(/[^\x21-\x7e]/g, '_').slice(0, 200) || '_'}`;
    return { tokenId, role: roleOf(payload[this.config.roleClaim], this.config.roleClaim, tokenId), pipelines: pipelinesOf(payload[this.config.pipelinesClaim], this.config.pipelinesClaim, tokenId) };
  }
}

function roleOf(claim: unknown, name: string, tokenId: string): Role {
  const listed = Array.isArray(claim) ? claim : [claim];
  let best = -1;
  for (const value of listed) best = Math.max(best, JWT_ROLES.indexOf(value as Role));
  if (best < 0) {
    throw new WireError('FORBIDDEN', `the JWT of ${tokenId} has no role: its claim ${name} must be one of ${JWT_ROLES.join(', ')} (or a list of them)`, { token: tokenId });
  }
  return JWT_ROLES[best]!;
}

function pipelinesOf(claim: unknown, name: string, tokenId: string): readonly string[] | null {
  if (claim === undefined) return null;
  const patterns = Array.isArray(claim) ? claim : [claim];
  if (patterns.length === 0 || patterns.length > 100 || !patterns.every((p) => typeof p === 'string' && PIPELINE_PATTERN.test(p))) {
    throw new WireError('FORBIDDEN', `the JWT of ${tokenId} has a claim ${name} that is not a list of pipeline-name patterns (a-z 0-9 _ - *)`, { token: tokenId });
  }
  return patterns as string[];
}

/** jose's failure as Wire's: the caller learns why, never the key material. */
function refusal(error: unknown, errors: typeof JoseErrors, jwksUrl: string): WireError {
  if (error instanceof errors.JWTExpired) return new WireError('UNAUTHORIZED', 'the JWT has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return new WireError('UNAUTHORIZED', `the JWT is refused: ${error.message}`);
  if (error instanceof errors.JWKSTimeout) return new WireError('UNAVAILABLE', `the JWKS at ${jwksUrl} did not answer in time`);
  if (error instanceof errors.JOSEError) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_JWKS_INVALID' || code === 'ERR_JOSE_GENERIC') return new WireError('UNAVAILABLE', `the JWKS at ${jwksUrl} cannot be used: ${error.message}`);
    return new WireError('UNAUTHORIZED', `the JWT is refused: ${error.message}`);
  }
  // Anything else is the fetch of the JWKS failing (refused connection, DNS): the token may be fine.
  const message = error instanceof Error ? error.message : String(error);
  return new WireError('UNAVAILABLE', `the JWKS at ${jwksUrl} cannot be fetched: ${message}`);
}
