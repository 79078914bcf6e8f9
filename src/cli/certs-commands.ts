// `wire certs init | issue`'s command line; the command file (and the X.509 library) loads only when it runs.
import type { Command } from 'commander';
import type { CliIo } from './io.js';
import type { CertsInitOptions, CertsIssueOptions } from './commands/certs.js';

const DIR_HELP = 'the directory of the CA and the certificates (default ./wire-certs)';
const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCertsCommands(program: Command, io: CliIo, done: (exitCode: number) => void): void {
  const certs = program.command('certs').description('make a development CA and node or client certificates for TLS (docs/security.md)');
  certs
    .command('init')
    .description('create a CA (ca.crt, and ca.key written 0600) to sign the cluster\'s certificates')
    .option('--dir <dir>', DIR_HELP, './wire-certs')
    .option('--name <cn>', 'the CA\'s common name', 'Wire development CA')
    .option('--days <n>', 'days the CA is valid', '1825')
    .option('--force', 'replace existing files', false)
    .action(async (options: CertsInitOptions) => {
      const { certsCommand } = await import('./commands/certs.js');
      done(await certsCommand({ action: 'init', options }, io));
    });
  certs
    .command('issue')
    .description('issue a node certificate (node-ID.crt/.key: wire-node:ID, server and client use) or a client certificate (client-NAME.crt/.key)')
    .option('--node <id>', 'a certificate for node ID (named wire-node:ID; the node port checks it)')
    .option('--client <name>', 'a client certificate for NAME (the CLI\'s --cert with --http-verify-client)')
    .option('--dns <name>', 'a DNS name the HTTP API is reached by (repeatable or comma-separated; a node certificate without --dns/--ip gets localhost, 127.0.0.1, ::1)', collect, [])
    .option('--ip <address>', 'an IP address the HTTP API is reached by (repeatable or comma-separated)', collect, [])
    .option('--dir <dir>', DIR_HELP, './wire-certs')
    .option('--days <n>', 'days the certificate is valid', '365')
    .option('--force', 'replace existing files', false)
    .action(async (options: CertsIssueOptions) => {
      const { certsCommand } = await import('./commands/certs.js');
      done(await certsCommand({ action: 'issue', options }, io));
    });
}
