/**
 * Certificate rotation without a restart: on SIGHUP `wire node` reads its TLS files again, checks them all, and
 * only then hands them to its listeners and outbound connections (`tls.Server.setSecureContext`; new
 * connections get the new certificates, open ones carry on). A bad file changes nothing and is logged.
 */
import type tls from 'node:tls';
import { readHttpTls, readNodeTls, type NodeTls, type TlsConfig } from './tls-config.js';

export interface TlsReloadTargets {
  readonly node: { reloadTls(tls: NodeTls): void };
  readonly http: { reloadTls(options: tls.SecureContextOptions): void };
}

export interface TlsReloadLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Reads every file again and, when all are good, applies them; throws (changing nothing) otherwise. */
export async function reloadTls(config: TlsConfig, nodeId: string, targets: TlsReloadTargets): Promise<void> {
  const [node, http] = await Promise.all([readNodeTls(config, nodeId), readHttpTls(config)]);
  if (node) targets.node.reloadTls(node);
  if (http) targets.http.reloadTls(http);
}

/** Reloads on every SIGHUP (one at a time) while TLS is configured; returns the function that stops it. */
export function reloadTlsOnSighup(config: TlsConfig, nodeId: string, targets: TlsReloadTargets, log: TlsReloadLog): () => void {
  if (!config.node && !config.http) return () => undefined;
  let running = Promise.resolve();
  const onSignal = (): void => {
    running = running.then(() =>
      reloadTls(config, nodeId, targets).then(
        () => log.info(`SIGHUP: reloaded the certificates of${config.node ? ' the node port' : ''}${config.node && config.http ? ' and' : ''}${config.http ? ' the HTTP API' : ''}`),
        (error: unknown) => log.warn(`SIGHUP: kept the current certificates: ${(error as Error).message}`),
      ),
    );
  };
  process.on('SIGHUP', onSignal);
  return () => process.off('SIGHUP', onSignal);
}
