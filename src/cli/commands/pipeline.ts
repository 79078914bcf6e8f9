// `wire pipeline …`: manage a cluster's pipelines through a node's HTTP API (docs/api.md).
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { WireError, errorMessage } from '../../core/errors.js';
import { callApi, type ApiServer } from '../api-client.js';
import { apiServer } from '../api-token.js';
import type { ClientOptions } from '../client-commands.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';
import { formatTable, formatTime } from '../table.js';

interface Pipeline {
  readonly name: string;
  readonly version: number;
  readonly desired: string;
  readonly spec: Record<string, unknown>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Version {
  readonly version: number;
  readonly origin: string;
  readonly from?: number;
  readonly createdAt: number;
}

export type PipelineAction =
  | { readonly action: 'create' | 'update'; readonly file: string; readonly stopped?: boolean; readonly ifVersion?: number; readonly reset?: boolean }
  | { readonly action: 'list' }
  | { readonly action: 'get' | 'status' | 'versions' | 'start' | 'stop' | 'pause' | 'resume'; readonly name: string }
  | { readonly action: 'delete'; readonly name: string; readonly ifVersion?: number }
  | { readonly action: 'rollback'; readonly name: string; readonly to: number; readonly ifVersion?: number };

const enc = encodeURIComponent;

async function readPipelineFile(file: string): Promise<{ body: string; contentType: string }> {
  try {
    const body = await readFile(file, 'utf8');
    return { body, contentType: extname(file).toLowerCase() === '.json' ? 'application/json' : 'application/yaml' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WireError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_INPUT', `cannot read pipeline file ${file}: ${errorMessage(error)}`, { path: file }, error);
  }
}

/** The pipeline an update names: the file's top-level `name`. */
function nameOf(file: string, text: string): string {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new WireError('INVALID_INPUT', `${file}: not YAML or JSON: ${errorMessage(error)}`, { path: file }, error);
  }
  const name = (data as { name?: unknown } | null)?.name;
  if (typeof name !== 'string') throw new WireError('INVALID_INPUT', `${file}: no top-level name: the pipeline to update is named by it`, { path: file, field: 'name' });
  return name;
}

const withIfVersion = (path: string, ifVersion: number | undefined): string => (ifVersion === undefined ? path : `${path}?ifVersion=${ifVersion}`);

async function request(what: PipelineAction, server: ApiServer): Promise<unknown> {
  switch (what.action) {
    case 'create': {
      const text = await readPipelineFile(what.file);
      return callApi(server, { method: 'POST', path: `/v1/pipelines${what.stopped === true ? '?desired=stopped' : ''}`, text });
    }
    case 'update': {
      const text = await readPipelineFile(what.file);
      const path = withIfVersion(`/v1/pipelines/${enc(nameOf(what.file, text.body))}`, what.ifVersion);
      return callApi(server, { method: 'PUT', path: what.reset === true ? `${path}${path.includes('?') ? '&' : '?'}reset=true` : path, text });
    }
    case 'list':
      return callApi(server, { method: 'GET', path: '/v1/pipelines' });
    case 'get':
      return callApi(server, { method: 'GET', path: `/v1/pipelines/${enc(what.name)}` });
    case 'status':
    case 'versions':
      return callApi(server, { method: 'GET', path: `/v1/pipelines/${enc(what.name)}/${what.action}` });
    case 'delete':
      return callApi(server, { method: 'DELETE', path: withIfVersion(`/v1/pipelines/${enc(what.name)}`, what.ifVersion) });
    case 'rollback':
      return callApi(server, { method: 'POST', path: `/v1/pipelines/${enc(what.name)}/rollback`, json: { to: what.to, ...(what.ifVersion === undefined ? {} : { ifVersion: what.ifVersion }) } });
    default:
      return callApi(server, { method: 'POST', path: `/v1/pipelines/${enc(what.name)}/${what.action}` });
  }
}

interface PipelineStatus extends Pick<Pipeline, 'name' | 'version' | 'desired' | 'updatedAt'> {
  readonly state?: string;
  readonly error?: string | null;
  readonly tasks?: ReadonlyArray<{
    task: string;
    node: string | null;
    epoch: number;
    state: string;
    recordsIn: number;
    recordsOut: number;
    rate: number;
    lag: number | null;
    checkpoint: { seq: number; at: number } | null;
    lastError: string | null;
  }>;
}

function statusText(s: PipelineStatus): string {
  const head = `${s.name}: version ${s.version}, desired ${s.desired}${s.state ? `, ${s.state}` : ''}, updated ${formatTime(s.updatedAt)}\n${s.error ? `error: ${s.error}\n` : ''}`;
  if (!s.tasks || s.tasks.length === 0) return head;
  const rows = s.tasks.map((t) => [
    t.task,
    t.node ?? '-',
    String(t.epoch),
    t.state,
    String(t.recordsIn),
    String(t.recordsOut),
    t.rate.toFixed(1),
    t.lag === null ? '-' : String(t.lag),
    t.checkpoint === null ? '-' : formatTime(t.checkpoint.at),
    t.lastError ?? '',
  ]);
  return head + formatTable(['TASK', 'NODE', 'EPOCH', 'STATE', 'IN', 'OUT', 'RATE/S', 'LAG', 'CHECKPOINT', 'LAST ERROR'], rows);
}

function human(what: PipelineAction, answer: unknown): string {
  switch (what.action) {
    case 'list': {
      const { pipelines } = answer as { pipelines: Pipeline[] };
      if (pipelines.length === 0) return 'no pipelines\n';
      return formatTable(['NAME', 'VERSION', 'DESIRED', 'UPDATED'], pipelines.map((p) => [p.name, String(p.version), p.desired, formatTime(p.updatedAt)]));
    }
    case 'get': {
      const { pipeline: p } = answer as { pipeline: Pipeline };
      return `# ${p.name}: version ${p.version}, ${p.desired}, updated ${formatTime(p.updatedAt)}\n${JSON.stringify(p.spec, null, 2)}\n`;
    }
    case 'status': {
      return statusText(answer as PipelineStatus);
    }
    case 'versions': {
      const { current, versions } = answer as { current: number; versions: Version[] };
      const rows = versions.map((v) => [`${v.version}${v.version === current ? '*' : ''}`, v.origin, v.from === undefined ? '' : String(v.from), formatTime(v.createdAt)]);
      return formatTable(['VERSION', 'ORIGIN', 'FROM', 'CREATED'], rows);
    }
    case 'delete': {
      const d = answer as { deleted: string; version: number };
      return `deleted ${d.deleted} (it was at version ${d.version})\n`;
    }
    default: {
      const { pipeline: p } = answer as { pipeline: Pipeline };
      const verb = { create: 'created', update: 'updated', rollback: 'rolled back', start: 'started', stop: 'stopped', pause: 'paused', resume: 'resumed' }[what.action];
      return `${verb} ${p.name}: version ${p.version}, desired ${p.desired}\n`;
    }
  }
}

/** A pipeline file's problems, sent back with their line and column, printed as `wire validate` prints them. */
function printProblems(what: PipelineAction, error: unknown, io: CliIo): void {
  if (!(error instanceof WireError) || (what.action !== 'create' && what.action !== 'update')) return;
  const problems = error.details['problems'];
  if (!Array.isArray(problems)) return;
  for (const p of problems as { line: number; column: number; path: string; message: string }[]) {
    io.stderr(`${what.file}:${p.line}:${p.column} ${p.path === '' ? '' : `${p.path}: `}${p.message}\n`);
  }
}

export async function pipelineCommand(what: PipelineAction, options: ClientOptions, io: CliIo): Promise<number> {
  try {
    const answer = await request(what, await apiServer(options, io.env));
    io.stdout(options.json ? JSON.stringify(answer) + '\n' : human(what, answer));
    return EXIT_OK;
  } catch (error) {
    if (options.json) io.stderr(JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n');
    else {
      printProblems(what, error, io);
      io.stderr(formatError(error instanceof WireError ? withoutProblems(error) : error, { debug: false }));
    }
    return exitCodeOf(error);
  }
}

/** The problems were printed one per line already: the error's detail lines need not repeat them. */
function withoutProblems(error: WireError): WireError {
  if (!('problems' in error.details)) return error;
  const { problems: _printed, ...details } = error.details;
  return new WireError(error.code, error.message, details);
}
