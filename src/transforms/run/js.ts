import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WireError, errorMessage } from '../../core/errors.js';
import type { Batch, WireRecord } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type JsConfig = {
  readonly module: string;
  readonly function?: string;
};

/** The user's function: a value in; a value, null (drop) or an array (split) out, or a promise of one. */
type UserFunction = (value: unknown) => unknown;

/** A result that failed, kept apart from values (which may be anything, errors included). */
class Failure {
  constructor(readonly error: unknown) {}
}

export function modulePath(config: JsConfig): string {
  return isAbsolute(config.module) ? config.module : resolve(config.module);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

async function loadFunction(config: JsConfig): Promise<UserFunction> {
  const path = modulePath(config);
  const name = config.function ?? 'default';
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new WireError('INVALID_INPUT', `js: cannot load module ${path}: ${errorMessage(err)}`, { module: path }, err);
  }
  const fn = mod[name];
  if (typeof fn !== 'function') {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const which = name === 'default' ? 'no default export function' : `no exported function '${name}'`;
    throw new WireError('INVALID_INPUT', `js: module ${path} has ${which} (functions: ${exported.join(', ') || 'none'})`, {
      module: path,
    });
  }
  return fn as UserFunction;
}

/** Puts one result in place of its record: a value replaces it, null drops it, an array splits it. */
function emit(record: WireRecord, result: unknown, out: Batch, ctx: TransformContext): void {
  if (result instanceof Failure) {
    ctx.reject(record, result.error);
  } else if (result === null || result === undefined) {
    return;
  } else if (Array.isArray(result)) {
    let first = true;
    for (const item of result) {
      if (item === null || item === undefined) continue;
      if (first) {
        record.value = item;
        out.push(record);
        first = false;
      } else {
        out.push(record.clone(item));
      }
    }
  } else if (typeof result === 'function' || typeof result === 'symbol' || typeof result === 'bigint') {
    ctx.reject(record, new WireError('INVALID_INPUT', `js: the function returned a ${typeof result}, not a JSON value`));
  } else {
    record.value = result;
    out.push(record);
  }
}

class JsTransform implements Transform {
  private fn: UserFunction | undefined;
  private loading: Promise<UserFunction> | undefined;

  constructor(private readonly config: JsConfig) {}

  process(batch: Batch, ctx: TransformContext): Batch | Promise<Batch> {
    const fn = this.fn;
    if (fn !== undefined) return this.run(fn, batch, ctx);
    this.loading ??= loadFunction(this.config).then((loaded) => (this.fn = loaded));
    return this.loading.then((loaded) => this.run(loaded, batch, ctx));
  }

  private run(fn: UserFunction, batch: Batch, ctx: TransformContext): Batch | Promise<Batch> {
    const results = new Array<unknown>(batch.length);
    let pending: PromiseLike<unknown>[] | undefined;
    let pendingAt: number[] | undefined;
    for (let i = 0; i < batch.length; i++) {
      try {
        const result = fn(batch[i]!.value);
        if (isThenable(result)) {
          (pending ??= []).push(result);
          (pendingAt ??= []).push(i);
        } else {
          results[i] = result;
        }
      } catch (err) {
        results[i] = new Failure(err);
      }
    }
    if (pending === undefined || pendingAt === undefined) return this.assemble(batch, results, ctx);
    const at = pendingAt;
    // One await for the whole batch, however many records returned promises.
    return Promise.allSettled(pending).then((settled) => {
      for (let k = 0; k < settled.length; k++) {
        const s = settled[k]!;
        results[at[k]!] = s.status === 'fulfilled' ? s.value : new Failure(s.reason);
      }
      return this.assemble(batch, results, ctx);
    });
  }

  private assemble(batch: Batch, results: unknown[], ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) emit(batch[i]!, results[i], out, ctx);
    return out;
  }
}

export function createJs(config: JsConfig): Transform {
  return new JsTransform(config);
}
