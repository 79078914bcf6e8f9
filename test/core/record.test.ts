import { describe, expect, it } from 'vitest';
import { WireRecord, parseEventTime } from '../../src/core/record.js';
import { uuidv7, uuidv7Time } from '../../src/core/uuid.js';

describe('WireRecord', () => {
  it('does not parse raw JSON until the value is read', () => {
    const r = WireRecord.fromRaw('{"a":1}', 7);
    expect(r.parsed).toBe(false);
    expect(r.json()).toBe('{"a":1}');
    expect(r.parsed).toBe(false);
    expect(r.value).toEqual({ a: 1 });
    expect(r.parsed).toBe(true);
    expect(r.position).toBe(7);
  });

  it('keeps raw text for a record that was only read', () => {
    const r = WireRecord.fromRaw('{"a": 1}');
    void r.value;
    expect(r.json()).toBe('{"a": 1}');
  });

  it('serializes a changed value instead of the stale raw text', () => {
    const r = WireRecord.fromRaw('{"a":1}');
    (r.value as { a: number }).a = 2;
    r.markChanged();
    expect(r.json()).toBe('{"a":2}');
    r.value = { b: true };
    expect(r.json()).toBe('{"b":true}');
  });

  it('parses raw bytes as UTF-8 JSON', () => {
    const r = WireRecord.fromRaw(new TextEncoder().encode('{"é":"ü"}'));
    expect(r.value).toEqual({ é: 'ü' });
  });

  it('reports malformed JSON as INVALID_INPUT with the raw text', () => {
    const r = WireRecord.fromRaw('{"a":');
    expect(() => r.value).toThrowError(expect.objectContaining({ code: 'INVALID_INPUT', details: { raw: '{"a":' } }));
  });

  it('treats plain text lines as string values, quoted in JSON', () => {
    const r = WireRecord.fromText('hello "x"');
    expect(r.value).toBe('hello "x"');
    expect(r.text()).toBe('hello "x"');
    expect(r.json()).toBe('"hello \\"x\\""');
  });

  it('assigns a time-ordered UUIDv7 id on first access unless one was given', () => {
    const a = WireRecord.fromValue({});
    const b = WireRecord.fromValue({});
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.id < b.id).toBe(true);
    expect(a.id).toBe(a.id);
    expect(new WireRecord({ id: 'given' }).id).toBe('given');
  });

  it('clones deeply', () => {
    const r = new WireRecord({ value: { n: { x: 1 } }, key: 'k', headers: { h: '1' } });
    const c = r.clone();
    (c.value as { n: { x: number } }).n.x = 2;
    expect(r.value).toEqual({ n: { x: 1 } });
    expect(c.key).toBe('k');
  });
});

describe('uuidv7', () => {
  it('encodes the millisecond time and stays ordered within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidv7(4_000_000_000_000));
    expect(uuidv7Time(ids[0]!)).toBe(4_000_000_000_000);
    const sorted = [...ids].sort();
    expect(sorted).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('parseEventTime', () => {
  it('accepts epoch milliseconds and RFC 3339 strings', () => {
    expect(parseEventTime(5)).toBe(5);
    expect(parseEventTime('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseEventTime('not a date')).toBeUndefined();
    expect(parseEventTime(null)).toBeUndefined();
  });
});
