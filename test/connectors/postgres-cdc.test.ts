// The pure parts of the postgres CDC source: which LSN may be confirmed, the pgoutput decoder, values and LSNs.
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { PgoutputDecoder } from '../../src/connectors/postgres/cdc-pgoutput.js';
import { atOrBefore, resumePointOf } from '../../src/connectors/postgres/cdc-position.js';
import { TransactionProgress } from '../../src/connectors/postgres/cdc-progress.js';
import { columnJsonText, columnPrefixes, rowJson, rowKey } from '../../src/connectors/postgres/cdc-values.js';
import { formatLsn, parseLsn } from '../../src/connectors/postgres/lsn.js';

/** Receives a transaction of `changes` changes, all delivered. */
function receive(p: TransactionProgress, lsn: bigint, changes: number, end: bigint): void {
  p.begin(lsn);
  for (let i = 0; i < changes; i++) {
    p.next();
    p.deliver();
  }
  p.commit(end);
}

describe('TransactionProgress: the LSN confirmed to the server', () => {
  it('is a transaction\'s end only once the engine acknowledged its last change', () => {
    const p = new TransactionProgress(0n);
    receive(p, 100n, 3, 110n);
    receive(p, 200n, 2, 210n);
    expect(p.confirmable).toBe(0n);
    p.ack({ lsn: 100n, seq: 2 });
    expect(p.confirmable).toBe(0n);
    p.ack({ lsn: 100n, seq: 3 });
    expect(p.confirmable).toBe(110n);
    p.ack({ lsn: 200n, seq: 2 });
    expect(p.confirmable).toBe(210n);
  });

  it('is not a transaction\'s end before its commit arrived, even with every change so far acknowledged', () => {
    const p = new TransactionProgress(0n);
    p.begin(100n);
    p.next();
    p.deliver();
    p.ack({ lsn: 100n, seq: 1 });
    expect(p.confirmable).toBe(0n);
    p.next();
    p.deliver();
    p.commit(110n);
    expect(p.confirmable).toBe(0n);
    p.ack({ lsn: 100n, seq: 2 });
    expect(p.confirmable).toBe(110n);
  });

  it('passes a transaction with nothing delivered once those before it are done', () => {
    const p = new TransactionProgress(0n);
    receive(p, 100n, 1, 110n);
    receive(p, 200n, 0, 210n);
    expect(p.confirmable).toBe(0n);
    p.ack({ lsn: 100n, seq: 1 });
    expect(p.confirmable).toBe(210n);
  });

  it('takes the server\'s WAL end only with nothing outstanding', () => {
    const p = new TransactionProgress(0n);
    receive(p, 100n, 1, 110n);
    p.idle(500n);
    expect(p.confirmable).toBe(0n);
    p.ack({ lsn: 100n, seq: 1 });
    p.idle(500n);
    expect(p.confirmable).toBe(500n);
  });

  it('after a reconnect, counts the transaction delivered in part again and ignores older ones sent again', () => {
    const p = new TransactionProgress(0n);
    receive(p, 100n, 2, 110n);
    p.begin(200n);
    p.next();
    p.deliver();
    p.next();
    p.deliver();
    // Only 200/1 reached the engine; the connection drops.
    p.rewind({ lsn: 200n, seq: 1 });
    expect(p.begin(100n)).toBe(false);
    expect(p.begin(200n)).toBe(true);
    expect(p.next()).toBe(1);
    expect(p.next()).toBe(2);
    p.deliver();
    p.commit(210n);
    p.ack({ lsn: 200n, seq: 1 });
    expect(p.confirmable).toBe(110n);
    p.ack({ lsn: 200n, seq: 2 });
    expect(p.confirmable).toBe(210n);
  });
});

describe('positions', () => {
  it('orders changes by transaction, then place', () => {
    expect(atOrBefore(100n, 3, { lsn: 100n, seq: 3 })).toBe(true);
    expect(atOrBefore(100n, 4, { lsn: 100n, seq: 3 })).toBe(false);
    expect(atOrBefore(50n, 9, { lsn: 100n, seq: 1 })).toBe(true);
    expect(atOrBefore(50n, 9, undefined)).toBe(false);
  });

  it('reads back checkpointed positions, and refuses another source\'s', () => {
    expect(resumePointOf({ lsn: '0/1A', seq: 2 })).toEqual({ kind: 'change', at: { lsn: 26n, seq: 2 } });
    expect(resumePointOf({ snapshot: '0/1A', table: 0, row: 5 })).toEqual({ kind: 'snapshot', last: false });
    expect(resumePointOf({ snapshot: '0/1A', table: 0, row: 5, last: true })).toEqual({ kind: 'snapshot', last: true });
    expect(() => resumePointOf(12)).toThrow(/not one of its positions/);
  });

  it('writes LSNs as Postgres does', () => {
    expect(formatLsn(parseLsn('16/B374D848'))).toBe('16/B374D848');
    expect(parseLsn('0/10')).toBe(16n);
    expect(() => parseLsn('16-B3')).toThrow(/not a postgres LSN/);
  });
});

describe('values', () => {
  it('turns Postgres text into JSON by type, keeping what JSON cannot hold exactly as strings', () => {
    expect(columnJsonText(16, 't')).toBe('true');
    expect(columnJsonText(23, '-42')).toBe('-42');
    expect(columnJsonText(20, '9007199254740993')).toBe('"9007199254740993"');
    expect(columnJsonText(20, '12')).toBe('12');
    expect(columnJsonText(701, 'NaN')).toBe('"NaN"');
    expect(columnJsonText(701, '1.5e+30')).toBe('1.5e+30');
    expect(columnJsonText(1700, '0.10')).toBe('"0.10"');
    expect(columnJsonText(3802, '{"a": [1]}')).toBe('{"a": [1]}');
    // json keeps its input's line breaks: written again, a record stays one line.
    expect(columnJsonText(114, '{\n"a": 1}')).toBe('{"a":1}');
    expect(columnJsonText(25, 'say "hi"\n')).toBe('"say \\"hi\\"\\n"');
  });

  it('writes a row as a JSON object, leaving out what was not sent', () => {
    const prefixes = columnPrefixes(['id', 'a "b"', 'c']);
    expect(JSON.parse(rowJson(prefixes, ['1', undefined, '"x"']))).toEqual({ id: 1, c: 'x' });
    expect(JSON.parse(rowJson(prefixes, ['1', 'null', 'true']))).toEqual({ id: 1, 'a "b"': null, c: true });
    expect(rowJson(prefixes, [undefined, undefined, undefined])).toBe('{}');
  });

  it('keys a row by its key columns', () => {
    expect(rowKey(['7', '1'], [0])).toBe('7');
    expect(rowKey(['"x"', '2'], [0])).toBe('x');
    expect(rowKey(['"x"', '2'], [0, 1])).toBe('["x",2]');
    expect(rowKey(['1'], [])).toBeUndefined();
  });
});

/** Builds pgoutput messages byte by byte. */
class Writer {
  private readonly parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  str(s: string): this {
    this.parts.push(Buffer.from(`${s}\0`));
    return this;
  }
  text(s: string): this {
    return this.u8(0x74).i32(Buffer.byteLength(s)).bytes(Buffer.from(s));
  }
  bytes(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const relation = (): Buffer =>
  new Writer().u8(0x52).i32(16384).str('public').str('t').u8(0x64).i16(2).u8(1).str('id').i32(23).i32(-1).u8(0).str('body').i32(25).i32(-1).done();

describe('PgoutputDecoder', () => {
  it('decodes begin and commit with their LSNs and commit time', () => {
    const d = new PgoutputDecoder();
    const begin = d.decode(new Writer().u8(0x42).u64(0x100n).u64(1_000_000n).i32(7).done());
    expect(begin).toEqual({ kind: 'begin', commitLsn: 0x100n, commitTime: 946_684_801_000 });
    const commit = d.decode(new Writer().u8(0x43).u8(0).u64(0x100n).u64(0x130n).u64(0n).done());
    expect(commit).toEqual({ kind: 'commit', commitLsn: 0x100n, endLsn: 0x130n });
  });

  it('decodes an insert, an update with its old key, and a delete by key, naming the table', () => {
    const d = new PgoutputDecoder();
    d.decode(relation());
    const insert = d.decode(new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1').text('héllo').done());
    expect(insert).toMatchObject({ kind: 'change', op: 'insert', relation: { table: 'public.t', keyColumns: ['id'] }, before: null, key: '1' });
    expect(JSON.parse((insert as { after: string }).after)).toEqual({ id: 1, body: 'héllo' });
    const update = d.decode(new Writer().u8(0x55).i32(16384).u8(0x4b).i16(2).text('1').u8(0x6e).u8(0x4e).i16(2).text('2').u8(0x75).done());
    // The key tuple carries only the key; an unchanged TOASTed value with no old row to take it from is left out.
    expect(update).toMatchObject({ op: 'update', before: '{"id":1}', after: '{"id":2}', key: '2' });
    const full = d.decode(new Writer().u8(0x55).i32(16384).u8(0x4f).i16(2).text('2').text('big').u8(0x4e).i16(2).text('2').u8(0x75).done());
    // With the whole old row (REPLICA IDENTITY FULL) the unchanged value is taken from it.
    expect(full).toMatchObject({ op: 'update', before: '{"id":2,"body":"big"}', after: '{"id":2,"body":"big"}' });
    const del = d.decode(new Writer().u8(0x44).i32(16384).u8(0x4b).i16(2).text('2').u8(0x6e).done());
    expect(del).toMatchObject({ op: 'delete', before: '{"id":2}', after: null, key: '2' });
  });

  it('keys records by the columns it is given for a table, over the replica identity\'s', () => {
    const d = new PgoutputDecoder((table) => (table === 'public.t' ? ['body'] : undefined));
    d.decode(relation());
    expect(d.decode(new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1').text('k').done())).toMatchObject({ key: 'k' });
  });

  it('refuses a change to a relation it was not told about', () => {
    const d = new PgoutputDecoder();
    expect(() => d.decode(new Writer().u8(0x49).i32(99).u8(0x4e).i16(0).done())).toThrow(/relation 99 before its description/);
  });
});

/** What decoding `message` throws (a WireError is expected: anything else would end the run as a crash). */
function refusal(decoder: PgoutputDecoder, message: Buffer): unknown {
  try {
    decoder.decode(message);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('PgoutputDecoder: what a broken or lying server sends is refused with a WireError', () => {
  const announced = (): PgoutputDecoder => {
    const d = new PgoutputDecoder();
    d.decode(relation());
    return d;
  };

  it.each([
    ['a begin cut short', new Writer().u8(0x42).u64(0x100n).done()],
    ['a commit cut short', new Writer().u8(0x43).u8(0).u64(0x100n).done()],
    ['an insert cut inside a value\'s length', new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1').u8(0x74).u8(0).done()],
    ['an insert cut before its tuple', new Writer().u8(0x49).i32(16384).done()],
    ['a relation cut inside its columns', new Writer().u8(0x52).i32(16385).str('public').str('u').u8(0x64).i16(3).u8(1).str('id').done()],
  ])('%s', (_what, message) => {
    const error = refusal(announced(), message);
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).message).toMatch(/unexpected pgoutput data: .*cut short/);
  });

  it('a truncate whose relation count is more than its message holds', () => {
    const error = refusal(announced(), new Writer().u8(0x54).i32(1_000_000).u8(0).i32(16384).done());
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).message).toMatch(/truncate of 1000000 relations/);
  });

  it('a tuple with fewer columns than its relation announced (a value would be left out unseen)', () => {
    const error = refusal(announced(), new Writer().u8(0x49).i32(16384).u8(0x4e).i16(1).text('1').done());
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).message).toMatch(/tuple of 1 columns for public.t, announced with 2/);
  });

  it('a tuple with more columns than its relation announced', () => {
    const error = refusal(announced(), new Writer().u8(0x49).i32(16384).u8(0x4e).i16(3).text('1').text('a').text('b').done());
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).message).toMatch(/tuple of 3 columns/);
  });

  it('a value whose length is negative, or runs past the end of its message', () => {
    const negative = new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1').u8(0x74).i32(-8).bytes(Buffer.from('abc')).done();
    expect((refusal(announced(), negative) as WireError).message).toMatch(/a value of -8 bytes/);
    const past = new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1').u8(0x74).i32(100).bytes(Buffer.from('abc')).done();
    expect((refusal(announced(), past) as WireError).message).toMatch(/a value of 100 bytes with 3 left/);
  });

  it('an unknown message type, an unknown tuple kind, and a change to a relation never announced', () => {
    expect((refusal(announced(), Buffer.from([0x5a, 1, 2])) as WireError).message).toMatch(/message type 90/);
    expect((refusal(announced(), Buffer.alloc(0)) as WireError).message).toMatch(/message type undefined/);
    expect((refusal(announced(), new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).u8(0x78).done()) as WireError).message).toMatch(/column kind 120/);
    expect(refusal(new PgoutputDecoder(), new Writer().u8(0x44).i32(7).u8(0x4b).i16(0).done())).toBeInstanceOf(WireError);
  });

  it('values that are not of their column\'s type, which would otherwise change the shape of the record\'s JSON', () => {
    expect(() => columnJsonText(23, '1,"admin":true')).toThrow(WireError);
    expect(() => columnJsonText(20, '0x10')).toThrow(/type 20 that is not one/);
    expect(() => columnJsonText(16, 'yes')).toThrow(/type 16 that is not one/);
    expect(() => columnJsonText(114, '{"a":')).toThrow(/type 114 that is not one/);
    expect(() => columnJsonText(3802, '1,"admin":true')).toThrow(/type 3802 that is not one/);
    expect(() => columnJsonText(3802, '{"a":1}\n')).toThrow(/type 3802 that is not one/);
    // Through the decoder: an int4 column whose text would inject a field.
    const inject = new Writer().u8(0x49).i32(16384).u8(0x4e).i16(2).text('1,"x":2').text('b').done();
    expect((refusal(announced(), inject) as WireError).message).toMatch(/type 23 that is not one/);
  });
});
