/**
 * The rule that keeps a node's doors locked by default: a listener beyond loopback needs TLS, and the node needs
 * authentication, unless the operator said `--insecure` (then every start warns). Checked while the flags are
 * parsed, before anything is written or bound.
 */
import { isIP } from 'node:net';
import { WireError } from '../core/errors.js';

/** One listening address of the node and whether it speaks TLS. */
export interface Listener {
  /** The flag that sets it (`--http-addr`), named in the error. */
  readonly flag: string;
  readonly host: string;
  readonly tls: boolean;
  /** Callers must prove who they are: a token on the HTTP API, a certificate of the cluster CA on the node port. */
  readonly authenticated: boolean;
}

export interface ExposureOptions {
  readonly listeners: readonly Listener[];
  /** `--insecure`: the operator accepts plaintext or unauthenticated listeners beyond loopback. */
  readonly insecure: boolean;
}

/** Loopback only: 127.0.0.0/8, ::1 and the name `localhost`. A wildcard (0.0.0.0, ::) or any other name is not. */
export function isLoopback(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return /^(0{0,4}:){7}0{0,3}1$|^::1$/.test(bare) || /^::ffff:127\./i.test(bare);
  return false;
}

/**
 * Throws INVALID_INPUT (exit 2) when a listener beyond loopback lacks TLS or the node lacks authentication and
 * `--insecure` was not given. Returns the warning to log on every start when `--insecure` is what lets it through.
 */
export function checkExposure(options: ExposureOptions): string | undefined {
  const exposed = options.listeners.filter((l) => !isLoopback(l.host));
  const open = exposed.flatMap((l) => {
    const missing = [...(l.tls ? [] : ['TLS']), ...(l.authenticated ? [] : ['authentication'])];
    return missing.length === 0 ? [] : [{ listener: l, missing }];
  });
  if (open.length === 0) return undefined;
  const what = open.map(({ listener: l, missing }) => `${l.flag} ${l.host} (no ${missing.join(', no ')})`).join('; ');
  if (!options.insecure) {
    throw new WireError(
      'INVALID_INPUT',
      `refusing to listen beyond loopback without TLS and authentication: ${what}. Configure TLS and tokens (docs/security.md), listen on 127.0.0.1, or start with --insecure to accept the risk`,
      { flag: '--insecure', listeners: open.map(({ listener: l, missing }) => ({ flag: l.flag, host: l.host, missing })) },
    );
  }
  return `--insecure: listening beyond loopback without protection: ${what}. Anyone who reaches these addresses can run pipelines on this node`;
}
