/**
 * `wire node`: one cluster node — the node port (Raft and cluster RPC) and the HTTP API — until SIGINT or
 * SIGTERM; then a leader hands over (`--raft-shutdown-stepdown`) and the node stops cleanly, exit 0.
 * Prints one JSON line `{"ready": {id, http, raft, pid}}` on stdout once both ports listen.
 */
import { WireError } from '../../core/errors.js';
import { startApi } from '../../api/server.js';
import { restoreBackup } from '../../cluster/backup-restore.js';
import { engineRunner } from '../../cluster/agent/task-runs.js';
import { IngestTargets } from '../../cluster/ingest-targets.js';
import { startNode } from '../../cluster/node.js';
import { partitionsOf } from '../../connectors/partitions.js';
import { createRegistry } from '../../connectors/registry.js';
import { withIngestSources } from './ingest-sources.js';
import { createLogger } from '../../observability/logger.js';
import { readHttpTls, readNodeTls } from '../../security/tls-config.js';
import { reloadTlsOnSighup } from '../../security/tls-reload.js';
import { WireMetrics } from '../../observability/metrics.js';
import { admitTask } from '../../security/admit.js';
import { formatError, EXIT_OK, exitCodeOf } from '../exit.js';
import type { CliIo } from '../io.js';
import { onShutdownSignals } from '../signals.js';
import { parseNodeFlags, type HostPort, type NodeFlagValues } from './node-flags.js';
import { parseSecurityFlags, type SecurityFlagValues } from './security-flags.js';
import { checkJoinTokenFlag, provisionNodeTokens } from './node-auth.js';

export async function nodeCommand(options: NodeFlagValues & SecurityFlagValues, io: CliIo): Promise<number> {
  // Errors are reported here, not by the CLI's entry: this module runs outside the CLI bundle (see
  // docs/architecture.md), so its WireError is not the class the bundle's error table recognises.
  try {
    return await runNode(options, io);
  } catch (error) {
    io.stderr(formatError(error, { debug: options.logLevel === 'debug' || options.logLevel === 'trace' }));
    return exitCodeOf(error);
  }
}

async function runNode(options: NodeFlagValues & SecurityFlagValues, io: CliIo): Promise<number> {
  const flags = parseNodeFlags(options, io.env);
  checkJoinTokenFlag(flags.joinToken);
  for (const [flag, bound, adv] of [
    ['raft', flags.raft, flags.raftAdvertise],
    ['http', flags.http, flags.httpAdvertise],
  ] as const) {
    if (adv === undefined && isWildcard(bound.host)) {
      throw new WireError('INVALID_INPUT', `--${flag}-adv-addr: required when --${flag}-addr listens on every interface (${bound.host}): peers need an address to reach`, { flag: `--${flag}-adv-addr` });
    }
  }
  const security = parseSecurityFlags(options, io.env, flags);
  const [nodeTls, httpTls] = await Promise.all([readNodeTls(flags.tls, flags.nodeId), readHttpTls(flags.tls)]);
  const logger = createLogger({ level: options.logLevel, name: `wire-node ${flags.nodeId}` });
  if (security.insecureWarning !== undefined) logger.warn(security.insecureWarning);
  if (flags.restore !== undefined) {
    await restoreBackup(flags.dataDir, flags.restore);
    logger.info(`restored ${flags.restore} into ${flags.dataDir}: forming a new cluster with its state`);
  }
  const http = flags.http;
  // The API needs the node's handle, so it listens after the node starts; with port 0 the node learns its
  // address from the bound listener before it tells the cluster anything.
  const learnt = http.port === 0 && flags.httpAdvertise === undefined ? boundAddress() : undefined;
  // The engine metrics of this node's tasks, served with the node's own on /metrics.
  const taskMetrics = new WireMetrics();
  // Where this node's http sources listen, for the ingest route.
  const ingestTargets = new IngestTargets();
  const registry = withIngestSources(createRegistry(), ingestTargets);
  let fatal: (err: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fatal = resolve));
  const node = await startNode({
    nodeId: flags.nodeId,
    dataDir: flags.dataDir,
    raftHost: flags.raft.host,
    raftPort: flags.raft.port,
    raftAdvertise: flags.raftAdvertise,
    httpAdvertise: flags.httpAdvertise ?? learnt?.address ?? hostPort(http),
    bootstrapExpect: flags.bootstrapExpect,
    join: flags.join,
    joinAttempts: flags.joinAttempts,
    joinIntervalMs: flags.joinIntervalMs,
    nonVoter: flags.nonVoter,
    snapshotThreshold: flags.snapshotThreshold,
    shutdownStepdown: flags.shutdownStepdown,
    labels: flags.labels,
    tls: nodeTls,
    metrics: taskMetrics.registry,
    tasks: {
      runner: engineRunner({
        registry,
        dataDir: flags.dataDir,
        logger,
        metrics: taskMetrics,
        admit: (spec) => admitTask(spec, { registry, policy: security.confinement, env: io.env }).spec,
      }),
      partitionsOf,
      failoverTimeoutMs: flags.taskFailoverTimeoutMs,
    },
    joinToken: flags.joinToken,
    log: {
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      debug: (m) => logger.debug(m),
    },
    onFatal: (err) => fatal(err),
  });
  let stopping = false;
  let tokensReady = false;
  const tokens = provisionNodeTokens({ handle: node, dataDir: flags.dataDir, joinToken: flags.joinToken, stopped: () => stopping, debug: (m) => logger.debug(m) }).then(
    () => void (tokensReady = true),
    (error: unknown) => fatal(error as Error),
  );
  let api: Awaited<ReturnType<typeof startApi>>;
  try {
    api = await startApi(node, {
      host: http.host,
      port: http.port,
      bodyLimit: security.bodyLimit,
      confinement: security.confinement,
      corsOrigins: security.corsOrigins,
      https: httpTls,
      onInternalError: (e) => logger.error({ err: e }, 'internal error answering a request'),
      auth: {
        health: flags.healthAccess,
        onAuditError: (e) => logger.debug(`audit: ${e.message}`),
        confirmTokens: () => node.read(() => undefined, { consistent: true }),
        ...(security.jwt === undefined ? {} : { jwt: security.jwt }),
      },
      readiness: () => [{ name: 'auth', ok: tokensReady, detail: tokensReady ? '' : 'the admin token is not committed yet' }],
      ingest: { locator: node, targets: ingestTargets, nodeId: node.id },
    });
  } catch (error) {
    learnt?.failed(error as Error);
    stopping = true;
    await node.close();
    await tokens;
    throw new WireError('UNAVAILABLE', `cannot listen on the HTTP address ${hostPort(http)}: ${(error as Error).message}`, {}, error);
  }
  learnt?.bound(api.address);
  io.stdout(`${JSON.stringify({ ready: { id: node.id, http: api.address, raft: node.raftAddress, pid: process.pid } })}\n`);
  logger.info(`serving the API on ${api.address} and the node port on ${node.raftAddress}`);

  let signalled: (s: NodeJS.Signals) => void = () => undefined;
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  const removeHandlers = onShutdownSignals({ drain: (s) => signalled(s), abort: () => process.exit(130) });
  const stopReloading = reloadTlsOnSighup(flags.tls, flags.nodeId, { node, http: api }, logger);
  try {
    const why = await Promise.race([stopSignal, failed]);
    stopping = true;
    if (why instanceof Error) {
      io.stderr(formatError(why, { debug: false }));
      await Promise.allSettled([api.close(), node.close()]);
      return exitCodeOf(why);
    }
    logger.info(`${why}: stopping`);
    // The node stops first: a leader hands over while the API still answers. Refused calls still waiting for the
    // audit log are written before, while the node can write.
    await api.flushAudit();
    await node.close();
    await api.close();
    await tokens;
    return EXIT_OK;
  } finally {
    stopReloading();
    removeHandlers();
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function hostPort(a: HostPort): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** The HTTP address a node will learn from its listener, and the two ways that ends. */
function boundAddress(): { address: Promise<string>; bound(address: string): void; failed(error: Error): void } {
  let bound: (address: string) => void = () => undefined;
  let failed: (error: Error) => void = () => undefined;
  const address = new Promise<string>((resolve, reject) => {
    bound = resolve;
    failed = reject;
  });
  return { address, bound, failed };
}
