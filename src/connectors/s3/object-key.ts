import { WireError } from '../../core/errors.js';
import type { ConfigProblem } from '../../core/ports.js';

/**
 * An object key template: `{seq}` (required: the object's number, zero-padded to 10 digits), `{partition}`, and
 * the UTC time `{yyyy}` `{MM}` `{dd}` `{HH}` `{mm}`. Everything else is literal (`orders/{yyyy}/{MM}/{dd}/{partition}-{seq}.jsonl`).
 */
export interface ObjectKeyParts {
  readonly seq: number;
  readonly partition: string;
  readonly time: number;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const NAMES = ['seq', 'partition', 'yyyy', 'MM', 'dd', 'HH', 'mm'];

export function checkObjectKey(template: string, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let seq = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match[1] === 'seq') seq++;
    else if (!NAMES.includes(match[1]!)) problems.push({ path, message: `unknown placeholder {${match[1]}}: use ${NAMES.map((n) => `{${n}}`).join(', ')}`, column: match.index });
  }
  if (seq !== 1) problems.push({ path, message: 'must hold {seq} once: it makes each object name unique and the same on a replay' });
  return problems;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** The key of an object. */
export function objectKey(template: string, parts: ObjectKeyParts): string {
  const at = new Date(parts.time);
  return template.replace(PLACEHOLDER, (_, name: string) => {
    switch (name) {
      case 'seq':
        return pad(parts.seq, 10);
      case 'partition':
        return parts.partition;
      case 'yyyy':
        return pad(at.getUTCFullYear(), 4);
      case 'MM':
        return pad(at.getUTCMonth() + 1, 2);
      case 'dd':
        return pad(at.getUTCDate(), 2);
      case 'HH':
        return pad(at.getUTCHours(), 2);
      case 'mm':
        return pad(at.getUTCMinutes(), 2);
      default:
        throw new WireError('INTERNAL', `object key placeholder {${name}} passed the check`);
    }
  });
}

/** The literal start of every key the template makes: what to list to find them. */
export function keyPrefix(template: string): string {
  const first = template.indexOf('{');
  return first < 0 ? template : template.slice(0, first);
}

/** Reads a key the template made back into its seq and partition, or undefined when it is not one of them. */
export function parseObjectKey(template: string, key: string): { seq: number; partition: string } | undefined {
  let pattern = '^';
  let last = 0;
  const groups: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    pattern += escape(template.slice(last, match.index));
    const name = match[1]!;
    pattern += name === 'seq' ? '(\\d{10,})' : name === 'partition' ? '(.*?)' : name === 'yyyy' ? '\\d{4}' : '\\d{2}';
    if (name === 'seq' || name === 'partition') groups.push(name);
    last = match.index + match[0].length;
  }
  pattern += escape(template.slice(last)) + '$';
  const found = new RegExp(pattern).exec(key);
  if (found === null) return undefined;
  let seq = -1;
  let partition = '';
  groups.forEach((name, i) => {
    if (name === 'seq') seq = Number(found[i + 1]);
    else partition = found[i + 1]!;
  });
  return { seq, partition };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
