import { parentPort, workerData } from 'node:worker_threads';
import { isWireError, errorMessage } from '../core/errors.js';
import type { Transform } from '../core/ports.js';
import { decodeBatch, encodeBatch, transferablesOf } from './batch-codec.js';
import { closeTransforms, createTransforms, registryFromModule } from './components.js';
import { runChain, type ChainResult } from './transform-chain.js';
import type { FatalMessage, ProcessResponse, RejectedError, WorkerRequest, WorkerSetup } from './worker-protocol.js';

// Runs a pipeline's transform chain on a worker thread: batches arrive as text, leave as text.

function fatal(error: unknown): FatalMessage {
  return isWireError(error)
    ? { type: 'fatal', message: error.message, code: error.code }
    : { type: 'fatal', message: errorMessage(error) };
}

function respond(id: number, result: ChainResult): void {
  const errors: RejectedError[] = result.rejected.map((r) =>
    isWireError(r.error)
      ? { message: r.error.message, code: r.error.code, stage: r.stage }
      : { message: errorMessage(r.error), stage: r.stage },
  );
  const records = encodeBatch(result.records);
  const rejected = encodeBatch(result.rejected.map((r) => r.record));
  const message: ProcessResponse = { type: 'result', id, records, rejected, errors, counts: result.counts };
  parentPort!.postMessage(message, [...transferablesOf(records), ...transferablesOf(rejected)]);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('transform-worker must run on a worker thread');
  const setup = workerData as WorkerSetup;
  let transforms: Transform[];
  try {
    const module = (await import(setup.transformsModule)) as Record<string, unknown>;
    transforms = createTransforms(registryFromModule(module, setup.transformsModule), setup.transforms);
  } catch (error) {
    port.postMessage(fatal(error));
    return;
  }
  port.on('message', (request: WorkerRequest) => {
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
      const result = runChain(transforms, decodeBatch(request.batch));
      if (result instanceof Promise) result.then((r) => respond(request.id, r), (error: unknown) => port.postMessage(fatal(error)));
      else respond(request.id, result);
    } catch (error) {
      port.postMessage(fatal(error));
    }
  });
  port.postMessage({ type: 'ready' });
}

void main();
