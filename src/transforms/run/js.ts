import { isAbsolute, resolve } from 'node:path';
import { WireError } from '../../core/errors.js';
import { WireRecord, type Batch, type RecordInit } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';
import type { JsResponse } from './js-protocol.js';
import { JsThread } from './js-thread.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type JsConfig = {
  readonly module: string;
  readonly function?: string;
};

export function modulePath(config: JsConfig): string {
  return isAbsolute(config.module) ? config.module : resolve(config.module);
}

/**
 * Calls the user's function on its own thread (`JsThread`): values cross as JSON text, and results come
 * back as JSON text that later stages or the sink read lazily. A function that loops forever or never settles
 * costs its batch (past `transform_timeout`, TIMEOUT) and a restart of the thread, never the pipeline.
 */
class JsTransform implements Transform {
  private readonly thread: JsThread;

  constructor(config: JsConfig) {
    this.thread = new JsThread({ module: modulePath(config), name: config.function ?? 'default' });
  }

  process(batch: Batch, ctx: TransformContext): Batch | Promise<Batch> {
    if (batch.length === 0) return batch;
    const lengths = new Uint32Array(batch.length);
    let sent = batch;
    let text = '';
    for (let i = 0; i < batch.length; i++) {
      let json: string;
      try {
        json = batch[i]!.json();
      } catch (err) {
        // A value an earlier stage left that is not JSON (a BigInt): this record cannot cross.
        ctx.reject(batch[i]!, err);
        if (sent === batch) sent = batch.slice(0, i);
        continue;
      }
      if (sent !== batch) sent.push(batch[i]!);
      lengths[sent === batch ? i : sent.length - 1] = json.length;
      text += json;
    }
    const sentLengths = sent === batch ? lengths : lengths.slice(0, sent.length);
    if (sent.length === 0) return sent;
    return this.thread.call(text, sentLengths, ctx.signal).then((response) => assemble(sent, response, ctx));
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** The record with the first value the function returned for it (JSON text read lazily, or a string as itself). */
function replaced(record: WireRecord, text: string, isString: boolean): WireRecord {
  if (isString) record.value = text;
  else record.setJson(text);
  return record;
}

/** A new record for a further value of a split (its own id and headers). */
function split(record: WireRecord, text: string, isString: boolean): WireRecord {
  const headers = record.headers === undefined ? undefined : { ...record.headers };
  const init: RecordInit = isString
    ? { key: record.key, eventTime: record.eventTime, headers, position: record.position, value: text }
    : { key: record.key, eventTime: record.eventTime, headers, position: record.position, raw: text };
  return new WireRecord(init);
}

/** Puts each record's results in its place: values replace it, none drops it, several split it, a failure rejects it. */
function assemble(sent: Batch, response: JsResponse, ctx: TransformContext): Batch {
  const { outputs, text, lengths, strings, failures } = response;
  const out: Batch = [];
  let offset = 0;
  let value = 0;
  let failure = 0;
  for (let i = 0; i < sent.length; i++) {
    const record = sent[i]!;
    const count = outputs[i]!;
    if (count < 0) {
      const f = failures[failure++]!;
      ctx.reject(record, f.code === undefined ? new Error(f.message) : new WireError(f.code, f.message));
      continue;
    }
    for (let k = 0; k < count; k++) {
      const end = offset + lengths[value]!;
      const one = text.slice(offset, end);
      out.push(k === 0 ? replaced(record, one, strings[value] === 1) : split(record, one, strings[value] === 1));
      offset = end;
      value++;
    }
  }
  return out;
}

export function createJs(config: JsConfig): Transform {
  return new JsTransform(config);
}
