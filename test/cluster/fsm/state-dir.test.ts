/** Opening the state's directory: what a crash can leave, and what it must refuse rather than start empty. */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateDir } from '../../../src/cluster/state-dir.js';
import { tempDir } from './harness.js';

describe('the state directory', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('starts a first generation, and deletes one a first start left without a marker', async () => {
    await mkdir(join(dir.path, 'state-1'));
    await writeFile(join(dir.path, 'state-1', 'data.mdb'), 'half-made');
    await writeFile(join(dir.path, 'CURRENT.tmp'), 'state-1\n');
    const d = await StateDir.open(dir.path);
    expect(d.currentGeneration).toBe('state-1');
    expect((await readdir(dir.path)).sort()).toEqual(['CURRENT', 'state-1']);
    expect(await readdir(join(dir.path, 'state-1'))).toEqual([]);
  });

  it('keeps what it does not recognise', async () => {
    await writeFile(join(dir.path, 'notes.txt'), 'mine');
    await StateDir.open(dir.path);
    expect((await readdir(dir.path)).sort()).toEqual(['CURRENT', 'notes.txt', 'state-1']);
  });

  it('refuses a marker naming a generation that is gone, rather than start empty', async () => {
    await StateDir.open(dir.path);
    await rm(join(dir.path, 'state-1'), { recursive: true });
    await expect(StateDir.open(dir.path)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/names state-1, which is missing/) });
  });

  it('refuses a damaged marker', async () => {
    await StateDir.open(dir.path);
    await writeFile(join(dir.path, 'CURRENT'), '../../etc\n');
    await expect(StateDir.open(dir.path)).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/marker .* is damaged/) });
  });
});
