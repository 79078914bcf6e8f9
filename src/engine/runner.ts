import { availableParallelism } from 'node:os';
import { WireError, toWireError } from '../core/errors.js';
import type { Sink, Source, Transform } from '../core/ports.js';
import { DEFAULT_TRANSFORM_TIMEOUT_MS } from '../core/pipeline.js';
import { RenderBuffers, type LineBlock, type LineFormat } from '../core/line-block.js';
import type { Batch } from '../core/record.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { ComponentCounters } from '../observability/metrics.js';
import { unexportedMetrics, type PipelineMetrics } from '../observability/pipeline-metrics.js';
import { AckTracker } from './ack-tracker.js';
import { Checkpointer } from './checkpointer.js';
import { assertSameIdentity, checkpointIdentity, describePosition } from './checkpoint-identity.js';
import { isAborted, systemClock, type Clock } from './clock.js';
import { LoopTurns } from './loop-turns.js';
import { AUTO_MIN_BYTES, AutoWorkersTrial, DEFAULT_TRIAL, autoWorkerCount, autoWorkerLimit } from './auto-workers.js';
import { chainMaySetKeys, closeTransforms, createSink, createSource, createTransforms, statelessTransforms } from './components.js';
import { Delivery } from './delivery.js';
import { LaneQueue } from './lane-queue.js';
import type { PipelineHandle, RunCause, RunOptions, RunProgress, RunSummary } from './options.js';
import { KeyRouter, type RoutedBatch } from './key-router.js';
import { partition, partitionResult } from './partition.js';
import { RateLimiter } from './rate-limiter.js';
import { Serial } from './serial.js';
import { RunTotals } from './totals.js';
import { locateRejected, processBlock, withLongLine, type BlockResult } from './block-processor.js';
import { withDeadlines } from './deadline.js';
import type { ChainResult } from './transform-chain.js';
import { readable, runWritable, withRejected } from './record-checks.js';
import { WorkerPool } from './worker-pool.js';

/** One lane's share of one source batch, with its transform result (computed, or coming from a worker). */
interface LaneItem {
  readonly seq: number;
  /** Replaced by its value once a worker's answer arrives, so the sink section can see what is ready. */
  result: ChainResult | BlockResult | Promise<ChainResult | BlockResult>;
  /**
   * Once the sink has written the result's bytes, gives their memory back: the source's block when it goes out
   * as it came in, or rendered chunks to the render buffers of the thread that made them. Set with the result.
   */
  afterWrite?: () => void;
}

/** Most bytes of ready blocks the sink section gathers into one write. */
const COALESCE_BYTES = 1024 * 1024;

/** Consecutive ready blocks for one sink write. */
interface ReadyBlocks {
  readonly seqs: number[];
  readonly results: BlockResult[];
  readonly afterWrite: (() => void)[];
}

function bytesOf(result: BlockResult): number {
  let bytes = 0;
  for (const chunk of result.chunks) bytes += chunk.length;
  return bytes;
}

const STOPPED = Symbol('stopped');
// Each checkpoint flushes the sink (an fsync for a file): by count only for very fast pipelines, else by time.
const DEFAULT_EVERY_RECORDS = 1_000_000;
const DEFAULT_EVERY_MS = 1_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const noop = (): void => undefined;

/** Starts a pipeline and returns its handle at once; `done` settles with the summary (it never rejects). */
export function runPipeline(options: RunOptions): PipelineHandle {
  return new PipelineRunner(options).start();
}

/**
 * The data plane for one pipeline: source → lanes (transforms, here or on workers) → one serial sink section
 * (writes, dead letters, checkpoints). Work admitted is bounded by an in-flight window of source batches;
 * per record the engine does nothing but, with lanes, hash the key.
 */
export class PipelineRunner implements PipelineHandle {
  done!: Promise<RunSummary>;

  private readonly spec: RunOptions['spec'];
  private readonly metrics: PipelineMetrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly totals = new RunTotals();
  private readonly tracker: AckTracker;
  private readonly lanes: LaneQueue<LaneItem>[];
  /** Set when lanes must be chosen after the chain (it may set keys): see `KeyRouter`. */
  private readonly router: KeyRouter | undefined;
  private readonly serial = new Serial();
  /** Memory the main thread renders blocks' lines into, back once the sink has written it. */
  private readonly renderBuffers = new RenderBuffers();
  /** Aborted on stop/kill/failure: the source ends its reads. */
  private readonly readAbort = new AbortController();
  /** Aborted on kill/failure: sinks' signal, backoffs and rate-limit waits end. */
  private readonly haltAbort = new AbortController();
  private readonly startedAt: number;
  private readonly sourceCounters: ComponentCounters;
  private readonly stageCounters: ComponentCounters[];

  private source: Source | undefined;
  private sink: Sink | undefined;
  private deadLetter: Sink | undefined;
  private transforms: Transform[] = [];
  private pool: WorkerPool | undefined;
  /** Worker threads in use: the spec's number, or what `auto` chose. */
  private workerCount = 0;
  /** `workers: auto` found the pipeline fit for this many workers: the trial decides whether they run. */
  private autoCandidate = 0;
  private trial: AutoWorkersTrial | undefined;
  private delivery: Delivery | undefined;
  private checkpointer: Checkpointer | undefined;
  /** Where this run resumed, when a checkpoint was found (for the summary). */
  private resumedFrom: RunSummary['resumedFrom'];
  private rateLimiter: RateLimiter | undefined;
  /** The source's line blocks and the sink's line format, when both take the block path. */
  private blocks: { readonly input: AsyncIterable<LineBlock>; readonly out: LineFormat } | undefined;

  private stopping = false;
  private killed = false;
  /** Set by pause(): the reader asks the source for nothing until resume(). */
  private paused = false;
  /** The pause under way: settles once what was read before it is checkpointed. */
  private pausing: Promise<void> | undefined;
  /** The reader is done (input ended, or a stop): the run's own last checkpoint covers what a pause would. */
  private readEnded = false;
  /** Waits for nothing to be in flight (a pause's drain), woken with the reader. */
  private readonly idleWaiters = new Set<() => void>();
  private markOpened: () => void = noop;
  /** Settles once the run has opened everything, or failed to. */
  private readonly openedPromise = new Promise<void>((resolve) => (this.markOpened = resolve));
  /** The run has ended: a late stop() must not leave its deadline timer behind. */
  private ended = false;
  private failure: WireError | undefined;
  /** Resolves the reader's wait for room in the window. */
  private wakeForSpace: (() => void) | undefined;
  /** A wake is queued for after this turn (`wakeAfterWrites`). */
  private wakeQueued = false;
  /** Resolves the reader's wait for the source with STOPPED. */
  private interruptRead: (() => void) | undefined;
  private wakeKilled: () => void = noop;
  private readonly killedPromise = new Promise<typeof STOPPED>((resolve) => (this.wakeKilled = () => resolve(STOPPED)));
  private keylessLane = 0;
  /** A group commit is on its way, and the batches completed since the last one (see `commitSoon`). */
  private commitQueued = false;
  private completedSinceCommit = 0;
  private timers: NodeJS.Timeout[] = [];
  /** The reader lets the event loop turn every few ms (see `LoopTurns`). */
  private readonly turns = new LoopTurns();
  /** Turns a stop that has not drained in time into a kill. */
  private stopDeadline: NodeJS.Timeout | undefined;
  /** What was opened, in order, with how to close it: closed in reverse order on every path. */
  private readonly opened: [string, () => Promise<void>][] = [];

  constructor(private readonly options: RunOptions) {
    this.spec = options.spec;
    this.logger = (options.logger ?? silentLogger()).child({ pipeline: options.spec.name });
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? unexportedMetrics;
    this.startedAt = this.clock.now();
    const laneCount = Math.max(1, Math.floor(this.spec.parallelism));
    const workers = this.spec.workers === 'auto' ? autoWorkerLimit(this.cores) : this.spec.workers;
    const window = options.maxInFlightBatches ?? 4 + 2 * Math.max(laneCount, workers);
    this.tracker = new AckTracker(window);
    this.lanes = Array.from({ length: laneCount }, () => new LaneQueue<LaneItem>());
    if (laneCount > 1 && chainMaySetKeys(options.registry, this.spec.transforms)) {
      this.router = new KeyRouter((result, batch) => this.route(result, batch));
    }
    const pipeline = this.spec.name;
    this.sourceCounters = this.metrics.component({ pipeline, component: 'source', type: this.spec.source.type });
    this.stageCounters = this.spec.transforms.map((t, i) =>
      this.metrics.component({ pipeline, component: `transforms.${i}`, type: t.type }),
    );
  }

  start(): this {
    this.done = this.run();
    return this;
  }

  stop(): void {
    if (this.stopping || this.ended) return;
    this.stopping = true;
    this.logger.info('stopping: draining in-flight records');
    this.readAbort.abort();
    this.interrupt();
    this.armStopDeadline();
  }

  /**
   * A drain (after stop or a failure) that cannot end, a sink or a transform stuck, must not hold the run
   * forever: past the deadline it is a kill (workers terminated), and the last checkpoint stands.
   */
  private armStopDeadline(): void {
    if (this.stopDeadline !== undefined || this.ended) return;
    const timeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.stopDeadline = setTimeout(() => {
      this.logger.warn({ timeoutMs }, 'in-flight work did not end in time; stopping without waiting for it');
      this.kill();
    }, timeoutMs);
  }

  pause(): Promise<void> {
    if (this.stopping || this.ended) return this.done.then(noop);
    if (this.pausing === undefined) {
      this.paused = true;
      this.logger.info('pausing: no more reads; checkpointing what is in flight');
      this.pausing = this.settlePause();
    }
    return this.pausing;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pausing = undefined;
    this.logger.info('resumed');
    this.wake();
  }

  /** What was read before the pause reaches the sink and is checkpointed (a checkpoint that fails fails the run). */
  private async settlePause(): Promise<void> {
    await this.openedPromise;
    while (this.paused && !this.readEnded && !this.halted && this.tracker.inFlight + (this.router?.pending ?? 0) > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.add(resolve));
    }
    if (this.readEnded) {
      await this.done;
      return;
    }
    if (!this.paused || this.halted || this.checkpointer === undefined) return;
    const checkpointer = this.checkpointer;
    try {
      await this.serial.run(() => checkpointer.maybe(true));
      this.logger.info({ checkpoint: checkpointer.savedPosition?.position }, 'paused');
    } catch (error) {
      this.fail(error);
    }
  }

  /** Until resume() (true), or stop/kill/failure (false). */
  private async whilePaused(): Promise<boolean> {
    while (this.paused && !this.stopping && !this.halted) await new Promise<void>((resolve) => (this.wakeForSpace = resolve));
    return !this.stopping && !this.halted;
  }

  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.stopping = true;
    this.logger.warn('killed: stopping without draining');
    this.halt();
    this.wakeKilled();
  }

  progress(): RunProgress {
    const elapsedMs = this.clock.now() - this.startedAt;
    const source = this.source?.progress?.();
    const progress = {
      pipeline: this.spec.name,
      ...this.totals.snapshot(),
      elapsedMs,
      rate: elapsedMs > 0 ? (this.totals.recordsIn * 1000) / elapsedMs : 0,
      inFlightBatches: this.tracker.inFlight,
    };
    return source === undefined ? progress : { ...progress, source };
  }

  private get halted(): boolean {
    return this.killed || this.failure !== undefined;
  }

  /** Ends reading and wakes whatever waits, so the run unwinds. */
  private halt(): void {
    this.readAbort.abort();
    this.haltAbort.abort();
    this.router?.discard();
    for (const lane of this.lanes) lane.discard();
    this.checkpointer?.release();
    this.interrupt();
  }

  private wake(): void {
    const wake = this.wakeForSpace;
    this.wakeForSpace = undefined;
    wake?.();
    if (this.idleWaiters.size === 0) return;
    for (const idle of this.idleWaiters) idle();
    this.idleWaiters.clear();
  }

  /**
   * Wakes the reader for the room a completed batch made, once this turn's microtasks have run: the lane that
   * completed it takes its next batch and starts that write first, and the reader makes the next batch while the
   * sink waits on its server. Woken at once, the reader made it (a generate batch: ~0.3 ms) between one write's
   * answer and the next write, on the sink's critical path (postgres-sink row: 6-13 % faster, two runs of 11 pairs).
   */
  private wakeAfterWrites(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.wake();
    });
  }

  /** Ends any wait of the reader: for room, for the source. */
  private interrupt(): void {
    this.wake();
    const interrupt = this.interruptRead;
    this.interruptRead = undefined;
    interrupt?.();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.killed || isAborted(error)) return;
    this.failure = toWireError(error);
    // Debug only: the failure is the summary's error, which the caller reports once (the CLI's `wire: CODE:` line).
    this.logger.debug({ err: this.failure }, 'pipeline failed');
    this.halt();
    this.armStopDeadline();
  }

  private async run(): Promise<RunSummary> {
    let cause: RunCause = 'end';
    // Lane loops never reject: they report through fail().
    let laneLoops: Promise<void>[] = [];
    try {
      await this.open();
      this.markOpened();
      this.startTimers();
      laneLoops = this.lanes.map((lane) => this.laneLoop(lane));
      const router = this.router;
      if (router !== undefined) laneLoops.push(this.routeLoop(router));
      await this.readLoop();
      this.readEnded = true;
      this.wake();
      // With a router, the lanes close once it has routed every batch read.
      if (router === undefined) this.closeLanes();
      else router.close();
      if ((await Promise.race([Promise.all(laneLoops), this.killedPromise])) !== STOPPED && !this.halted) {
        await Promise.race([this.serial.run(() => this.checkpointer!.maybe(true)), this.killedPromise]);
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.markOpened();
      this.stopTimers();
      // On failure, let the write or checkpoint under way (and a flush behind it) settle before its sink is closed under it.
      const flushing = this.checkpointer?.ready().catch(noop);
      await Promise.race([Promise.all([...laneLoops, this.serial.idle(), flushing]), this.killedPromise]);
      await this.closeAll();
    }
    this.ended = true;
    clearTimeout(this.stopDeadline);
    // A failure stays the cause when the stop deadline then had to kill the run.
    if (this.failure !== undefined) cause = 'error';
    else if (this.killed) cause = 'kill';
    else if (this.stopping) cause = 'stop';
    return this.summary(cause);
  }

  private async open(): Promise<void> {
    const { spec, registry } = this.options;
    const key = this.options.checkpointKey ?? spec.name;
    const store = this.options.checkpointStore;
    const identity = checkpointIdentity(registry, spec);
    // --from-start deletes the checkpoint only once everything has opened: a run that cannot start changes nothing.
    const checkpoint = this.options.fromStart === true ? undefined : await store.load(key);
    if (checkpoint !== undefined) {
      assertSameIdentity(checkpoint.identity, identity, { pipeline: spec.name, key, dataDir: this.options.dataDir });
      this.resumedFrom = { position: checkpoint.position, at: describePosition(registry, spec.source, checkpoint.position) };
      this.logger.info({ position: checkpoint.position }, 'resuming from checkpoint');
    }
    // A null position is a run's opening checkpoint: the sinks' starting lengths, nothing read yet.
    const from = checkpoint?.position ?? undefined;

    this.source = createSource(registry, spec.source);
    const fixedWorkers = spec.workers === 'auto' ? 0 : spec.workers;
    // Built before anything opens, so a bad transform type fails the run with nothing opened.
    const transforms = fixedWorkers > 0 ? [] : withDeadlines(createTransforms(registry, spec.transforms), spec.transforms, this.transformTimeoutMs);
    this.sink = createSink(registry, spec.sink, 'sink');
    if (spec.deadLetter !== undefined) this.deadLetter = createSink(registry, spec.deadLetter, 'dead_letter');
    const base = { pipeline: spec.name, dataDir: this.options.dataDir, partition: this.options.partition };
    // Every source opens before any sink: a sink may cut its file (a fresh run, or back to the checkpoint), and a
    // source that cannot open (a mistyped path) must leave every output as it was. A source that takes input
    // itself (the http source) holds what arrives until the run reads, and answers it with an error should a
    // sink then fail to open.
    const source = this.source;
    await source.open({ ...base, component: 'source', signal: this.readAbort.signal, from, window: this.tracker.window * spec.batchSize });
    this.opened.push(['source', () => source.close()]);
    // Workers load their modules while the sinks open.
    const poolStart = fixedWorkers > 0 && spec.transforms.length > 0 ? this.startPool(fixedWorkers) : undefined;
    try {
      const sink = this.sink;
      await sink.open({ ...base, component: 'sink', signal: this.haltAbort.signal, committed: checkpoint?.sink, retry: spec.retry });
      this.opened.push(['sink', () => sink.close()]);
      const deadLetter = this.deadLetter;
      if (deadLetter !== undefined) {
        await deadLetter.open({ ...base, component: 'dead_letter', signal: this.haltAbort.signal, committed: checkpoint?.deadLetter });
        this.opened.push(['dead_letter', () => deadLetter.close()]);
      }
    } catch (error) {
      void poolStart?.then((pool) => pool.terminate(), noop);
      throw error;
    }
    if (poolStart !== undefined) this.usePool(await poolStart);
    else if (transforms.length > 0) {
      this.transforms = transforms;
      this.opened.push(['transforms', () => closeTransforms(transforms)]);
    }
    this.blocks = this.blockPath(source, this.sink);
    // Without transforms, workers check the lines of blocks (jsonl: JSON; lines: UTF-8): only on the block path.
    if (fixedWorkers > 0 && spec.transforms.length === 0 && this.blocks !== undefined) this.usePool(await this.startPool(fixedWorkers));
    if (spec.workers === 'auto') this.autoCandidate = this.autoWorkers();
    if (this.autoCandidate > 0) {
      const plan = { ...DEFAULT_TRIAL, workerWarmup: this.tracker.window, ...this.options.autoWorkers?.trial };
      this.trial = new AutoWorkersTrial(plan, this.options.autoWorkers?.judge);
    }
    if (spec.rateLimit !== undefined) {
      this.rateLimiter = new RateLimiter(spec.rateLimit, this.clock);
    }
    const pipeline = spec.name;
    const random = this.options.random ?? Math.random;
    const sinkCounters = this.metrics.component({ pipeline, component: 'sink', type: spec.sink.type });
    const deadLetterCounters =
      spec.deadLetter === undefined ? undefined : this.metrics.component({ pipeline, component: 'dead_letter', type: spec.deadLetter.type });
    this.delivery = new Delivery({
      sink: this.sink,
      deadLetter: this.deadLetter,
      onError: spec.onError,
      retry: spec.retry,
      clock: this.clock,
      random,
      signal: this.haltAbort.signal,
      totals: this.totals,
      sinkCounters,
      deadLetterCounters,
      sourceCounters: this.sourceCounters,
      stageCounters: this.stageCounters,
      logger: this.logger,
      outcome: source.outcome?.bind(source),
      pipeline,
      ...(source.locate === undefined ? {} : { locate: source.locate.bind(source) }),
    });
    this.checkpointer = new Checkpointer({
      key,
      store,
      identity,
      source: this.source,
      sink: this.sink,
      deadLetter: this.deadLetter,
      tracker: this.tracker,
      everyRecords: this.options.checkpoint?.everyRecords ?? DEFAULT_EVERY_RECORDS,
      everyMs: this.options.checkpoint?.everyMs ?? DEFAULT_EVERY_MS,
      retry: spec.retry,
      clock: this.clock,
      random,
      signal: this.haltAbort.signal,
      logger: this.logger,
      sourceCounters: this.sourceCounters,
      observeLatency: this.metrics.latencyOf(pipeline),
      refused: (error) => this.delivery!.refused(error),
      confirmed: {
        sink: () => {
          const n = this.totals.takeSinkPending();
          return () => sinkCounters.sent(this.totals.confirmSink(n));
        },
        deadLetter: () => {
          const n = this.totals.takeDeadLetterPending();
          return () => deadLetterCounters?.sent(this.totals.confirmDeadLetter(n));
        },
      },
    });
    // Everything opened: the run starts, and only now may a sink change its output.
    await this.sink.begin?.();
    await this.deadLetter?.begin?.();
    if (checkpoint === undefined) {
      if (this.options.fromStart === true) await store.delete(key);
      await this.checkpointer.opening();
    }
    this.logger.info({ parallelism: this.lanes.length, workers: this.workerCount, window: this.tracker.window }, 'pipeline running');
  }

  private get transformTimeoutMs(): number {
    return this.spec.transformTimeoutMs ?? DEFAULT_TRANSFORM_TIMEOUT_MS;
  }

  private get cores(): number {
    return this.options.autoWorkers?.cores ?? availableParallelism();
  }

  /** `workers: auto`, once the source has opened and said how much is left: how many workers could pay. */
  private autoWorkers(): number {
    if (this.options.transformsModule === undefined) return 0;
    return autoWorkerCount({
      blockPath: this.blocks !== undefined,
      stateless: statelessTransforms(this.options.registry, this.spec.transforms),
      cores: this.cores,
      source: this.source?.progress?.(),
      minBytes: this.options.autoWorkers?.minBytes ?? AUTO_MIN_BYTES,
    });
  }

  /** `workers: auto`: a block is dispatched; the trial may start the workers, or stop using them. */
  private stepTrial(block: LineBlock): void {
    const step = this.trial!.observe(this.clock.now(), block.data.length, this.pool !== undefined);
    if (step === 'start') this.startAutoWorkers();
    else if (step === 'stop') this.stopAutoWorkers();
  }

  /**
   * Starts `auto`'s workers. Blocks go on through the main thread's chain until they are ready (every transform
   * is stateless, so which thread runs which block does not matter). A pool that fails to start leaves the
   * run on the main thread.
   */
  private startAutoWorkers(): void {
    const count = this.autoCandidate;
    const starting = this.startPool(count).then(
      (pool) => {
        if (this.halted) return pool;
        this.pool = pool;
        this.workerCount = pool.size;
        this.logger.info({ workers: pool.size, mainRate: this.trial?.mainRate }, 'workers: auto started worker threads');
        return pool;
      },
      (error: unknown) => {
        this.logger.warn({ err: error }, 'workers: auto could not start worker threads; the main thread goes on');
        return undefined;
      },
    );
    this.opened.push(['workers', async () => {
      const pool = await starting;
      await (this.killed ? pool?.terminate() : pool?.close());
    }]);
  }

  /** The trial found the main thread faster: new blocks stay here; the workers finish theirs and exit. */
  private stopAutoWorkers(): void {
    const pool = this.pool;
    this.pool = undefined;
    this.workerCount = 0;
    const rates = { mainRate: this.trial?.mainRate, workerRate: this.trial?.workerRate };
    this.logger.info(rates, 'workers: auto keeps the main thread (it was faster than the workers)');
    void pool?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'workers: auto could not stop its worker threads'));
  }

  private usePool(pool: WorkerPool): void {
    this.pool = pool;
    this.workerCount = pool.size;
    this.opened.push(['workers', () => (this.killed ? pool.terminate() : pool.close())]);
  }

  private startPool(size: number): Promise<WorkerPool> {
    if (this.options.transformsModule === undefined) {
      return Promise.reject(new WireError('INVALID_INPUT', 'workers > 0 needs the transforms module for worker threads (transformsModule)'));
    }
    const pool = WorkerPool.start({
      size,
      transformsModule: this.options.transformsModule,
      transforms: this.spec.transforms,
      transformTimeoutMs: this.transformTimeoutMs,
      onFatal: (error) => this.fail(error),
    });
    pool.catch(noop); // awaited once the sinks are open
    return pool;
  }

  /**
   * Line blocks flow from a line source to a line sink when nothing needs records between them: one lane
   * (lanes exist to split by key) and no rate limit (it counts records as they are read).
   */
  private blockPath(source: Source, sink: Sink): PipelineRunner['blocks'] {
    if (this.lanes.length !== 1 || this.spec.rateLimit !== undefined || this.options.recordPath === true) return undefined;
    const out = sink.lineFormat?.();
    if (out === undefined || sink.writeLines === undefined) return undefined;
    const input = source.blocks?.();
    return input === undefined ? undefined : { input, out };
  }

  private startTimers(): void {
    const everyMs = this.options.checkpoint?.everyMs ?? DEFAULT_EVERY_MS;
    // Time-based checkpoints must happen even when no batch arrives to trigger them (an idle source).
    const checkpointTimer = setInterval(() => {
      if (this.halted || this.serial.busy) return;
      this.serial.run(async () => this.checkpointBehind(await this.checkpointer!.begin(false))).catch((error: unknown) => this.fail(error));
    }, everyMs);
    checkpointTimer.unref();
    this.timers.push(checkpointTimer);
    const onProgress = this.options.onProgress;
    if (onProgress !== undefined) {
      const progressTimer = setInterval(() => this.report(onProgress), this.options.progressIntervalMs ?? 500);
      progressTimer.unref();
      this.timers.push(progressTimer);
    }
  }

  private stopTimers(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private report(onProgress: (progress: RunProgress) => void): void {
    try {
      onProgress(this.progress());
    } catch (error) {
      this.logger.warn({ err: error }, 'onProgress callback threw');
    }
  }

  private closeLanes(): void {
    for (const lane of this.lanes) lane.close();
  }

  /** Source batches read and not yet complete, routed or not, against the in-flight window. */
  private get windowFull(): boolean {
    return this.tracker.inFlight + (this.router?.pending ?? 0) >= this.tracker.window;
  }

  private async readLoop(): Promise<void> {
    const input: AsyncIterable<Batch | LineBlock> = this.blocks?.input ?? this.source!.read(this.spec.batchSize);
    const iterator = input[Symbol.asyncIterator]();
    let pendingNext = false;
    try {
      while (!this.stopping && !this.halted) {
        if (this.paused && !(await this.whilePaused())) break;
        if (this.windowFull) {
          await new Promise<void>((resolve) => (this.wakeForSpace = resolve));
          continue;
        }
        const turn = this.turns.due();
        if (turn !== undefined) {
          // Then the checks again: a stop, kill or full window may have come meanwhile.
          await turn;
          continue;
        }
        pendingNext = true;
        const next = await this.nextOrStop(iterator);
        if (next === STOPPED) break;
        pendingNext = false;
        if (next.done === true) break;
        // Asked for before a pause: held unread until resume; a stop meanwhile leaves it unacknowledged, read again next run.
        if (this.paused && !(await this.whilePaused())) break;
        const batch = next.value;
        if (!Array.isArray(batch)) {
          this.dispatchBlock(batch as LineBlock);
          continue;
        }
        if (batch.length === 0) continue;
        if (this.rateLimiter !== undefined) {
          if (!(await this.dispatchPaced(batch, this.rateLimiter))) break;
          continue;
        }
        this.countRead(batch.length);
        this.dispatch(batch);
      }
    } finally {
      this.endRead(iterator, pendingNext);
    }
  }

  /**
   * A batch under `rate_limit`, in the limiter's slices, each dispatched (and counted as read) once its turn comes
   * and there is room in the window. False when a stop ends the wait: the rest was never let in, so it is neither
   * counted nor acknowledged, and the source reads it again on the next run.
   */
  private async dispatchPaced(batch: Batch, limiter: RateLimiter): Promise<boolean> {
    for (let from = 0; from < batch.length; ) {
      if (this.stopping || this.halted) return false;
      if (this.windowFull) {
        await new Promise<void>((resolve) => (this.wakeForSpace = resolve));
        continue;
      }
      const end = Math.min(batch.length, from + limiter.slice);
      try {
        await limiter.take(end - from, this.readAbort.signal);
      } catch (error) {
        if (isAborted(error)) return false;
        throw error;
      }
      const slice = from === 0 && end === batch.length ? batch : batch.slice(from, end);
      this.countRead(slice.length);
      this.dispatch(slice);
      from = end;
    }
    return true;
  }

  /** The source's next batch, or STOPPED as soon as stop/kill/failure asks, even while the source waits. */
  /**
   * The source's next batch, or STOPPED once `interruptRead` is called. The interrupt is let go as soon as the read
   * settles: it holds the promise, and with it the batch. Kept until the next read, it made V8 promote nearly every
   * record of a run to the old generation, to be collected there at several times the cost (generate → drop, 400,000
   * records, in process: 92 MB promoted and 0.48 s; let go: 6.5 MB and 0.26–0.34 s).
   */
  private nextOrStop<T>(iterator: AsyncIterator<T>): Promise<IteratorResult<T> | typeof STOPPED> {
    return new Promise((resolve, reject) => {
      const interrupt = (): void => resolve(STOPPED);
      this.interruptRead = interrupt;
      const settled = (): void => {
        if (this.interruptRead === interrupt) this.interruptRead = undefined;
      };
      iterator.next().then(
        (result) => {
          settled();
          resolve(result);
        },
        (error: unknown) => {
          settled();
          reject(error);
        },
      );
    });
  }

  private endRead(iterator: AsyncIterator<unknown>, pendingNext: boolean): void {
    this.interruptRead = undefined;
    if (iterator.return === undefined) return;
    // With a read still pending, return() would queue behind it; the aborted signal ends the source's wait.
    const ended = pendingNext ? undefined : iterator.return();
    Promise.resolve(ended).catch((error: unknown) => this.logger.warn({ err: error }, 'source iterator did not end cleanly'));
  }

  private dispatch(batch: Batch): void {
    const position = batch[batch.length - 1]!.position;
    const now = this.clock.now();
    if (this.router !== undefined) {
      this.router.push({ result: this.transform(batch), position, readAt: now });
      return;
    }
    const laneCount = this.lanes.length;
    if (laneCount === 1) {
      const seq = this.tracker.begin(position, 1, now);
      this.lanes[0]!.push({ seq, result: this.transform(batch) });
      return;
    }
    const subs = partition(batch, laneCount, this.keylessLane);
    this.keylessLane = (this.keylessLane + 1) % laneCount;
    let parts = 0;
    for (const sub of subs) if (sub !== undefined) parts++;
    const seq = this.tracker.begin(position, parts, now);
    for (let lane = 0; lane < laneCount; lane++) {
      const sub = subs[lane];
      if (sub !== undefined) this.lanes[lane]!.push({ seq, result: this.transform(sub) });
    }
  }

  /** A batch whose chain has run, into lanes by the keys it set: one in-flight entry, one part per lane it reaches. */
  private route(result: ChainResult, batch: RoutedBatch): void {
    const laneCount = this.lanes.length;
    const parts = partitionResult(result, laneCount, this.keylessLane);
    this.keylessLane = (this.keylessLane + 1) % laneCount;
    let count = 0;
    for (const part of parts) if (part !== undefined) count++;
    const seq = this.tracker.begin(batch.position, count, batch.readAt);
    for (let lane = 0; lane < laneCount; lane++) {
      const part = parts[lane];
      if (part !== undefined) this.lanes[lane]!.push({ seq, result: part });
    }
  }

  private async routeLoop(router: KeyRouter): Promise<void> {
    try {
      await router.run(() => this.halted);
    } catch (error) {
      this.fail(error);
    } finally {
      this.closeLanes();
    }
  }

  /** A block is one part of one in-flight entry; its records are counted once the chain has run. */
  private dispatchBlock(block: LineBlock): void {
    if (this.trial !== undefined) this.stepTrial(block);
    const seq = this.tracker.begin(block.position, 1, this.clock.now());
    const out = this.blocks!.out;
    if (this.pool === undefined) {
      const processed = processBlock(this.transforms, block, out, this.renderBuffers);
      const located = (r: BlockResult): BlockResult => withLongLine(locateRejected(r, block), block);
      const result = processed instanceof Promise ? processed.then(located) : located(processed);
      const item: LaneItem = { seq, result };
      // The block's memory goes back to the source once nothing reads it: now if the result is new bytes,
      // after the sink's write if the block goes out as it came in.
      const settle = (result: BlockResult): void => {
        if (result.chunks.includes(block.data)) item.afterWrite = block.release;
        else {
          block.release?.();
          if (result.rendered === true) item.afterWrite = () => this.renderBuffers.giveAll(result.chunks);
        }
      };
      if (item.result instanceof Promise) (item.result as Promise<BlockResult>).then(settle, noop);
      else settle(item.result as BlockResult);
      this.lanes[0]!.push(item);
      return;
    }
    // A worker receives the block's buffer itself (transferred), and sends it back with the result for the
    // source to read into again.
    const pool = this.pool;
    const pending = pool.processBlock(block, out).then((r) => withLongLine(locateRejected(r, block), block));
    const item: LaneItem = { seq, result: pending };
    const settle = (result: BlockResult): void => {
      if (result.returned !== undefined) block.release?.(result.returned);
      if (result.rendered === true) item.afterWrite = () => pool.recycle(result.chunks);
      // Neither returned nor rendered: the block went out as it came in, its memory in the one chunk.
      else if (result.returned === undefined && result.chunks.length === 1) item.afterWrite = () => block.release?.(result.chunks[0]);
      item.result = result;
    };
    pending.then(settle, noop); // a failure is the lane's to see when it awaits
    this.lanes[0]!.push(item);
  }

  /** Records the source could not read go no further than here (they never cross to a worker). */
  private transform(batch: Batch): ChainResult | Promise<ChainResult> {
    const read = readable(batch);
    if (this.pool !== undefined) {
      const pending = this.pool.process(read.records).then((result) => withRejected(result, read.rejected));
      // Awaited later by its lane, or never if the run halts first: it must not surface as unhandled.
      pending.catch(noop);
      return pending;
    }
    const result = runWritable(this.transforms, read.records, this.sink!.writesFields !== true);
    return result instanceof Promise ? result.then((r) => withRejected(r, read.rejected)) : withRejected(result, read.rejected);
  }

  private async laneLoop(lane: LaneQueue<LaneItem>): Promise<void> {
    try {
      while (!this.halted) {
        const taken = lane.take();
        const item = taken instanceof Promise ? await taken : taken;
        if (item === undefined || this.halted) return;
        const result = item.result instanceof Promise ? await item.result : item.result;
        if (this.halted) return;
        this.count(result);
        if ('chunks' in result) {
          this.countRead(result.received);
          const ready = this.gatherReady(lane, item, result);
          await this.serial.run(() => this.deliverLines(ready));
        } else {
          // Held back while a checkpoint waits for the sink to hold exactly a prefix of the source's batches.
          while (!(await this.serial.run(() => this.deliver(item.seq, result)))) await this.checkpointer!.whenReleased();
        }
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** Records read by the source: at read time for batches, once a block's lines are cut for blocks. */
  private countRead(count: number): void {
    this.sourceCounters.received(count);
    this.sourceCounters.sent(count);
    this.totals.recordsIn += count;
    this.checkpointer!.read(count);
  }

  /** Per-stage counters, once per lane batch. */
  private count(result: ChainResult | BlockResult): void {
    const counts = result.counts;
    // A lane's part of a routed batch: its counts ride with another part.
    if (counts.length === 0) return;
    for (let stage = 0; stage < this.stageCounters.length; stage++) {
      const received = counts[stage * 3]!;
      const sent = counts[stage * 3 + 1]!;
      const rejected = counts[stage * 3 + 2]!;
      if (received === 0) continue;
      const counters = this.stageCounters[stage]!;
      counters.received(received);
      counters.sent(sent);
      counters.errors(rejected);
      this.totals.errors += rejected;
      if (received > sent + rejected) this.totals.filtered += received - sent - rejected;
      else this.totals.created += sent + rejected - received;
    }
  }

  /** Inside the serial section: dead letters, then records, then the batch part is complete. False: held back. */
  private async deliver(seq: number, result: ChainResult): Promise<boolean> {
    if (this.halted) return true;
    if (this.checkpointer!.holds(seq)) return false;
    if (result.rejected.length > 0) await this.delivery!.reject(result.rejected);
    if (result.records.length > 0) await this.delivery!.write(result.records);
    if (this.halted) return true;
    await this.completed([seq]);
    return true;
  }

  /** Batch parts now in the sink or the dead-letter sink: they count toward the ackable prefix. */
  private async completed(seqs: readonly number[]): Promise<void> {
    for (const seq of seqs) this.tracker.complete(seq);
    // One lane: its next write bounds the run, so it starts first. Several: another lane may be idle, waiting on
    // the reader's next batch, so the reader is woken at once (and checkpoints then keep finding exact moments).
    if (this.lanes.length === 1 && this.router === undefined) this.wakeAfterWrites();
    else this.wake();
    if (this.source!.awaitingAck?.() === true) this.commitSoon(seqs.length);
    else this.checkpointBehind(await this.checkpointer!.begin(false));
  }

  /** A checkpoint started: its sync and save go on behind the writes, and a failure fails the run. */
  private checkpointBehind(started: { readonly saved: Promise<void> } | undefined): void {
    started?.saved.catch((error: unknown) => this.fail(error));
  }

  /**
   * Callers wait for an ack: one flush and checkpoint for all of them (a group commit), queued once nothing
   * read is still on its way to the sink, or after a window's worth of batches so a steady stream gets its
   * commits too. One flush at a time: while one is under way the next waits, and writes go on (with sinks that
   * flush behind them), so it covers every batch completed before it starts; later ones wait for the one after.
   */
  private commitSoon(completed: number): void {
    this.completedSinceCommit += completed;
    if (this.commitQueued) return;
    if (this.tracker.inFlight > 0 && this.completedSinceCommit < this.tracker.window) return;
    this.commitQueued = true;
    const checkpointer = this.checkpointer!;
    checkpointer
      .ready()
      .then(() =>
        this.serial.run(async () => {
          this.commitQueued = false;
          this.completedSinceCommit = 0;
          if (this.halted) return;
          this.checkpointBehind(await checkpointer.begin(true));
        }),
      )
      .catch((error: unknown) => this.fail(error));
  }

  /**
   * This block's result and those queued right behind it that are ready too (up to COALESCE_BYTES): one
   * sink write for all of them instead of one each. Their counts are taken as they are gathered.
   */
  private gatherReady(lane: LaneQueue<LaneItem>, first: LaneItem, result: BlockResult): ReadyBlocks {
    const ready: ReadyBlocks = { seqs: [first.seq], results: [result], afterWrite: [] };
    if (first.afterWrite !== undefined) ready.afterWrite.push(first.afterWrite);
    let bytes = bytesOf(result);
    while (bytes < COALESCE_BYTES) {
      const next = lane.takeIf((item) => !(item.result instanceof Promise));
      if (next === undefined) break;
      const nextResult = next.result as BlockResult;
      this.count(nextResult);
      this.countRead(nextResult.received);
      ready.seqs.push(next.seq);
      ready.results.push(nextResult);
      if (next.afterWrite !== undefined) ready.afterWrite.push(next.afterWrite);
      bytes += bytesOf(nextResult);
    }
    return ready;
  }

  /** As `deliver`, for the rendered lines of consecutive blocks. */
  private async deliverLines(ready: ReadyBlocks): Promise<void> {
    if (this.halted) return;
    const chunks: Uint8Array[] = [];
    let count = 0;
    for (const result of ready.results) {
      if (result.rejected.length > 0) await this.delivery!.reject(result.rejected);
      for (const chunk of result.chunks) chunks.push(chunk);
      count += result.count;
    }
    if (count > 0) await this.delivery!.writeLines(chunks, count, this.blocks!.out);
    if (this.halted) return;
    // Written (or dead-lettered): the sink holds no reference to these bytes any more.
    for (const afterWrite of ready.afterWrite) afterWrite();
    await this.completed(ready.seqs);
  }

  private async closeAll(): Promise<void> {
    // The source first, though it opened first: it takes no more input while the rest closes, last opened first.
    const others = this.opened.filter(([component]) => component !== 'source').reverse();
    for (const [component, close] of [...this.opened.filter(([component]) => component === 'source'), ...others]) {
      try {
        await close();
      } catch (error) {
        this.logger.error({ err: error, component }, 'close failed');
        // A clean run whose sink cannot close may not have made its last writes durable: say so.
        if (this.failure === undefined && !this.killed) {
          this.failure = new WireError('UNAVAILABLE', `${component} failed to close: ${toWireError(error).message}`, { component }, error);
        }
      }
    }
    this.haltAbort.abort();
  }

  private summary(cause: RunCause): RunSummary {
    const elapsedMs = this.clock.now() - this.startedAt;
    const saved = this.checkpointer?.savedPosition;
    const summary: RunSummary = {
      pipeline: this.spec.name,
      state: this.failure === undefined ? 'stopped' : 'failed',
      cause,
      ...this.totals.snapshot(),
      elapsedMs,
      rate: elapsedMs > 0 ? (this.totals.recordsIn * 1000) / elapsedMs : 0,
      workers: this.workerCount,
      ...(saved === undefined ? {} : { checkpoint: saved.position }),
      ...(this.resumedFrom === undefined ? {} : { resumedFrom: this.resumedFrom }),
      ...(this.failure === undefined ? {} : { error: this.failure }),
    };
    if (this.options.onProgress !== undefined) this.report(this.options.onProgress);
    this.logger.info({ ...summary, error: this.failure?.message }, 'pipeline ended');
    return summary;
  }
}
