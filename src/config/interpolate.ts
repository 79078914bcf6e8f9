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
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces `${VAR}` and `${VAR:-default}` (the default also when VAR is empty, as in the shell);
 * `$${` writes a literal `${`. A missing VAR without a default is a problem at its `${`.
 */
export function interpolate(text: string, env: Env): Interpolated {
  const problems: InterpolationProblem[] = [];
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
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
    const m = REFERENCE.exec(reference);
    if (m === null) {
      problems.push({ index: i, message: `'\${${reference}}' is not a variable reference (want \${NAME} or \${NAME:-default})` });
    } else {
      const name = m[1]!;
      const fallback = m[2];
      const value = env[name];
      if (value !== undefined && (value !== '' || fallback === undefined)) out += value;
      else if (fallback !== undefined) out += fallback;
      else problems.push({ index: i, message: `environment variable '${name}' is not set` });
    }
    i = close + 1;
  }
  return { text: out, problems };
}
