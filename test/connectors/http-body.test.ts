// The http source's request bodies: JSON lines are checked by the byte scanner, their values left unbuilt.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBody } from '../../src/connectors/http/body.js';
import type { WireRecord } from '../../src/core/record.js';

/** The records of a body of JSON lines, made as the source makes them when the engine reads. */
function ndjson(text: string): WireRecord[] {
  const body = parseBody(Buffer.from(text, 'utf8'), 'application/x-ndjson', (i) => i);
  const records: WireRecord[] = [];
  body.pushTo(records, 0, body.count);
  return records;
}

afterEach(() => vi.restoreAllMocks());

describe('http source bodies: JSON lines', () => {
  it('takes each line as it came without building its value (nothing is parsed until something reads it)', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const records = ndjson('{"a":1}\n{"b":[2,3]}\n');
    expect(parse).not.toHaveBeenCalled();
    expect(records.map((r) => r.text())).toEqual(['{"a":1}', '{"b":[2,3]}']);
    expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { b: [2, 3] }]);
  });

  it('finds the same lines in the bytes and the text across CRLF, blank lines and multi-byte characters', () => {
    const records = ndjson('{"a":"é€😀"}\r\n  \r\n\n{"b":"ü"}');
    expect(records.map((r) => r.value)).toEqual([{ a: 'é€😀' }, { b: 'ü' }]);
    expect(records.map((r) => r.position)).toEqual([0, 1]);
    expect(() => ndjson('{"a":"é"}\r\n\r\n{nope}\n')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', details: { line: 3 } }));
  });

  it('keeps each line as the bytes it came as, and skips lines of whitespace only (Unicode whitespace too)', () => {
    const records = ndjson('{"a":1}\n\u00a0\u2028 \r\n {"b":2} \n');
    expect(records.map((r) => Buffer.from(r.jsonBytes!).toString())).toEqual(['{"a":1}', ' {"b":2} ']);
    expect(records.map((r) => r.position)).toEqual([0, 1]);
  });

  it('refuses a body of blank lines as empty', () => {
    expect(() => ndjson(' \r\n\n\t\n')).toThrow(/the body is empty/);
  });

  it('refuses a line nested deeper than the limit, whatever its length', () => {
    expect(() => ndjson(`{"ok":1}\n${'['.repeat(1001)}${']'.repeat(1001)}\n`)).toThrow(/nested deeper than 1000 levels on line 2/);
  });
});
