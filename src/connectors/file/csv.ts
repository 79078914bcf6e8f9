import { WireError } from '../../core/errors.js';

const QUOTE = 34;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * An RFC 4180 reader fed one physical line at a time, so it composes with the line splitter: a quoted
 * field may hold commas, doubled quotes and newlines (the record then spans lines). Quotes inside an
 * unquoted field are kept as they are.
 */
export class CsvRecordParser {
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private atFieldStart = true;

  /** True while a quoted field is open across lines. */
  get pending(): boolean {
    return this.inQuotes;
  }

  /** Feeds one line without its newline; returns the record's fields when this line completes one. */
  pushLine(line: string): string[] | undefined {
    if (this.inQuotes) {
      this.field += '\n';
    } else {
      this.fields = [];
      this.field = '';
      this.atFieldStart = true;
    }
    let i = 0;
    for (;;) {
      if (this.inQuotes) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          this.field += line.slice(i);
          return undefined;
        }
        this.field += line.slice(i, q);
        if (line.charCodeAt(q + 1) === QUOTE) {
          this.field += '"';
          i = q + 2;
        } else {
          this.inQuotes = false;
          i = q + 1;
        }
        continue;
      }
      if (this.atFieldStart && line.charCodeAt(i) === QUOTE) {
        this.inQuotes = true;
        this.atFieldStart = false;
        i++;
        continue;
      }
      this.atFieldStart = false;
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        this.field += line.slice(i);
        this.fields.push(this.field);
        return this.fields;
      }
      this.field += line.slice(i, comma);
      this.fields.push(this.field);
      this.field = '';
      this.atFieldStart = true;
      i = comma + 1;
    }
  }

  /** Called at the end of the input: an open quoted field means the file is cut or malformed. */
  finish(where: string): void {
    if (this.inQuotes) {
      throw new WireError('INVALID_INPUT', `${where}: unterminated quoted CSV field at end of input`, { where });
    }
  }
}

/** True for a record made of one empty field: a blank line, which CSV readers skip. */
export function isBlankRow(fields: readonly string[]): boolean {
  return fields.length === 1 && fields[0] === '';
}

/** Zips a header and a row into an object; extra cells are named by their zero-based index (`_3`). */
export function rowToObject(header: readonly string[], fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const n = fields.length;
  for (let i = 0; i < n; i++) out[i < header.length ? header[i]! : `_${i}`] = fields[i]!;
  return out;
}

/** Text of one CSV cell: strings as they are, null/undefined empty, objects and arrays as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/** One CSV line (with `\n`), quoting cells that hold a comma, quote or newline. */
export function formatCsvRow(cells: readonly string[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (i > 0) out += ',';
    out += NEEDS_QUOTES.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
  }
  return out + '\n';
}
