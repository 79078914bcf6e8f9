// Three `wire node` processes on loopback for the cluster benches (bench/cluster.ts, bench/cluster-tasks.ts): spawned
// to form with --bootstrap-expect 3, each with its admin token read from its data dir for the API calls.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'wire.js');
/** The CLI unbundled: slower to start, but a CPU profile's frames name Wire's files (the bundle's are minified). */
const UNBUNDLED = join(ROOT, 'dist', 'cli', 'main.js');

export interface BenchNode {
  readonly id: string;
  readonly http: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** When the process printed its ready line (both ports listen). */
  readonly ready: Promise<number>;
}

const tokens = new WeakMap<BenchNode, string>();

/**
 * The bearer header of the node's admin token (its first start writes it once the cluster has formed), read once;
 * empty while there is none yet (every API route refuses a call without it).
 */
export function auth(node: BenchNode): Record<string, string> {
  let token = tokens.get(node);
  if (token === undefined) {
    try {
      token = readFileSync(join(node.dataDir, 'admin.token'), 'utf8').trim();
    } catch {
      return {};
    }
    // Read while the node writes it: empty, and the next call reads it again.
    if (token === '') return {};
    tokens.set(node, token);
  }
  return { authorization: `Bearer ${token}` };
}

export interface SpawnOptions {
  /** Flags added to each node's command line. */
  readonly args?: readonly string[];
  /** Runs each node unbundled with `node --cpu-prof`, writing its profile here when it exits (`cluster-profile.ts`). */
  readonly profileDir?: string;
}

/** Spawns n1..n3 under `dir`; `startedAt` is taken just before the first spawn. */
export async function spawnNodes(dir: string, o: SpawnOptions = {}): Promise<{ nodes: BenchNode[]; startedAt: number }> {
  const ports = await Promise.all(Array.from({ length: 6 }, freePort));
  const raft = [0, 1, 2].map((i) => `127.0.0.1:${ports[2 * i + 1]}`);
  const command = o.profileDir === undefined ? [BIN] : ['--cpu-prof', '--cpu-prof-dir', o.profileDir, UNBUNDLED];
  const startedAt = performance.now();
  const nodes = [0, 1, 2].map((i): BenchNode => {
    const id = `n${i + 1}`;
    const http = `127.0.0.1:${ports[2 * i]}`;
    const dataDir = join(dir, id);
    const nodeArgs = ['node', '--node-id', id, '--data-dir', dataDir, '--http-addr', http, '--raft-addr', raft[i]!, '--bootstrap-expect', '3', '--join', raft.join(','), '--log-level', 'error', ...(o.args ?? [])];
    const child = spawn(process.execPath, [...command, ...nodeArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = new Promise<number>((done) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        if (out.includes('{"ready"')) return;
        out += chunk.toString();
        if (out.includes('{"ready"')) done(performance.now());
      });
    });
    return { id, http, dataDir, child, ready };
  });
  return { nodes, startedAt };
}

export const isLive = (n: BenchNode): boolean => n.child.exitCode === null && n.child.signalCode === null;

/** Kills every live node (SIGKILL); resolves once all exited. */
export async function stopNodes(nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(
    nodes.filter(isLive).map((n) => new Promise((done) => {
      n.child.once('close', done);
      n.child.kill('SIGKILL');
    })),
  );
}
