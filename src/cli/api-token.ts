// Which token a client command presents: --token, else $WIRE_TOKEN, else the file of --token-file or
// $WIRE_TOKEN_FILE; else, for a server on loopback only, the admin token a node's first start wrote in the
// default data dir ($WIRE_DATA_DIR, else ./wire-data), so `wire node` then `wire pipeline …` works on a laptop.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WireError, errorMessage } from '../core/errors.js';
import { isLoopback } from '../security/exposure.js';
import { apiServer as server, type ApiServer } from './api-client.js';
import type { ClientTlsFlags } from './api-tls.js';

export interface TokenOptions extends ClientTlsFlags {
  readonly server?: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

const DEFAULT_DATA_DIR = './wire-data';

async function readToken(file: string, required: boolean): Promise<string | undefined> {
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token === '') throw new WireError('INVALID_INPUT', `the token file ${file} is empty`, { path: file });
    return token;
  } catch (error) {
    if (error instanceof WireError) throw error;
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WireError('INVALID_INPUT', `cannot read the token file ${file}: ${errorMessage(error)}`, { path: file }, error);
  }
}

/** The server and TLS files (`api-client.ts`), and the token to present. */
export async function apiServer(options: TokenOptions, env: Readonly<Record<string, string | undefined>>): Promise<ApiServer> {
  const target = server(options, env);
  const given = options.token ?? (env['WIRE_TOKEN'] || undefined);
  if (given !== undefined) return { ...target, token: given };
  const file = options.tokenFile ?? (env['WIRE_TOKEN_FILE'] || undefined);
  if (file !== undefined) return { ...target, token: await readToken(file, true) };
  if (!isLoopback(target.url.hostname)) return target;
  const token = await readToken(path.join(env['WIRE_DATA_DIR'] || DEFAULT_DATA_DIR, 'admin.token'), false);
  return token === undefined ? target : { ...target, token };
}
