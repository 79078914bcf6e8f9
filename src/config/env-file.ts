import { readFile } from 'node:fs/promises';
import { WireError, errorMessage } from '../core/errors.js';
import type { Env } from './interpolate.js';

/** One line of an env file that is not `KEY=VALUE`; never quotes the line (it may hold a secret). */
export interface EnvFileProblem {
  /** 1-based. */
  readonly line: number;
  readonly message: string;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '\\': '\\', '"': '"', $: '$' };

/** The value after `=`: quoted ('…' literal, "…" with escapes) or bare (trimmed, ` # comment` dropped). */
function value(raw: string): string | { problem: string } {
  const quote = raw[0];
  if (quote === "'" || quote === '"') {
    let out = '';
    let i = 1;
    for (; i < raw.length && raw[i] !== quote; i++) {
      if (quote === '"' && raw[i] === '\\' && i + 1 < raw.length) {
        const e = raw[++i]!;
        out += ESCAPES[e] ?? `\\${e}`;
      } else {
        out += raw[i];
      }
    }
    if (i >= raw.length) return { problem: `the value's ${quote} is not closed on its line` };
    const rest = raw.slice(i + 1).trim();
    if (rest !== '' && !rest.startsWith('#')) return { problem: `unexpected text after the quoted value` };
    return out;
  }
  const comment = raw.search(/\s#/);
  return (comment < 0 ? raw : raw.slice(0, comment)).trim();
}

/**
 * Reads dotenv text: `KEY=VALUE` lines, `export KEY=VALUE`, blank lines and `#` comments; values bare,
 * 'single-quoted' (as written) or "double-quoted" (\n \t \r \\ \" \$ escapes). No `${…}` expansion: a value is
 * what the file says. A later line for the same key wins.
 */
export function parseEnvFile(text: string): { values: Record<string, string>; problems: EnvFileProblem[] } {
  const values: Record<string, string> = {};
  const problems: EnvFileProblem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const m = ASSIGNMENT.exec(line);
    if (m === null) {
      problems.push({ line: i + 1, message: 'expected KEY=VALUE (KEY: letters, digits and _, not starting with a digit)' });
      return;
    }
    const v = value(m[2]!);
    if (typeof v === 'string') values[m[1]!] = v;
    else problems.push({ line: i + 1, message: `${m[1]!}: ${v.problem}` });
  });
  return { values, problems };
}

/**
 * The environment a pipeline file is interpolated from, given `--env-file PATH`: the file's variables under the
 * process's own, which win (as with Node's --env-file, docker compose and dotenv), so a deployment can override
 * a checked-in file. INVALID_INPUT naming each bad line; NOT_FOUND when there is no such file.
 */
export async function withEnvFile(env: Env, path: string | undefined): Promise<Env> {
  if (path === undefined) return env;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WireError('NOT_FOUND', `env file not found: ${path}`, { path }, err);
    throw new WireError('INVALID_INPUT', `cannot read env file ${path}: ${errorMessage(err)}`, { path }, err);
  }
  const { values, problems } = parseEnvFile(text);
  if (problems.length > 0) {
    const list = problems.map((p) => `${path}:${p.line}: ${p.message}`).join('; ');
    throw new WireError('INVALID_INPUT', `env file ${path}: ${list}`, { path, problems: problems.map((p) => `${path}:${p.line}: ${p.message}`) });
  }
  const merged: Record<string, string | undefined> = { ...values };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}
