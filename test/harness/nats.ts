// A real nats-server with JetStream for tests (Debian's nats-server, 2.9 here). JetStream keeps its streams and
// consumers under the data dir, so a restart mid-test (same port, same data dir) keeps every stored message.
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, serverAvailable, serverHandle, spawnServer, stopPid, tempDataDir, waitUntil, type TestServer } from './servers.js';

export const NATS = { path: 'nats-server', aptPackage: 'nats-server' } as const;

/** Call at a test file's top: whether nats-server is here (see `serverAvailable`). */
export const natsAvailable = (): ReturnType<typeof serverAvailable> => serverAvailable(NATS);

export interface NatsServer extends TestServer {
  /** `nats://127.0.0.1:PORT`. */
  readonly url: string;
}

/** Greets a new connection with an INFO line that says JetStream is on: the server is up and loaded its streams. */
async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('INFO ') && answer.includes('"jetstream":true'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

/** `maxPayload`: the server's `max_payload` in bytes (its default is 1 MiB), from a config file. */
export async function startNats(options: { maxPayload?: number } = {}): Promise<NatsServer> {
  const port = await freePort();
  const dataDir = await tempDataDir('nats');
  const config: string[] = [];
  if (options.maxPayload !== undefined) {
    const file = join(dataDir, 'nats.conf');
    await writeFile(file, `max_payload: ${options.maxPayload}\n`);
    config.push('-c', file);
  }
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const args = [...config, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dataDir, 'js'), '-P', join(dataDir, 'nats.pid'), '-l', join(dataDir, 'nats.log')];
    child = spawnServer(NATS.path, args, dataDir);
    await waitUntil(`nats-server on ${port}`, () => greets(port), 20_000);
  };
  const halt = async (): Promise<void> => {
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGINT', 10_000);
    child = undefined;
  };
  await launch();
  return serverHandle({ port, dataDir }, { pid: () => child?.pid ?? -1, launch, halt }, { url: `nats://127.0.0.1:${port}` });
}
