import { isMap, isScalar, isSeq, type Document } from 'yaml';
import type { DocPath } from './problem.js';
import { interpolate, type Env } from './interpolate.js';
import type { Reporter } from './reporter.js';

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

/** Replaces `${VAR}` references in every string value of the document, reporting each missing one. */
export function interpolateDocument(doc: Document, env: Env, report: Reporter): void {
  walk(doc.contents, [], env, report);
}

function walk(node: unknown, path: DocPath, env: Env, report: Reporter): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)], env, report);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => walk(item, [...path, i], env, report));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    const { text, problems } = interpolate(node.value, env);
    for (const p of problems) report.add(path, p.message, { inner: p.index });
    if (problems.length > 0) report.taint(path);
    if (text !== node.value) node.value = node.type === 'PLAIN' ? retype(text) : text;
  }
}
