/**
 * A real partition: each node in its own network namespace (`../shared/test-servers/netns/netns-hosts.sh`, needs
 * root), the task's node cut off while its process keeps running.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, until } from '../node/processes.js';
import { generateToFile, range, sequence, tasksOf } from './cluster.js';

const WIRE = fileURLToPath(new URL('../../../bin/wire.js', import.meta.url));
// ../shared beside the repository, as CI lays it out.
const NETNS = fileURLToPath(new URL('../../../../shared/test-servers/netns/netns-hosts.sh', import.meta.url));
// Network namespaces need root and the script; in CI (CI=true, as root) the test always runs, and fails if it cannot.
const canRun = (process.getuid?.() === 0 && existsSync(NETNS)) || process.env['CI'] === 'true';
const PREFIX = `h11p${process.pid % 100}`;
const SUBNET = 100 + (process.pid % 100);
const addr = (i: number, port: number): string => `10.77.${SUBNET}.${i}:${port}`;

interface Host {
  readonly id: string;
  readonly index: number;
  readonly http: string;
  /** Its data dir: the tests' requests present the admin token its first start wrote there. */
  readonly dataDir: string;
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  log(): string;
}

/** The time (ms since the epoch) of the first log line of `host` that matches `pattern`. */
function loggedAt(host: Host, pattern: RegExp): number | undefined {
  for (const line of host.log().split('\n')) {
    if (!pattern.test(line)) continue;
    try {
      return (JSON.parse(line) as { time: number }).time;
    } catch {
      continue;
    }
  }
  return undefined;
}

describe.runIf(canRun)('a partitioned task node', () => {
  let dir: string;
  const hosts: Host[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wire-partition-'));
    execFileSync('bash', [NETNS, 'down', PREFIX]);
    execFileSync('bash', [NETNS, 'up', PREFIX, '3', String(SUBNET)]);
  });

  afterAll(async () => {
    await Promise.all(
      hosts.map((h) => {
        h.child.kill('SIGKILL');
        return h.exited;
      }),
    );
    execFileSync('bash', [NETNS, 'down', PREFIX]);
    await rm(dir, { recursive: true, force: true });
  });

  it('stops its task before another node starts it, and the shared file stays exactly-once', async () => {
    const join = [1, 2, 3].map((i) => addr(i, 4002)).join(',');
    for (const i of [1, 2, 3]) {
      const id = `n${i}`;
      const child = spawn(
        'bash',
        [NETNS, 'exec', PREFIX, String(i), process.execPath, WIRE, 'node', '--node-id', id, '--data-dir', path.join(dir, id), '--http-addr', addr(i, 4001), '--raft-addr', addr(i, 4002), '--bootstrap-expect', '3', '--join', join, '--allow-path', dir, '--insecure', '--log-level', 'debug'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let log = '';
      child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
      hosts.push({ id, index: i, http: addr(i, 4001), dataDir: path.join(dir, id), child, exited: new Promise((r) => child.once('exit', r)), log: () => log });
    }
    await until('every node ready', async () => (await Promise.all(hosts.map((h) => http(h, 'GET', '/readyz')))).every((r) => r.status === 200), 60_000);

    const file = path.join(dir, 'out.jsonl');
    const count = 12_000;
    expect((await http(hosts[0]!, 'POST', '/v1/pipelines', generateToFile('seq', file, count, 2000))).status).toBe(201);
    const first = await until('the task running', async () => {
      const [t] = await tasksOf(hosts[0]!, 'seq');
      return t?.node && t.state === 'running' ? t : undefined;
    });
    await until('some records written', async () => (await sequence(file)).length > 2000);
    const cut = hosts.find((h) => h.id === first.node)!;
    execFileSync('bash', [NETNS, 'cut', PREFIX, String(cut.index)]);
    const others = hosts.filter((h) => h !== cut);

    const second = await until(
      'the task running elsewhere',
      async () => {
        for (const h of others) {
          const [t] = await tasksOf(h, 'seq').catch(() => []);
          if (t?.node && t.node !== cut.id && t.epoch > first.epoch) return t;
        }
        return undefined;
      },
      60_000,
    );
    const taker = hosts.find((h) => h.id === second.node)!;
    const fenced = await until('the cut node to stop its task', async () => loggedAt(cut, /seq\/0 \(epoch \d+\) stopped at once: this node lost its lease/), 30_000);
    const started = await until('the new node to start it', async () => loggedAt(taker, new RegExp(`task seq/0: running \\(epoch ${second.epoch}`)), 30_000);
    expect(fenced).toBeLessThan(started);

    await until('every record written', async () => (await sequence(file)).length >= count, 90_000);
    execFileSync('bash', [NETNS, 'heal', PREFIX, String(cut.index)]);
    await until('the task completed', async () => (await tasksOf(taker, 'seq'))[0]?.state === 'completed', 30_000);
    expect(await sequence(file)).toEqual(range(count));
  }, 240_000);
});
