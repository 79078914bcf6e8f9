// A real PostgreSQL 15 for tests: the binaries Debian puts under /usr/lib/postgresql/15/bin, run as the user
// postgres (initdb refuses root), with trust auth on 127.0.0.1 and its socket in the data dir.
import { chown, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, runOrThrow, serverAvailable, stopPid, tempDataDir, waitUntil, serverHandle, type TestServer } from './servers.js';

const BIN = '/usr/lib/postgresql/15/bin';
export const POSTGRES = { path: join(BIN, 'postgres'), aptPackage: 'postgresql-15' } as const;

export const postgresAvailable = (): ReturnType<typeof serverAvailable> => serverAvailable(POSTGRES);

export interface PostgresServer extends TestServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  readonly url: string;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const port = await freePort();
  const dataDir = await tempDataDir('postgres');
  const cluster = join(dataDir, 'data');
  // The postgres user must own the dir it creates the cluster in.
  const { uid, gid } = userIds('postgres');
  await chown(dataDir, uid, gid);
  runOrThrow(join(BIN, 'initdb'), ['-D', cluster, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], {
    user: 'postgres',
    cwd: dataDir,
  });
  let pid = -1;
  const launch = async (): Promise<void> => {
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${cluster} -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 -c fsync=on`;
    runOrThrow(join(BIN, 'pg_ctl'), ['-D', cluster, '-l', join(cluster, 'log'), '-w', '-t', '60', '-o', options, 'start'], {
      user: 'postgres',
      cwd: dataDir,
    });
    pid = Number((await readFile(join(cluster, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    await waitUntil(`postgres on ${port}`, () => accepts(port), 20_000);
  };
  // SIGINT is PostgreSQL's fast shutdown: it ends client sessions instead of waiting for them.
  const halt = async (): Promise<void> => {
    if (pid > 0) await stopPid(pid, 'SIGINT', 30_000);
    pid = -1;
  };
  await launch();
  return serverHandle({ port, dataDir }, { pid: () => pid, launch, halt }, { url: `postgres://postgres@127.0.0.1:${port}/postgres` });
}

function userIds(name: string): { uid: number; gid: number } {
  return { uid: Number(runOrThrow('id', ['-u', name]).trim()), gid: Number(runOrThrow('id', ['-g', name]).trim()) };
}
