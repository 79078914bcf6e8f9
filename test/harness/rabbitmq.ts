// A real RabbitMQ for tests (Debian's rabbitmq-server, 3.10 here): the server script in the foreground with its
// node name, ports, mnesia and logs under a temp dir, and an epmd of its own on a free port (started here, so it
// is stopped by its PID too). Durable queues and persistent messages survive a restart (same dir, same port).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, serverAvailable, spawnServer, stopPid, tempDataDir, waitUntil, serverHandle, type TestServer } from './servers.js';

export const RABBITMQ = { path: '/usr/lib/rabbitmq/bin/rabbitmq-server', aptPackage: 'rabbitmq-server' } as const;

/** Call at a test file's top: whether rabbitmq-server is here (see `serverAvailable`). */
export const rabbitmqAvailable = (): ReturnType<typeof serverAvailable> => serverAvailable(RABBITMQ);

export interface RabbitmqServer extends TestServer {
  /** `amqp://guest:guest@127.0.0.1:PORT`. */
  readonly url: string;
}

/** Answers the AMQP 0-9-1 protocol header with a method frame (connection.start): the broker is up. */
async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2000, () => socket.destroy());
    socket.on('connect', () => socket.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d[0] === 1);
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

/** rabbitmqctl talks to ports 35672-35682: a free port the kernel picks is taken again if it falls there. */
async function amqpPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 35672 || port > 35682) return port;
  }
}

/**
 * A broker on ports free a moment before: Erlang takes seconds to bind them, and another process can take one
 * meanwhile (seen in CI: eaddrinuse on the AMQP port, the node exits). Then it starts again on other ports, up to 3 times.
 */
export async function startRabbitmq(): Promise<RabbitmqServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startRabbitmqOnce();
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= 3) throw error;
    }
  }
}

class PortTaken extends Error {}

/** Three distinct free ports outside rabbitmqctl's range. */
async function distinctPorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await amqpPort());
  return [...ports] as [number, number, number];
}

async function startRabbitmqOnce(): Promise<RabbitmqServer> {
  const [port, distPort, epmdPort] = await distinctPorts();
  const dataDir = await tempDataDir('rabbitmq');
  const plugins = join(dataDir, 'enabled_plugins');
  await writeFile(plugins, '[].\n');
  const env = {
    ...process.env,
    HOME: dataDir,
    RABBITMQ_NODENAME: `wire${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(dataDir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dataDir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: plugins,
    RABBITMQ_PID_FILE: join(dataDir, 'rabbitmq.pid'),
  };
  const epmd: ChildProcess = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], { env, stdio: 'ignore' });
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const started = spawnServer(RABBITMQ.path, [], dataDir, env);
    child = started;
    // A node that exits (a port taken meanwhile) is reported at once, not after the whole wait.
    let exited = false;
    await waitUntil(`rabbitmq-server on ${port}`, async () => (exited = started.exitCode !== null) || greets(port), 120_000, 200);
    if (exited) {
      const log = await readFile(join(dataDir, 'log', `wire${port}@localhost.log`), 'utf8').catch(() => '');
      if (log.includes('eaddrinuse')) throw new PortTaken(`rabbitmq-server on ${port}: a port was taken before it could bind it`);
      throw new Error(`rabbitmq-server on ${port} exited with ${started.exitCode} before it answered`);
    }
  };
  // The script traps SIGTERM: it stops the node cleanly (queues and messages saved) and exits.
  const halt = async (): Promise<void> => {
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGTERM', 60_000);
    child = undefined;
  };
  try {
    await launch();
  } catch (error) {
    await halt();
    if (epmd.pid !== undefined) await stopPid(epmd.pid, 'SIGTERM', 5000);
    throw error;
  }
  const handle = serverHandle({ port, dataDir }, { pid: () => child?.pid ?? -1, launch, halt }, { url: `amqp://guest:guest@127.0.0.1:${port}` });
  return {
    ...handle,
    stop: async () => {
      await halt();
      if (epmd.pid !== undefined) await stopPid(epmd.pid, 'SIGTERM', 5000);
      await handle.stop();
    },
  };
}
