import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from '../../src/platform/make-dirs.js';
import { nodeStorageFs } from '../../src/raft/index.js';

describe('makeDirs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-make-dirs-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the missing parents and returns the first directory it created', async () => {
    expect(await makeDirs(join(dir, 'a', 'b', 'c'))).toBe(join(dir, 'a'));
    expect((await stat(join(dir, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    expect(await makeDirs(join(dir, 'a', 'b', 'c'))).toBeUndefined();
    expect(makeDirsSync(join(dir, 'a', 'x'))).toBe(join(dir, 'a', 'x'));
    expect(await nodeStorageFs.mkdirp(join(dir, 'r', 's'))).toBe(join(dir, 'r'));
  });

  it('fails with the file system error where a parent is a file', async () => {
    await writeFile(join(dir, 'f'), '');
    await expect(makeDirs(join(dir, 'f', 'x'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(() => makeDirsSync(join(dir, 'f', 'x'))).toThrow(/ENOTDIR/);
  });

  // Node 20's `mkdir(…, { recursive: true })` never settles here, and keeps the process from exiting.
  it.runIf(process.platform === 'linux')('settles with an error for a directory that cannot exist under /proc', async () => {
    await expect(makeDirs('/proc/wire-no-such-dir/x')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => makeDirsSync('/proc/wire-no-such-dir/x')).toThrow(/ENOENT/);
    await expect(nodeStorageFs.mkdirp('/proc/wire-no-such-dir/x')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
