import { Worker } from 'node:worker_threads';
import { WireError } from '../../core/errors.js';
import type { JsMessage, JsRequest, JsResponse, JsSetup } from './js-protocol.js';

interface Call {
  readonly request: JsRequest;
  resolve(response: JsResponse): void;
  reject(error: unknown): void;
}

/**
 * Under vitest or tsx this module is TypeScript, and so is the thread's entry: tsx's loader must be registered
 * in the thread before the entry is imported (as the engine's worker pool does).
 */
function startThread(setup: JsSetup): Worker {
  const self = import.meta.url;
  // In the CLI's bundles (dist/cli/wire.cjs, wire-node.cjs) this code is not beside the worker's entry.
  const bundled = self.endsWith('.cjs');
  if (!self.endsWith('.ts')) return new Worker(new URL(bundled ? '../transforms/run/js-worker.js' : './js-worker.js', self), { workerData: setup });
  const entry = new URL('./js-worker.ts', self).href;
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

/** Most time a probe waits for a module to load (its top-level code may await anything). */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Loads a module on a thread of its own, as a `js` transform would, and answers with its exported functions, or
 * why it cannot load. The module's top-level code runs there, not in the caller's thread, and the thread ends after.
 */
export function probeModule(module: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<{ functions: string[] } | { error: string }> {
  return new Promise((resolve) => {
    const worker = startThread({ module, name: '', probe: true });
    const done = (answer: { functions: string[] } | { error: string }): void => {
      clearTimeout(timer);
      worker.removeAllListeners();
      // Its own listener: a thread that errors while terminating must not surface as unhandled.
      worker.on('error', () => undefined);
      void worker.terminate();
      resolve(answer);
    };
    const timer = setTimeout(() => done({ error: `it did not finish loading within ${timeoutMs / 1000} s` }), timeoutMs);
    worker.on('message', (message: JsMessage) => {
      if (message.type === 'exports') done({ functions: message.functions });
      else if (message.type === 'fatal') done({ error: message.message });
    });
    worker.on('error', (error) => done({ error: error.message }));
    worker.on('exit', (code) => done({ error: `its thread exited with code ${code} while loading it` }));
  });
}

/**
 * The thread a `js` transform's function runs on, started on first use. Calls are answered in any order.
 * A call the engine gives up on (its signal aborts: past `transform_timeout`) may have left the function
 * running forever, so the thread is ended; the calls still waiting go to a new one.
 */
export class JsThread {
  private worker: Worker | undefined;
  private readonly calls = new Map<number, Call>();
  private nextId = 0;
  /** The module cannot be loaded: every call fails with this, without starting a thread again. */
  private unusable: WireError | undefined;
  private closed = false;

  constructor(private readonly setup: JsSetup) {}

  call(text: string, lengths: Uint32Array, signal: AbortSignal | undefined): Promise<JsResponse> {
    if (this.unusable !== undefined) return Promise.reject(this.unusable);
    if (this.closed) return Promise.reject(new WireError('UNAVAILABLE', 'js: the transform is closed'));
    const id = this.nextId++;
    return new Promise<JsResponse>((resolve, reject) => {
      const call: Call = { request: { id, text, lengths }, resolve, reject };
      this.calls.set(id, call);
      signal?.addEventListener('abort', () => this.abandon(id), { once: true });
      this.post(call);
    });
  }

  /** Ends the thread; calls still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.failAll(worker, new WireError('UNAVAILABLE', 'js: the transform was closed'));
    await worker?.terminate();
  }

  private post(call: Call): void {
    // Requests are copied, not transferred: one may be sent again to a new thread.
    (this.worker ??= this.start()).postMessage(call.request);
  }

  private start(): Worker {
    const worker = startThread(this.setup);
    worker.on('message', (message: JsMessage) => {
      if (message.type === 'result') {
        const call = this.calls.get(message.id);
        this.calls.delete(message.id);
        call?.resolve(message);
        return;
      }
      // Only a probe's thread answers with its exports (see probeModule).
      if (message.type !== 'fatal') return;
      this.unusable = new WireError(message.code ?? 'INTERNAL', message.message);
      this.failAll(worker, this.unusable);
      void worker.terminate();
    });
    worker.on('error', (error) => this.failAll(worker, new WireError('INTERNAL', `js: the function's thread failed: ${error.message}`, {}, error)));
    worker.on('exit', (code) => this.failAll(worker, new WireError('INTERNAL', `js: the function's thread exited with code ${code}`)));
    return worker;
  }

  /** The thread is gone: its calls fail (the chain then tries their records one by one, on a new thread). */
  private failAll(worker: Worker | undefined, error: WireError): void {
    if (worker === undefined || worker !== this.worker) return;
    this.worker = undefined;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.reject(error);
  }

  private abandon(id: number): void {
    if (!this.calls.delete(id)) return;
    const stuck = this.worker;
    this.worker = undefined;
    void stuck?.terminate();
    for (const call of this.calls.values()) this.post(call);
  }
}
