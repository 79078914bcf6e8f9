// `wire token …` and `wire audit`: only their definitions; the action loads commands/token.js when run.
import { InvalidArgumentError, type Command } from 'commander';
import type { ClientOptions } from './client-commands.js';
import type { TokenAction } from './commands/token.js';
import type { CliIo } from './io.js';

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number');
  return Number(value);
}

export function registerAuthCommands(program: Command, io: CliIo, done: (exitCode: number) => void, client: (command: Command) => Command): void {
  const run = async (what: TokenAction, options: ClientOptions) => {
    const { tokenCommand } = await import('./commands/token.js');
    done(await tokenCommand(what, options, io));
  };
  const token = program.command('token').description("a cluster's API tokens, through a node's HTTP API (admin token needed)");
  client(token.command('create').description('create a token and print it (shown only now)'))
    .requiredOption('--role <role>', 'admin, operator (pipelines), viewer (read only) or join (joins a node)')
    .option('--pipelines <patterns>', 'limit it to pipelines matching these comma-separated patterns (* matches anything)')
    .option('--ttl <duration>', 'how long it is valid: 90s, 30m, 24h, 7d (default: until revoked)')
    .option('--name <text>', 'what the token is for')
    .action((o: ClientOptions & { role: string; pipelines?: string; ttl?: string; name?: string }) =>
      run({ action: 'create', role: o.role, pipelines: o.pipelines, ttl: o.ttl, name: o.name }, o),
    );
  client(token.command('list').description('every token: id, role, pipelines, state, expiry (never a secret)')).action((o: ClientOptions) => run({ action: 'list' }, o));
  client(token.command('revoke').description('revoke a token: every node refuses it once applied').argument('<id>', 'token id (wire token list)')).action((id: string, o: ClientOptions) =>
    run({ action: 'revoke', id }, o),
  );
  client(program.command('audit').description('the audit log: who did what, when, from where, with what result'))
    .option('--limit <n>', 'entries to show (default 100, at most 1000)', count)
    .option('--after <seq>', 'the entries after this sequence number, oldest first (default: the newest)', count)
    .action((o: ClientOptions & { limit?: number; after?: number }) => run({ action: 'audit', limit: o.limit, after: o.after }, o));
}
