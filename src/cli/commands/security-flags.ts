/**
 * `wire node`'s security flags (docs/security.md), each also from its `WIRE_*` variable (lists comma-separated):
 * `--insecure`, the confinement of pipelines sent to the API (`--allow-path`, `--allow-js`, `--allow-host`,
 * `--allow-env`), `--cors-origin` and `--http-body-limit`. Checked with the other flags, before anything is written.
 */
import { DEFAULT_BODY_LIMIT } from '../../api/server.js';
import { WireError } from '../../core/errors.js';
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
}

export interface SecurityFlags {
  readonly confinement: ConfinementPolicy;
  readonly corsOrigins: readonly string[];
  readonly bodyLimit: number;
  /** Logged on every start of a node that `--insecure` lets listen unprotected beyond loopback. */
  readonly insecureWarning: string | undefined;
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
  };
}
