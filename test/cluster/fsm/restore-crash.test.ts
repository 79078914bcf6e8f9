/**
 * A restore killed with SIGKILL at each of its steps leaves, once reopened, the old state or the new one,
 * whole, and nothing else in the directory.
 */
import { spawn } from 'node:child_process';
import { cp, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESTORE_STEPS, type RestoreStep } from '../../../src/cluster/state-dir.js';
import { collect, dump, entries, openFsm, tempDir } from './harness.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'restore-child.ts');
const spec = { source: { type: 'generate', config: {} }, sink: { type: 'stdout', config: {} } };
const init = { v: 1, type: 'cluster.init', id: 'c1', at: 0 };

/** Runs the child until it prints `stopped <step>` (then kills it with SIGKILL) or exits. */
function runChild(dir: string, file: string, step: RestoreStep): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, file, step], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('stopped ')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (out.includes(`stopped ${step}`) && signal === 'SIGKILL') resolve(step);
      else reject(new Error(`the child did not stop at ${step} (code ${code}, signal ${signal}): ${out} ${err}`));
    });
  });
}

describe('a restore killed at each step', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let oldState: unknown;
  let newState: unknown;
  const snapshotFile = (): string => join(dir.path, 'snapshot.bin');

  beforeAll(async () => {
    dir = await tempDir();
    const old = await openFsm(join(dir.path, 'old'));
    await old.apply(entries([init, { v: 1, type: 'pipeline.create', name: 'kept', spec, desired: 'running', at: 1 }], 1));
    oldState = dump(old.view());
    await old.close();
    const source = await openFsm(join(dir.path, 'source'));
    const commands: unknown[] = [init];
    for (let i = 0; i < 300; i++) commands.push({ v: 1, type: 'pipeline.create', name: `new-${i}`, spec, desired: 'stopped', at: i });
    await source.apply(entries(commands, 1, 5));
    newState = dump(source.view());
    await writeFile(snapshotFile(), await collect(source.snapshot()));
    await source.close();
  }, 60_000);
  afterAll(async () => {
    await dir.remove();
  });

  it.each(RESTORE_STEPS.map((step, i) => [step, i] as const))(
    'at %s leaves a whole state (old before the marker moves, new after) and no leftovers',
    async (step, i) => {
      const target = join(dir.path, `crash-${step}`);
      await cp(join(dir.path, 'old'), target, { recursive: true });
      await runChild(target, snapshotFile(), step);
      const fsm = await openFsm(target);
      try {
        const switched = i >= RESTORE_STEPS.indexOf('switched');
        expect(dump(fsm.view())).toEqual(switched ? newState : oldState);
        const generation = switched ? 'state-2' : 'state-1';
        expect((await readdir(target)).sort()).toEqual(['CURRENT', generation]);
      } finally {
        await fsm.close();
      }
    },
    90_000,
  );
});
