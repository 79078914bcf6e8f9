/**
 * `wire certs init | issue`: a development CA and the certificates a cluster needs (docs/security.md). Files go
 * to one directory: `ca.crt`/`ca.key`, `node-ID.crt`/`.key`, `client-NAME.crt`/`.key`. Keys are written 0600
 * and never over an existing file unless `--force`.
 */
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { WireError } from '../../core/errors.js';
import { createCa, issueLeaf, loadCa } from '../../security/certificates.js';
import { EXIT_OK, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';
import { NODE_ID_PATTERN } from './node-flags.js';

export interface CertsInitOptions {
  readonly dir: string;
  readonly days: string;
  readonly name: string;
  readonly force: boolean;
}

export interface CertsIssueOptions {
  readonly dir: string;
  readonly days: string;
  readonly node?: string;
  readonly client?: string;
  readonly dns: readonly string[];
  readonly ip: readonly string[];
  readonly force: boolean;
}

function days(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 36500) throw new WireError('INVALID_INPUT', `--days: '${text}' is not a whole number from 1 to 36500`, { flag: '--days' });
  return Number(text);
}

/** Repeatable and comma-separated: `--dns a,b --dns c`. */
function list(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/** Writes `text` to a new file with `mode`; an existing file is a CONFLICT unless `force`. */
async function writeNew(path: string, text: string, mode: number, force: boolean): Promise<void> {
  if (force) await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  let handle;
  try {
    // O_EXCL: the file is created here, so `mode` is the one it gets (an existing file would keep its own).
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WireError('CONFLICT', `${path} exists (give --force to replace it)`, { path });
    throw new WireError('UNAVAILABLE', `cannot write ${path}: ${(error as Error).message}`, { path }, error);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The umask may have narrowed `mode`; a certificate must stay readable, a key must not be more than 0600.
  await chmod(path, mode);
}

async function writePair(dir: string, base: string, pair: { certPem: string; keyPem: string }, force: boolean): Promise<string[]> {
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  await writeNew(key, pair.keyPem, 0o600, force);
  await writeNew(cert, pair.certPem, 0o644, force);
  return [cert, key];
}

async function init(options: CertsInitOptions): Promise<string[]> {
  const validFor = days(options.days);
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  return writePair(options.dir, 'ca', await createCa(options.name, validFor), options.force);
}

async function issue(options: CertsIssueOptions): Promise<string[]> {
  if ((options.node === undefined) === (options.client === undefined)) throw new WireError('INVALID_INPUT', 'give one of --node ID or --client NAME', { flag: '--node' });
  const kind = options.node !== undefined ? 'node' : 'client';
  const name = (options.node ?? options.client) as string;
  if (!NODE_ID_PATTERN.test(name)) throw new WireError('INVALID_INPUT', `--${kind}: '${name}' must be 1-253 letters, digits, '.', '_' or '-', starting with a letter or digit`, { flag: `--${kind}` });
  const validFor = days(options.days);
  const dns = list(options.dns);
  const ips = list(options.ip);
  // A node certificate serves the HTTP API too: without names given it is good for this machine's loopback.
  const local = kind === 'node' && dns.length === 0 && ips.length === 0;
  let caCert: string;
  let caKey: string;
  try {
    [caCert, caKey] = await Promise.all([readFile(join(options.dir, 'ca.crt'), 'utf8'), readFile(join(options.dir, 'ca.key'), 'utf8')]);
  } catch (error) {
    throw new WireError('NOT_FOUND', `no CA in ${options.dir}: ${(error as Error).message} (run \`wire certs init --dir ${options.dir}\` first)`, { dir: options.dir }, error);
  }
  const ca = await loadCa(caCert, caKey);
  const pair = await issueLeaf(ca, { kind, name, dns: local ? ['localhost'] : dns, ips: local ? ['127.0.0.1', '::1'] : ips, days: validFor });
  return writePair(options.dir, `${kind}-${name}`, pair, options.force);
}

export async function certsCommand(what: { action: 'init'; options: CertsInitOptions } | { action: 'issue'; options: CertsIssueOptions }, io: CliIo): Promise<number> {
  try {
    const written = what.action === 'init' ? await init(what.options) : await issue(what.options);
    for (const path of written) io.stdout(`wrote ${path}\n`);
    return EXIT_OK;
  } catch (error) {
    io.stderr(formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
}
