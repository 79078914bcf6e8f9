import { isPath, type BinaryOp, type Node } from './ast.js';
import { compileError, runtimeError, typeName, type Site } from './errors.js';
import type { Call, FunctionSpec } from './function-spec.js';
import { FUNCTIONS, FUNCTION_NAMES } from './functions.js';
import { add, arithmetic, compare, negate, within, type Ordering } from './operators.js';
import { closest } from '../../core/suggest.js';
import { equals as equalsValues, getDynamic, getIndex, getKey, hasMember, truthy } from './values.js';

export type Evaluator = (root: unknown) => unknown;

/** A compiled node; constants carry their value so operators can specialise on them. */
interface Compiled {
  readonly fn: Evaluator;
  readonly constant: boolean;
  readonly value?: unknown;
  /** True when the node always gives a boolean, so logic can skip the truthiness test. */
  readonly boolean?: boolean;
}

type Test = (root: unknown) => boolean;

/** The node as a condition: its own result when boolean, else its truthiness. */
function test(c: Compiled): Test {
  const f = c.fn;
  return c.boolean === true ? (f as Test) : (root) => truthy(f(root));
}

const self: Evaluator = (root) => (root === undefined ? null : root);

/** Turns a tree into nested closures, evaluated against the record's value (`this`). */
export function compileNode(node: Node, source: string): Evaluator {
  return new Compiler(source).compile(node).fn;
}

function constant(value: unknown): Compiled {
  // A constant array or object handed out as a result is copied, so one record's change cannot reach another's.
  const fn: Evaluator = typeof value === 'object' && value !== null ? () => structuredClone(value) : () => value;
  return { fn, constant: true, value };
}

function dynamic(fn: Evaluator): Compiled {
  return { fn, constant: false };
}

class Compiler {
  constructor(private readonly source: string) {}

  private site(offset: number, name: string): Site {
    return { source: this.source, offset, name };
  }

  compile(node: Node): Compiled {
    switch (node.type) {
      case 'literal':
        return constant(node.value);
      case 'this':
        return dynamic(self);
      case 'member':
      case 'index':
        return dynamic(this.path(node));
      case 'array':
        return this.array(node.items);
      case 'unary':
        return this.unary(node.op, node.operand, node.offset);
      case 'binary':
        return this.binary(node.op, node.left, node.right, node.offset);
      case 'conditional':
        return this.conditional(node.test, node.then, node.otherwise);
      case 'call':
        return this.call(node.name, node.args, node.offset);
    }
  }

  private boolean(c: Compiled): Compiled {
    return { ...c, boolean: true };
  }

  /** Folds a node whose inputs are all constant into its value, computed once here. */
  private fold(parts: readonly Compiled[], fn: Evaluator): Compiled {
    return parts.every((p) => p.constant) ? constant(fn(null)) : dynamic(fn);
  }

  private path(node: Extract<Node, { type: 'member' | 'index' }>): Evaluator {
    if (node.type === 'index') {
      const object = this.compile(node.object).fn;
      const index = this.compile(node.index).fn;
      return (root) => getDynamic(object(root), index(root));
    }
    if (node.key === 'length') return this.lengthField(node);
    // A chain of fixed keys from `this` (the common `a.b.c`) reads in one loop, with no closure per step.
    const keys: (string | number)[] = [];
    let n: Node = node;
    while (n.type === 'member' && n.key !== 'length') {
      keys.unshift(n.key);
      n = n.object;
    }
    if (n.type !== 'this') {
      const object = this.compile(node.object).fn;
      const k = node.key;
      return typeof k === 'string' ? (root) => getKey(object(root), k) : (root) => getIndex(object(root), k);
    }
    if (keys.length === 1) {
      const k = keys[0]!;
      return typeof k === 'string' ? (root) => getKey(root, k) : (root) => getIndex(root, k);
    }
    if (keys.length === 2 && typeof keys[0] === 'string' && typeof keys[1] === 'string') {
      const [k0, k1] = keys as [string, string];
      return (root) => getKey(getKey(root, k0), k1);
    }
    return (root) => {
      let v: unknown = root === undefined ? null : root;
      for (let i = 0; i < keys.length && v !== null; i++) {
        const k = keys[i]!;
        v = typeof k === 'string' ? getKey(v, k) : getIndex(v, k);
      }
      return v;
    };
  }

  /**
   * `x.length`: the field of an object, but of an array or a string (where JavaScript gives its length) an error
   * naming len(), rather than a silent null that makes `tags.length > 2` quietly false.
   */
  private lengthField(node: Extract<Node, { type: 'member' }>): Evaluator {
    const object = this.compile(node.object).fn;
    const written = this.source.slice(startOf(node.object), node.offset).trim();
    const subject = balanced(written) && written !== '' ? written : 'x';
    const site = this.site(node.offset, "'.length'");
    return (root) => {
      const v = object(root);
      if (typeof v === 'string' || Array.isArray(v)) {
        throw runtimeError(site, `is not a field of ${typeName(v) === 'array' ? 'an array' : 'a string'}: write len(${subject}) for its length`);
      }
      return getKey(v, 'length');
    };
  }

  private array(items: readonly Node[]): Compiled {
    const parts = items.map((i) => this.compile(i));
    const fns = parts.map((p) => p.fn);
    return this.fold(parts, (root) => {
      const out = new Array<unknown>(fns.length);
      for (let i = 0; i < fns.length; i++) out[i] = fns[i]!(root);
      return out;
    });
  }

  private unary(op: '-' | 'not', operand: Node, offset: number): Compiled {
    const inner = this.compile(operand);
    const f = inner.fn;
    if (op === 'not') {
      const t = test(inner);
      return this.boolean(this.fold([inner], (root) => !t(root)));
    }
    const site = this.site(offset, "'-'");
    return this.fold([inner], (root) => negate(site, f(root)));
  }

  private binary(op: BinaryOp, leftNode: Node, rightNode: Node, offset: number): Compiled {
    const left = this.compile(leftNode);
    const right = this.compile(rightNode);
    const l = left.fn;
    const r = right.fn;
    const site = this.site(offset, `'${op}'`);
    const parts = [left, right];
    switch (op) {
      case 'and': {
        const [a, b] = [test(left), test(right)];
        return this.boolean(this.fold(parts, (root) => a(root) && b(root)));
      }
      case 'or': {
        const [a, b] = [test(left), test(right)];
        return this.boolean(this.fold(parts, (root) => a(root) || b(root)));
      }
      case '??':
        return this.fold(parts, (root) => {
          const v = l(root);
          return v === null ? r(root) : v;
        });
      case '+':
        return this.fold(parts, (root) => add(site, l(root), r(root)));
      case '-':
      case '*':
      case '/':
      case '%':
        return this.fold(parts, (root) => arithmetic(site, op, l(root), r(root)));
      case '==':
        return this.boolean(this.fold(parts, equality(left, right)));
      case '!=': {
        const eq = equality(left, right);
        return this.boolean(this.fold(parts, (root) => !eq(root)));
      }
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.boolean(this.fold(parts, ordering(site, op, left, right)));
      case 'in':
        return this.boolean(this.fold(parts, membership(site, left, right)));
    }
  }

  private conditional(testNode: Node, thenNode: Node, otherwiseNode: Node): Compiled {
    const condition = this.compile(testNode);
    const then = this.compile(thenNode);
    const otherwise = this.compile(otherwiseNode);
    if (condition.constant) return truthy(condition.value) ? then : otherwise;
    const t = test(condition);
    const a = then.fn;
    const b = otherwise.fn;
    return dynamic((root) => (t(root) ? a(root) : b(root)));
  }

  private call(name: string, args: readonly Node[], offset: number): Compiled {
    if (name === 'exists') return this.exists(args, offset);
    if (name === 'coalesce') return this.coalesce(args, offset);
    const spec = FUNCTIONS.get(name);
    if (spec === undefined) {
      const guess = closest(name, FUNCTION_NAMES);
      const hint = guess === undefined ? '' : ` (did you mean '${guess}'?)`;
      throw compileError(this.source, offset, `unknown function '${name}'`, hint);
    }
    if (args.length < spec.min || args.length > spec.max) {
      throw compileError(this.source, offset, `${name}() takes ${arity(spec.min, spec.max)}, got ${args.length}`);
    }
    const parts = args.map((a) => this.compile(a));
    const fns = parts.map((p) => p.fn);
    const site = this.site(offset, `${name}()`);
    const call = spec.prepare === undefined ? spec.call : this.prepare(name, spec.constants, spec.prepare, args, parts);
    let fn: Evaluator;
    if (spec.max === Infinity) {
      fn = (root) => {
        const values = new Array<unknown>(fns.length);
        for (let i = 0; i < fns.length; i++) values[i] = fns[i]!(root);
        return call(site, values, undefined, undefined);
      };
    } else if (fns.length === 0) {
      fn = () => call(site, undefined, undefined, undefined);
    } else if (fns.length === 1) {
      const f0 = fns[0]!;
      fn = (root) => call(site, f0(root), undefined, undefined);
    } else if (fns.length === 2) {
      const [f0, f1] = fns as [Evaluator, Evaluator];
      fn = (root) => call(site, f0(root), f1(root), undefined);
    } else {
      const [f0, f1, f2] = fns as [Evaluator, Evaluator, Evaluator];
      fn = (root) => call(site, f0(root), f1(root), f2(root));
    }
    return spec.pure ? this.fold(parts, fn) : dynamic(fn);
  }

  /** A function whose constant arguments (a regular expression) are checked and compiled once, here. */
  private prepare(
    name: string,
    constants: readonly number[],
    prepare: Extract<FunctionSpec, { constants: readonly number[] }>['prepare'],
    args: readonly Node[],
    parts: readonly Compiled[],
  ): Call {
    for (const i of constants) {
      if (i < parts.length && !parts[i]!.constant) {
        throw compileError(this.source, args[i]!.offset, `${name}() needs its argument ${i + 1} to be a literal: it is compiled once, when the pipeline loads`);
      }
    }
    const fail = (index: number, message: string): never => {
      throw compileError(this.source, args[index]?.offset ?? 0, `${name}(): ${message}`);
    };
    return prepare(
      parts.map((p) => (p.constant ? p.value : undefined)),
      fail,
    );
  }

  /** `coalesce(a, b, …)`: the first argument that is not null, evaluating no further (like `a ?? b ?? …`). */
  private coalesce(args: readonly Node[], offset: number): Compiled {
    if (args.length === 0) throw compileError(this.source, offset, 'coalesce() takes at least 1 argument, got 0');
    const parts = args.map((a) => this.compile(a));
    const fns = parts.map((p) => p.fn);
    return this.fold(parts, (root) => {
      for (let i = 0; i < fns.length; i++) {
        const v = fns[i]!(root);
        if (v !== null) return v;
      }
      return null;
    });
  }

  /** `exists(a.b)`: true when the last step names something present, even a null. */
  private exists(args: readonly Node[], offset: number): Compiled {
    if (args.length !== 1) throw compileError(this.source, offset, `exists() takes 1 argument, got ${args.length}`);
    const arg = args[0]!;
    if (!isPath(arg)) throw compileError(this.source, arg.offset, 'exists() takes a field path such as a.b or a[0]');
    if (arg.type === 'this') return this.boolean(dynamic((root) => root !== undefined));
    const object = arg.object.type === 'this' ? self : this.compile(arg.object).fn;
    if (arg.type === 'member') {
      const k = arg.key;
      return this.boolean(dynamic((root) => hasMember(object(root), k)));
    }
    const index = this.compile(arg.index).fn;
    return this.boolean(dynamic((root) => hasMember(object(root), index(root))));
  }
}

/** Where the text of a node begins (its leftmost token). */
function startOf(node: Node): number {
  switch (node.type) {
    case 'member':
    case 'index':
      return Math.min(startOf(node.object), node.offset);
    case 'binary':
      return startOf(node.left);
    case 'conditional':
      return startOf(node.test);
    default:
      return node.offset;
  }
}

function balanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

function arity(min: number, max: number): string {
  const plural = (n: number): string => `${n} argument${n === 1 ? '' : 's'}`;
  if (max === Infinity) return `at least ${plural(min)}`;
  if (min === max) return min === 0 ? 'no arguments' : plural(min);
  return `${min} to ${plural(max)}`;
}

function isPrimitive(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

/** `==`: a comparison with a constant primitive is one `===` (objects never equal a primitive). */
function equality(left: Compiled, right: Compiled): Evaluator {
  const l = left.fn;
  const r = right.fn;
  if (right.constant && isPrimitive(right.value)) {
    const c = right.value;
    return (root) => l(root) === c;
  }
  if (left.constant && isPrimitive(left.value)) {
    const c = left.value;
    return (root) => r(root) === c;
  }
  return (root) => equalsValues(l(root), r(root));
}

function ordering(site: Site, op: Ordering, left: Compiled, right: Compiled): Evaluator {
  const l = left.fn;
  const r = right.fn;
  if (right.constant && typeof right.value === 'number') {
    const c = right.value;
    // The hot case (`amount > 100`): one typeof and one comparison.
    switch (op) {
      case '<':
        return (root) => {
          const a = l(root);
          return typeof a === 'number' ? a < c : compare(site, op, a, c);
        };
      case '<=':
        return (root) => {
          const a = l(root);
          return typeof a === 'number' ? a <= c : compare(site, op, a, c);
        };
      case '>':
        return (root) => {
          const a = l(root);
          return typeof a === 'number' ? a > c : compare(site, op, a, c);
        };
      case '>=':
        return (root) => {
          const a = l(root);
          return typeof a === 'number' ? a >= c : compare(site, op, a, c);
        };
    }
  }
  return (root) => compare(site, op, l(root), r(root));
}

function membership(site: Site, left: Compiled, right: Compiled): Evaluator {
  const l = left.fn;
  const r = right.fn;
  const list = right.value;
  if (right.constant && Array.isArray(list) && list.every(isPrimitive)) {
    // A fixed list of primitives becomes a Set: `status in ["a", "b", …]` costs one lookup.
    const set = new Set<unknown>(list);
    return (root) => set.has(l(root));
  }
  if (right.constant) {
    const c = right.value;
    return (root) => within(site, l(root), c);
  }
  return (root) => within(site, l(root), r(root));
}
