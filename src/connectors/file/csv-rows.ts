import { RecordsRefused, WireError } from '../../core/errors.js';
import type { Batch, WireRecord } from '../../core/record.js';
import { cellText, formatCsvRow } from './csv.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * The rows of a csv file sink. The columns are the configured ones (`columns`: a choice, so other fields are left
 * out), else those of the header already in the file, else the fields of the first record written. A record that
 * does not fit is not written but handed back (RecordsRefused, for `on_error`): one that is not an object, and,
 * unless `columns` chose them, one with a field the columns lack. A field a record lacks is an empty cell.
 */
export class CsvRows {
  private columns: string[] | undefined;
  private known: Set<string> | undefined;

  constructor(private readonly chosen: readonly string[] | undefined) {
    this.columns = chosen === undefined ? undefined : [...chosen];
  }

  /** The columns of the header the file already has (when appending or resuming), unless `columns` chose them. */
  useHeader(header: string[]): void {
    if (this.chosen === undefined) this.columns = header;
  }

  /** The batch's rows (after the header when `withHeader` and some row is written), and what did not fit. */
  render(batch: Batch, withHeader: boolean): { text: string; rows: number; refused: RecordsRefused[] } {
    const misfits = new Map<string, WireRecord[]>();
    const refuse = (record: WireRecord, why: string): void => {
      const list = misfits.get(why);
      if (list === undefined) misfits.set(why, [record]);
      else list.push(record);
    };
    let text = '';
    let rows = 0;
    for (const record of batch) {
      const value = record.value;
      if (!isObject(value)) {
        refuse(record, `csv: the record is ${kindOf(value)}, not an object: a row needs named fields`);
        continue;
      }
      const columns = (this.columns ??= Object.keys(value));
      const extra = this.chosen === undefined ? this.extraFields(value, columns) : undefined;
      if (extra !== undefined) {
        refuse(
          record,
          `csv: field(s) ${extra.join(', ')} not among the columns (${columns.join(', ')}), which came from the first record ` +
            'or the file\'s header; list every column in the sink\'s `columns` to choose them',
        );
        continue;
      }
      if (rows === 0 && withHeader) text += formatCsvRow(columns);
      const cells = new Array<string>(columns.length);
      for (let i = 0; i < columns.length; i++) cells[i] = cellText(value[columns[i]!]);
      text += formatCsvRow(cells);
      rows++;
    }
    const refused = [...misfits].map(([why, records]) => new RecordsRefused(records, new WireError('INVALID_INPUT', why, { retryable: false })));
    return { text, rows, refused };
  }

  private extraFields(value: Record<string, unknown>, columns: readonly string[]): string[] | undefined {
    const known = (this.known ??= new Set(columns));
    let extra: string[] | undefined;
    for (const key of Object.keys(value)) if (!known.has(key)) (extra ??= []).push(key);
    return extra;
  }
}
