// `wire completion bash|zsh|fish`: scripts generated from the command line itself, so they name every command
// and option `wire --help` shows. The bash script is parsed and run by bash (always present where tests run).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

const exec = promisify(execFile);

afterEach(cleanup);

/** The commands `wire --help` lists, `help` included. */
async function commands(): Promise<string[]> {
  const help = await runWire(['--help'], { cwd: ROOT });
  return [...help.stdout.split('Commands:\n')[1]!.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!);
}

/** The long options `wire COMMAND --help` lists. */
async function longOptions(command: string): Promise<string[]> {
  const help = await runWire([command, '--help'], { cwd: ROOT });
  return [...help.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
}

async function script(shell: string): Promise<string> {
  const result = await runWire(['completion', shell], { cwd: ROOT });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

/** What the bash completion offers for the words typed so far (the last one being completed). */
async function bashComplete(path: string, words: string[]): Promise<string[]> {
  const program = `source ${JSON.stringify(path)}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _wire_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await exec('bash', ['--norc', '-c', program]);
  return stdout.split('\n').filter(Boolean);
}

describe('wire completion', () => {
  it('bash: the script parses, and offers every command and each command’s options', async () => {
    const dir = await makeTempDir();
    const path = join(dir, 'wire.bash');
    await writeFile(path, await script('bash'));
    await exec('bash', ['-n', path]);
    const names = await commands();
    expect(names).toEqual(expect.arrayContaining(['run', 'validate', 'connectors', 'completion', 'help']));
    expect((await bashComplete(path, ['wire', ''])).sort()).toEqual(expect.arrayContaining(names.sort()));
    for (const name of names.filter((n) => n !== 'help')) {
      const offered = await bashComplete(path, ['wire', name, '--']);
      expect(offered.sort(), name).toEqual(expect.arrayContaining(await longOptions(name)));
    }
    expect(await bashComplete(path, ['wire', 'run', '--log-level', 'd'])).toEqual(['debug']);
    expect(await bashComplete(path, ['wire', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(await bashComplete(path, ['wire', 'help', 'va'])).toEqual(['validate']);
  });

  it('zsh and fish: the scripts name every command', async () => {
    const names = (await commands()).filter((n) => n !== 'help');
    const zsh = await script('zsh');
    expect(zsh.startsWith('#compdef wire\n')).toBe(true);
    for (const name of names) expect(zsh, name).toMatch(new RegExp(`^ {4}'${name}:`, 'm'));
    const fish = await script('fish');
    for (const name of names) expect(fish, name).toContain(`complete -c wire -n __fish_use_subcommand -a ${name} -d `);
  });

  it('refuses a shell it does not know, in the usual error shape', async () => {
    const result = await runWire(['completion', 'tcsh'], { cwd: ROOT });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^wire: INVALID_INPUT: command-argument value 'tcsh' is invalid for argument 'shell'/);
  });
});
