/**
 * Confinement of pipelines that arrive over the API: what a component's schema marks (`x-wire-confine`) must stay
 * inside what the node allows — files under `--allow-path` roots, `js` modules under `--allow-js` directories,
 * outbound hosts in `--allow-host` (when given) — and secret references may read only files under `--allow-path`
 * and variables named by `--allow-env`. Checked before a pipeline is replicated, and again by the node that runs
 * its task (`admitTask`), whose policy may be stricter.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { WireError } from '../core/errors.js';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentDefinition, ComponentRegistry, ConfigProblem } from '../core/ports.js';
import { componentsOf, secretReferences } from './secrets.js';
import { isObject } from '../config/forms.js';

/** Marks a string property of a component schema as something the node confines: a file, a module, a URL. */
export const CONFINE_KEYWORD = 'x-wire-confine';
export type ConfinedKind = 'path' | 'module' | 'url';

export interface ConfinementPolicy {
  /** Real paths of the directories file connectors and `${file:}` may use; none: no file through the API. */
  readonly paths: readonly string[];
  /** Real paths of the directories `js` modules may come from; none: no `js` transform through the API. */
  readonly jsDirs: readonly string[];
  /** Hosts outbound connections may go to (`host`, `host:port`, `*.domain`); undefined: any. */
  readonly hosts: readonly string[] | undefined;
  /** Names `${env:NAME}` may read (`*` a wildcard); none: no `${env:}` through the API. */
  readonly env: readonly string[];
}

/** The default: nothing on the node's disk or in its environment is reachable through the API. */
export const CLOSED_POLICY: ConfinementPolicy = { paths: [], jsDirs: [], hosts: undefined, env: [] };

export interface ConfinementFlags {
  readonly allowPath: readonly string[];
  readonly allowJs: readonly string[];
  readonly allowHost: readonly string[] | undefined;
  readonly allowEnv: readonly string[];
}

export type ConfinementRule = '--allow-path' | '--allow-js' | '--allow-host' | '--allow-env';

const RULE_OF: Readonly<Record<ConfinedKind, ConfinementRule>> = { path: '--allow-path', module: '--allow-js', url: '--allow-host' };

/** Why a value is refused, at its path inside the component's config. */
export interface Refusal extends ConfigProblem {
  readonly rule: ConfinementRule;
}

function realDirectory(flag: string, dir: string): string {
  let real: string;
  try {
    real = realpathSync(resolve(dir));
  } catch (error) {
    throw new WireError('INVALID_INPUT', `${flag}: '${dir}' is not a directory that exists`, { flag }, error);
  }
  return real;
}

/** The policy of a node's flags; every directory must exist (its real path is what paths are checked against). */
export function confinementPolicy(flags: ConfinementFlags): ConfinementPolicy {
  const hostPattern = /^(\*\.)?[A-Za-z0-9._-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
  for (const h of flags.allowHost ?? []) {
    if (!hostPattern.test(h)) throw new WireError('INVALID_INPUT', `--allow-host: '${h}' is not a host, host:port or *.domain`, { flag: '--allow-host' });
  }
  for (const e of flags.allowEnv) {
    if (!/^[A-Za-z_*][A-Za-z0-9_*]*$/.test(e)) throw new WireError('INVALID_INPUT', `--allow-env: '${e}' is not a variable name (a '*' matches any characters)`, { flag: '--allow-env' });
  }
  return {
    paths: flags.allowPath.map((d) => realDirectory('--allow-path', d)),
    jsDirs: flags.allowJs.map((d) => realDirectory('--allow-js', d)),
    hosts: flags.allowHost,
    env: flags.allowEnv,
  };
}

const inside = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real path of `path`, whose last parts may not exist yet (a sink's file): the existing part resolved, the rest appended. */
function realPathOf(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(existing.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    existing = parent;
  }
  return resolve(realpathSync(existing), ...rest);
}

/**
 * Refuses a file whose real path (symbolic links resolved) is outside every root. A path that cannot be resolved
 * is outside, with the same message: the answer tells nothing of what exists outside the roots.
 */
function pathRefusal(value: string, roots: readonly string[], rule: '--allow-path' | '--allow-js', what: string): string | undefined {
  if (roots.length === 0) return `${what} '${value}' is refused: this node allows none through the API (start it with ${rule} DIR)`;
  if (value.split(/[\\/]/).includes('..')) return `${what} '${value}' is refused: a path through the API may not contain '..'`;
  // A glob is confined by its fixed part: wildcards never match '..' nor leave the directory they start in.
  const segments = resolve(value).split(sep);
  const wild = segments.findIndex((s) => /[*?[{]/.test(s));
  const fixed = wild < 0 ? segments.join(sep) : segments.slice(0, wild).join(sep) || sep;
  const outside = `${what} '${value}' is outside every ${rule} root (${roots.join(', ')})`;
  let real: string | undefined;
  try {
    real = realPathOf(fixed);
  } catch {
    real = undefined;
  }
  if (real !== undefined && roots.some((r) => inside(real, r))) return undefined;
  return real !== undefined && roots.some((r) => inside(fixed, r)) ? `${outside}: a symbolic link leads out of it` : outside;
}

function hostAllowed(url: URL, hosts: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return hosts.some((pattern) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(pattern.toLowerCase())!;
    const name = m[1]!;
    if (m[2] !== undefined && m[2] !== port) return false;
    return name.startsWith('*.') ? host.endsWith(name.slice(1)) : host === name;
  });
}

function urlRefusal(value: string, hosts: readonly string[] | undefined): string | undefined {
  if (hosts === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `'${value}' is not a URL whose host can be checked against --allow-host`;
  }
  return hostAllowed(url, hosts) ? undefined : `host '${url.host}' is not in --allow-host (${hosts.join(', ')})`;
}

const envAllowed = (name: string, patterns: readonly string[]): boolean =>
  patterns.some((p) => new RegExp(`^${p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(name));

/** Every secret reference in the config's strings, each checked against the policy. */
function referenceRefusals(value: unknown, at: string, policy: ConfinementPolicy, out: Refusal[]): void {
  if (typeof value === 'string') {
    for (const ref of secretReferences(value)) {
      if (ref.kind === 'env' && !envAllowed(ref.name, policy.env)) {
        out.push({ path: at, rule: '--allow-env', message: `\${env:${ref.name}} is refused: --allow-env does not name it` });
      } else if (ref.kind === 'file') {
        const message = isAbsolute(ref.path) ? pathRefusal(ref.path, policy.paths, '--allow-path', 'secret file') : `secret file '${ref.path}' must be an absolute path`;
        if (message !== undefined) out.push({ path: at, rule: '--allow-path', message });
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => referenceRefusals(v, `${at}[${i}]`, policy, out));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) referenceRefusals(v, at === '' ? k : `${at}.${k}`, policy, out);
  }
}

/** What the policy refuses in one component's config (paths relative to the config). */
export function componentRefusals(definition: ComponentDefinition, config: Readonly<Record<string, unknown>>, policy: ConfinementPolicy): Refusal[] {
  const refusals: Refusal[] = [];
  const properties = isObject(definition.schema) ? definition.schema['properties'] : undefined;
  for (const [name, sub] of Object.entries(isObject(properties) ? properties : {})) {
    const kind = isObject(sub) ? (sub[CONFINE_KEYWORD] as ConfinedKind | undefined) : undefined;
    const value = config[name];
    if (kind === undefined || typeof value !== 'string') continue;
    const message = value.includes('${')
      ? `${name} cannot hold a secret reference: it is checked before the pipeline is stored`
      : kind === 'url'
        ? urlRefusal(value, policy.hosts)
        : kind === 'module'
          ? pathRefusal(value, policy.jsDirs, '--allow-js', 'js module')
          : pathRefusal(value, policy.paths, '--allow-path', 'file');
    if (message !== undefined) refusals.push({ path: name, rule: RULE_OF[kind], message });
  }
  referenceRefusals(config, '', policy, refusals);
  return refusals;
}

/** FORBIDDEN naming the first refused field and listing every refusal. */
export function confinementError(refusals: readonly (Refusal & { readonly field: string })[]): WireError {
  const first = refusals[0]!;
  return new WireError('FORBIDDEN', `${first.field}: ${first.message}`, {
    field: first.field,
    rule: first.rule,
    refusals: refusals.map(({ field, rule, message }) => ({ field, rule, message })),
  });
}

/**
 * Throws FORBIDDEN when the policy refuses anything in a stored pipeline. The node that runs a task calls this
 * (through `admitTask`) before the task opens anything.
 */
export function confinePipeline(spec: PipelineSpec, registry: ComponentRegistry, policy: ConfinementPolicy): void {
  const refusals = componentsOf(spec).flatMap(({ kind, at, component }) => {
    const definition = registry.get(kind, component.type);
    if (definition === undefined) throw new WireError('INVALID_INPUT', `${at}: unknown ${kind} type '${component.type}'`, { field: at });
    return componentRefusals(definition, component.config, policy).map((r) => ({ ...r, field: r.path === '' ? at : `${at}.${r.path}` }));
  });
  if (refusals.length > 0) throw confinementError(refusals);
}

/**
 * A registry whose components are confined before their own checks run (so a refused file is never touched by a
 * check); each refusal is reported as a problem at its place in the file and collected in `refusals`.
 */
export function confiningRegistry(registry: ComponentRegistry, policy: ConfinementPolicy, refusals: Refusal[]): ComponentRegistry {
  const confined = (definition: ComponentDefinition): ComponentDefinition => ({
    ...definition,
    check: (config) => {
      const found = componentRefusals(definition, config, policy);
      refusals.push(...found);
      return found.length > 0 ? found : (definition.check?.(config) ?? []);
    },
  });
  return {
    get: (kind, type) => {
      const definition = registry.get(kind, type);
      return definition === undefined ? undefined : confined(definition);
    },
    list: (kind) => registry.list(kind),
  };
}
