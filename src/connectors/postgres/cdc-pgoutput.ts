// The messages of pgoutput, logical replication's built-in output plugin, protocol version 1:
// https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
import { WireError } from '../../core/errors.js';
import { columnJsonText, columnPrefixes, rowJson, rowKey } from './cdc-values.js';

export interface RelationColumn {
  readonly name: string;
  readonly typeOid: number;
}

/** A table as pgoutput describes it before its first change (and again after its schema changes). */
export interface Relation {
  readonly oid: number;
  /** `schema.table`. */
  readonly table: string;
  readonly columns: readonly RelationColumn[];
  /** The columns of the replica identity (by default the primary key). */
  readonly keyColumns: readonly string[];
  /** The table's name as JSON text, and `"column":` for each column. */
  readonly tableJson: string;
  readonly prefixes: readonly string[];
  /** The columns a record's key is made of. */
  readonly keyIndexes: readonly number[];
}

/** Each column's value as JSON text; undefined where the message left it out. */
type Values = (string | undefined)[];

export type PgoutputMessage =
  | { readonly kind: 'begin'; readonly commitLsn: bigint; readonly commitTime: number }
  | { readonly kind: 'commit'; readonly commitLsn: bigint; readonly endLsn: bigint }
  | {
      readonly kind: 'change';
      readonly op: 'insert' | 'update' | 'delete';
      readonly relation: Relation;
      /** The rows as JSON objects' text. */
      readonly before: string | null;
      readonly after: string | null;
      readonly key: string | undefined;
    }
  | { readonly kind: 'truncate'; readonly relations: readonly Relation[] }
  /** Relation, type and origin messages: they update the decoder, or say nothing a record carries. */
  | { readonly kind: 'other' };

/** Microseconds from the Unix epoch to Postgres's (2000-01-01). */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const OTHER: PgoutputMessage = { kind: 'other' };

/**
 * Decodes pgoutput messages, keeping the relations they announce (a change names its table by OID only). A record's
 * key is made of the columns `keyColumnsOf` names for its table (its primary key), else of its replica identity's.
 */
export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();
  private buf: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(private readonly keyColumnsOf: (table: string) => readonly string[] | undefined = () => undefined) {}

  /** Decodes one message; one that is cut short or does not add up fails with a WireError naming what was wrong. */
  decode(message: Buffer): PgoutputMessage {
    this.buf = message;
    this.at = 1;
    try {
      return this.message(message[0]);
    } catch (error) {
      // A read past the end (Buffer's RangeError): a message shorter than what it says it holds.
      if (error instanceof RangeError) throw this.malformed(`message ${message[0]} of ${message.length} bytes cut short`);
      throw error;
    }
  }

  private message(type: number | undefined): PgoutputMessage {
    const message = this.buf;
    switch (type) {
      case 0x42 /* B */: {
        const commitLsn = this.uint64();
        const commitTime = Number(this.uint64() / 1000n) + POSTGRES_EPOCH_MS;
        return { kind: 'begin', commitLsn, commitTime };
      }
      case 0x43 /* C */: {
        this.at += 1;
        const commitLsn = this.uint64();
        return { kind: 'commit', commitLsn, endLsn: this.uint64() };
      }
      case 0x52 /* R */:
        this.relation();
        return OTHER;
      case 0x49 /* I */: {
        const relation = this.relationOf(this.int32());
        this.expect(0x4e /* N */);
        const after = this.tuple(relation, null, false);
        return { kind: 'change', op: 'insert', relation, before: null, after: rowJson(relation.prefixes, after), key: rowKey(after, relation.keyIndexes) };
      }
      case 0x55 /* U */: {
        const relation = this.relationOf(this.int32());
        let before: Values | null = null;
        let tag = this.uint8();
        // K: the old key (the key changed); O: the whole old row (REPLICA IDENTITY FULL); neither: no old values.
        if (tag === 0x4b || tag === 0x4f) {
          before = this.tuple(relation, null, tag === 0x4b);
          tag = this.uint8();
        }
        if (tag !== 0x4e) throw this.malformed(`update tuple tag ${tag}`);
        const after = this.tuple(relation, before, false);
        return {
          kind: 'change',
          op: 'update',
          relation,
          before: before === null ? null : rowJson(relation.prefixes, before),
          after: rowJson(relation.prefixes, after),
          key: rowKey(after, relation.keyIndexes),
        };
      }
      case 0x44 /* D */: {
        const relation = this.relationOf(this.int32());
        const tag = this.uint8();
        if (tag !== 0x4b && tag !== 0x4f) throw this.malformed(`delete tuple tag ${tag}`);
        const before = this.tuple(relation, null, tag === 0x4b);
        return { kind: 'change', op: 'delete', relation, before: rowJson(relation.prefixes, before), after: null, key: rowKey(before, relation.keyIndexes) };
      }
      case 0x54 /* T */: {
        const count = this.int32();
        // Each relation id takes 4 bytes: a count the message cannot hold is refused before anything is built.
        if (count < 0 || count > (message.length - this.at) / 4) throw this.malformed(`truncate of ${count} relations`);
        this.at += 1;
        const relations: Relation[] = [];
        for (let i = 0; i < count; i++) relations.push(this.relationOf(this.int32()));
        return { kind: 'truncate', relations };
      }
      case 0x59 /* Y: type */:
      case 0x4f /* O: origin */:
      case 0x4d /* M: logical message, not asked for */:
        return OTHER;
      default:
        throw this.malformed(`message type ${type}`);
    }
  }

  private relation(): void {
    const oid = this.int32();
    const schema = this.string();
    const name = this.string();
    this.at += 1; // replica identity setting: the key flags below say which columns it covers
    const count = this.int16();
    if (count < 0) throw this.malformed(`relation of ${count} columns`);
    const columns: RelationColumn[] = [];
    const keyColumns: string[] = [];
    for (let i = 0; i < count; i++) {
      const flags = this.uint8();
      const column = this.string();
      const typeOid = this.int32();
      this.at += 4; // type modifier
      columns.push({ name: column, typeOid });
      if ((flags & 1) === 1) keyColumns.push(column);
    }
    const table = `${schema === '' ? 'pg_catalog' : schema}.${name}`;
    const names = columns.map((c) => c.name);
    const keys = this.keyColumnsOf(table) ?? keyColumns;
    const keyIndexes = keys.map((k) => names.indexOf(k)).filter((i) => i >= 0);
    this.relations.set(oid, { oid, table, columns, keyColumns, tableJson: JSON.stringify(table), prefixes: columnPrefixes(names), keyIndexes });
  }

  private relationOf(oid: number): Relation {
    const relation = this.relations.get(oid);
    if (relation === undefined) throw this.malformed(`a change to relation ${oid} before its description`);
    return relation;
  }

  /**
   * A row. A key tuple carries only the key columns (the others are nulls that mean "not sent"); an unchanged
   * TOASTed value is taken from the old row when there is one, else left out.
   */
  private tuple(relation: Relation, old: Values | null, keyOnly: boolean): Values {
    const count = this.int16();
    const { columns } = relation;
    // pgoutput sends every column of the relation it announced: fewer would leave values out of the row unseen.
    if (count !== columns.length) throw this.malformed(`tuple of ${count} columns for ${relation.table}, announced with ${columns.length}`);
    const row: Values = new Array<string | undefined>(count);
    for (let i = 0; i < count; i++) {
      const column = columns[i]!;
      const kind = this.uint8();
      if (kind === 0x74 /* t */) {
        const length = this.int32();
        if (length < 0 || length > this.buf.length - this.at) throw this.malformed(`a value of ${length} bytes with ${this.buf.length - this.at} left in its message`);
        const text = this.buf.toString('utf8', this.at, this.at + length);
        this.at += length;
        row[i] = columnJsonText(column.typeOid, text);
      } else if (kind === 0x6e /* n */) {
        if (!keyOnly || relation.keyColumns.includes(column.name)) row[i] = 'null';
      } else if (kind === 0x75 /* u */) {
        row[i] = old?.[i];
      } else {
        throw this.malformed(`column kind ${kind}`);
      }
    }
    return row;
  }

  private expect(tag: number): void {
    const got = this.uint8();
    if (got !== tag) throw this.malformed(`tag ${got} where ${tag} was expected`);
  }

  private uint8(): number {
    return this.buf.readUInt8(this.at++);
  }

  private int16(): number {
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  private int32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  private uint64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }

  private string(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw this.malformed('an unterminated string');
    const text = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return text;
  }

  private malformed(what: string): WireError {
    return new WireError('INTERNAL', `postgres cdc: unexpected pgoutput data: ${what}`);
  }
}
