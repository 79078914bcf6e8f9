import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PIECE_BYTES, RenderBuffers, passThrough, piecesOf, recordsOf, renderLines, type LineBlock, type LineFormat } from '../../src/core/line-block.js';
import { WireRecord } from '../../src/core/record.js';
import { processBlock, type BlockResult } from '../../src/engine/block-processor.js';

const block = (text: string, format: LineFormat = 'jsonl', strict = false): LineBlock => ({
  data: Buffer.from(text),
  position: 0,
  format,
  strict,
});

const text = (chunks: readonly Uint8Array[]): string => chunks.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('utf8')).join('');

describe('line blocks', () => {
  it('pass jsonl through as the same bytes, counting lines, when nothing needs rewriting', () => {
    const b = block('{"a":1}\n{"a":2}\n[3]\n');
    const out = passThrough(b, 'jsonl');
    expect(out?.count).toBe(3);
    expect(out?.chunks).toEqual([b.data]);
    expect(passThrough(b, 'lines')?.chunks[0]).toBe(b.data);
  });

  it('leave blank jsonl lines and CRs before newlines to records, which drop them as the record path does', () => {
    const b = block('{"a":1}\r\n\n  \t\n{"a":2}\n');
    expect(passThrough(b, 'jsonl')).toBeUndefined();
    const out = processBlock([], b, 'jsonl') as BlockResult;
    expect(out.count).toBe(2);
    expect(text(out.chunks)).toBe('{"a":1}\n{"a":2}\n');
  });

  it('keep blank lines of format lines (each line is a record) but not their CRs', () => {
    const out = processBlock([], block('a\r\n\nb\n', 'lines'), 'lines') as BlockResult;
    expect(out.count).toBe(3);
    expect(text(out.chunks)).toBe('a\n\nb\n');
  });

  it('pass through only lines that are what their format says: jsonl JSON, lines UTF-8', () => {
    expect(passThrough(block('{"a":1}\n{oops\n'), 'jsonl')).toBeUndefined();
    expect(passThrough(block('"a\xff"\n'.replace('\xff', '\u00ff')), 'jsonl')?.count).toBe(1);
    const latin1 = { ...block(''), data: Buffer.from('"caf\xe9"\n', 'latin1') };
    expect(passThrough(latin1, 'jsonl')).toBeUndefined();
    expect(passThrough({ ...latin1, format: 'lines' }, 'lines')).toBeUndefined();
    const out = processBlock([], latin1, 'jsonl') as BlockResult;
    expect(out.count).toBe(0);
    expect(out.rejected.map((r) => (r.error as Error).message)).toEqual(['invalid UTF-8 at byte 4 of the line']);
  });

  it('refuse to pass lines through as jsonl: a string record is quoted', () => {
    expect(passThrough(block('a\n', 'lines'), 'jsonl')).toBeUndefined();
  });

  it('cut the records a block stands for, with the file source semantics', () => {
    const records = recordsOf(block('{"a":1}\n\n{oops\nx\n', 'jsonl'));
    expect(records.map((r) => r.text())).toEqual(['{"a":1}', '{oops', 'x']);
    expect(records[0]!.parsed).toBe(false);
    expect(() => records[1]!.value).toThrow(/malformed JSON/);
    expect(records.map((r) => r.unreadable?.code)).toEqual([undefined, 'INVALID_INPUT', 'INVALID_INPUT']);
    const lines = recordsOf(block('é\n\n', 'lines'));
    expect(lines.map((r) => r.value)).toEqual(['é', '']);
    const strict = recordsOf(block('{"a":1}\n', 'jsonl', true));
    expect(strict[0]!.parsed).toBe(true);
  });

  it('render records into one buffer that owns its memory (never a slice of the shared pool)', () => {
    const records = [WireRecord.fromRaw('{"a":1}'), WireRecord.fromValue({ b: 'ü' }), WireRecord.fromValue('s')];
    const jsonl = renderLines(records, 'jsonl');
    expect(jsonl.toString()).toBe('{"a":1}\n{"b":"ü"}\n"s"\n');
    expect(renderLines(records, 'lines').toString()).toBe('{"a":1}\n{"b":"ü"}\ns\n');
    expect(jsonl.byteOffset).toBe(0);
    expect(jsonl.buffer.byteLength).toBe(jsonl.length);
    expect(renderLines([], 'jsonl').length).toBe(0);
  });

  it('render past the 64 KiB piece size without losing or reordering a byte', () => {
    const records = Array.from({ length: 3000 }, (_, i) => WireRecord.fromValue({ i, pad: 'é'.repeat(i % 50) }));
    const expected = records.map((r) => JSON.stringify(r.value)).join('\n') + '\n';
    expect(renderLines(records, 'jsonl').toString()).toBe(expected);
  });

  it('cut pieces at newlines, at most the given size unless one line is longer', () => {
    const data = Buffer.from('aaaa\nbb\nc\n' + 'x'.repeat(20) + '\nd\n');
    const pieces = piecesOf(data, 8);
    expect(pieces.map((p) => Buffer.from(p).toString())).toEqual(['aaaa\nbb\n', 'c\n', 'x'.repeat(20) + '\n', 'd\n']);
    expect(piecesOf(data)).toEqual([data]);
    const many = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n');
    const cut = piecesOf(many);
    expect(cut.length).toBeGreaterThan(2);
    expect(Buffer.concat(cut).equals(many)).toBe(true);
    for (const p of cut) expect(p.length <= PIECE_BYTES && p[p.length - 1] === 10).toBe(true);
  });

  it('write without transforms exactly what recordsOf + renderLines would write for the readable records (property)', () => {
    const line = fc.oneof(
      fc.constantFrom('', ' ', '\t', '\r', ' \r', '{"a":1}', '{"a":1}\r', '  {"b":2}', 'x y', 'é'),
      fc.string({ maxLength: 12 }).filter((s) => !s.includes('\n')),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.constantFrom<LineFormat>('jsonl', 'lines'), (lines, format) => {
        const b = block(lines.join('\n') + '\n', format);
        const records = recordsOf(b).filter((r) => r.unreadable === undefined);
        const out = format === 'lines' ? 'lines' : 'jsonl';
        const fast = processBlock([], b, out) as BlockResult;
        expect(fast.count).toBe(records.length);
        expect(text(fast.chunks)).toBe(renderLines(records, out).toString());
      }),
      { numRuns: 300 },
    );
  });
});

describe('render buffers', () => {
  it('hand out memory of their own size again once it is given back, and nothing else', () => {
    const buffers = new RenderBuffers(1024, 2);
    const a = buffers.take(100);
    expect(a.length).toBe(100);
    expect(a.buffer.byteLength).toBe(1024);
    buffers.give(a);
    const b = buffers.take(500);
    expect(b.buffer).toBe(a.buffer); // the same memory, reused
    const c = buffers.take(200);
    expect(c.buffer).not.toBe(a.buffer); // b still holds it
    const big = buffers.take(4096); // larger than a spare: memory of its own, never kept
    expect(big.length).toBe(4096);
    buffers.give(big);
    buffers.give(Buffer.alloc(1024).subarray(10)); // not made by take: ignored
    expect(buffers.take(1).buffer).not.toBe(big.buffer);
  });

  it('render the same bytes into reused memory as into fresh memory', () => {
    const buffers = new RenderBuffers(256);
    const records = (n: number) => Array.from({ length: n }, (_, i) => WireRecord.fromValue({ i, s: 'é'.repeat(i % 5) }));
    for (let round = 0; round < 5; round++) {
      const batch = records(round + 3);
      const reused = renderLines(batch, 'jsonl', buffers);
      expect(reused.toString()).toBe(renderLines(batch, 'jsonl').toString());
      buffers.give(reused);
    }
  });
});
