/** The expression tree. `offset` is the 0-based position of the node's operator or first token. */
export type Node =
  | { readonly type: 'literal'; readonly value: string | number | boolean | null; readonly offset: number }
  | { readonly type: 'this'; readonly offset: number }
  | { readonly type: 'member'; readonly object: Node; readonly key: string | number; readonly offset: number }
  | { readonly type: 'index'; readonly object: Node; readonly index: Node; readonly offset: number }
  | { readonly type: 'array'; readonly items: readonly Node[]; readonly offset: number }
  | { readonly type: 'unary'; readonly op: UnaryOp; readonly operand: Node; readonly offset: number }
  | { readonly type: 'binary'; readonly op: BinaryOp; readonly left: Node; readonly right: Node; readonly offset: number }
  | { readonly type: 'conditional'; readonly test: Node; readonly then: Node; readonly otherwise: Node; readonly offset: number }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly Node[]; readonly offset: number };

export type UnaryOp = '-' | 'not';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%'
  | '==' | '!=' | '<' | '<=' | '>' | '>='
  | 'in' | 'and' | 'or' | '??';

/** True for nodes that name a place in the value: `this`, `a.b`, `a[0]`. */
export function isPath(node: Node): node is Extract<Node, { type: 'this' | 'member' | 'index' }> {
  return node.type === 'this' || node.type === 'member' || node.type === 'index';
}
