import type { BinaryOp, Node } from './ast.js';
import { compileError } from './errors.js';
import { tokenize, type Token } from './lexer.js';

// Words with a meaning of their own; a field with such a name is read as `this["in"]`.
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null', 'this']);

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=', 'in']);

/**
 * Parses an expression into a tree. Precedence, loosest first:
 * `c ? a : b`, `or`, `and`, `not`, comparisons and `in` (not chained), `??`, `+ -`, `* / %`, unary `-`,
 * then `.field`, `[index]` and calls.
 */
export function parse(source: string): Node {
  return new Parser(source).parseAll();
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;

  constructor(private readonly source: string) {
    this.tokens = tokenize(source);
  }

  parseAll(): Node {
    if (this.peek().kind === 'eof') throw compileError(this.source, 0, 'empty expression');
    const node = this.conditional();
    const next = this.peek();
    if (next.kind !== 'eof') throw this.unexpected(next);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private advance(): Token {
    return this.tokens[this.pos++]!;
  }

  /** True when the next token is the operator or keyword `text`. */
  private at(text: string): boolean {
    const t = this.peek();
    return (t.kind === 'op' || t.kind === 'ident') && t.text === text;
  }

  private expect(text: string): Token {
    if (!this.at(text)) {
      const t = this.peek();
      if (t.kind === 'eof') throw compileError(this.source, t.offset, `expected '${text}' but the expression ended`);
      throw compileError(this.source, t.offset, `expected '${text}' but found '${t.text}'`);
    }
    return this.advance();
  }

  private unexpected(t: Token): Error {
    if (t.kind === 'eof') return compileError(this.source, t.offset, 'unexpected end of expression');
    return compileError(this.source, t.offset, `unexpected token '${t.text}'`);
  }

  private conditional(): Node {
    const test = this.or();
    if (!this.at('?')) return test;
    const q = this.advance();
    const then = this.conditional();
    this.expect(':');
    const otherwise = this.conditional();
    return { type: 'conditional', test, then, otherwise, offset: q.offset };
  }

  private or(): Node {
    let left = this.and();
    while (this.at('or')) {
      const op = this.advance();
      left = { type: 'binary', op: 'or', left, right: this.and(), offset: op.offset };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.at('and')) {
      const op = this.advance();
      left = { type: 'binary', op: 'and', left, right: this.not(), offset: op.offset };
    }
    return left;
  }

  private not(): Node {
    if (!this.at('not')) return this.comparison();
    const op = this.advance();
    return { type: 'unary', op: 'not', operand: this.not(), offset: op.offset };
  }

  private comparison(): Node {
    const left = this.nullish();
    if (!this.atComparison()) return left;
    const op = this.advance();
    const node: Node = { type: 'binary', op: op.text as BinaryOp, left, right: this.nullish(), offset: op.offset };
    if (this.atComparison()) {
      const again = this.peek();
      throw compileError(this.source, again.offset, `comparisons cannot be chained: use 'and' before '${again.text}'`);
    }
    return node;
  }

  private atComparison(): boolean {
    const t = this.peek();
    return (t.kind === 'op' || (t.kind === 'ident' && t.text === 'in')) && COMPARISONS.has(t.text);
  }

  private nullish(): Node {
    let left = this.additive();
    while (this.at('??')) {
      const op = this.advance();
      left = { type: 'binary', op: '??', left, right: this.additive(), offset: op.offset };
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.at('+') || this.at('-')) {
      const op = this.advance();
      left = { type: 'binary', op: op.text as BinaryOp, left, right: this.multiplicative(), offset: op.offset };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.at('*') || this.at('/') || this.at('%')) {
      const op = this.advance();
      left = { type: 'binary', op: op.text as BinaryOp, left, right: this.unary(), offset: op.offset };
    }
    return left;
  }

  private unary(): Node {
    if (!this.at('-')) return this.postfix();
    const op = this.advance();
    const operand = this.unary();
    // A negative number is a literal, so `-1` costs nothing at run time.
    if (operand.type === 'literal' && typeof operand.value === 'number') {
      return { type: 'literal', value: -operand.value, offset: op.offset };
    }
    return { type: 'unary', op: '-', operand, offset: op.offset };
  }

  private postfix(): Node {
    let node = this.primary();
    while (true) {
      if (this.at('.')) {
        const dot = this.advance();
        const name = this.peek();
        if (name.kind !== 'ident') {
          throw compileError(this.source, name.offset, name.kind === 'eof' ? "expected a field name after '.'" : `expected a field name after '.' but found '${name.text}'`);
        }
        this.advance();
        node = { type: 'member', object: node, key: name.text, offset: dot.offset };
      } else if (this.at('[')) {
        const open = this.advance();
        const index = this.conditional();
        this.expect(']');
        node =
          index.type === 'literal' && (typeof index.value === 'string' || typeof index.value === 'number')
            ? { type: 'member', object: node, key: index.value, offset: open.offset }
            : { type: 'index', object: node, index, offset: open.offset };
      } else if (this.at('(')) {
        throw compileError(this.source, this.peek().offset, 'only built-in functions can be called');
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const t = this.advance();
    switch (t.kind) {
      case 'number':
      case 'string':
        return { type: 'literal', value: t.value!, offset: t.offset };
      case 'ident':
        return this.word(t);
      case 'op':
        if (t.text === '(') {
          const inner = this.conditional();
          this.expect(')');
          return inner;
        }
        if (t.text === '[') return this.arrayLiteral(t);
        throw this.unexpected(t);
      case 'eof':
        throw this.unexpected(t);
    }
  }

  private word(t: Token): Node {
    switch (t.text) {
      case 'true':
        return { type: 'literal', value: true, offset: t.offset };
      case 'false':
        return { type: 'literal', value: false, offset: t.offset };
      case 'null':
        return { type: 'literal', value: null, offset: t.offset };
      case 'this':
        return { type: 'this', offset: t.offset };
    }
    if (KEYWORDS.has(t.text)) throw this.unexpected(t);
    if (this.at('(')) return this.call(t);
    return { type: 'member', object: { type: 'this', offset: t.offset }, key: t.text, offset: t.offset };
  }

  private call(name: Token): Node {
    this.advance();
    const args: Node[] = [];
    while (!this.at(')')) {
      args.push(this.conditional());
      if (!this.at(',')) break;
      this.advance();
    }
    this.expect(')');
    return { type: 'call', name: name.text, args, offset: name.offset };
  }

  private arrayLiteral(open: Token): Node {
    const items: Node[] = [];
    while (!this.at(']')) {
      items.push(this.conditional());
      if (!this.at(',')) break;
      this.advance();
    }
    this.expect(']');
    return { type: 'array', items, offset: open.offset };
  }
}
