/** TigerStyle: a broken invariant is a bug, never a condition to handle; stop before damage spreads. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RaftInvariantError(message);
}
