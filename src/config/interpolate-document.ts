import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { DocPath } from './problem.js';
import { interpolate, type Env, type InterpolateOptions } from './interpolate.js';
import type { Reporter } from './reporter.js';
import type { SecretFileReader } from './secret-file.js';

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * What an interpolated plain (unquoted) scalar means, as if its text had been written there:
 * `parallelism: ${LANES}` gives a number. Quoted scalars stay strings.
 */
function retype(text: string): unknown {
  if (NUMBER.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  return text;
}

/**
 * Replaces `${VAR}` and `${file:PATH}` references in every string value of the document, reporting each that
 * fails. A value read from a file stays a string (a PIN of digits is no number) and is told to the reporter,
 * which keeps it out of every message.
 */
export function interpolateDocument(doc: Document, env: Env, report: Reporter, readFile: SecretFileReader, options: InterpolateOptions = {}): void {
  walk(doc.contents, [], { env, report, readFile, options });
}

interface Context {
  readonly env: Env;
  readonly report: Reporter;
  readonly readFile: SecretFileReader;
  readonly options: InterpolateOptions;
}

function walk(node: unknown, path: DocPath, ctx: Context): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)], ctx);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item, [...path, i], ctx));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const { text, problems, secrets } = interpolate(node.value, ctx.env, ctx.readFile, ctx.options);
    for (const secret of secrets) ctx.report.secrets.add(secret);
    for (const p of problems) ctx.report.add(path, p.message, { inner: p.index });
    if (problems.length > 0) ctx.report.taint(path);
    if (text !== node.value) node.value = node.type === 'PLAIN' && secrets.length === 0 ? retype(text) : text;
  }
}
