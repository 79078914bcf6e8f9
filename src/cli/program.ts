// The `wire` command line: commands, options, and the exit code of a whole invocation.
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import { WireError } from '../core/errors.js';
import { LOG_LEVELS } from './log-levels.js';
import { EXIT_OK, errorOutput, exitCodeOf } from './exit.js';
import type { CliIo } from './io.js';
import { SHELLS, type Shell } from './completion.js';
import { DEFAULT_DATA_DIR, registerCheckpointsCommand } from './commands/checkpoints.js';
import type { RunOptions } from './commands/run.js';
import { registerClientCommands } from './client-commands.js';
import { registerCertsCommands } from './certs-commands.js';
import type { NodeFlagValues } from './commands/node-flags.js';
import type { SecurityFlagValues } from './commands/security-flags.js';
import { loadNodeCommand } from './node-command-loader.js';

function packageVersion(): string {
  // dist/cli/main.js and src/cli/main.ts both sit two levels under the package root.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const version: unknown = (JSON.parse(text) as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

const ENV_FILE_HELP = 'read ${VAR}s from a dotenv file (KEY=VALUE lines); variables already set in the environment win';

/** The words of the command line before `--`, where options are. */
function optionWords(args: readonly string[]): readonly string[] {
  const end = args.indexOf('--');
  return end === -1 ? args : args.slice(0, end);
}

/**
 * Commander's usage error (`error: unknown option '--bogus'`, maybe a `(Did you mean …?)` line) as the WireError
 * every other error is, with the help to read in its details.
 */
function usageError(error: CommanderError, args: readonly string[], commands: readonly string[]): WireError {
  const words = optionWords(args).filter((word) => !word.startsWith('-'));
  const command = words[0] === 'help' ? words[1] : words[0];
  const known = command !== undefined && commands.includes(command);
  const details: Record<string, string> = { help: known ? `wire ${command} --help` : 'wire --help' };
  // No command at all, or `wire help NAME` for an unknown NAME: commander printed the help and says no more.
  if (error.code === 'commander.help') {
    const message = command === undefined ? `a command is required: ${commands.join(', ')}` : `unknown command '${command}'`;
    return new WireError('INVALID_INPUT', message, details);
  }
  const [message = error.message, ...more] = error.message.replace(/^error: /, '').split('\n');
  const hint = more.join(' ').trim().replace(/^\((.*)\)$/, '$1');
  return new WireError('INVALID_INPUT', message, hint === '' ? details : { hint, ...details });
}

/** Runs `wire ARGV` (argv as in process.argv: node, script, args…) and returns its exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  let debug = false;
  // Known before parsing: a usage error must come out as JSON too when `--json` was asked for.
  const json = optionWords(argv.slice(2)).includes('--json');

  const program = new Command('wire')
    .description('Wire: stream records from a source through transforms to a sink, described in YAML.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    // Commander's own error text is replaced by the `wire: CODE: message` form below.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => undefined });

  program.hook('preAction', (_program, action) => {
    const level: unknown = action.opts().logLevel;
    debug = level === 'debug' || level === 'trace';
  });

  program
    .command('run')
    .description('run the pipelines of FILE side by side until their sources end (or until SIGINT/SIGTERM)')
    .argument('<file>', 'pipeline file (YAML or JSON), or - to read it from stdin')
    .option('--data-dir <dir>', 'where checkpoints are kept', DEFAULT_DATA_DIR)
    .option('--json', 'print progress (every second) and the summary as JSON lines on stderr', false)
    .option('--from-start', 'ignore stored checkpoints and read every source from its beginning', false)
    .option('--pipeline <name>', 'run only the pipeline of this name')
    .option('--dry-run', 'check that inputs exist, js modules load and sinks answer; read and write no data', false)
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('warn'))
    .option('--env-file <path>', ENV_FILE_HELP)
    .action(async (file: string, options: RunOptions) => {
      // Commands load on demand: `wire --version` need not load the engine, LMDB and every connector.
      const { runCommand } = await import('./commands/run.js');
      exitCode = await runCommand(file, options, io);
    });

  program
    .command('validate')
    .description('check FILE and print OK, or every problem as file:line:column path: message')
    .argument('<file>', 'pipeline file (YAML or JSON), or - for stdin')
    .option('--json', 'print the result as one JSON object: problems with file, line, column, path, code, message', false)
    .option('--env-file <path>', ENV_FILE_HELP)
    .action(async (file: string, options: { json: boolean; envFile?: string }) => {
      const { validateCommand } = await import('./commands/validate.js');
      exitCode = await validateCommand(file, io, options);
    });

  program
    .command('test')
    .description('run the tests beside pipeline files (FOO.test.yaml beside FOO.yaml); PATH: files or directories, default .')
    .argument('[path...]', 'test files, pipeline files, or directories searched for *.test.yaml')
    .action(async (paths: string[]) => {
      const { testCommand } = await import('./commands/test.js');
      exitCode = await testCommand(paths, io);
    });

  program
    .command('eval')
    .description('evaluate EXPR against each JSON record on stdin (one per line) and print each result as JSON')
    .argument('<expr>', 'an expression (docs/expressions.md), e.g. "upper(user)"')
    .action(async (expression: string) => {
      const { evalCommand } = await import('./commands/eval.js');
      exitCode = await evalCommand(expression, io);
    });

  program
    .command('schema')
    .description('print the JSON Schema of pipeline files, for editors (the YAML language server)')
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      exitCode = schemaCommand(io);
    });

  program
    .command('connectors')
    .description('list every source, transform and sink with its config')
    .option('--markdown', 'print the reference as Markdown (the content of docs/connectors.md)', false)
    .action(async (options: { markdown: boolean }) => {
      const { connectorsCommand } = await import('./commands/connectors.js');
      exitCode = connectorsCommand(options, io);
    });

  program
    .command('node')
    .description('run a cluster node: Raft and the cluster RPC on the node port, the HTTP API on --http-addr (every flag also from WIRE_*)')
    .option('--http-addr <host:port>', 'where the HTTP API listens (default 127.0.0.1:4001)')
    .option('--http-adv-addr <host:port>', 'the HTTP address clients are sent to (default: --http-addr)')
    .option('--raft-addr <host:port>', 'where the node port (Raft and cluster RPC) listens (default 127.0.0.1:4002)')
    .option('--raft-adv-addr <host:port>', 'the node port address peers use (default: --raft-addr)')
    .option('--node-id <id>', 'this node\'s id (default: the hostname)')
    .option('--data-dir <dir>', 'where the node keeps its log, snapshots and state (default ./wire-data)')
    .option('--bootstrap-expect <n>', 'form a cluster of N voters once N nodes given by --join see each other')
    .option('--join <addresses>', 'node port addresses (comma-separated) of members to join, or of fellow founders')
    .option('--join-attempts <n>', 'how many times to try joining (default 5)')
    .option('--join-interval <duration>', 'time between join attempts (default 3s)')
    .option('--raft-non-voter', 'join as a learner: replicate and serve reads, never vote')
    .option('--raft-snapshot-threshold <n>', 'applied entries between snapshots; the log before one is compacted (default 8192)')
    .option('--raft-shutdown-stepdown', 'on SIGTERM a leader hands leadership over first (default)')
    .option('--no-raft-shutdown-stepdown', 'stop without handing leadership over')
    .option('--node-label <key=value...>', 'a label of this node, for placement (repeatable)')
    .option('--task-failover-timeout <duration>', "a node silent this long loses its tasks to others (default 2s)")
    .option('--insecure', 'allow listening beyond loopback without TLS and authentication (warned about on every start)')
    .option('--allow-path <dir...>', 'directories file connectors and ${file:} secrets of pipelines sent to the API may use (default: none)')
    .option('--allow-js <dir...>', 'directories js transforms of pipelines sent to the API may load modules from (default: none)')
    .option('--allow-host <host...>', 'hosts (host, host:port, *.domain) outbound connectors may reach (default: any)')
    .option('--allow-env <name...>', 'environment variables ${env:NAME} may read (* matches any characters; default: none)')
    .option('--cors-origin <origin...>', 'origins browsers may call the API from (default: none, CORS off)')
    .option('--http-body-limit <size>', 'largest request body (default 1MiB)')
    .option('--restore <file>', 'start a new one-node cluster from a backup (wire cluster backup), in an empty --data-dir')
    .option('--http-cert <file>', 'serve the HTTP API over TLS with this certificate (PEM; with --http-key)')
    .option('--http-key <file>', "the HTTP certificate's private key (PEM)")
    .option('--http-ca <file>', 'the CA client certificates are checked against (with --http-verify-client)')
    .option('--http-verify-client', 'require a client certificate from --http-ca on the HTTP API')
    .option('--node-cert <file>', "mutual TLS on the node port: this node's certificate (naming wire-node:ID; with --node-key, --node-ca)")
    .option('--node-key <file>', "the node certificate's private key (PEM)")
    .option('--node-ca <file>', "the cluster CA: every peer's certificate must come from it")
    .option('--tls-min-version <version>', 'the oldest TLS version accepted: 1.3 (default) or 1.2')
    .option('--join-token <token>', 'shown when joining (needed unless the node port has mutual TLS); every node registers it as a join token (prefer WIRE_JOIN_TOKEN: a flag shows in ps)')
    .option('--health-access <who>', 'who reaches /healthz, /readyz, /metrics without a token: loopback (default), open, token')
    .option('--jwt-jwks-url <url>', "accept JWTs beside Wire's tokens: the issuer's JWKS (https://, or http:// on loopback; with --jwt-issuer)")
    .option('--jwt-issuer <iss>', 'the iss every JWT must carry')
    .option('--jwt-audience <aud>', 'the aud every JWT must carry (default wire)')
    .option('--jwt-role-claim <claim>', 'the claim holding the role: admin, operator or viewer (default wire_role)')
    .option('--jwt-pipelines-claim <claim>', 'the claim holding pipeline-name patterns the JWT is limited to (default wire_pipelines)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .action(async (options: NodeFlagValues & SecurityFlagValues) => {
      const { nodeCommand } = await loadNodeCommand();
      exitCode = await nodeCommand(options, io);
    });

  registerCheckpointsCommand(program, io, (code) => (exitCode = code));
  registerClientCommands(program, io, (code) => (exitCode = code));
  registerCertsCommands(program, io, (code) => (exitCode = code));

  program
    .command('completion')
    .description('print a completion script for bash, zsh or fish (see docs/cli.md for how to install it)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action(async (shell: Shell) => {
      const { completionCommand } = await import('./commands/completion.js');
      exitCode = completionCommand(shell, program, io);
    });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (caught) {
    // Help and --version end with exit code 0 (`wire help run` included): commander has printed them.
    if (caught instanceof CommanderError && caught.exitCode === 0) return EXIT_OK;
    const commands = program.commands.map((command) => command.name());
    const error = caught instanceof CommanderError ? usageError(caught, argv.slice(2), commands) : caught;
    io.stderr(errorOutput(error, { json, debug }));
    return exitCodeOf(error);
  }
}
