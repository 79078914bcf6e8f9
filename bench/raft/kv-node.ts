/**
 * One Raft node process serving a replicated key-value store over HTTP: on-disk storage (a write-ahead
 * log for the entries and hard state, snapshot files), the TCP transport, and `KvStateMachine`. Used by the multi-process
 * test (test/cluster) and by `npm run bench:raft`.
 *
 *   node --import tsx bench/raft/kv-node.ts --id n1 --raft 127.0.0.1:7001 --http 127.0.0.1:8001 \
 *        --data /tmp/n1 --peers n1=127.0.0.1:7001/127.0.0.1:8001,n2=...,n3=...
 *
 * Prints one JSON line `{"ready": ...}` on stdout once it serves HTTP; logs go to stderr.
 * SIGTERM/SIGINT stop it cleanly (HTTP closed, Raft stopped, storage flushed) with exit code 0.
 */
import { once } from 'node:events';
import type http from 'node:http';
import { openDiskStorage, RaftNode, TcpTransport, type Membership, type WireMessage } from '../../src/raft/index.js';
import { parseKvNodeArgs, type KvNodeArgs } from './kv-args.js';
import { createKvServer } from './kv-http.js';
import { KvStateMachine } from './kv-state-machine.js';

function logger(id: string): (message: string) => void {
  return (message) => process.stderr.write(`${new Date().toISOString()} kv-node ${id}: ${message}\n`);
}

async function main(args: KvNodeArgs): Promise<void> {
  const log = logger(args.id);
  const raftAddress = `${args.raft.host}:${args.raft.port}`;
  const httpAddress = `${args.http.host}:${args.http.port}`;
  const httpAddresses = new Map<string, string>();
  for (const p of args.peers) if (p.http) httpAddresses.set(p.id, p.http);
  httpAddresses.set(args.id, httpAddress);

  const storage = await openDiskStorage(args.data, { inlineWriteBytes: args.walInlineBytes });
  let transport: TcpTransport<WireMessage>;
  try {
    transport = await TcpTransport.listen<WireMessage>({
      nodeId: args.id,
      clusterId: args.clusterId,
      host: args.raft.host,
      port: args.raft.port,
      backoffInitialMs: 20,
      backoffMaxMs: 500,
      onError: (err, peer) => log(`transport (${peer ?? 'unknown peer'}): ${err.message}`),
    });
  } catch (err) {
    await storage.close();
    throw err;
  }
  const membership: Membership | undefined = args.join
    ? undefined
    : { voters: args.peers.map((p) => ({ id: p.id, address: p.raft })), learners: [] };
  const kv = new KvStateMachine();
  // From here the node owns the storage and the transport: a failed start closes them itself.
  const node = await RaftNode.start({
    id: args.id,
    address: raftAddress,
    membership,
    join: args.join,
    storage,
    transport,
    stateMachine: kv,
    tickMs: args.tickMs,
    electionTicks: args.electionTicks,
    heartbeatTicks: args.heartbeatTicks,
    snapshotThreshold: args.snapshotThreshold,
    trailingEntries: args.trailingEntries,
    commitHoldMs: args.commitHoldMs,
    onError: (err) => log(`raft: ${err.message}`),
  });
  const server = createKvServer({ node, kv, self: httpAddress, httpAddresses, log });
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      log('stopping');
      await Promise.all([closeServer(server), node.stop()]);
      log('stopped');
    })();
    return stopping;
  };
  // Everything durable is flushed once shutdown resolves; exit then rather than wait on stray handles.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown().then(() => process.exit()));
  if (args.watchParent) {
    // The launcher holds our stdin open; it closes when the launcher dies, so we never outlive it.
    process.stdin.on('end', () => void shutdown().then(() => process.exit()));
    process.stdin.resume();
  }
  node.on('leaderChange', (leader, term) => log(`leader is ${leader ?? 'unknown'} (term ${term})`));
  node.on('fatal', (err) => {
    log(`fatal: ${err.stack ?? err.message}`);
    process.exitCode = 1;
    void shutdown().then(() => process.exit());
  });

  server.listen(args.http.port, args.http.host);
  await once(server, 'listening');
  log(`serving http on ${httpAddress}, raft on ${raftAddress}`);
  process.stdout.write(`${JSON.stringify({ ready: { id: args.id, raft: raftAddress, http: httpAddress, pid: process.pid } })}\n`);
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

let parsed: KvNodeArgs;
try {
  parsed = parseKvNodeArgs(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`kv-node: ${(err as Error).message}\n`);
  process.exit(2);
}
main(parsed).catch((err: unknown) => {
  process.stderr.write(`kv-node ${parsed.id}: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
