import type { LineBlock, LineFormat } from './line-block.js';
import type { RetrySpec } from './pipeline.js';
import type { Batch, JsonValue, Position, WireRecord } from './record.js';

/** What every component is given when it opens. */
export interface ComponentContext {
  /** The pipeline's name. */
  readonly pipeline: string;
  /** Where this component sits: `source`, `transforms.0`, `sink`, `dead_letter`. */
  readonly component: string;
  /** The directory a component may keep local state in (e.g. `--data-dir`). */
  readonly dataDir: string;
  /** Aborted when the pipeline stops. */
  readonly signal: AbortSignal;
  /**
   * The id of the source partition this run reads, when it runs as one of its pipeline's tasks in a cluster (see
   * `ComponentDefinition.partitions`); undefined for a whole pipeline (`wire run`). A sink whose output the tasks
   * share keeps its own part apart by it.
   */
  readonly partition?: string;
}

export interface SourceOpenOptions extends ComponentContext {
  /** The last acknowledged position from the checkpoint store; resume after it. */
  readonly from?: Position;
  /**
   * Records the engine holds at most between read and sink (its in-flight batches × the batch size): a source whose
   * server pushes records ahead of reads (a prefetch, a receive maximum) bounds that by it.
   */
  readonly window?: number;
}

/** How far a source has read, when it knows its size (a file): drives progress bars and ETAs. */
export interface SourceProgress {
  readonly done: number;
  readonly total: number;
  readonly unit: 'bytes' | 'records';
}

/**
 * A source of records. `read` yields batches until the input ends (or the signal aborts, for
 * unbounded sources); `ack(position)` says every record up to and including `position` is safely
 * in the sink or the dead-letter sink, so the source may commit it upstream.
 */
export interface Source {
  open(options: SourceOpenOptions): Promise<void>;
  read(maxRecords: number): AsyncIterable<Batch>;
  ack(position: Position): Promise<void>;
  close(): Promise<void>;
  progress?(): SourceProgress | undefined;
  /**
   * The form of an acknowledged record's position to store in a checkpoint, when resuming needs more than records
   * carry (a glob file source adds the files it read to their end). Called once per checkpoint, never per record.
   */
  checkpointPosition?(position: Position): Position;
  /**
   * The fast path, for sources of text lines: the same records as `read`, as blocks of whole lines, or
   * `undefined` when this source's configuration cannot (the engine then calls `read`). Called once, after
   * `open`, instead of `read`.
   */
  blocks?(): AsyncIterable<LineBlock> | undefined;
  /**
   * For a source whose callers wait for their records to be acknowledged (an HTTP request): true while some
   * do. The engine then makes records durable as soon as they are in the sink, with one flush and checkpoint
   * for every batch completed meanwhile (a group commit), instead of waiting for its periodic checkpoint.
   */
  awaitingAck?(): boolean;
  /**
   * For a source that tells its callers what became of their records: the engine reports where records went,
   * by their positions, before the ack that covers them. `accepted`: the sink took them. `dead_lettered` or
   * `dropped`: `on_error` placed them so; with `previous: 'accepted'` they replace an earlier `accepted` (the
   * sink refused them at a later flush). A record never reported was filtered out by a transform. The engine
   * reports records, not line blocks: a source that offers `blocks()` is not told.
   */
  outcome?(records: readonly WireRecord[], outcome: RecordOutcome, previous?: 'accepted'): void;
  /**
   * Where the records at these positions are, as a user would look for them (`{ file, line }`), for their dead
   * letters: called only for records going there, so finding out may cost what reading must not. An entry left
   * undefined is not known. Without it, a dead letter gives the position itself.
   */
  locate?(positions: readonly (Position | undefined)[]): Promise<(SourceLocation | undefined)[]>;
}

/** Where a record is in its source, in terms a user can look up: `{ file, line }`, `{ file, index }`, `{ position }`. */
export type SourceLocation = Readonly<Record<string, JsonValue>>;

/** Where a record ended up (see `Source.outcome`). */
export type RecordOutcome = 'accepted' | 'dead_lettered' | 'dropped';

export interface SinkOpenOptions extends ComponentContext {
  /** The sink state stored with the last checkpoint (see `Sink.checkpoint`); restore it for exactly-once. */
  readonly committed?: JsonValue;
  /**
   * The pipeline's retry policy, for a sink that sends requests in the background and so retries them itself
   * (the http sink: a request must be retried before the next one of its connection, to keep per-key order).
   * Records such a sink gives up on come back as `RecordsRefused` with the attempts made.
   */
  readonly retry?: RetrySpec;
}

/**
 * A sink. `write` resolves once the sink has accepted the batch (it may buffer); `flush` resolves once
 * everything accepted is durable. `checkpoint()` returns the state to store with the next source position
 * (a file sink returns its length) and is called right after a successful `flush` (or see `flushBehind`).
 */
export interface Sink {
  /** Gets ready without changing the output: a run may still fail to start after it. */
  open(options: SinkOpenOptions): Promise<void>;
  /** Called once every component has opened, before the first write: the sink may now change its output (cut a file). */
  begin?(): Promise<void>;
  write(batch: Batch): Promise<void>;
  flush(): Promise<void>;
  checkpoint?(): JsonValue | undefined;
  close(): Promise<void>;
  /** The fast path, for sinks of text lines: the format `writeLines` takes, or `undefined` when it takes none. */
  lineFormat?(): LineFormat | undefined;
  /** Like `write`, for `count` records already rendered as lines of `lineFormat()`, in these chunks, in order. */
  writeLines?(chunks: readonly Uint8Array[], count: number): Promise<void>;
  /**
   * Starts a flush of everything written before this call and returns at once: `state` describes exactly that
   * (what `checkpoint()` would return after a `flush` now) and `durable` settles once it is durable. Writes may
   * go on meanwhile; they are neither covered nor described. The engine then keeps writing while the sink
   * syncs, one sync at a time (a group commit). A failure is final: the run fails (no retry).
   */
  flushBehind?(): { readonly state: JsonValue | undefined; readonly durable: Promise<void> };
  /**
   * True for a sink that writes a record's value field by field and never as JSON text (postgres rows, mongodb
   * documents): the engine then does not write flat values as JSON ahead of it (see `writable`).
   */
  readonly writesFields?: boolean;
}

/** Handed to transforms so one failing record does not fail the batch. */
export interface TransformContext {
  /** Sends a record to the dead-letter sink with the error; it is not passed on. */
  reject(record: WireRecord, error: unknown): void;
  /**
   * Aborted when the engine stops waiting for this call (past `transform_timeout`): a transform that can stop
   * its work (js ends its thread) does so; anything it returns or rejects after that is ignored.
   */
  readonly signal?: AbortSignal;
}

/** Maps a batch to a batch: may drop, change or split records. Synchronous where it can be. */
export interface Transform {
  process(batch: Batch, ctx: TransformContext): Batch | Promise<Batch>;
  close?(): Promise<void>;
}

/** What is stored per pipeline task: the last acknowledged source position and the sinks' states with it. */
export interface Checkpoint {
  /** `null` before anything is acknowledged: a run's opening checkpoint, saved for the sinks' starting states. */
  readonly position: Position;
  readonly sink?: JsonValue;
  /** The dead-letter sink's state, stored beside the sink's so both resume consistently. */
  readonly deadLetter?: JsonValue;
  /** The task's assignment epoch in a cluster; a checkpoint from an older epoch is rejected. */
  readonly epoch?: number;
  /**
   * What the checkpoint means: which source its position counts in, which sinks its states measure. A run whose
   * components differ refuses it. Missing in checkpoints saved before it existed: those are taken as they are.
   */
  readonly identity?: CheckpointIdentity;
  readonly updatedAt: number;
}

/** The components a checkpoint belongs to; a sink is named only when its definition says what identifies it. */
export interface CheckpointIdentity {
  readonly source: ComponentIdentity;
  readonly sink?: ComponentIdentity;
  readonly deadLetter?: ComponentIdentity;
}

export interface ComponentIdentity {
  readonly type: string;
  /** For people: the type and what it reads or writes (`file /data/in.jsonl`). */
  readonly label: string;
  /** A hash of the type and of the config that decides the records and their positions (never the config itself: it may hold secrets). */
  readonly fingerprint: string;
}

/** Where acknowledged positions live: LMDB on one machine, the replicated state machine in a cluster. */
export interface CheckpointStore {
  load(key: string): Promise<Checkpoint | undefined>;
  save(key: string, checkpoint: Checkpoint): Promise<void>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
  /**
   * Someone waits on this key's next checkpoint (a run's last one, a stop, a pause, a group commit): a store that
   * gathers saves to send them together sends this key's, pending or about to come, without waiting its turn.
   */
  hurry?(key: string): void;
}

export type ComponentKind = 'source' | 'sink' | 'transform';

/** A JSON Schema object (TypeBox schemas are JSON Schemas). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/**
 * A connector or transform declares itself once: its schema validates configs, generates the docs
 * page and is what `wire connectors` prints. `check` catches what a schema cannot (a bad expression)
 * and returns problems as `{ path, message }` relative to the component's config.
 */
export interface ComponentDefinition<C = Record<string, unknown>, T = Source | Sink | Transform> {
  readonly kind: ComponentKind;
  readonly type: string;
  readonly description: string;
  readonly schema: JsonSchema;
  /** Example config shown in the docs. */
  readonly example?: Record<string, unknown>;
  /** Markdown for the docs page after the fields: what delivery it guarantees, how it was tested. */
  readonly notes?: string;
  /**
   * A transform that keeps nothing from one record to the next, so `workers: auto` may move it to worker
   * threads without changing what it does. Left out (a `js` transform, whose module may keep state), the
   * engine runs it where the user said.
   */
  readonly stateless?: boolean;
  /**
   * A transform that never changes a record's key (splits keep it too). Left out, the engine assumes the
   * transform may set keys, and with several lanes runs the chain before it splits records into lanes by key.
   */
  readonly keepsKey?: boolean;
  check?(config: C): ConfigProblem[];
  /**
   * Checks that need I/O or to load code (a `js` transform's module and its export), run by `wire validate` and
   * by `wire run` before anything opens, once the config passed its schema and `check`.
   */
  probe?(config: C): Promise<ConfigProblem[]>;
  create(config: C): T;
  /**
   * What of the config decides a source's records and their positions, or what a sink's checkpointed state
   * measures (a file's path): a checkpoint saved under another identity does not apply. A source without it is
   * identified by its whole config; a sink without it keeps no state worth checking.
   */
  identity?(config: C): { readonly label: string; readonly key: JsonValue };
  /** A checkpointed position in words, for the summary of a resumed run (`in.jsonl, byte 4,096`). */
  describePosition?(config: C, position: Position): string;
  /**
   * A source's partitions: the parts a cluster may run as separate tasks, each with the config its task runs.
   * Left out, the source is one task. The scheduler sees only the ids, so a source with partitions of its own
   * (Kafka: one per topic partition) and one whose tasks share the work as consumers of a group (Redis streams,
   * NATS JetStream, RabbitMQ: one per consumer, the consumer's name in its config) declare them the same way.
   * Ids must be stable: a task's checkpoint is keyed by its id.
   */
  partitions?(config: C): Promise<readonly SourcePartition[]>;
}

/** One part of a source that a task runs (see `ComponentDefinition.partitions`). */
export interface SourcePartition {
  /** Stable and unique among the source's partitions: `0`, a file path, `orders-3`. */
  readonly id: string;
  /** The source config of the task that runs this partition (records no other partition makes). */
  readonly config: Record<string, unknown>;
}

export interface ConfigProblem {
  /** Path inside the component's config, e.g. `set.total`. Empty for the config itself. */
  readonly path: string;
  readonly message: string;
  /** Column offset within the string value at `path`, for expression errors. */
  readonly column?: number;
}

/** Looks up component definitions by kind and type. */
export interface ComponentRegistry {
  get(kind: ComponentKind, type: string): ComponentDefinition | undefined;
  list(kind?: ComponentKind): readonly ComponentDefinition[];
}
