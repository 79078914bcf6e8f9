// A fake S3 server for tests: `@20minutes/s3rver` 4.0.4 (an npm package, not AWS), run in a child process so it
// can be stopped by PID and restarted mid-test on the same port with the same directory, like the real servers.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, serverHandle, spawnServer, stopPid, tempDataDir, waitUntil, type TestServer } from './servers.js';

export interface S3Server extends TestServer {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Connector config fields that reach it (path-style, the fake's fixed credentials). */
  readonly config: { endpoint: string; force_path_style: true; access_key_id: string; secret_access_key: string; region: string };
}

const LAUNCHER = [
  "const S3rver = require(process.argv[1]);",
  "const [port, directory] = process.argv.slice(2);",
  "new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, allowMismatchedSignatures: true }).run();",
].join('\n');

/** Answers a TCP connect: the HTTP server listens. */
async function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startS3(): Promise<S3Server> {
  const port = await freePort();
  const dataDir = await tempDataDir('s3');
  const module = createRequire(import.meta.url).resolve('@20minutes/s3rver');
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawnServer(process.execPath, ['-e', LAUNCHER, module, String(port), join(dataDir, 'store')], dataDir);
    await waitUntil(`s3rver on ${port}`, () => listens(port), 20_000);
  };
  const halt = async (): Promise<void> => {
    if (child?.pid !== undefined) await stopPid(child.pid, 'SIGTERM', 10_000);
    child = undefined;
  };
  await launch();
  const endpoint = `http://127.0.0.1:${port}`;
  return serverHandle(
    { port, dataDir },
    { pid: () => child?.pid ?? -1, launch, halt },
    { endpoint, config: { endpoint, force_path_style: true, access_key_id: 'S3RVER', secret_access_key: 'S3RVER', region: 'us-east-1' } },
  );
}
