// How long a fresh Node process takes to load a connector's client library, as Wire's bundle loads it (`require`,
// which takes ES modules too on Node 20.19+). A Wire run loads the library when its sink opens and its elapsed time
// includes that; a bare client in the bench process loaded it before its timer started, so a row adds this to the
// bare client's time (and says so in its baseline text).
import { join } from 'node:path';
import { runChild } from './child.js';

const REPOSITORY = join(import.meta.dirname, '..', '..');

export async function importSeconds(pkg: string, tmpDir: string): Promise<number> {
  const script = `const t = performance.now(); require(${JSON.stringify(pkg)}); process.stdout.write('SECONDS=' + (performance.now() - t) / 1000);`;
  const result = await runChild(process.execPath, ['-e', script], { cwd: REPOSITORY, tmpDir, timeoutMs: 120_000, label: `import-${pkg.replace(/\W/g, '-')}` });
  const seconds = /SECONDS=(\S+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || seconds === undefined) throw new Error(`loading ${pkg} failed (${result.code}):\n${result.stderr.slice(-2000)}`);
  return Number(seconds);
}
