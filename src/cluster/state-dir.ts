/**
 * The directory of the replicated state and its atomic replacement. Layout of `<root>`:
 *
 *   CURRENT        "state-<n>": the one environment in use (the marker)
 *   state-<n>/     an LMDB environment (data.mdb)
 *   state-<m>.tmp/ a restore under way; never read
 *
 * A restore builds `state-<n+1>.tmp`, fsyncs it, renames it to `state-<n+1>` (fsync of the root), writes
 * `CURRENT.tmp`, fsyncs it and renames it over `CURRENT` (fsync of the root): that rename is the one instant the
 * state changes. A kill -9 at any step leaves `CURRENT` naming a whole environment, old or new; `open`
 * deletes everything else.
 */
import { mkdir, open as openFile, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WireError } from '../core/errors.js';
import { DATA_FILE } from './state-env.js';
import { makeDirs } from '../platform/make-dirs.js';

export const MARKER = 'CURRENT';
const GENERATION = /^state-(\d{1,15})$/;

/** The steps of a restore, in order; a hook at each lets a test kill the process there. */
export const RESTORE_STEPS = ['receiving', 'built', 'renamed', 'marker-written', 'switched', 'cleaned'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

export type StepHook = (step: RestoreStep) => void | Promise<void>;

async function fsyncPath(path: string): Promise<void> {
  const handle = await openFile(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface StagedState {
  readonly name: string;
  readonly path: string;
}

export class StateDir {
  private constructor(
    readonly root: string,
    private currentName: string,
  ) {}

  get current(): string {
    return join(this.root, this.currentName);
  }

  get currentGeneration(): string {
    return this.currentName;
  }

  /** Opens `root` (creating a first, empty generation if there is none) and deletes leftovers of an interrupted restore. */
  static async open(root: string): Promise<StateDir> {
    try {
      await makeDirs(root);
      let name = await readMarker(root);
      if (name === undefined) {
        // Nothing is ever applied before the marker exists: a generation here is a first start cut short.
        await removeAllBut(root, undefined);
        name = 'state-1';
        await mkdir(join(root, name));
        await fsyncPath(root);
        await writeMarker(root, name);
      } else {
        await removeAllBut(root, name);
      }
      return new StateDir(root, name);
    } catch (error) {
      if (error instanceof WireError) throw error;
      throw new WireError('UNAVAILABLE', `cannot open the cluster state in ${root}: ${(error as Error).message}`, { dir: root }, error);
    }
  }

  /** A fresh, empty directory for the next generation. */
  async stage(): Promise<StagedState> {
    const n = Number(GENERATION.exec(this.currentName)![1]) + 1;
    const name = `state-${n}`;
    const path = join(this.root, `${name}.tmp`);
    // Either may be left by a restore of this process that failed before its marker moved.
    await rm(path, { recursive: true, force: true });
    await rm(join(this.root, name), { recursive: true, force: true });
    await mkdir(path);
    return { name, path };
  }

  async discard(staged: StagedState): Promise<void> {
    await rm(staged.path, { recursive: true, force: true });
  }

  /** Makes the staged environment durable and current; returns the directory it now lives in. */
  async commit(staged: StagedState, hook: StepHook): Promise<string> {
    await fsyncPath(join(staged.path, DATA_FILE));
    await fsyncPath(staged.path);
    await hook('built');
    const path = join(this.root, staged.name);
    await rename(staged.path, path);
    await fsyncPath(this.root);
    await hook('renamed');
    await writeMarker(this.root, staged.name, hook);
    await hook('switched');
    this.currentName = staged.name;
    return path;
  }

  /** Deletes every generation but the current one. */
  async removeOld(): Promise<void> {
    await removeAllBut(this.root, this.currentName);
  }
}

async function readMarker(root: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(root, MARKER), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const name = text.trim();
  if (!GENERATION.test(name)) throw new WireError('INTERNAL', `the cluster state marker ${join(root, MARKER)} is damaged: ${JSON.stringify(text.slice(0, 40))}`, { dir: root });
  const entries = await readdir(root);
  if (!entries.includes(name)) {
    throw new WireError('INTERNAL', `the cluster state marker names ${name}, which is missing from ${root}`, { dir: root });
  }
  return name;
}

async function writeMarker(root: string, name: string, hook?: StepHook): Promise<void> {
  const tmp = join(root, `${MARKER}.tmp`);
  await writeFile(tmp, `${name}\n`);
  await fsyncPath(tmp);
  await hook?.('marker-written');
  await rename(tmp, join(root, MARKER));
  await fsyncPath(root);
}

const LEFTOVER = /^(state-\d{1,15}(\.tmp)?|CURRENT\.tmp)$/;

/**
 * Removes the generations but `keep`, unfinished restores and a marker never renamed; fsyncs `root` if anything
 * went. Entries it does not recognise are left alone: the directory may have been given by mistake.
 */
async function removeAllBut(root: string, keep: string | undefined): Promise<void> {
  let removed = false;
  for (const entry of await readdir(root)) {
    if (entry === keep || !LEFTOVER.test(entry)) continue;
    await rm(join(root, entry), { recursive: true, force: true });
    removed = true;
  }
  if (removed) await fsyncPath(root);
}
