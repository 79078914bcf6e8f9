// `wire checkpoints list | show NAME | reset NAME`: what `wire run` keeps in a data dir, and the way to forget it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WireError } from '../../core/errors.js';
import type { Checkpoint, ComponentIdentity } from '../../core/ports.js';
import type { LmdbCheckpointStore } from '../../engine/checkpoint-store.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';

/** Where `wire run` keeps checkpoints unless told otherwise; `wire checkpoints` looks in the same place. */
export const DEFAULT_DATA_DIR = './.wire';

interface CheckpointsOptions {
  readonly dataDir: string;
  readonly json: boolean;
}

interface Entry {
  readonly key: string;
  readonly checkpoint: Checkpoint;
}

/** Adds the `checkpoints` command and its subcommands; `done` receives each invocation's exit code. */
export function registerCheckpointsCommand(program: Command, io: CliIo, done: (exitCode: number) => void): void {
  const group = program
    .command('checkpoints')
    .description("list, show or reset the checkpoints `wire run` keeps in a data dir (one per pipeline, by name)");
  const withOptions = (command: Command): Command =>
    command
      .option('--data-dir <dir>', 'where checkpoints are kept (as for `wire run`)', DEFAULT_DATA_DIR)
      .option('--json', 'print JSON lines on stdout (errors as a JSON line on stderr)', false);
  withOptions(group.command('list').description('one line per checkpoint: pipeline, source, position, when saved')).action(
    async (options: CheckpointsOptions) => done(await checkpointsCommand({ action: 'list' }, options, io)),
  );
  withOptions(group.command('show').description("everything stored for one pipeline's checkpoint").argument('<name>', 'pipeline name')).action(
    async (name: string, options: CheckpointsOptions) => done(await checkpointsCommand({ action: 'show', name }, options, io)),
  );
  withOptions(
    group
      .command('reset')
      .description("remove one pipeline's checkpoint: its next run reads its source from the start and starts its output file again")
      .argument('<name>', 'pipeline name'),
  ).action(async (name: string, options: CheckpointsOptions) => done(await checkpointsCommand({ action: 'reset', name }, options, io)));
}

type Action = { readonly action: 'list' } | { readonly action: 'show' | 'reset'; readonly name: string };

export async function checkpointsCommand(what: Action, options: CheckpointsOptions, io: CliIo): Promise<number> {
  try {
    await withStore(options.dataDir, async (store) => {
      if (what.action === 'list') return list(store === undefined ? [] : await store.list(), options, io);
      const entry = await find(store, what.name, options.dataDir);
      if (what.action === 'reset') {
        // The run would save its checkpoint again within a second, and its output would no longer match it.
        const owner = store!.runningOwner(what.name);
        if (owner !== undefined) {
          throw new WireError('CONFLICT', `pipeline ${what.name} is running (pid ${owner.pid} on ${owner.host}): stop it before resetting its checkpoint`, {
            name: what.name,
            pid: owner.pid,
          });
        }
        await store!.delete(what.name);
      }
      print(what.action, entry, options, io);
    });
    return EXIT_OK;
  } catch (error) {
    io.stderr(options.json ? JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n' : formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
}

/** Opens the store only where one exists: looking must not create a data dir. */
async function withStore(dataDir: string, use: (store: LmdbCheckpointStore | undefined) => Promise<void>): Promise<void> {
  if (!existsSync(join(dataDir, 'checkpoints.mdb'))) return use(undefined);
  const { openCheckpointStore } = await import('../../engine/checkpoint-store.js');
  const store = openCheckpointStore(dataDir);
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

async function find(store: LmdbCheckpointStore | undefined, name: string, dataDir: string): Promise<Entry> {
  const checkpoint = await store?.load(name);
  if (checkpoint !== undefined) return { key: name, checkpoint };
  const names = store === undefined ? [] : (await store.list()).map((e) => e.key);
  const known = names.length === 0 ? 'it holds none' : `it holds: ${names.join(', ')}`;
  throw new WireError('NOT_FOUND', `no checkpoint named ${name} in ${dataDir} (${known})`, { name, dataDir });
}

function list(entries: readonly Entry[], options: CheckpointsOptions, io: CliIo): void {
  if (options.json) {
    for (const entry of entries) io.stdout(JSON.stringify({ type: 'checkpoint', ...entryJson(entry) }) + '\n');
    return;
  }
  if (entries.length === 0) {
    io.stdout(`no checkpoints in ${options.dataDir}\n`);
    return;
  }
  for (const { key, checkpoint } of entries) {
    const source = checkpoint.identity === undefined ? 'source unknown (saved by an older wire)' : checkpoint.identity.source.label;
    io.stdout(`${key}  ${source}  position ${positionText(checkpoint)}  saved ${savedAt(checkpoint)}\n`);
  }
}

function print(action: 'show' | 'reset', entry: Entry, options: CheckpointsOptions, io: CliIo): void {
  if (options.json) {
    io.stdout(JSON.stringify({ type: action === 'show' ? 'checkpoint' : 'removed', ...entryJson(entry) }) + '\n');
    return;
  }
  const { key, checkpoint } = entry;
  if (action === 'reset') {
    io.stdout(
      `removed the checkpoint of ${key} (position ${positionText(checkpoint)}, saved ${savedAt(checkpoint)}); ` +
        'its next run reads its source from the start and starts its output file again (unless `append: true`)\n',
    );
    return;
  }
  const identity = checkpoint.identity;
  const lines = [
    `name: ${key}`,
    `source: ${identity === undefined ? 'unknown (saved by an older wire)' : componentText(identity.source)}`,
    `position: ${positionText(checkpoint)}`,
    `sink state: ${stateText(checkpoint.sink, identity?.sink)}`,
    ...(checkpoint.deadLetter === undefined && identity?.deadLetter === undefined
      ? []
      : [`dead-letter state: ${stateText(checkpoint.deadLetter, identity?.deadLetter)}`]),
    ...(checkpoint.epoch === undefined ? [] : [`epoch: ${checkpoint.epoch}`]),
    `saved: ${savedAt(checkpoint)}`,
  ];
  io.stdout(lines.join('\n') + '\n');
}

function entryJson({ key, checkpoint }: Entry): Record<string, unknown> {
  return {
    name: key,
    position: checkpoint.position,
    ...(checkpoint.sink === undefined ? {} : { sink: checkpoint.sink }),
    ...(checkpoint.deadLetter === undefined ? {} : { dead_letter: checkpoint.deadLetter }),
    ...(checkpoint.epoch === undefined ? {} : { epoch: checkpoint.epoch }),
    ...(checkpoint.identity === undefined ? {} : { identity: checkpoint.identity }),
    saved_at: savedAt(checkpoint),
  };
}

function positionText(checkpoint: Checkpoint): string {
  return checkpoint.position === null ? 'none yet (the run stopped before its first checkpoint)' : JSON.stringify(checkpoint.position);
}

function componentText(identity: ComponentIdentity): string {
  return `${identity.label} (fingerprint ${identity.fingerprint})`;
}

function stateText(state: unknown, identity: ComponentIdentity | undefined): string {
  const text = state === undefined ? 'none' : JSON.stringify(state);
  return identity === undefined ? text : `${text} for ${identity.label}`;
}

function savedAt(checkpoint: Checkpoint): string {
  return new Date(checkpoint.updatedAt).toISOString();
}
