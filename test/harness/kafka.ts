// A Kafka-protocol test server: librdkafka's mock cluster as a standalone program (`mockkafka`, built from
// ../shared/test-servers/kafka). It is not a real broker: in memory only, no SASL/TLS, no leader failover. It is
// built once per version of its sources into the user's cache dir (~1 minute), guarded by a lock so two test files
// never build it at once; each server runs on ephemeral 127.0.0.1 ports and is stopped by its PID.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, stopPid } from './servers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the server's sources are: beside the repository in CI (`../shared`), or named by WIRE_KAFKA_TEST_SERVER. */
const SOURCES = process.env.WIRE_KAFKA_TEST_SERVER ?? join(ROOT, '..', 'shared', 'test-servers', 'kafka');
const SOURCE_FILES = ['build-mockkafka.sh', 'librdkafka-2.12.0-mock-testservers.patch', 'mockkafka.c'];
const BUILD_TOOLS = [
  { command: 'cmake', aptPackage: 'cmake' },
  { command: 'make', aptPackage: 'make' },
  { command: 'gcc', aptPackage: 'gcc' },
];

/** The cache dir of this version of the sources (a hash of them), under XDG_CACHE_HOME or ~/.cache. */
function cacheDir(): string {
  const hash = createHash('sha256');
  for (const file of SOURCE_FILES) hash.update(readFileSync(join(SOURCES, file)));
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(base, 'wire-test-servers', `mockkafka-${hash.digest('hex').slice(0, 16)}`);
}

const onPath = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** What is missing to build the server here, or undefined when nothing is. */
function missingForBuild(): string | undefined {
  if (!existsSync(join(SOURCES, 'build-mockkafka.sh'))) return `the Kafka test server's sources are not at ${SOURCES} (set WIRE_KAFKA_TEST_SERVER)`;
  const tools = BUILD_TOOLS.filter((t) => !onPath(t.command));
  if (tools.length > 0) return `${tools.map((t) => t.command).join(', ')} not installed (apt-get install -y --no-install-recommends ${tools.map((t) => t.aptPackage).join(' ')})`;
  return undefined;
}

/** Takes the build lock (a directory made atomically, holding its owner's PID); a lock whose owner died is taken over. */
async function lock(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      await mkdir(path);
      await writeFile(join(path, 'pid'), String(process.pid));
      return () => rm(path, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(join(path, 'pid'), 'utf8').catch(() => ''));
    // An owner that has not written its PID yet gets a moment; a dead one loses its lock.
    if (owner > 0 && !alive(owner)) await rm(path, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`the mockkafka build lock ${path} is held too long`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Builds the server into the cache unless it is there; resolves to the binary. */
export async function buildMockKafka(): Promise<string> {
  const dir = cacheDir();
  const binary = join(dir, 'mockkafka');
  if (existsSync(binary)) return binary;
  await mkdir(dirname(dir), { recursive: true });
  const release = await lock(`${dir}.lock`);
  try {
    if (existsSync(binary)) return binary;
    const work = `${dir}.build-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    const result = spawnSync('bash', [join(SOURCES, 'build-mockkafka.sh'), work], { encoding: 'utf8', cwd: dirname(dir) });
    if (result.status !== 0) {
      await rm(work, { recursive: true, force: true });
      throw new Error(`building mockkafka failed (${result.status ?? result.signal}):\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
    }
    // The binary finds its library relative to itself ($ORIGIN/lib), so the built dir moves as a whole.
    await rename(work, dir);
    return binary;
  } finally {
    await release();
  }
}

/**
 * Call at a test file's top (`await`): builds the server if needed. When it cannot be built here the tests skip,
 * naming what is missing; with WIRE_REQUIRE_SERVERS=1 (CI) that is an error instead.
 */
export async function kafkaAvailable(): Promise<{ readonly available: boolean; readonly skipReason: string; readonly binary: string }> {
  let reason = missingForBuild();
  let binary = '';
  if (reason === undefined) {
    try {
      binary = await buildMockKafka();
    } catch (error) {
      reason = (error as Error).message;
    }
  }
  if (reason !== undefined && process.env.WIRE_REQUIRE_SERVERS === '1') throw new Error(`WIRE_REQUIRE_SERVERS=1 and ${reason}`);
  if (reason !== undefined) console.warn(`skipped: ${reason}`);
  return { available: reason === undefined, skipReason: reason ?? '', binary };
}

export interface KafkaServer {
  /** `127.0.0.1:p1,127.0.0.1:p2,...`, one per broker. */
  readonly bootstrap: string;
  readonly brokers: readonly string[];
  pid(): number;
  /** Creates a topic with `partitions` partitions. */
  createTopic(name: string, partitions: number): Promise<void>;
  /** Takes broker `id` (from 1) down: its connections close and it refuses new ones until `up`. */
  down(id: number): void;
  up(id: number): void;
  /** Stops it by PID. */
  stop(): Promise<void>;
}

export interface KafkaServerOptions {
  readonly brokers?: number;
  /** Topics made at start: `name` → partitions. */
  readonly topics?: Readonly<Record<string, number>>;
}

/** Starts a mock cluster (3 brokers by default) on 127.0.0.1; resolves once it listens. */
export async function startKafka(binary: string, options: KafkaServerOptions = {}): Promise<KafkaServer> {
  const brokers = options.brokers ?? 3;
  const topicArgs = Object.entries(options.topics ?? {}).flatMap(([name, partitions]) => ['-t', `${name}:${partitions}`]);
  const child: ChildProcessWithoutNullStreams = spawn(binary, ['-b', String(brokers), '-r', '0', ...topicArgs], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
  const bootstrap = await new Promise<string>((resolvePromise, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`mockkafka did not start within 20 s: ${stderr}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const match = /BOOTSTRAP=(\S+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolvePromise(match[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`mockkafka exited (${code ?? signal}): ${stderr}`));
    });
  });
  const created = new Map<string, () => void>();
  child.stderr.on('data', (d: string) => {
    for (const [name, done] of created) {
      if (d.includes(`created topic ${name} `)) {
        created.delete(name);
        done();
      }
    }
  });
  const command = (line: string): void => {
    child.stdin.write(`${line}\n`);
  };
  return {
    bootstrap,
    brokers: bootstrap.split(','),
    pid: () => child.pid ?? -1,
    createTopic: (name, partitions) =>
      new Promise<void>((resolvePromise) => {
        created.set(name, resolvePromise);
        command(`topic ${name} ${partitions}`);
      }),
    down: (id) => command(`down ${id}`),
    up: (id) => command(`up ${id}`),
    stop: async () => {
      if (child.pid !== undefined && child.exitCode === null) await stopPid(child.pid, 'SIGTERM', 10_000);
    },
  };
}
