// The client commands' command line: `wire pipeline …` and `wire cluster …`. Only their definitions live here;
// each action loads its command file when run, so `wire run` never loads the client.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliIo } from './io.js';
import type { PipelineAction } from './commands/pipeline.js';
import type { ClusterAction } from './commands/cluster.js';
import { registerAuthCommands } from './auth-commands.js';

export interface ClientOptions {
  readonly server?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly json: boolean;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || !/^\d+$/.test(value)) throw new InvalidArgumentError('a version number (1, 2, …)');
  return n;
}

const client = (command: Command): Command =>
  command
    .option('--server <url>', 'the Wire API to talk to (default: $WIRE_SERVER, else http://127.0.0.1:4001)')
    .option('--ca <file>', "the CA that issued an https server's certificate (default: $WIRE_CA, else the system's)")
    .option('--cert <file>', 'a client certificate for a node with --http-verify-client (default: $WIRE_CERT; with --key)')
    .option('--key <file>', "the client certificate's key (default: $WIRE_KEY)")
    .option('--token <token>', 'the API token (default: $WIRE_TOKEN; prefer it or --token-file: a flag shows in ps)')
    .option('--token-file <file>', "a file holding the API token (default: $WIRE_TOKEN_FILE; on loopback, ./wire-data/admin.token)")
    .option('--json', 'print the answer as one JSON line (errors as a JSON line on stderr)', false);

export function registerClientCommands(program: Command, io: CliIo, done: (exitCode: number) => void): void {
  const runPipeline = async (what: PipelineAction, options: ClientOptions) => {
    const { pipelineCommand } = await import('./commands/pipeline.js');
    done(await pipelineCommand(what, options, io));
  };
  const pipeline = program.command('pipeline').description("manage a cluster's pipelines through a node's HTTP API");
  client(pipeline.command('create').description('create a pipeline from a file (version 1)'))
    .requiredOption('-f, --file <file>', 'pipeline file (YAML or JSON) describing one pipeline')
    .addOption(new Option('--start', 'start it at once (the default)').conflicts('stopped'))
    .option('--stopped', 'create it stopped instead of running', false)
    .action((o: ClientOptions & { file: string; stopped: boolean }) => runPipeline({ action: 'create', file: o.file, stopped: o.stopped }, o));
  client(pipeline.command('update').description('replace a pipeline (named by the file) with a new version'))
    .requiredOption('-f, --file <file>', 'pipeline file (YAML or JSON) describing one pipeline')
    .option('--if-version <n>', 'refuse (CONFLICT) unless the current version is n', positiveInteger)
    .option('--reset', "start the new version's tasks afresh (required when the source or a sink changes so that old checkpoints mean nothing)", false)
    .action((o: ClientOptions & { file: string; ifVersion?: number; reset: boolean }) => runPipeline({ action: 'update', file: o.file, ifVersion: o.ifVersion, reset: o.reset }, o));
  client(pipeline.command('list').description('every pipeline: name, version, desired state')).action((o: ClientOptions) => runPipeline({ action: 'list' }, o));
  for (const [action, description] of [
    ['get', "a pipeline's current version and spec"],
    ['status', "a pipeline's version and desired state"],
    ['versions', 'every version of a pipeline (the current one marked *)'],
    ['start', 'set the desired state to running'],
    ['stop', 'set the desired state to stopped'],
    ['pause', 'set the desired state to paused'],
    ['resume', 'set the desired state of a paused pipeline to running'],
  ] as const) {
    client(pipeline.command(action).description(description).argument('<name>', 'pipeline name')).action((name: string, o: ClientOptions) => runPipeline({ action, name }, o));
  }
  client(pipeline.command('delete').description('delete a pipeline and all its versions').argument('<name>', 'pipeline name'))
    .option('--if-version <n>', 'refuse (CONFLICT) unless the current version is n', positiveInteger)
    .action((name: string, o: ClientOptions & { ifVersion?: number }) => runPipeline({ action: 'delete', name, ifVersion: o.ifVersion }, o));
  client(pipeline.command('rollback').description("a new version with an earlier version's spec").argument('<name>', 'pipeline name'))
    .requiredOption('--to <n>', 'the version to go back to', positiveInteger)
    .option('--if-version <n>', 'refuse (CONFLICT) unless the current version is n', positiveInteger)
    .action((name: string, o: ClientOptions & { to: number; ifVersion?: number }) => runPipeline({ action: 'rollback', name, to: o.to, ifVersion: o.ifVersion }, o));

  const runCluster = async (what: ClusterAction, options: ClientOptions) => {
    const { clusterCommand } = await import('./commands/cluster.js');
    done(await clusterCommand(what, options, io));
  };
  const cluster = program.command('cluster').description("a cluster's members and leader, through a node's HTTP API");
  client(cluster.command('status').description("the node's view: cluster id, leader, term, members")).action((o: ClientOptions) => runCluster({ action: 'status' }, o));
  client(cluster.command('nodes').description('every member: role, reachable, addresses')).action((o: ClientOptions) => runCluster({ action: 'nodes' }, o));
  client(cluster.command('remove').description('remove a node (a dead one, or one leaving for good)').argument('<id>', 'node id')).action((id: string, o: ClientOptions) =>
    runCluster({ action: 'remove', id }, o),
  );
  client(cluster.command('backup').description('a hot backup of the cluster state into FILE (restore: wire node --restore FILE)'))
    .requiredOption('-o, --output <file>', 'the file to write (written whole, or not at all)')
    .option('--no-consistent', "back up what the node has applied, without asking the leader (for a cluster that lost its quorum)")
    .action((o: ClientOptions & { output: string; consistent: boolean }) => runCluster({ action: 'backup', file: o.output, consistent: o.consistent }, o));
  client(cluster.command('transfer-leader').description('hand leadership to ID, or to the most up-to-date voter').argument('[id]', 'node id')).action(
    (id: string | undefined, o: ClientOptions) => runCluster({ action: 'transfer-leader', id }, o),
  );
  registerAuthCommands(program, io, done, client);
}
