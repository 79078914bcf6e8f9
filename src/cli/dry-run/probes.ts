import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WireError, errorMessage } from '../../core/errors.js';
import type { ComponentSpec } from '../../core/pipeline.js';
import type { ComponentKind } from '../../core/ports.js';
import { expandGlob, isGlob } from '../../connectors/file/glob.js';
import { parseAddress } from '../../connectors/http/address.js';
import { modulePath } from '../../transforms/run/js.js';
import { importModule } from '../import-module.js';

/** What a probe found when all is well: a line for the report. Problems are thrown as WireErrors. */
export type Probe = (config: Readonly<Record<string, unknown>>) => Promise<string>;

/** How long a sink's host may take to accept a connection. */
const CONNECT_TIMEOUT_MS = 5_000;

function configString(config: Readonly<Record<string, unknown>>, field: string): string {
  const value = config[field];
  if (typeof value !== 'string') throw new WireError('INTERNAL', `a validated config has no string ${field}`);
  return value;
}

/** A file source's input: the file is there and readable, or the glob matches at least one (follow may wait for one). */
async function fileInput(config: Readonly<Record<string, unknown>>): Promise<string> {
  const path = configString(config, 'path');
  if (isGlob(path)) {
    const files = await expandGlob(path);
    if (files.length > 0) return `${files.length} file${files.length === 1 ? '' : 's'} match ${path}`;
    if (config['follow'] === true) return `no file matches ${path} yet (follow waits for one)`;
    throw new WireError('NOT_FOUND', `no file matches ${path}`, { path });
  }
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new WireError('INVALID_INPUT', `${path} is not a file`, { path });
    size = info.size;
    await access(path, constants.R_OK);
  } catch (err) {
    if (err instanceof WireError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      if (config['follow'] === true) return `${path} does not exist yet (follow waits for it)`;
      throw new WireError('NOT_FOUND', `${path} does not exist`, { path }, err);
    }
    throw new WireError(code === 'EACCES' ? 'FORBIDDEN' : 'UNAVAILABLE', `cannot read ${path}: ${errorMessage(err)}`, { path }, err);
  }
  return `${path} is there (${size} bytes)`;
}

/** The directory a file will be created in: the nearest that exists must be a directory this process may write. */
export async function writableDirectory(dir: string): Promise<string> {
  let at = resolve(dir);
  for (;;) {
    try {
      if (!(await stat(at)).isDirectory()) throw new WireError('INVALID_INPUT', `${at} is not a directory`, { path: at });
      break;
    } catch (err) {
      if (err instanceof WireError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      // Not there (ENOENT), or under a file (ENOTDIR): the nearest existing ancestor decides.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(at) === at) {
        throw new WireError('UNAVAILABLE', `cannot look at ${at}: ${errorMessage(err)}`, { path: at }, err);
      }
      at = dirname(at);
    }
  }
  try {
    await access(at, constants.W_OK);
  } catch (err) {
    throw new WireError('FORBIDDEN', `cannot write in ${at}: ${errorMessage(err)}`, { path: at }, err);
  }
  return at === resolve(dir) ? `${dir} is writable` : `${dir} will be created in ${at}, which is writable`;
}

/** A file sink's output: an existing file must be writable, else its directory (or the one it will be made in). */
async function fileOutput(config: Readonly<Record<string, unknown>>): Promise<string> {
  const path = configString(config, 'path');
  try {
    await access(path, constants.W_OK);
    return `${path} is writable`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw new WireError('FORBIDDEN', `cannot write ${path}: ${errorMessage(err)}`, { path }, err);
    }
  }
  return writableDirectory(dirname(path));
}

/** An http source's address: free to listen on (the port is taken and given back at once). */
async function listenAddress(config: Readonly<Record<string, unknown>>): Promise<string> {
  const address = configString(config, 'address');
  const { host, port } = parseAddress(address);
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err) => reject(new WireError('UNAVAILABLE', `cannot listen on ${address}: ${err.message}`, { address }, err)));
    server.listen(port, host, () => resolveListen());
  });
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));
  return `${address} is free to listen on`;
}

/** An http sink's target: its host accepts a TCP connection (no request is sent). */
async function reachableUrl(config: Readonly<Record<string, unknown>>): Promise<string> {
  const url = new URL(configString(config, 'url'));
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolveConnect, reject) => {
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolveConnect();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new WireError('TIMEOUT', `${host}:${port} did not accept a connection within ${CONNECT_TIMEOUT_MS} ms`, { url: url.href }));
    });
    socket.once('error', (err) => reject(new WireError('UNAVAILABLE', `cannot connect to ${host}:${port}: ${err.message}`, { url: url.href }, err)));
  });
  return `${host}:${port} accepts connections`;
}

/** A js transform's module loads and exports the function (the module's top-level code runs, as it will in the run). */
async function jsFunction(config: Readonly<Record<string, unknown>>): Promise<string> {
  const path = modulePath({ module: configString(config, 'module') });
  const name = typeof config['function'] === 'string' ? config['function'] : 'default';
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(pathToFileURL(path).href);
  } catch (err) {
    throw new WireError('INVALID_INPUT', `cannot load ${path}: ${errorMessage(err)}`, { module: path }, err);
  }
  if (typeof mod[name] !== 'function') {
    const functions = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const which = name === 'default' ? 'no default export function' : `no exported function '${name}'`;
    throw new WireError('INVALID_INPUT', `${path} has ${which} (it exports ${functions.length === 0 ? 'no function' : functions.join(', ')})`, { module: path });
  }
  return `${path} exports ${name === 'default' ? 'a default function' : `function ${name}`}`;
}

const PROBES: ReadonlyMap<string, Probe> = new Map([
  ['source:file', fileInput],
  ['source:http', listenAddress],
  ['transform:js', jsFunction],
  ['sink:file', fileOutput],
  ['sink:http', reachableUrl],
]);

/** The dry run's check of a component, or undefined for one that has nothing outside the process to check. */
export function probeOf(kind: ComponentKind, component: ComponentSpec): Probe | undefined {
  return PROBES.get(`${kind}:${component.type}`);
}
