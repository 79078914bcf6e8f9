import { WireError } from '../../core/errors.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (IPv6 as `[::1]:8080`); port 0 asks the OS for a free one. */
export function parseAddress(address: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) {
    throw new WireError('INVALID_INPUT', `address ${JSON.stringify(address)} is not host:port`, { address });
  }
  return { host: (m[1] ?? m[2])!, port };
}

/** Loopback listeners are reachable from this machine only; anything else must authenticate callers. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
