import type { DocPath } from './problem.js';
import type { Reporter } from './reporter.js';
import { KeyedShape, ManyPipelinesShape, PipelineShape } from './file-schema.js';
import type { JsonSchema } from '../core/ports.js';

/** A component as written, with where it was written. */
export interface RawComponent {
  readonly at: DocPath;
  readonly value: unknown;
}

/** One pipeline as written, whichever form the file took. */
export interface RawPipeline {
  readonly name: unknown;
  readonly nameAt: DocPath;
  readonly source: RawComponent;
  readonly sink: RawComponent;
  readonly transforms: RawComponent[];
  /** The object holding parallelism, retry, dead_letter…, and its place. */
  readonly settings: Record<string, unknown>;
  readonly settingsAt: DocPath;
}

export type Form = 'single' | 'many' | 'keyed';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function formOf(data: Record<string, unknown>): Form {
  if ('pipelines' in data) return 'many';
  if ('sources' in data || 'sinks' in data) return 'keyed';
  return 'single';
}

export function shapeOf(form: Form): JsonSchema {
  return form === 'many' ? ManyPipelinesShape : form === 'keyed' ? KeyedShape : PipelineShape;
}

function fromObject(value: Record<string, unknown>, at: DocPath): RawPipeline {
  return {
    name: value['name'],
    nameAt: [...at, 'name'],
    source: { at: [...at, 'source'], value: value['source'] },
    sink: { at: [...at, 'sink'], value: value['sink'] },
    transforms: list(value['transforms']).map((t, i) => ({ at: [...at, 'transforms', i], value: t })),
    settings: value,
    settingsAt: at,
  };
}

/** The pipelines a file describes, in any of its three forms. */
export function collectPipelines(form: Form, data: Record<string, unknown>, report: Reporter): RawPipeline[] {
  if (form === 'single') return [fromObject(data, [])];
  if (form === 'many') {
    return list(data['pipelines']).flatMap((p, i) => (isObject(p) ? [fromObject(p, ['pipelines', i])] : []));
  }
  return joinByKey(data, report);
}

/** Entries of `sources`/`sinks` by key; a key used twice is a problem at its second use. */
function byKey(data: Record<string, unknown>, field: 'sources' | 'sinks', report: Reporter): Map<string, RawComponent> {
  const found = new Map<string, RawComponent>();
  list(data[field]).forEach((entry, i) => {
    if (!isObject(entry) || typeof entry['key'] !== 'string') return;
    const key = entry['key'];
    if (found.has(key)) {
      report.add([field, i, 'key'], `another entry of ${field} already has key '${key}'`);
      return;
    }
    found.set(key, { at: [field, i], value: entry });
  });
  return found;
}

/** The original Wire form: each source and the sink with its key make one pipeline named after the key. */
function joinByKey(data: Record<string, unknown>, report: Reporter): RawPipeline[] {
  const sources = byKey(data, 'sources', report);
  const sinks = byKey(data, 'sinks', report);
  const transforms = list(data['transforms']).map((t, i) => ({ at: ['transforms', i] as DocPath, value: t }));
  for (const [key, sink] of sinks) {
    if (!sources.has(key)) report.add([...sink.at, 'key'], `no source has key '${key}'`);
  }
  for (const t of transforms) {
    const key = isObject(t.value) ? t.value['key'] : undefined;
    if (typeof key === 'string' && !sources.has(key)) report.add([...t.at, 'key'], `no source has key '${key}'`);
  }
  const pipelines: RawPipeline[] = [];
  for (const [key, source] of sources) {
    const sink = sinks.get(key);
    if (sink === undefined) {
      report.add([...source.at, 'key'], `no sink has key '${key}'`);
      continue;
    }
    pipelines.push({
      name: key,
      nameAt: [...source.at, 'key'],
      source,
      sink,
      transforms: transforms.filter((t) => {
        const k = isObject(t.value) ? t.value['key'] : undefined;
        return k === undefined || k === key;
      }),
      settings: data,
      settingsAt: [],
    });
  }
  return pipelines;
}
