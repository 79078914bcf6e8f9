import type { Command } from 'commander';
import { completionScript, type Shell } from '../completion.js';
import { EXIT_OK } from '../exit.js';
import type { CliIo } from '../io.js';

/** `wire completion SHELL`: the completion script for bash, zsh or fish on stdout. */
export function completionCommand(shell: Shell, program: Command, io: CliIo): number {
  io.stdout(completionScript(shell, program));
  return EXIT_OK;
}
