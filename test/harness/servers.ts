// Real servers for connector tests: each runs on 127.0.0.1 on a free port with its data in a temp dir, is
// waited for until it answers, and is stopped by its PID. A test whose server binary is missing is skipped
// with the apt package to install; with WIRE_REQUIRE_SERVERS=1 (CI) a missing binary fails instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server binary and the Debian package that provides it. */
export interface ServerBinary {
  readonly path: string;
  readonly aptPackage: string;
}

/** Whether `binary` can run here; a missing one is a skip locally and an error under WIRE_REQUIRE_SERVERS=1. */
export function serverAvailable(binary: ServerBinary): { readonly available: boolean; readonly skipReason: string } {
  const available = findExecutable(binary.path) !== undefined;
  const skipReason = `${binary.path} is not installed (apt-get install -y --no-install-recommends ${binary.aptPackage})`;
  if (!available && process.env.WIRE_REQUIRE_SERVERS === '1') {
    throw new Error(`WIRE_REQUIRE_SERVERS=1 and ${skipReason}`);
  }
  if (!available) console.warn(`skipped: ${skipReason}`);
  return { available, skipReason };
}

function findExecutable(name: string): string | undefined {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(':').map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not this one: try the next directory on PATH.
    }
  }
  return undefined;
}

/** A port nobody listens on right now (the kernel's pick for port 0). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port from the kernel');
  return address.port;
}

export async function tempDataDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `wire-${prefix}-`));
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Whether a process with this PID exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Sends `signal` to `pid` and waits until the process is gone; SIGKILLs it if it outlives `timeoutMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, signal);
  const deadline = Date.now() + timeoutMs;
  let killed = false;
  while (alive(pid)) {
    if (!killed && Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      killed = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A child that runs in the foreground: its PID is the server's, and its exit is awaited on stop. */
export function spawnServer(command: string, args: readonly string[], dataDir: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false, env });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  child.once('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) console.warn(`${command} (data in ${dataDir}) exited ${code}: ${stderr}`);
  });
  return child;
}

/** Runs a command to completion; throws with its output when it fails. */
export function runOrThrow(command: string, args: readonly string[], options: { user?: string; cwd?: string } = {}): string {
  const [file, argv] = options.user === undefined ? [command, args] : ['runuser', ['-u', options.user, '--', command, ...args]];
  const result = spawnSync(file, argv, { encoding: 'utf8', cwd: options.cwd });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/** A running test server: where it listens, where its data is, and how to stop or restart it. */
export interface TestServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly dataDir: string;
  /** The server process's PID while it runs. */
  pid(): number;
  /** Stops it (by PID) and starts it again on the same port with the same data dir; resolves once it answers. */
  restart(): Promise<void>;
  /** Stops it by PID and removes its data dir. */
  stop(): Promise<void>;
}

/** Removes a data dir the harness made. */
export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The handle of a server started by `launch` and stopped by `halt` (both by PID), keeping its port and data dir. */
export function serverHandle<Extra extends object>(
  where: { port: number; dataDir: string },
  control: { pid(): number; launch(): Promise<void>; halt(): Promise<void> },
  extra: Extra,
): TestServer & Extra {
  return {
    host: '127.0.0.1',
    port: where.port,
    dataDir: where.dataDir,
    pid: control.pid,
    restart: async () => {
      await control.halt();
      await control.launch();
    },
    stop: async () => {
      await control.halt();
      await removeDataDir(where.dataDir);
    },
    ...extra,
  };
}
