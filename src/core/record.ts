import { WireError } from './errors.js';
import { writeJson } from './json-write.js';
import { uuidv7 } from './uuid.js';

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };

/**
 * Where a record came from, as its source understands it (a byte offset, a Kafka offset, a request number).
 * Opaque to the engine; it hands positions back to the source's `ack` and to the checkpoint store.
 */
export type Position = JsonValue;

export type Headers = Record<string, string>;

export interface RecordInit {
  id?: string;
  key?: string;
  raw?: string | Uint8Array;
  value?: unknown;
  eventTime?: number;
  headers?: Headers;
  position?: Position;
}

const decoder = new TextDecoder();

/**
 * What flows through a pipeline. The value is parsed from `raw` (JSON) on first access, so a
 * pass-through pipeline never parses; the id is a UUIDv7 made on first access unless the source set one.
 * A record whose value was read or set is "dirty" only when it was set or marked: sinks may then reuse
 * `raw` untouched for records no transform changed.
 */
export class WireRecord {
  key: string | undefined;
  eventTime: number | undefined;
  headers: Headers | undefined;
  position: Position | undefined;
  private _id: string | undefined;
  private _raw: string | Uint8Array | undefined;
  private _value: unknown;
  private _parsed: boolean;
  /** Set for records of plain text (format: lines): raw is the value itself, not JSON. */
  private _parsedFromLines = false;
  /** The value as JSON, once written: a sink then reuses it. Cleared whenever the value changes. */
  private _json: string | undefined;
  /** What the source read, kept when a transform replaces the value: a record that cannot be written is kept as read. */
  private _origin: string | Uint8Array | undefined;
  /** The origin is plain text (format: lines), not JSON. */
  private _originText = false;
  /** Why the source could not read this record (a malformed jsonl line, invalid UTF-8): its value getter throws it. */
  private _unreadable: WireError | undefined;

  constructor(init: RecordInit) {
    this._id = init.id;
    this.key = init.key;
    this.eventTime = init.eventTime;
    this.headers = init.headers;
    this.position = init.position;
    this._raw = init.raw;
    this._origin = init.raw;
    if (init.value !== undefined || init.raw === undefined) {
      this._value = init.value === undefined ? null : init.value;
      this._parsed = true;
      if (init.value !== undefined) this._raw = undefined;
    } else {
      this._value = undefined;
      this._parsed = false;
    }
  }

  /** A record from raw JSON text or bytes (valid UTF-8: a source checked them); parsed only when its value is read. */
  static fromRaw(raw: string | Uint8Array, position?: Position): WireRecord {
    return new WireRecord({ raw, position });
  }

  static fromValue(value: unknown, position?: Position): WireRecord {
    return new WireRecord({ value, position });
  }

  get id(): string {
    if (this._id === undefined) this._id = uuidv7();
    return this._id;
  }

  set id(id: string) {
    this._id = id;
  }

  /** The id if one was given or read already; undefined while it is still to be made (ids are made lazily). */
  get assignedId(): string | undefined {
    return this._id;
  }

  /** True once the value has been parsed (or was given). */
  get parsed(): boolean {
    return this._parsed;
  }

  /** The original bytes, while no transform has changed the value. */
  get raw(): string | Uint8Array | undefined {
    return this._raw;
  }

  /** The value, parsed from raw JSON on first access. Throws INVALID_INPUT for malformed JSON. */
  get value(): unknown {
    if (!this._parsed) {
      if (this._unreadable !== undefined) throw this._unreadable;
      const raw = this._raw as string | Uint8Array;
      const text = typeof raw === 'string' ? raw : decoder.decode(raw);
      try {
        this._value = JSON.parse(text);
      } catch (err) {
        throw new WireError('INVALID_INPUT', `malformed JSON: ${(err as Error).message}`, {
          raw: text.length > 200 ? text.slice(0, 200) + '…' : text,
        });
      }
      this._parsed = true;
    }
    return this._value;
  }

  /** Replaces the value; the raw bytes no longer describe it. */
  set value(value: unknown) {
    this._value = value;
    this._parsed = true;
    this._raw = undefined;
    this._json = undefined;
  }

  /**
   * Replaces the value with JSON text, parsed only if something reads it (a `js` result arrives as text from
   * its thread; a sink then writes the text as it is).
   */
  setJson(text: string): void {
    this._raw = text;
    this._value = undefined;
    this._parsed = false;
    this._parsedFromLines = false;
  }

  /** Call after mutating the value in place, so sinks serialize it instead of reusing raw. */
  markChanged(): void {
    if (!this._parsed) void this.value;
    this._raw = undefined;
    this._json = undefined;
  }

  /** Why the source could not read this record, or undefined for a record it read. */
  get unreadable(): WireError | undefined {
    return this._unreadable;
  }

  /** The record's value as text: the original raw text when unchanged, else JSON. */
  text(): string {
    const raw = this._raw;
    if (raw !== undefined) return typeof raw === 'string' ? raw : decoder.decode(raw);
    const v = this._value;
    return typeof v === 'string' ? v : this.json();
  }

  /**
   * The record's value as JSON text (a string value is quoted, unlike `text()`). Throws INVALID_INPUT for a value
   * JSON cannot hold (a BigInt, a cycle, nesting deeper than MAX_DEPTH); the text is kept for the next call.
   */
  /**
   * The bytes the source read, while they are this record's JSON (unchanged, read as JSON): a sink writing JSON
   * lines may write them as they are, which is what `json()` would give, without decoding and encoding them.
   */
  get jsonBytes(): Uint8Array | undefined {
    const raw = this._raw;
    return raw instanceof Uint8Array && !this._parsedFromLines ? raw : undefined;
  }

  json(): string {
    const raw = this._raw;
    if (raw !== undefined && !this._parsedFromLines) return typeof raw === 'string' ? raw : decoder.decode(raw);
    return (this._json ??= writeJson(this.value));
  }

  /**
   * The record as its source read it, before any transform: for a dead letter whose value cannot be written.
   * Undefined for a record its source made as a value (nothing was read as text).
   */
  asRead(): WireRecord | undefined {
    const origin = this._origin;
    if (origin === undefined) return undefined;
    const record =
      this._unreadable !== undefined
        ? WireRecord.unreadableLine(origin, this._unreadable, this.position)
        : this._originText
          ? WireRecord.fromText(origin as string, this.position)
          : WireRecord.fromRaw(origin, this.position);
    record.key = this.key;
    record.headers = this.headers;
    record.eventTime = this.eventTime;
    return record;
  }

  /** The bytes or text the source read, for a record it could not read (see `unreadableLine`). */
  get origin(): string | Uint8Array | undefined {
    return this._origin;
  }

  /**
   * A line its source could not read as a record of its format (malformed JSON, invalid UTF-8, too deep, too long):
   * it travels with its error to the dead-letter sink, kept as the bytes (or text) that were read.
   */
  static unreadableLine(raw: string | Uint8Array, error: WireError, position?: Position): WireRecord {
    const r = new WireRecord({ raw, position });
    r._unreadable = error;
    return r;
  }

  /** A record of plain text: its value is the string itself, never parsed as JSON. */
  static fromText(text: string, position?: Position): WireRecord {
    const r = new WireRecord({ value: text, position });
    r._raw = text;
    r._origin = text;
    r._originText = true;
    r._parsedFromLines = true;
    return r;
  }

  /** A copy sharing nothing mutable with this record (for splitting one record into several). */
  clone(value?: unknown): WireRecord {
    const copy = new WireRecord({
      key: this.key,
      eventTime: this.eventTime,
      headers: this.headers === undefined ? undefined : { ...this.headers },
      position: this.position,
      value: value === undefined ? structuredClone(this.value) : value,
    });
    copy._origin = this._origin;
    copy._originText = this._originText;
    return copy;
  }
}

export type Batch = WireRecord[];

/** Reads an event time from a value field: epoch milliseconds or an RFC 3339 string. */
export function parseEventTime(field: unknown): number | undefined {
  if (typeof field === 'number' && Number.isFinite(field)) return field;
  if (typeof field === 'string') {
    const ms = Date.parse(field);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
