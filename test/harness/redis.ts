// A real redis-server for tests (Debian's redis-server, 7.0 here). It keeps an append-only file synced on every
// write, so a restart mid-test (same port, same data dir) loses nothing a client was told is written.
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, serverAvailable, spawnServer, stopPid, tempDataDir, waitUntil, serverHandle, type TestServer } from './servers.js';

export const REDIS = { path: 'redis-server', aptPackage: 'redis-server' } as const;

/** Call at a test file's top: whether redis-server is here (see `serverAvailable`). */
export const redisAvailable = (): ReturnType<typeof serverAvailable> => serverAvailable(REDIS);

export interface RedisServer extends TestServer {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
}

/** Answers PING with +PONG: the server is up and loaded its data. */
async function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dataDir = await tempDataDir('redis');
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawnServer(
      REDIS.path,
      ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
        '--logfile', join(dataDir, 'redis.log'), '--daemonize', 'no'],
      dataDir,
    );
    await waitUntil(`redis-server on ${port}`, () => pings(port), 20_000);
  };
  const halt = async (): Promise<void> => {
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGTERM', 10_000);
    child = undefined;
  };
  await launch();
  return serverHandle({ port, dataDir }, { pid: () => child?.pid ?? -1, launch, halt }, { url: `redis://127.0.0.1:${port}` });
}
