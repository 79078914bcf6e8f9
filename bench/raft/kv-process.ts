/**
 * One kv-node child process: spawned with `node --import tsx`, ready once it prints its `{"ready": ...}`
 * line. Its stderr is appended to a log file (restarts append to the same one) and the tail is kept for
 * error messages. The child's stdin is a pipe it watches: if this process dies, the child stops too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const KV_NODE = fileURLToPath(new URL('./kv-node.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TAIL_BYTES = 16 * 1024;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class KvProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly logFile: WriteStream;
  private tail = '';
  private exit: Exit | undefined;

  private constructor(
    readonly id: string,
    args: readonly string[],
    logPath: string,
  ) {
    this.logFile = createWriteStream(logPath, { flags: 'a' });
    // KV_NODE_FLAGS: extra node flags for each kv-node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile one run).
    const nodeFlags = (process.env.KV_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
    this.child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', KV_NODE, ...args, '--watch-parent'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.logFile.write(chunk);
      this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
    });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    }).then(async (exit) => {
      await new Promise<void>((resolve) => this.logFile.end(resolve));
      return exit;
    });
  }

  /** Spawns a node and waits for its ready line; kills it (and rejects with its log tail) if it is not ready in time. */
  static async start(id: string, args: readonly string[], logPath: string, timeoutMs = 30_000): Promise<KvProcess> {
    const p = new KvProcess(id, args, logPath);
    try {
      await p.ready(timeoutMs);
      return p;
    } catch (err) {
      await p.kill('SIGKILL');
      throw new Error(`kv-node ${id} did not start: ${(err as Error).message}\n${p.logTail()}`);
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  logTail(): string {
    return this.tail;
  }

  /** Sends `signal` and waits for the exit; escalates to SIGKILL after `graceMs`. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private ready(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no ready line within ${timeoutMs} ms`)), timeoutMs);
      const onData = (chunk: Buffer): void => {
        out += chunk.toString('utf8');
        if (!out.split('\n').some((line) => line.startsWith('{"ready"'))) return;
        clearTimeout(timer);
        this.child.stdout!.off('data', onData);
        this.child.stdout!.resume();
        resolve();
      };
      this.child.stdout!.on('data', onData);
      void this.exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`exited before ready (code ${e.code}, signal ${e.signal})`));
      });
    });
  }
}
