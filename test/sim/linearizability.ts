/**
 * A linearizability checker (porcupine's algorithm: Wing & Gong's search with Lowe's memoization).
 * The history is split into independent partitions (one per key for a key-value store); in each, call
 * and return events form a doubly linked list. The search linearizes a pending call whose model step
 * accepts its output, lifting it out of the list; when it meets a return whose call was not linearized
 * yet, it backtracks. A (linearized set, model state) pair already explored is never explored twice.
 * The search is bounded: past `maxSteps` it answers "unknown" instead of running for hours.
 */

/** One operation as a client saw it. `ret` is Infinity for an operation that never returned. */
export interface Operation<I, O> {
  readonly client: number;
  readonly input: I;
  /** Undefined when the operation never returned (its outcome is unknown). */
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

export interface Model<S, I, O> {
  /** Splits a history into partitions that can be checked independently. */
  partition(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  init(): S;
  /** Whether `input` may produce `output` (undefined: unknown) in state `s`, and the next state. */
  step(s: S, input: I, output: O | undefined): { ok: boolean; next: S };
  /** A string that is equal for equal states (memoization key). */
  key(s: S): string;
  describe?(op: Operation<I, O>): string;
}

export type CheckResult = 'ok' | 'illegal' | 'unknown';

export interface PartitionReport<I, O> {
  readonly result: CheckResult;
  readonly ops: readonly Operation<I, O>[];
  /** The longest sequence of operations the search managed to linearize (for illegal histories). */
  readonly longestPrefix: readonly Operation<I, O>[];
  readonly steps: number;
}

export interface CheckReport<I, O> {
  readonly result: CheckResult;
  readonly partitions: readonly PartitionReport<I, O>[];
}

interface Node {
  /** Index of the operation in its partition. */
  op: number;
  kind: 'call' | 'return';
  /** On a call: its return node. */
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/** Checks `history` against `model`; each partition may take at most `maxSteps` search steps. */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  maxSteps = 2_000_000,
): CheckReport<I, O> {
  const partitions = model.partition(history).map((ops) => checkPartition(model, ops, maxSteps));
  let result: CheckResult = 'ok';
  for (const p of partitions) {
    if (p.result === 'illegal') result = 'illegal';
    else if (p.result === 'unknown' && result === 'ok') result = 'unknown';
  }
  return { result, partitions };
}

/** Builds the event list: by time, and calls before returns at equal times (they overlap). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Node {
  const events: { time: number; node: Node }[] = [];
  ops.forEach((op, i) => {
    if (!(op.call <= op.ret)) throw new Error(`operation ${i} returns before its call`);
    const ret: Node = { op: i, kind: 'return', match: null, prev: null, next: null };
    const call: Node = { op: i, kind: 'call', match: ret, prev: null, next: null };
    events.push({ time: op.call, node: call }, { time: op.ret, node: ret });
  });
  events.sort((a, b) => a.time - b.time || (a.node.kind === b.node.kind ? 0 : a.node.kind === 'call' ? -1 : 1));
  const head: Node = { op: -1, kind: 'call', match: null, prev: null, next: null };
  let last = head;
  for (const e of events) {
    last.next = e.node;
    e.node.prev = last;
    last = e.node;
  }
  return head;
}

/** Removes a call and its return from the list (it is linearized). */
function lift(call: Node): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Puts them back, in the reverse order of `lift` (backtracking). */
function unlift(call: Node): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

class Bitset {
  readonly words: Uint32Array;
  constructor(size: number, words?: Uint32Array) {
    this.words = words ?? new Uint32Array(Math.ceil(size / 32) || 1);
  }
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }
  with(i: number): Bitset {
    const b = new Bitset(0, this.words.slice());
    b.set(i);
    return b;
  }
  key(): string {
    return this.words.join(',');
  }
}

function checkPartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): PartitionReport<I, O> {
  const head = buildList(ops);
  const linearized = new Bitset(ops.length);
  const seen = new Set<string>();
  const calls: { node: Node; state: S }[] = [];
  let longest: number[] = [];
  let state = model.init();
  let entry: Node | null = head.next;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > maxSteps) return { result: 'unknown', ops, longestPrefix: longest.map((i) => ops[i]!), steps };
    const node = entry!;
    if (node.kind === 'call') {
      const op = ops[node.op]!;
      const { ok, next } = model.step(state, op.input, op.output);
      let advanced = false;
      if (ok) {
        const bits = linearized.with(node.op);
        const memo = `${bits.key()}|${model.key(next)}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          calls.push({ node, state });
          state = next;
          linearized.set(node.op);
          lift(node);
          entry = head.next;
          advanced = true;
          if (calls.length > longest.length) longest = calls.map((c) => c.node.op);
        }
      }
      if (!advanced) entry = node.next;
    } else {
      // A return whose call is still in the list: that call must have taken effect before here.
      const top = calls.pop();
      if (top === undefined) return { result: 'illegal', ops, longestPrefix: longest.map((i) => ops[i]!), steps };
      state = top.state;
      linearized.clear(top.node.op);
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { result: 'ok', ops, longestPrefix: longest.map((i) => ops[i]!), steps };
}
