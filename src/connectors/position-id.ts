import { createHash } from 'node:crypto';
import type { ConfigProblem } from '../core/ports.js';
import type { WireRecord } from '../core/record.js';
import { checkKeyTemplate } from './key-template.js';

/** An id longer than this is hashed: Elasticsearch cuts ids at 512 bytes, and long ids cost every index. */
const MAX_READABLE_ID = 200;

/**
 * Document ids made from where records came from, for sinks that overwrite by id (elasticsearch, mongodb): a
 * record gets the same id each time it is written, so the replay after a crash overwrites what it wrote before.
 * The id is `pipeline:position:ordinal`: records that share a position (one http request) are told apart by their
 * order in it, which a replay repeats, since it starts after a checkpointed position. Records must arrive in
 * position order (one lane) when positions are shared.
 */
export class PositionIds {
  private lastPosition = '';
  private ordinal = 0;

  constructor(private readonly pipeline: string) {}

  /** The record's id, or undefined for a record without a position (it cannot be named again after a crash). */
  next(record: WireRecord): string | undefined {
    if (record.position === undefined) return undefined;
    const position = JSON.stringify(record.position);
    if (position === this.lastPosition) this.ordinal++;
    else {
      this.lastPosition = position;
      this.ordinal = 1;
    }
    const id = `${this.pipeline}:${position}:${this.ordinal}`;
    return id.length <= MAX_READABLE_ID ? id : createHash('sha256').update(id).digest('base64url');
  }
}

/** The problems of a sink's `id` option: `position`, `auto`, or a template that names something of the record. */
export function checkIdOption(id: unknown): ConfigProblem[] {
  if (typeof id !== 'string' || id === 'position' || id === 'auto') return [];
  const problems = checkKeyTemplate(id, 'id');
  if (!id.includes('{')) problems.push({ path: 'id', message: 'a fixed id would write every record over one document: use position, auto, or a template with {key} or {value.field}' });
  return problems;
}
