/**
 * `wire node` processes for multi-process tests: started from dist/ (run `npm run build` first) on 127.0.0.1,
 * each with its own data dir under one temp dir, talked to over their HTTP API; every process is killed and
 * the temp dir removed by `stopAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WIRE = fileURLToPath(new URL('../../../bin/wire.js', import.meta.url));

export interface NodeProcess {
  readonly id: string;
  readonly raft: string;
  readonly http: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export class NodeProcesses {
  private readonly children = new Set<ChildProcess>();
  private root: string | undefined;
  /** Every node of the set is given it: founders register it, joiners show it. */
  readonly joinToken = `test-join-${randomBytes(24).toString('hex')}`;

  async dir(): Promise<string> {
    this.root ??= await mkdtemp(path.join(os.tmpdir(), 'wire-node-e2e-'));
    return this.root;
  }

  /** Starts `wire node` with `args` (its --data-dir under the temp dir unless given); resolves once it prints ready. */
  async start(id: string, args: readonly string[], options: { raftPort?: number; dataDir?: string; nodeArgs?: readonly string[]; cwd?: string } = {}): Promise<NodeProcess> {
    const dataDir = options.dataDir ?? path.join(await this.dir(), id);
    const raftPort = options.raftPort ?? (await freePorts(1))[0]!;
    const child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), WIRE, 'node', '--node-id', id, '--data-dir', dataDir, '--http-addr', '127.0.0.1:0', '--raft-addr', `127.0.0.1:${raftPort}`, '--log-level', 'debug', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WIRE_HTTP_ADDR: '', WIRE_RAFT_ADDR: '', WIRE_JOIN_TOKEN: this.joinToken }, ...(options.cwd === undefined ? {} : { cwd: options.cwd }) },
    );
    this.children.add(child);
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
      this.children.delete(child);
      resolve(code);
    }));
    const ready = await new Promise<{ http: string; raft: string }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"ready"'));
        if (line) resolve((JSON.parse(line) as { ready: { http: string; raft: string } }).ready);
      });
      void exited.then((code) => reject(new Error(`wire node ${id} exited with ${code}:\n${err.slice(-3000)}`)));
    });
    return { id, raft: ready.raft, http: ready.http, dataDir, child, exited, stderr: () => err };
  }

  /** Kills every process still running (SIGKILL) and removes the temp dir. */
  async stopAll(): Promise<void> {
    const waits = [...this.children].map((c) => new Promise((r) => {
      c.once('exit', r);
      c.kill('SIGKILL');
    }));
    await Promise.all(waits);
    if (this.root) await rm(this.root, { recursive: true, force: true });
    this.root = undefined;
  }
}

export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** The admin token the node's first start wrote in its data dir, once it has. */
export async function adminToken(node: { dataDir: string }): Promise<string | undefined> {
  return readFile(path.join(node.dataDir, 'admin.token'), 'utf8').then((t) => t.trim(), () => undefined);
}

/** A request to the node's API, with the node's admin token when it has one (`token` to send another, or none). */
export async function http(node: { http: string; dataDir?: string }, method: string, url: string, body?: string, contentType = 'application/yaml', token?: string | null): Promise<HttpAnswer> {
  const bearer = token === null ? undefined : (token ?? (node.dataDir === undefined ? undefined : await adminToken({ dataDir: node.dataDir })));
  const headers: Record<string, string> = {
    ...(body === undefined ? {} : { 'content-type': contentType }),
    ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
  };
  const res = await fetch(`http://${node.http}${url}`, { method, redirect: 'manual', signal: AbortSignal.timeout(20_000), body, headers });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Text routes (/readyz, /metrics) answer text.
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Calls `fn` until it returns a value that is not undefined/false, or throws after `timeoutMs`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const pipelineYaml = (name: string, count = 1): string =>
  `name: ${name}\nsource:\n  type: generate\n  config: { count: ${count} }\nsink:\n  type: stdout\n`;
