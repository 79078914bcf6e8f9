// The postgres sink's INSERT texts: one per shape (rows, with or without the offset), named from a shape's second
// use, at most eight names, and unnamed shapes forgotten so odd batch sizes do not pile up.
import { describe, expect, it } from 'vitest';
import { InsertStatements, insertStatement } from '../../src/connectors/postgres/sql.js';

const prefix = (first: number): string => `WITH o AS (SELECT $${first}) `;

describe('InsertStatements', () => {
  it('gives the text insertStatement builds, with the offset parameters after the rows', () => {
    const statements = new InsertStatements('public.t', ['a', 'b'], ['a'], prefix);
    expect(statements.get(3, false).text).toBe(insertStatement('public.t', ['a', 'b'], 3, ['a']));
    expect(statements.get(3, true).text).toBe(insertStatement('public.t', ['a', 'b'], 3, ['a'], 'WITH o AS (SELECT $7) '));
  });

  it('names a shape from its second use, each shape its own name, eight names at most', () => {
    const statements = new InsertStatements('t', ['a'], [], prefix);
    expect(statements.get(10, true).name).toBeUndefined();
    expect(statements.get(10, true).name).toBe('wire_insert_1');
    expect(statements.get(10, false).name).toBeUndefined();
    expect(statements.get(10, false).name).toBe('wire_insert_2');
    for (let rows = 1; rows <= 20; rows++) {
      statements.get(rows, true);
      statements.get(rows, true);
    }
    const names = new Set<string>();
    for (let rows = 1; rows <= 20; rows++) {
      const name = statements.get(rows, true).name;
      if (name !== undefined) names.add(name);
    }
    // wire_insert_2 is the shape without the offset: seven of the eight names are shapes with it.
    expect(names.size).toBe(7);
    expect(names.has('wire_insert_2')).toBe(false);
    expect(statements.get(10, true).name).toBe('wire_insert_1');
  });

  it('names nothing when prepared statements are off', () => {
    const statements = new InsertStatements('t', ['a'], [], prefix, false);
    for (let i = 0; i < 5; i++) expect(statements.get(10, true).name).toBeUndefined();
  });

  it('keeps a bounded number of unnamed shapes', () => {
    const statements = new InsertStatements('t', ['a'], [], prefix);
    for (let rows = 1; rows <= 300; rows++) statements.get(rows, false);
    expect((statements as unknown as { shapes: Map<string, unknown> }).shapes.size).toBeLessThanOrEqual(32);
  });
});
