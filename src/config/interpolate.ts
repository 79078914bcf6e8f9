import type { SecretFileReader } from './secret-file.js';

/** The environment variables a file is interpolated from. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface InterpolationProblem {
  /** Offset in the original string of the `${` at fault. */
  readonly index: number;
  readonly message: string;
}

export interface Interpolated {
  readonly text: string;
  readonly problems: InterpolationProblem[];
  /** The values read from files (`${file:PATH}`): secrets, never to be shown. */
  readonly secrets: string[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

// `${env:NAME}`: a secret from the environment (what `${NAME}` reads, said so).
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

export interface InterpolateOptions {
  /**
   * Keep `${env:NAME}`, `${file:PATH}` and `$${` as written, to be resolved later on the node that runs the
   * pipeline (a pipeline sent to the API: the receiving node's secrets must not enter the replicated state).
   */
  readonly keepSecretReferences?: boolean;
}

// `${file:PATH}`; `${file:-default}` stays the variable `file` with a default.
const FILE_REFERENCE = /^file:(?!-)([\s\S]*)$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` (the default also when VAR is empty, as in the shell), `${env:VAR}`
 * (a secret: no default), and `${file:PATH}` by the content of the file PATH (read by `readFile`); `$${` writes a literal `${`. A missing
 * VAR without a default, or a file that cannot be read, is a problem at its `${`.
 */
export function interpolate(text: string, env: Env, readFile?: SecretFileReader, options: InterpolateOptions = {}): Interpolated {
  const keep = options.keepSecretReferences === true;
  const problems: InterpolationProblem[] = [];
  const secrets: string[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += keep ? '$${' : '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i++;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) {
      problems.push({ index: i, message: "'${' is not closed by '}' (write '$${' for a literal '${')" });
      out += text.slice(i);
      break;
    }
    const reference = text.slice(i + 2, close);
    const file = FILE_REFERENCE.exec(reference);
    const envSecret = ENV_REFERENCE.exec(reference);
    const m = REFERENCE.exec(reference);
    if (keep && (envSecret !== null || (file !== null && file[1] !== ''))) {
      out += text.slice(i, close + 1);
    } else if (envSecret !== null) {
      const value = env[envSecret[1]!];
      if (value === undefined) problems.push({ index: i, message: `environment variable '${envSecret[1]}' is not set` });
      else {
        out += value;
        secrets.push(value);
      }
    } else if (file !== null) {
      const read = file[1] === '' ? { problem: "'${file:}' names no file (want ${file:PATH})" } : readFile?.(file[1]!);
      if (read === undefined) problems.push({ index: i, message: '${file:…} is not available here' });
      else if ('problem' in read) problems.push({ index: i, message: read.problem });
      else {
        out += read.value;
        secrets.push(read.value);
      }
    } else if (m === null) {
      problems.push({ index: i, message: `'\${${reference}}' is not a variable reference (want \${NAME}, \${NAME:-default}, \${env:NAME} or \${file:PATH})` });
    } else {
      const name = m[1]!;
      const fallback = m[2];
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) out += value;
      else if (fallback !== undefined) out += fallback;
      else if (keep) problems.push({ index: i, message: `'\${${name}}' cannot be resolved here: write '\${env:${name}}', resolved on the node that runs the pipeline` });
      else problems.push({ index: i, message: `environment variable '${name}' is not set` });
    }
    i = close + 1;
  }
  return { text: out, problems, secrets };
}
