/**
 * Runs the etcd anchor (`../shared/anchors/etcd/run_etcd_bench.sh`, relative to the repo root, as CI
 * lays it out; see `ETCD_SCRIPT`) for a 3-member cluster with the same duration and concurrency levels as Wire's run, and
 * returns its JSON lines. The script stops the etcd processes it started; its work dir is ours to delete.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ANCHOR = join('shared', 'anchors', 'etcd', 'run_etcd_bench.sh');
/**
 * `WIRE_ETCD_ANCHOR` when set; else `shared/` beside the checkout (CI's layout) or one level further up
 * (a git worktree kept in a folder of worktrees).
 */
export const ETCD_SCRIPT =
  process.env.WIRE_ETCD_ANCHOR ?? [join(REPO_ROOT, '..', ANCHOR), join(REPO_ROOT, '..', '..', ANCHOR)].find((p) => existsSync(p)) ?? join(REPO_ROOT, '..', ANCHOR);

export interface EtcdLevel {
  readonly conc: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly [field: string]: unknown;
}

/** Why etcd cannot be run here, or undefined when it can. */
export function etcdUnavailable(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, 'etcd')));
  if (!onPath) return 'etcd is not on PATH (apt-get install etcd-server etcd-client)';
  if (!existsSync(ETCD_SCRIPT)) return `the etcd anchor script is missing (${ETCD_SCRIPT})`;
  return undefined;
}

export async function runEtcdAnchor(o: { durationS: number; warmupS: number; concs: readonly number[]; workDir: string; timeoutMs: number }): Promise<EtcdLevel[]> {
  const child = spawn('bash', [ETCD_SCRIPT], {
    env: {
      ...process.env,
      BASE: o.workDir,
      CLUSTERS: '3',
      CHECKPERF: '',
      DURATION: String(o.durationS),
      WARMUP: String(o.warmupS),
      CONC: o.concs.join(','),
      REPS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  // SIGTERM lets the script's EXIT trap stop its etcd processes.
  const timer = setTimeout(() => child.kill('SIGTERM'), o.timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`run_etcd_bench.sh exited with ${code}:\n${(stdout + stderr).slice(-3000)}`);
  const levels = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as EtcdLevel)
    .filter((l) => typeof l.conc === 'number' && typeof l.ops_per_s === 'number');
  if (levels.length === 0) throw new Error(`run_etcd_bench.sh printed no results:\n${(stdout + stderr).slice(-3000)}`);
  return levels;
}
