import { writeJson } from '../../core/json-write.js';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { WireError, errorMessage, isWireError } from '../../core/errors.js';
import type { JsExports, JsFailure, JsFatal, JsRequest, JsResponse, JsSetup } from './js-protocol.js';

// The thread a `js` transform calls the user's function on, so a function that never returns blocks this thread,
// not the pipeline's: the engine ends the thread and starts another.

/** The user's function: a value in; a value, null (drop) or an array (split) out, or a promise of one. */
type UserFunction = (value: unknown) => unknown;

/** A result that failed, kept apart from values (which may be anything, errors included). */
class Failure {
  constructor(readonly error: unknown) {}
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

async function loadModule(setup: JsSetup): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(setup.module).href)) as Record<string, unknown>;
  } catch (err) {
    throw new WireError('INVALID_INPUT', `js: cannot load module ${setup.module}: ${errorMessage(err)}`, { module: setup.module }, err);
  }
}

function functionsOf(mod: Record<string, unknown>): string[] {
  return Object.keys(mod).filter((k) => typeof mod[k] === 'function');
}

async function loadFunction(setup: JsSetup): Promise<UserFunction> {
  const mod = await loadModule(setup);
  const fn = mod[setup.name];
  if (typeof fn !== 'function') {
    const which = setup.name === 'default' ? 'no default export function' : `no exported function '${setup.name}'`;
    throw new WireError('INVALID_INPUT', `js: module ${setup.module} has ${which} (functions: ${functionsOf(mod).join(', ') || 'none'})`);
  }
  return fn as UserFunction;
}

function failureAt(at: number, error: unknown): JsFailure {
  return isWireError(error) ? { at, message: error.message, code: error.code } : { at, message: errorMessage(error) };
}

/** One value as it goes back: its text, whether it is a string, or why it cannot go. */
function textOf(value: unknown): { text: string; string: boolean } | Failure {
  if (typeof value === 'string') return { text: value, string: true };
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return new Failure(new WireError('INVALID_INPUT', `js: the function returned a ${typeof value}, not a JSON value`));
  }
  try {
    // The same rule as every other path (`writeJson`): a BigInt inside, a cycle or nesting deeper than the
    // limit fails the record here, not later in a sink that cannot write it.
    return { text: writeJson(value), string: false };
  } catch (err) {
    return new Failure(new WireError('INVALID_INPUT', `js: ${errorMessage(err)}`));
  }
}

function respond(id: number, results: unknown[]): JsResponse {
  const outputs = new Int32Array(results.length);
  const failures: JsFailure[] = [];
  const lengths: number[] = [];
  const strings: number[] = [];
  let text = '';
  for (let i = 0; i < results.length; i++) {
    const result = results[i];
    if (result instanceof Failure) {
      outputs[i] = -1;
      failures.push(failureAt(i, result.error));
      continue;
    }
    if (result === null || result === undefined) continue;
    const items = Array.isArray(result) ? (result as unknown[]) : [result];
    // A record's values go back all or none: one that cannot fails the record.
    const texts: { text: string; string: boolean }[] = [];
    let failed: Failure | undefined;
    for (const item of items) {
      if (item === null || item === undefined) continue;
      const one = textOf(item);
      if (one instanceof Failure) {
        failed = one;
        break;
      }
      texts.push(one);
    }
    if (failed !== undefined) {
      outputs[i] = -1;
      failures.push(failureAt(i, failed.error));
      continue;
    }
    outputs[i] = texts.length;
    for (const one of texts) {
      text += one.text;
      lengths.push(one.text.length);
      strings.push(one.string ? 1 : 0);
    }
  }
  return { type: 'result', id, outputs, text, lengths: Uint32Array.from(lengths), strings: Uint8Array.from(strings), failures };
}

async function answer(fn: UserFunction, request: JsRequest): Promise<JsResponse> {
  const { text, lengths } = request;
  const results = new Array<unknown>(lengths.length);
  let pending: PromiseLike<unknown>[] | undefined;
  let pendingAt: number[] | undefined;
  let offset = 0;
  for (let i = 0; i < lengths.length; i++) {
    const end = offset + lengths[i]!;
    const json = text.slice(offset, end);
    offset = end;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (err) {
      results[i] = new Failure(new WireError('INVALID_INPUT', `malformed JSON: ${errorMessage(err)}`));
      continue;
    }
    try {
      const result = fn(value);
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
  if (pending !== undefined && pendingAt !== undefined) {
    // One await for the whole batch, however many records returned promises.
    const settled = await Promise.allSettled(pending);
    for (let k = 0; k < settled.length; k++) {
      const s = settled[k]!;
      results[pendingAt[k]!] = s.status === 'fulfilled' ? s.value : new Failure(s.reason);
    }
  }
  return respond(request.id, results);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('js-worker must run on a worker thread');
  const setup = workerData as JsSetup;
  let fn: UserFunction;
  try {
    if (setup.probe === true) {
      const exports: JsExports = { type: 'exports', functions: functionsOf(await loadModule(setup)) };
      port.postMessage(exports);
      return;
    }
    fn = await loadFunction(setup);
  } catch (error) {
    const fatal: JsFatal = isWireError(error)
      ? { type: 'fatal', message: error.message, code: error.code }
      : { type: 'fatal', message: errorMessage(error) };
    port.postMessage(fatal);
    return;
  }
  port.on('message', (request: JsRequest) => {
    void answer(fn, request).then((response) => {
      port.postMessage(response, [response.outputs.buffer as ArrayBuffer, response.lengths.buffer as ArrayBuffer, response.strings.buffer as ArrayBuffer]);
    });
  });
}

void main();
