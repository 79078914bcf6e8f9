/**
 * `wire node`'s security flags (docs/security.md), each also from its `WIRE_*` variable (lists comma-separated):
 * `--insecure`, the confinement of pipelines sent to the API (`--allow-path`, `--allow-js`, `--allow-host`,
 * `--allow-env`), `--cors-origin`, `--http-body-limit` and the `--jwt-*` flags. Checked with the other flags, before anything is written.
 */
import { DEFAULT_BODY_LIMIT } from '../../api/server.js';
import { WireError } from '../../core/errors.js';
import { JWT_DEFAULTS, jwksUrlProblem, type JwtAuthConfig } from '../../security/auth-jwt.js';
import { confinementPolicy, type ConfinementPolicy } from '../../security/confine.js';
import { checkExposure } from '../../security/exposure.js';
import { parseCorsOrigin } from '../../security/headers.js';
import { pick, switchValue, type HostPort } from './node-flags.js';

export interface SecurityFlagValues {
  readonly insecure?: boolean;
  readonly allowPath?: readonly string[];
  readonly allowJs?: readonly string[];
  readonly allowHost?: readonly string[];
  readonly allowEnv?: readonly string[];
  readonly corsOrigin?: readonly string[];
  readonly httpBodyLimit?: string;
  /** Set by the TLS flags (`--http-cert`, `--node-cert`, `--node-ca`): whether each port speaks TLS, and mTLS. */
  readonly httpCert?: string;
  readonly nodeCert?: string;
  readonly nodeCa?: string;
  /** `--http-verify-client`: API callers must present a certificate of `--http-ca`, which authenticates them. */
  readonly httpVerifyClient?: boolean;
  /** JWTs of an issuer beside Wire's tokens (`security/auth-jwt.ts`): its JWKS, `iss`, `aud` and the claims read. */
  readonly jwtJwksUrl?: string;
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
  readonly jwtRoleClaim?: string;
  readonly jwtPipelinesClaim?: string;
}

export interface SecurityFlags {
  readonly confinement: ConfinementPolicy;
  readonly corsOrigins: readonly string[];
  readonly bodyLimit: number;
  /** Logged on every start of a node that `--insecure` lets listen unprotected beyond loopback. */
  readonly insecureWarning: string | undefined;
  /** JWTs accepted beside Wire's tokens; undefined: none. */
  readonly jwt: JwtAuthConfig | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

function list(flag: string, value: readonly string[] | undefined, env: Env): readonly string[] | undefined {
  if (value !== undefined) return value;
  return pick(flag, undefined, env)
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kib: 1024, kb: 1000, mib: 1 << 20, mb: 1_000_000 };
const MIN_BODY_LIMIT = 1024;
const MAX_BODY_LIMIT = 1 << 30;

/** `1048576`, `512KiB`, `4MiB`, `2MB`. */
export function parseSize(flag: string, text: string): number {
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(text.trim());
  const unit = m === null ? undefined : SIZE_UNITS[m[2]!.toLowerCase()];
  const bytes = m === null || unit === undefined ? NaN : Number(m[1]) * unit;
  if (!(bytes >= MIN_BODY_LIMIT && bytes <= MAX_BODY_LIMIT)) {
    throw new WireError('INVALID_INPUT', `--${flag}: '${text}' is not a size from 1KiB to 1GiB (e.g. 1048576, 512KiB, 4MiB)`, { flag: `--${flag}` });
  }
  return bytes;
}

export function parseSecurityFlags(v: SecurityFlagValues, env: Env, addresses: { readonly http: HostPort; readonly raft: HostPort }): SecurityFlags {
  const httpTls = pick('http-cert', v.httpCert, env) !== undefined;
  const nodeTls = pick('node-cert', v.nodeCert, env) !== undefined;
  const insecureWarning = checkExposure({
    listeners: [
      // API callers always present a token (security/auth-hook.ts); the health routes are open to loopback only by default.
      { flag: '--http-addr', host: addresses.http.host, tls: httpTls, authenticated: true },
      { flag: '--raft-addr', host: addresses.raft.host, tls: nodeTls, authenticated: nodeTls && pick('node-ca', v.nodeCa, env) !== undefined },
    ],
    insecure: switchValue('insecure', v.insecure, env, false),
  });
  const bodyLimitText = pick('http-body-limit', v.httpBodyLimit, env);
  return {
    confinement: confinementPolicy({
      allowPath: list('allow-path', v.allowPath, env) ?? [],
      allowJs: list('allow-js', v.allowJs, env) ?? [],
      allowHost: list('allow-host', v.allowHost, env),
      allowEnv: list('allow-env', v.allowEnv, env) ?? [],
    }),
    corsOrigins: (list('cors-origin', v.corsOrigin, env) ?? []).map(parseCorsOrigin),
    bodyLimit: bodyLimitText === undefined ? DEFAULT_BODY_LIMIT : parseSize('http-body-limit', bodyLimitText),
    insecureWarning,
    jwt: parseJwtFlags(v, env),
  };
}

const CLAIM = /^[A-Za-z0-9_:./-]{1,100}$/;

/** `--jwt-jwks-url` turns JWTs on and needs `--jwt-issuer`; the other `--jwt-*` flags only go with it. */
function parseJwtFlags(v: SecurityFlagValues, env: Env): JwtAuthConfig | undefined {
  const jwksUrl = pick('jwt-jwks-url', v.jwtJwksUrl, env);
  const issuer = pick('jwt-issuer', v.jwtIssuer, env);
  const audience = pick('jwt-audience', v.jwtAudience, env);
  const roleClaim = pick('jwt-role-claim', v.jwtRoleClaim, env);
  const pipelinesClaim = pick('jwt-pipelines-claim', v.jwtPipelinesClaim, env);
  const bad = (flag: string, message: string): WireError => new WireError('INVALID_INPUT', `--${flag}: ${message}`, { flag: `--${flag}` });
  if (jwksUrl === undefined) {
    const stray = (['jwt-issuer', 'jwt-audience', 'jwt-role-claim', 'jwt-pipelines-claim'] as const).find((_, i) => [issuer, audience, roleClaim, pipelinesClaim][i] !== undefined);
    if (stray !== undefined) throw bad(stray, 'goes with --jwt-jwks-url (JWTs are off without it)');
    return undefined;
  }
  const problem = jwksUrlProblem(jwksUrl);
  if (problem !== undefined) throw bad('jwt-jwks-url', problem);
  if (issuer === undefined || issuer === '') throw bad('jwt-issuer', 'is needed with --jwt-jwks-url: the iss every JWT must carry');
  for (const [flag, claim] of [['jwt-role-claim', roleClaim], ['jwt-pipelines-claim', pipelinesClaim]] as const) {
    if (claim !== undefined && !CLAIM.test(claim)) throw bad(flag, `'${claim}' is not a claim name (letters, digits, _ : . / -)`);
  }
  if (audience === '') throw bad('jwt-audience', 'is empty');
  return {
    jwksUrl,
    issuer,
    audience: audience ?? JWT_DEFAULTS.audience,
    roleClaim: roleClaim ?? JWT_DEFAULTS.roleClaim,
    pipelinesClaim: pipelinesClaim ?? JWT_DEFAULTS.pipelinesClaim,
  };
}
