import { parentPort, workerData } from 'node:worker_threads';
import { isWireError, errorMessage } from '../core/errors.js';
import type { Transform } from '../core/ports.js';
import { decodeBatch, encodeBatch, transferablesOf } from './batch-codec.js';
import { closeTransforms, createTransforms, registryFromModule } from './components.js';
import { RenderBuffers, type LineBlock } from '../core/line-block.js';
import { processBlock, type BlockResult } from './block-processor.js';
import { withDeadlines } from './deadline.js';
import type { ChainResult, Rejected } from './transform-chain.js';
import { runWritable } from './record-checks.js';
import type { BlockRequest, BlockResponse, FatalMessage, ProcessResponse, RejectedError, WorkerRequest, WorkerSetup } from './worker-protocol.js';

// Runs a pipeline's transform chain on a worker thread: batches arrive as text and leave as text; line blocks
// arrive as bytes and leave as the sink's rendered bytes (both transferred, not copied).

function fatal(error: unknown): FatalMessage {
  return isWireError(error)
    ? { type: 'fatal', message: error.message, code: error.code }
    : { type: 'fatal', message: errorMessage(error) };
}

function errorsOf(rejected: readonly Rejected[]): RejectedError[] {
  return rejected.map((r) =>
    isWireError(r.error) ? { message: r.error.message, code: r.error.code, stage: r.stage } : { message: errorMessage(r.error), stage: r.stage },
  );
}

function respond(id: number, result: ChainResult): void {
  const errors = errorsOf(result.rejected);
  const records = encodeBatch(result.records);
  const rejected = encodeBatch(result.rejected.map((r) => r.record));
  const message: ProcessResponse = { type: 'result', id, records, rejected, errors, counts: result.counts };
  parentPort!.postMessage(message, [...transferablesOf(records), ...transferablesOf(rejected)]);
}

function respondBlock(id: number, result: BlockResult, input: Uint8Array): void {
  const rejected = encodeBatch(result.rejected.map((r) => r.record));
  const { chunks, count, received, counts, rendered } = result;
  const transfer = [...chunks.map((c) => c.buffer as ArrayBuffer), ...transferablesOf(rejected)];
  // The records are gone with the step that made them; the input's memory goes home unless a chunk is part of it.
  const back = transfer.includes(input.buffer as ArrayBuffer) ? undefined : input;
  if (back !== undefined) transfer.push(back.buffer as ArrayBuffer);
  const message: BlockResponse = {
    type: 'blockResult',
    id,
    chunks,
    count,
    received,
    rejected,
    errors: errorsOf(result.rejected),
    counts,
    ...(back === undefined ? {} : { returned: back }),
    ...(rendered === true ? { rendered } : {}),
  };
  parentPort!.postMessage(message, transfer);
}

/** The block's bytes as a Buffer (a transferred Uint8Array arrives as a plain view). */
function blockOf(request: BlockRequest): LineBlock {
  const { data, format, strict } = request;
  return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), position: null, format, strict };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('transform-worker must run on a worker thread');
  const setup = workerData as WorkerSetup;
  let transforms: Transform[];
  try {
    const module = (await import(setup.transformsModule)) as Record<string, unknown>;
    const created = createTransforms(registryFromModule(module, setup.transformsModule), setup.transforms);
    transforms = withDeadlines(created, setup.transforms, setup.transformTimeoutMs);
  } catch (error) {
    port.postMessage(fatal(error));
    return;
  }
  // Rendered lines go out to the main thread and come back once the sink has written them.
  const renderBuffers = new RenderBuffers();
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'spare') {
      renderBuffers.giveAll(request.chunks);
      return;
    }
    if (request.type === 'close') {
      closeTransforms(transforms).then(
        () => port.close(),
        (error: unknown) => {
          port.postMessage(fatal(error));
          port.close();
        },
      );
      return;
    }
    try {
      if (request.type === 'block') {
        const result = processBlock(transforms, blockOf(request), request.out, renderBuffers);
        const input = request.data;
        if (result instanceof Promise) result.then((r) => respondBlock(request.id, r, input), (error: unknown) => port.postMessage(fatal(error)));
        else respondBlock(request.id, result, input);
        return;
      }
      const result = runWritable(transforms, decodeBatch(request.batch));
      if (result instanceof Promise) result.then((r) => respond(request.id, r), (error: unknown) => port.postMessage(fatal(error)));
      else respond(request.id, result);
    } catch (error) {
      port.postMessage(fatal(error));
    }
  });
  port.postMessage({ type: 'ready' });
}

void main();
