import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT } from './harness.js';

// bin/wire.js runs dist/cli/wire.cjs from V8's code cache (bin/cached-bundle.js, which runs wire-node.cjs too). V8 checks a cache against the source's length only:
// given the cache of another bundle of the same length, it would run that other bundle's code. The build stamps
// both with the bundle's hash, and the loader must use a cache only when the stamps agree.
const WRAPPER = (source: string): string => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

function stamped(code: string): { source: string; stamp: string } {
  const stamp = createHash('sha256').update(code).digest('hex');
  return { source: `${code}// wire-build ${stamp}\n`, stamp };
}

/** A V8 cache of `source`, compiled as bin/cached-bundle.js compiles a bundle, behind `stamp`. */
function cacheOf(source: string, file: string, stamp: string): Buffer {
  const script = new Script(WRAPPER(source), { filename: file });
  script.runInThisContext();
  return Buffer.concat([Buffer.from(stamp, 'latin1'), script.createCachedData()]);
}

/** A package laid out as bin/wire.js expects it, with `bundle` as the CLI; returns what the command prints. */
async function runLoader(bundle: string, cache: Buffer): Promise<string> {
  const root = await makeTempDir();
  await mkdir(join(root, 'bin'));
  await mkdir(join(root, 'dist', 'cli'), { recursive: true });
  await copyFile(join(ROOT, 'bin', 'wire.js'), join(root, 'bin', 'wire.js'));
  await copyFile(join(ROOT, 'bin', 'cached-bundle.js'), join(root, 'bin', 'cached-bundle.js'));
  await copyFile(join(ROOT, 'bin', 'package.json'), join(root, 'bin', 'package.json'));
  const file = join(root, 'dist', 'cli', 'wire.cjs');
  await writeFile(file, bundle);
  await writeFile(`${file}.cache`, cache);
  const run = spawnSync(process.execPath, [join(root, 'bin', 'wire.js')], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe('the code cache of the CLI bundle', () => {
  afterEach(cleanup);

  // Two bundles of the same length that print different things.
  const a = stamped("process.stdout.write('A');\n");
  const b = stamped("process.stdout.write('B');\n");

  it('is used when its stamp is the bundle’s (a cache that lies about its bundle shows it is read)', async () => {
    expect(a.source.length).toBe(b.source.length);
    const lying = cacheOf(a.source, 'wire.cjs', b.stamp);
    expect(await runLoader(b.source, lying)).toBe('A');
  });

  it('is not used when it was made for another bundle of the same length', async () => {
    const stale = cacheOf(a.source, 'wire.cjs', a.stamp);
    expect(await runLoader(b.source, stale)).toBe('B');
  });

  it('runs the bundle without a cache when none matches', async () => {
    expect(await runLoader(b.source, Buffer.from('0'.repeat(64)))).toBe('B');
  });
});
