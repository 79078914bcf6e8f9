import { DEFAULT_RETRY, PIPELINE_NAME, type ComponentSpec, type OnError, type PipelineSpec, type Placement, type RetrySpec } from '../core/pipeline.js';
import { validateComponent, type ComponentContext } from './component.js';
import { parseDuration } from './duration.js';
import { isObject, type RawPipeline } from './forms.js';
import type { DocPath } from './problem.js';

function integer<F>(value: unknown, fallback: F): number | F {
  return typeof value === 'number' && Number.isInteger(value) ? value : fallback;
}

function retrySpec(value: unknown, at: DocPath, ctx: ComponentContext): RetrySpec | undefined {
  if (value === undefined) return DEFAULT_RETRY;
  if (!isObject(value)) return undefined;
  let ok = true;
  const duration = (field: 'initial' | 'max', fallback: number): number => {
    const v = value[field];
    if (v === undefined) return fallback;
    const ms = parseDuration(v);
    if (ms === undefined) {
      // Only strings reach here with a wrong form: other types were reported by the file's schema.
      if (typeof v === 'string') ctx.report.add([...at, field], `'${v}' is not a duration (write milliseconds, or "100ms", "2s", "1m", "1h")`);
      else if (typeof v === 'number') ctx.report.add([...at, field], 'must be >= 0');
      ok = false;
    }
    return ms ?? fallback;
  };
  const initialMs = duration('initial', DEFAULT_RETRY.initialMs);
  const maxMs = duration('max', Math.max(DEFAULT_RETRY.maxMs, initialMs));
  if (ok && initialMs > maxMs) {
    ctx.report.add([...at, 'initial'], `must not be more than retry.max (${maxMs} ms)`);
    ok = false;
  }
  return ok ? { maxAttempts: integer(value['max_attempts'], DEFAULT_RETRY.maxAttempts), initialMs, maxMs } : undefined;
}

/** A duration > 0 in ms; undefined when absent, null (reported) when not one. */
function positiveDuration(value: unknown, at: DocPath, ctx: ComponentContext): number | undefined | null {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms !== undefined && ms > 0) return ms;
  // Other types were reported by the file's schema.
  if (typeof value === 'string' && ms === undefined) ctx.report.add(at, `'${value}' is not a duration (write milliseconds, or "100ms", "2s", "1m", "1h")`);
  else if (typeof value === 'number' || ms !== undefined) ctx.report.add(at, 'must be > 0');
  return null;
}

/**
 * Builds the spec of one pipeline, reporting every problem in it; undefined when there was any.
 * `names` holds the names seen so far in the file, to report duplicates where they repeat.
 */
export function buildPipeline(raw: RawPipeline, names: Map<string, DocPath>, ctx: ComponentContext): PipelineSpec | undefined {
  const before = ctx.report.count;
  const s = raw.settings;
  const at = raw.settingsAt;
  if (typeof raw.name === 'string') {
    if (!PIPELINE_NAME.test(raw.name)) {
      ctx.report.add(raw.nameAt, `'${raw.name}' is not a valid name (1-63 characters of a-z, 0-9, '_' and '-')`);
    } else if (names.has(raw.name)) {
      ctx.report.add(raw.nameAt, `another pipeline is already named '${raw.name}'`);
    } else {
      names.set(raw.name, raw.nameAt);
    }
  }
  const source = validateComponent(raw.source, 'source', ctx);
  const transforms = raw.transforms.map((t) => validateComponent(t, 'transform', ctx));
  const sink = validateComponent(raw.sink, 'sink', ctx);
  const deadLetterRaw = s['dead_letter'];
  const deadLetter = deadLetterRaw === undefined ? undefined : validateComponent({ at: [...at, 'dead_letter'], value: deadLetterRaw }, 'sink', ctx);
  const retry = retrySpec(s['retry'], [...at, 'retry'], ctx);
  const transformTimeoutMs = positiveDuration(s['transform_timeout'], [...at, 'transform_timeout'], ctx);
  const onError = s['on_error'] ?? (deadLetterRaw === undefined ? 'fail' : 'dead_letter');
  if (onError === 'dead_letter' && deadLetterRaw === undefined) {
    ctx.report.add([...at, 'on_error'], 'is dead_letter but the pipeline has no dead_letter sink');
  }
  if (ctx.report.count > before || transformTimeoutMs === null || source === undefined || sink === undefined || retry === undefined || typeof raw.name !== 'string') {
    return undefined;
  }
  const rateLimit = s['rate_limit'];
  return {
    name: raw.name,
    source,
    transforms: transforms.filter((t): t is ComponentSpec => t !== undefined),
    sink,
    ...(deadLetter === undefined ? {} : { deadLetter }),
    parallelism: integer(s['parallelism'], 1),
    workers: integer(s['workers'], 'auto' as const),
    ...(typeof rateLimit === 'number' ? { rateLimit } : {}),
    onError: onError as OnError,
    retry,
    batchSize: integer(s['batch_size'], 1024),
    ...(s['placement'] === undefined ? {} : { placement: s['placement'] as Placement }),
    ...(transformTimeoutMs === undefined ? {} : { transformTimeoutMs }),
  };
}
